package wallet_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/x509"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/session"
	"github.com/idreader/idreader/verify"
)

var (
	extended  = nfc.Limits{ExtendedAPDU: true}
	shortOnly = nfc.Limits{}
)

// TestTapMatrix runs a whole tap for every handover mode, device
// authentication, document type and reader limit, and verifies the result.
func TestTapMatrix(t *testing.T) {
	modes := []wallet.HandoverMode{wallet.HandoverStatic, wallet.HandoverNegotiated, wallet.HandoverApple}
	auths := []wallet.DeviceAuth{wallet.AuthSignature, wallet.AuthMAC}
	limits := map[string]nfc.Limits{"extended": extended, "short": shortOnly}
	for _, mode := range modes {
		for _, auth := range auths {
			for _, kind := range []string{"mdl", "mnc"} {
				for ln, lim := range limits {
					t.Run(fmt.Sprintf("%s/%s/%s/%s", mode, auth, kind, ln), func(t *testing.T) {
						var done []wallet.Report
						w := newWallet(t, wallet.Config{Handover: mode, Auth: auth, OnDone: func(r wallet.Report) { done = append(done, r) }}, kind)
						req := requestFor(kind)
						res, err := readerTap{limits: lim}.run(context.Background(), w.Transceiver(), req)
						if err != nil {
							t.Fatal(err)
						}
						v, err := res.verdict(getFixture(t, kind).pki)
						if err != nil || !v.Accepted() {
							t.Fatalf("verdict: %v %+v", err, v.Report())
						}
						d := v.Documents[0]
						if d.DocType != req.docType || d.DeviceAuth != string(auth) {
							t.Errorf("document %s auth %s", d.DocType, d.DeviceAuth)
						}
						// Only the requested elements are disclosed.
						n := 0
						for ns, ids := range req.nameSpaces {
							n += len(ids)
							for id := range ids {
								found := false
								for _, e := range d.Elements {
									found = found || (e.Namespace == ns && e.Identifier == id)
								}
								if !found {
									t.Errorf("%s/%s not disclosed", ns, id)
								}
							}
						}
						if len(d.Elements) != n {
							t.Errorf("%d elements disclosed, want %d", len(d.Elements), n)
						}
						// The wallet's transcript inputs are the bytes the reader used.
						r := w.Report()
						if !bytes.Equal(r.HandoverSelect, res.handover.Select) || !bytes.Equal(r.HandoverRequest, res.handover.Request) {
							t.Error("handover bytes differ between wallet and reader")
						}
						if (mode == wallet.HandoverStatic) != (r.HandoverRequest == nil) {
							t.Errorf("mode %s with Hr %x", mode, r.HandoverRequest)
						}
						if !r.Terminated || r.Responses != 1 || r.Err != nil || len(done) != 1 {
							t.Errorf("report %+v, %d done callbacks", r, len(done))
						}
						de, err := mdoc.ParseDeviceEngagement(res.handover.DeviceEngagement)
						if err != nil {
							t.Fatal(err)
						}
						if mode == wallet.HandoverApple {
							if de.Version != "1.1" || !de.HasOriginInfos || de.Capabilities == nil || r.NotReadyReads != wallet.DefaultNotReadyReads {
								t.Errorf("apple engagement %+v, %d NLEN-0 reads", de, r.NotReadyReads)
							}
						} else if de.Version != "1.0" || de.HasOriginInfos || de.Capabilities != nil || len(de.RetrievalMethods) != 0 {
							t.Errorf("engagement %+v", de)
						}
					})
				}
			}
		}
	}
}

// TestFaults checks each fault gives the reader the failure it should.
func TestFaults(t *testing.T) {
	p := getFixture(t, "mdl").pki
	req := requestFor("mdl")
	for _, tc := range []struct {
		name string
		f    wallet.Faults
		code verify.Code
	}{
		{"tamper", wallet.Faults{Tamper: true}, verify.CodeValueDigest},
		{"tamper-element", wallet.Faults{TamperElement: "given_name"}, verify.CodeValueDigest},
		{"other-transcript", wallet.Faults{SignOtherTranscript: true}, verify.CodeDeviceAuth},
		{"wrong-key", wallet.Faults{WrongDeviceKey: true}, verify.CodeDeviceAuth},
	} {
		for _, auth := range []wallet.DeviceAuth{wallet.AuthSignature, wallet.AuthMAC} {
			t.Run(tc.name+"/"+string(auth), func(t *testing.T) {
				w := newWallet(t, wallet.Config{Handover: wallet.HandoverNegotiated, Auth: auth, Faults: tc.f}, "mdl")
				res, err := readerTap{limits: extended}.run(context.Background(), w.Transceiver(), req)
				if err != nil {
					t.Fatal(err)
				}
				v, _ := res.verdict(p)
				if v.Accepted() {
					t.Fatal("accepted")
				}
				var codes []verify.Code
				for _, f := range v.Failures {
					codes = append(codes, f.Code)
				}
				if len(codes) == 0 || codes[0] != tc.code {
					t.Errorf("codes %v, want %s", codes, tc.code)
				}
			})
		}
	}
}

func TestVanish(t *testing.T) {
	var done wallet.Report
	w := newWallet(t, wallet.Config{Faults: wallet.Faults{Vanish: true}, OnDone: func(r wallet.Report) { done = r }}, "mdl")
	_, err := readerTap{limits: shortOnly}.run(context.Background(), w.Transceiver(), requestFor("mdl"))
	if !errors.Is(err, wallet.ErrGone) {
		t.Fatalf("err %v, want ErrGone", err)
	}
	if !done.Vanished {
		t.Error("OnDone not called with Vanished")
	}
	// Gone until the field drops; a vpcd card returns nil.
	if r := w.Transmit([]byte{0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00, 0x02, 0x48, 0x04, 0x00}); r != nil {
		t.Errorf("answered %x after vanishing", r)
	}
	w.PowerOff()
	w.PowerOn()
	if _, err := (readerTap{limits: extended}).run(context.Background(), w.Transceiver(), requestFor("mdl")); !errors.Is(err, wallet.ErrGone) {
		t.Errorf("second tap: %v (the fault applies to every tap)", err)
	}
}

func TestStall(t *testing.T) {
	w := newWallet(t, wallet.Config{Faults: wallet.Faults{Stall: time.Hour}}, "mdl")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := readerTap{limits: extended}.run(ctx, w.Transceiver(), requestFor("mdl"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
	if r := w.Report(); r.Err == nil {
		t.Error("stall not reported")
	}

	// An injected sleep: the answer comes after the stall.
	var slept time.Duration
	w = newWallet(t, wallet.Config{Faults: wallet.Faults{Stall: 3 * time.Second}, Sleep: func(ctx context.Context, d time.Duration) error { slept += d; return nil }}, "mdl")
	res, err := readerTap{limits: extended}.run(context.Background(), w.Transceiver(), requestFor("mdl"))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := res.verdict(getFixture(t, "mdl").pki); !v.Accepted() || slept != 3*time.Second {
		t.Errorf("accepted %v after %v", v.Accepted(), slept)
	}
}

func TestGarbage(t *testing.T) {
	for _, g := range []wallet.Garbage{wallet.GarbageNotCBOR, wallet.GarbageUndecryptable} {
		w := newWallet(t, wallet.Config{Faults: wallet.Faults{Garbage: g}}, "mdl")
		_, err := readerTap{limits: shortOnly}.run(context.Background(), w.Transceiver(), requestFor("mdl"))
		if err == nil {
			t.Fatalf("garbage %d: no error", g)
		}
		if g == wallet.GarbageUndecryptable && !errors.Is(err, session.ErrDecrypt) {
			t.Errorf("garbage %d: %v, want ErrDecrypt", g, err)
		}
	}
}

// TestAppleHandover checks the Apple-shaped tag: CC and initial NDEF bytes
// as captured, the Te after Ts, NLEN 0 polled before the Hs.
func TestAppleHandover(t *testing.T) {
	w := newWallet(t, wallet.Config{Handover: wallet.HandoverApple, NotReadyReads: 5}, "mdl")
	c := &counter{t: w.Transceiver(), keep: true}
	ctx := context.Background()
	tag := nfc.NewTag(c, extended)
	if err := tag.Select(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := tag.CC().Encode(), interop(t, "apple_wallet_cc_file"); !bytes.Equal(got, want) {
		t.Errorf("CC %x, want %x", got, want)
	}
	initial, err := tag.ReadNDEF(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := interop(t, "apple_wallet_initial_ndef_message"); !bytes.Equal(initial, want) {
		t.Errorf("initial NDEF %x, want %x", initial, want)
	}
	ts, _ := nfc.ServiceSelectRecord(nfc.HandoverServiceURI)
	tsMsg, _ := nfc.Message{ts}.Encode()
	if err := tag.WriteNDEF(ctx, tsMsg); err != nil {
		t.Fatal(err)
	}
	te, err := tag.ReadNDEF(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := interop(t, "apple_wallet_tnep_status_message"); !bytes.Equal(te, want) {
		t.Errorf("Te %x, want %x", te, want)
	}
	hr, _ := nfc.NewHandoverRequest(bytes.NewReader([]byte{1, 2}), nfc.Carriers{NFC: &nfc.NFCCarrier{Version: 1}}, nil)
	hrBytes, _ := hr.Encode()
	if err := tag.WriteNDEF(ctx, hrBytes); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		b, err := tag.ReadNDEF(ctx)
		if err != nil || len(b) != 0 {
			t.Fatalf("poll %d: %x %v, want NLEN 0", i, b, err)
		}
	}
	hs, err := tag.ReadNDEF(ctx)
	if err != nil || len(hs) == 0 {
		t.Fatalf("Hs: %x %v", hs, err)
	}
	sel, err := nfc.ParseHandoverSelect(hs)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := sel.CarrierSet()
	if err != nil {
		t.Fatal(err)
	}
	if cs.NFC == nil || cs.BLE != nil {
		t.Errorf("carriers %+v", cs)
	}
	de, err := mdoc.ParseDeviceEngagement(cs.DeviceEngagement)
	if err != nil {
		t.Fatal(err)
	}
	// 1.1 with 5: [] and 6: {3: true, 4: true}, as Apple sends it.
	if de.Version != "1.1" || !bytes.HasSuffix(de.Raw, []byte{0x05, 0x80, 0x06, 0xa2, 0x03, 0xf5, 0x04, 0xf5}) {
		t.Errorf("engagement %x", de.Raw)
	}
	if r := w.Report(); r.NotReadyReads != 5 || !bytes.Equal(r.HandoverRequest, hrBytes) || !bytes.Equal(r.HandoverSelect, hs) {
		t.Errorf("report %+v", r)
	}
	// Apple's limits are respected: no READ BINARY above MLe 0x400.
	if tag.CC().MLe != 0x400 {
		t.Error("MLe")
	}
}

func TestCurves(t *testing.T) {
	for _, name := range []string{"p384", "p521", "x25519", "P-256"} {
		t.Run(name, func(t *testing.T) {
			curve, err := wallet.ParseCurve(name)
			if err != nil {
				t.Fatal(err)
			}
			w := newWallet(t, wallet.Config{Handover: wallet.HandoverNegotiated, Curve: curve}, "mdl")
			res, err := readerTap{limits: shortOnly}.run(context.Background(), w.Transceiver(), requestFor("mdl"))
			if err != nil {
				t.Fatal(err)
			}
			if v, err := res.verdict(getFixture(t, "mdl").pki); !v.Accepted() {
				t.Fatalf("%v", err)
			}
			de, _ := mdoc.ParseDeviceEngagement(res.handover.DeviceEngagement)
			k, err := de.EDeviceKey.ECDHPublicKey()
			if err != nil || k.Curve() != curve {
				t.Errorf("EDeviceKey curve %v %v", k, err)
			}
		})
	}
	// deviceMac needs ECDH between the P-256 device key and EReaderKey: with
	// an X25519 engagement the wallet answers DeviceResponse status 10.
	w := newWallet(t, wallet.Config{Curve: ecdh.X25519(), Auth: wallet.AuthMAC}, "mdl")
	res, err := readerTap{limits: extended}.run(context.Background(), w.Transceiver(), requestFor("mdl"))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := res.verdict(getFixture(t, "mdl").pki); v.Accepted() || w.Report().Err == nil {
		t.Error("MAC over X25519 accepted")
	}
}

// TestFreshKeyPerTap checks a power cycle gives a new EDeviceKey.
func TestFreshKeyPerTap(t *testing.T) {
	w := newWallet(t, wallet.Config{}, "mdl")
	var des [][]byte
	for i := 0; i < 2; i++ {
		w.PowerOn()
		res, err := readerTap{limits: extended}.run(context.Background(), w.Transceiver(), requestFor("mdl"))
		if err != nil {
			t.Fatal(err)
		}
		des = append(des, res.handover.DeviceEngagement)
		w.PowerOff()
	}
	if bytes.Equal(des[0], des[1]) {
		t.Error("same DeviceEngagement on two taps")
	}
}

// TestDocumentErrors asks for a document the wallet does not hold next to
// one it holds.
func TestDocumentErrors(t *testing.T) {
	w := newWallet(t, wallet.Config{}, "mdl")
	res, err := readerTap{limits: extended}.run(context.Background(), w.Transceiver(), requestFor("mdl"), requestFor("mnc"))
	if err != nil {
		t.Fatal(err)
	}
	dr, err := mdoc.ParseDeviceResponse(res.response)
	if err != nil {
		t.Fatal(err)
	}
	if len(dr.Documents) != 1 || len(dr.DocumentErrors) != 1 || dr.DocumentErrors[0][mdoc.DocTypeMyNumberCard] != 0 {
		t.Errorf("documents %d, errors %v", len(dr.Documents), dr.DocumentErrors)
	}
	if r := w.Report(); len(r.Requests) != 2 {
		t.Errorf("requests %+v", r.Requests)
	}
}

// TestReaderAuth signs the request with the PKI's reader certificate and
// checks the wallet verifies it, and refuses when enforcing other roots.
func TestReaderAuth(t *testing.T) {
	f := getFixture(t, "mdl")
	other := getFixture(t, "mnc").pki
	signer := func(st *session.SessionTranscript, d *mdoc.DocRequest) error {
		ra, err := session.SignReaderAuth(nil, f.pki.ReaderKey, []*x509.Certificate{f.pki.Reader}, st, d.ItemsRequestBytes)
		d.ReaderAuth = ra
		return err
	}
	for _, tc := range []struct {
		name    string
		trust   []*x509.Certificate
		sign    bool
		refused bool
	}{
		{"verified", nil, true, false},
		{"trusted", []*x509.Certificate{f.pki.ReaderRoot}, true, false},
		{"untrusted", []*x509.Certificate{other.ReaderRoot}, true, true},
		{"missing", []*x509.Certificate{f.pki.ReaderRoot}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWallet(t, wallet.Config{ReaderTrust: tc.trust}, "mdl")
			rt := readerTap{limits: extended}
			if tc.sign {
				rt.sign = signer
			}
			res, err := rt.run(context.Background(), w.Transceiver(), requestFor("mdl"))
			if err != nil {
				t.Fatal(err)
			}
			r := w.Report()
			if len(r.ReaderAuth) != 1 {
				t.Fatalf("reader auth %+v", r.ReaderAuth)
			}
			ra := r.ReaderAuth[0]
			if ra.Refused != tc.refused || (ra.Err == nil) == tc.refused {
				t.Errorf("result %+v", ra)
			}
			v, _ := res.verdict(f.pki)
			if v.Accepted() == tc.refused {
				t.Errorf("accepted %v", v.Accepted())
			}
		})
	}
}
