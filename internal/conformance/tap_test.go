package conformance_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/internal/testvectors"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/apdulog"
	"github.com/idreader/idreader/terminal"
	"github.com/idreader/idreader/verify"
)

// world is a test PKI with an mDL, and a second PKI nobody trusts.
type world struct {
	pki, other *pki.PKI
	mdl        *credential.Credential
	expired    *credential.Credential // MSO validUntil in the past
}

var (
	worldOnce sync.Once
	worldVal  *world
	worldErr  error
)

func getWorld(t *testing.T) *world {
	t.Helper()
	worldOnce.Do(func() { worldVal, worldErr = newWorld() })
	if worldErr != nil {
		t.Fatal(worldErr)
	}
	return worldVal
}

func newWorld() (*world, error) {
	now := time.Now()
	p, err := pki.New(pki.Options{Now: now, Country: "US"})
	if err != nil {
		return nil, err
	}
	other, err := pki.New(pki.Options{Now: now, Country: "US"})
	if err != nil {
		return nil, err
	}
	els, err := credential.MDL(credential.SampleOptions{Now: now, Country: "US"})
	if err != nil {
		return nil, err
	}
	issue := func(signed, until time.Time) (*credential.Credential, error) {
		dk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		return credential.Issue(credential.IssueOptions{DocType: mdoc.DocTypeMDL, Elements: els, DeviceKey: dk,
			DSCert: p.DS, DSKey: p.DSKey, Signed: signed, ValidUntil: until})
	}
	mdl, err := issue(now.Add(-time.Hour), time.Time{})
	if err != nil {
		return nil, err
	}
	expired, err := issue(now.AddDate(0, 0, -20), now.AddDate(0, 0, -1))
	if err != nil {
		return nil, err
	}
	return &world{pki: p, other: other, mdl: mdl, expired: expired}, nil
}

func (w *world) config(lim nfc.Limits) terminal.Config {
	return terminal.Config{
		Trust: verify.NewTrustStore(w.pki.IACA), Request: terminal.DefaultRequestProfile(), Limits: lim,
		ReaderAuth: &terminal.ReaderIdentity{Key: w.pki.ReaderKey, Chain: []*x509.Certificate{w.pki.Reader}},
		Sleep:      func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	}
}

// tap runs one in-process tap of the wallet with wcfg (the mDL unless
// wcfg has credentials) through t (nil: straight to the wallet).
func (w *world) tap(t *testing.T, wcfg wallet.Config, cfg terminal.Config, wrap func(nfc.Transceiver) nfc.Transceiver) (*terminal.Outcome, error) {
	t.Helper()
	if wcfg.Credentials == nil {
		wcfg.Credentials = []*credential.Credential{w.mdl}
	}
	if wcfg.Sleep == nil {
		wcfg.Sleep = nfc.Sleep
	}
	wl, err := wallet.New(wcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer wl.Close()
	var tr nfc.Transceiver = wl.Transceiver()
	if wrap != nil {
		tr = wrap(tr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return terminal.Tap(ctx, tr, cfg)
}

// codes lists the reason codes of a tap: the tap error's, or the report's.
func codes(out *terminal.Outcome, err error) []string {
	if err != nil {
		return []string{string(terminal.ErrorCode(err))}
	}
	var cs []string
	for _, e := range out.Result.Report().Errors {
		cs = append(cs, string(e.Code))
	}
	return cs
}

func TestAppleWalletCaptures(t *testing.T) {
	t.Run("cc_file", func(t *testing.T) {
		cc, err := nfc.ParseCapabilityContainer(testvectors.Interop(t, "apple_wallet_cc_file"))
		if err != nil {
			t.Fatal(err)
		}
		if cc.MLe != 0x0400 || cc.MLc != 0x0400 || cc.NDEFFileID != 0xE104 || cc.MaxNDEFSize != 0x0802 || cc.WriteAccess != 0 {
			t.Fatalf("cc %+v", cc)
		}
		mark(t, "apple", "apple_wallet_cc_file", "T4T 5.3", "nfc.ParseCapabilityContainer: MLe = MLc = 0400, NDEF file E104 of 0802 bytes, writable (negotiated handover)")
	})
	t.Run("initial_ndef_message", func(t *testing.T) {
		msg, err := nfc.ParseMessage(testvectors.Interop(t, "apple_wallet_initial_ndef_message"))
		if err != nil {
			t.Fatal(err)
		}
		rec, ok := msg.Find(nfc.TNFWellKnown, nfc.TypeServiceParameter)
		if !ok {
			t.Fatal("no Tp record")
		}
		sp, err := nfc.ParseServiceParameter(rec.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if sp.ServiceNameURI != nfc.HandoverServiceURI || sp.WaitTime() != 16*time.Millisecond || sp.NWait != 15 || sp.MaxNDEFSize != 0x0800 {
			t.Fatalf("service parameter %+v", sp)
		}
		mark(t, "apple", "apple_wallet_initial_ndef_message", "8.2.2.1", "nfc.ParseServiceParameter: urn:nfc:sn:handover, T_wait 16 ms (WT_INT 0x14), N_wait 15, max NDEF 0800")
	})
	t.Run("tnep_status_message", func(t *testing.T) {
		msg, err := nfc.ParseMessage(testvectors.Interop(t, "apple_wallet_tnep_status_message"))
		if err != nil {
			t.Fatal(err)
		}
		rec, ok := msg.Find(nfc.TNFWellKnown, nfc.TypeTNEPStatus)
		if !ok {
			t.Fatal("no Te record")
		}
		if st, err := nfc.ParseStatus(rec.Payload); err != nil || st != nfc.TNEPStatusSuccess {
			t.Fatalf("status %v %v", st, err)
		}
		mark(t, "apple", "apple_wallet_tnep_status_message", "8.2.2.1", "nfc.ParseStatus: TNEP status success")
	})
	t.Run("handover_select_message", func(t *testing.T) {
		hs, err := nfc.ParseHandoverSelect(testvectors.Interop(t, "apple_wallet_handover_select_message"))
		if err != nil {
			t.Fatal(err)
		}
		cs, err := hs.CarrierSet()
		if err != nil {
			t.Fatal(err)
		}
		if cs.BLE == nil || cs.BLE.Role != nfc.LERoleCentralOnly || len(cs.BLE.UUIDs) != 0 {
			t.Fatalf("ble %+v", cs.BLE)
		}
		de, err := mdoc.ParseDeviceEngagement(cs.DeviceEngagement)
		if err != nil {
			t.Fatal(err)
		}
		if de.Version != "1.1" || !de.HasOriginInfos {
			t.Fatalf("device engagement %s origin infos %v", de.Version, de.HasOriginInfos)
		}
		mark(t, "apple", "apple_wallet_handover_select_message", "8.2.2.1", "nfc.ParseHandoverSelect: BLE mdoc central client mode without UUID; DeviceEngagement 1.1 with OriginInfos [] and Capabilities")
	})
	t.Run("negotiated_handover_replayed", func(t *testing.T) {
		_, file, _, _ := runtime.Caller(0)
		b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "nfc", "testdata", "transcripts", "apple_negotiated_short.txt"))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := apdulog.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		// The Handover Request is the written NDEF message that parses as one.
		var hr []byte
		for _, e := range tr {
			cmd, err := nfc.ParseCommand(e.Command)
			if err == nil && cmd.INS == nfc.InsUpdateBinary && len(cmd.Data) > 2 {
				if _, err := nfc.ParseHandoverRequest(cmd.Data[2:]); err == nil {
					hr = cmd.Data[2:]
				}
			}
		}
		p := apdulog.NewPlayer(tr)
		res, err := (&nfc.HandoverReader{Request: hr, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}).Read(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(res.Select, testvectors.Interop(t, "apple_wallet_handover_select_message")) || !res.BLEUUIDFromRequest {
			t.Fatal("another Handover Select")
		}
		mark(t, "apple", "apple negotiated handover transcript", "8.2.2.1", fmt.Sprintf("nfc/testdata/transcripts/apple_negotiated_short.txt (%d APDUs, NLEN 0 three times) replayed strictly through nfc.HandoverReader: the captured Hs, BLE UUID taken from the Hr", len(tr)))
	})
	for _, lim := range []struct {
		name string
		l    nfc.Limits
	}{{"short-only", nfc.Limits{}}, {"extended", nfc.Limits{ExtendedAPDU: true}}} {
		t.Run("tap/"+lim.name, func(t *testing.T) {
			w := getWorld(t)
			out, err := w.tap(t, wallet.Config{Handover: wallet.HandoverApple}, w.config(lim.l), nil)
			if err != nil || !out.Result.Accepted() || !out.Negotiated {
				t.Fatalf("tap: %v %v", err, codes(out, err))
			}
			mark(t, "apple", "tap against the Apple-shaped wallet, "+lim.name+" reader", "8.2.2.1", "holder/wallet in apple mode (captured CC, service parameter, NLEN 0 before the Hs, DeviceEngagement 1.1): accepted")
		})
	}
}

// TestNegativeCatalogue: each broken response or exchange and its reason
// code; none is accepted. The rows of clause 9.3.1 are marked too.
func TestNegativeCatalogue(t *testing.T) {
	w := getWorld(t)
	cases := []struct {
		name   string
		wallet wallet.Config
		cfg    func(*terminal.Config)
		want   string
		clause string // a 9.3.1 obligation this case proves, if any
	}{
		{name: "element value changed after signing", wallet: wallet.Config{Faults: wallet.Faults{Tamper: true}}, want: "value_digest",
			clause: "9.3.1 step 3: every IssuerSignedItem's digest equals the MSO's"},
		{name: "device signature over another SessionTranscript", wallet: wallet.Config{Faults: wallet.Faults{SignOtherTranscript: true}}, want: "device_auth"},
		{name: "device authentication with a key other than the MSO's", wallet: wallet.Config{Faults: wallet.Faults{WrongDeviceKey: true}}, want: "device_auth"},
		{name: "deviceMac over another SessionTranscript", wallet: wallet.Config{Auth: wallet.AuthMAC, Faults: wallet.Faults{SignOtherTranscript: true}}, want: "device_auth"},
		{name: "issuer not in the trust store", cfg: func(c *terminal.Config) { c.Trust = verify.NewTrustStore(w.other.IACA) }, want: "issuer_untrusted",
			clause: "9.3.1 step 1: the DS certificate chains to a trusted IACA (9.3.3)"},
		{name: "MSO validity ended", wallet: wallet.Config{Credentials: []*credential.Credential{w.expired}}, want: "mso_validity",
			clause: "9.3.1 step 5: validFrom ≤ now ≤ validUntil"},
		{name: "response is not CBOR", wallet: wallet.Config{Faults: wallet.Faults{Garbage: wallet.GarbageNotCBOR}}, want: "malformed"},
		{name: "response does not decrypt", wallet: wallet.Config{Faults: wallet.Faults{Garbage: wallet.GarbageUndecryptable}}, want: "session"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := w.config(nfc.Limits{ExtendedAPDU: true})
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			out, err := w.tap(t, tc.wallet, cfg, nil)
			if err == nil && out.Result.Accepted() {
				t.Fatal("accepted")
			}
			got := codes(out, err)
			if !contains(got, tc.want) {
				t.Fatalf("codes %v, want %s", got, tc.want)
			}
			mark(t, "negative", tc.name, "", "reason "+strings.Join(got, ", "))
			if tc.clause != "" {
				mark(t, "9.3.1", tc.clause, "9.3.1", "rejected with "+tc.want+": "+tc.name)
			}
		})
	}
	// Annex D response bytes changed: these need the published response.
	annex := []struct {
		name   string
		change func([]byte) []byte
		now    time.Time
		want   string
		clause string
	}{
		{name: "issuerAuth signature changed", change: func(b []byte) []byte {
			ia := ad(t, "issuer_auth")
			i := bytes.Index(b, ia)
			b[i+len(ia)-1] ^= 1
			return b
		}, now: annexDTime, want: "issuer_signature", clause: "9.3.1 step 2: the IssuerAuth signature verifies with the DS key"},
		{name: "Document docType differs from the MSO's", change: func(b []byte) []byte {
			i := bytes.Index(b, []byte("org.iso.18013.5.1.mDL"))
			b[i+len("org.iso.18013.5.1.mDL")-1] = 'M'
			return b
		}, now: annexDTime, want: "doctype_mismatch", clause: "9.3.1 step 4: the MSO docType equals the Document's"},
		{name: "verified after the DS certificate and MSO expired", now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), want: "mso_validity",
			clause: "9.3.1 step 5: validFrom ≤ now ≤ validUntil"},
		{name: "verified before the MSO's validFrom", now: time.Date(2020, 9, 1, 0, 0, 0, 0, time.UTC), want: "mso_validity",
			clause: "9.3.1 step 5: validFrom ≤ now ≤ validUntil"},
		{name: "verified after the DS certificate expired", now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), want: "certificate_validity",
			clause: "9.3.1 step 1: the DS certificate is valid now (9.3.3)"},
	}
	for _, tc := range annex {
		t.Run("annexd/"+tc.name, func(t *testing.T) {
			resp := bytes.Clone(ad(t, "device_response"))
			if tc.change != nil {
				resp = tc.change(resp)
			}
			res, _ := verify.Verify(resp, verify.Options{
				Trust: verify.NewTrustStore(cert(t, "iaca_cert")), Now: tc.now,
				SessionTranscript: ad(t, "session_transcript_bytes"), ReaderKey: p256Priv(t, ad(t, "e_reader_key_d")),
			})
			if res.Accepted() {
				t.Fatal("accepted")
			}
			got := codes(&terminal.Outcome{Result: res}, nil)
			if !contains(got, tc.want) {
				t.Fatalf("codes %v, want %s", got, tc.want)
			}
			mark(t, "negative", "Annex D response: "+tc.name, "", "reason "+strings.Join(got, ", "))
			mark(t, "9.3.1", tc.clause, "9.3.1", "rejected with "+tc.want+": Annex D response "+tc.name)
		})
	}
	t.Run("annexd/accepted", func(t *testing.T) {
		res := verifyAnnexD(t, annexDTime)
		if !res.Accepted() {
			t.Fatal("not accepted")
		}
		for _, step := range []string{
			"9.3.1 step 1: the DS certificate chains to a trusted IACA (9.3.3)",
			"9.3.1 step 2: the IssuerAuth signature verifies with the DS key",
			"9.3.1 step 3: every IssuerSignedItem's digest equals the MSO's",
			"9.3.1 step 4: the MSO docType equals the Document's",
			"9.3.1 step 5: validFrom ≤ now ≤ validUntil",
		} {
			mark(t, "9.3.1", step, "9.3.1", "the Annex D response passes it (verify.Verify accepts)")
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// failAt is a transceiver that breaks exchange k (1-based): removed, or
// with one bit of its response flipped.
type failAt struct {
	t      nfc.Transceiver
	k, n   int
	remove bool
}

func (f *failAt) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	f.n++
	if f.n == f.k && f.remove {
		return nil, fmt.Errorf("conformance: card gone: %w", reader.ErrRemoved)
	}
	r, err := f.t.Transmit(ctx, apdu)
	if f.n == f.k && err == nil && len(r) > 0 {
		r = bytes.Clone(r)
		// The last data byte, or SW2 when there is no data.
		i := len(r) - 3
		if i < 0 {
			i = len(r) - 1
		}
		r[i] ^= 0x01
	}
	return r, err
}

// TestFaultCampaigns: the phone leaves before each APDU of a tap, or one
// bit of each response flips; the reader fails with a reason code and never
// accepts. Also a phone that stalls and one that vanishes mid-request.
func TestFaultCampaigns(t *testing.T) {
	w := getWorld(t)
	for _, mode := range []wallet.HandoverMode{wallet.HandoverStatic, wallet.HandoverNegotiated, wallet.HandoverApple} {
		cfg := w.config(nfc.Limits{ExtendedAPDU: true})
		var count *failAt
		out, err := w.tap(t, wallet.Config{Handover: mode}, cfg, func(tr nfc.Transceiver) nfc.Transceiver {
			count = &failAt{t: tr}
			return count
		})
		if err != nil || !out.Result.Accepted() {
			t.Fatalf("%s: clean tap failed: %v", mode, err)
		}
		n := count.n
		for _, remove := range []bool{true, false} {
			kind := map[bool]string{true: "removal", false: "bit flip"}[remove]
			t.Run(string(mode)+"/"+kind, func(t *testing.T) {
				seen := map[string]int{}
				var harmless []string
				for k := 1; k <= n; k++ {
					out, err := w.tap(t, wallet.Config{Handover: mode}, cfg, func(tr nfc.Transceiver) nfc.Transceiver {
						return &failAt{t: tr, k: k, remove: remove}
					})
					if k == n {
						// The termination: the response was in and verified; the
						// verdict stands and the failure is reported beside it.
						if err != nil || !out.Result.Accepted() || out.TerminationErr == nil {
							t.Fatalf("%s at the termination: %v, termination error %v", kind, err, out.TerminationErr)
						}
						continue
					}
					if err == nil && out.Result.Accepted() {
						// A flipped bit the protocol does not rely on (the CC's
						// write access, the service's size limit): the
						// document is still proven by its signatures, the
						// verdict is the genuine one.
						if remove {
							t.Fatalf("%s at APDU %d of %d: accepted", kind, k, n)
						}
						harmless = append(harmless, fmt.Sprint(k))
						continue
					}
					for _, c := range codes(out, err) {
						seen[c]++
					}
				}
				proof := fmt.Sprintf("APDUs 1–%d: reason codes %s", n-1, summary(seen))
				if len(harmless) > 0 {
					proof += fmt.Sprintf("; accepted (the flipped bit is one the reader does not rely on, the signatures still prove the document) at APDU %s", strings.Join(harmless, ", "))
				}
				proof += fmt.Sprintf("; APDU %d (termination): verdict kept, failure reported", n)
				mark(t, "faults", fmt.Sprintf("%s at each of the %d APDUs, %s handover", kind, n, mode), "", proof)
			})
		}
	}
	t.Run("stall", func(t *testing.T) {
		cfg := w.config(nfc.Limits{ExtendedAPDU: true})
		cfg.ExchangeTimeout = 100 * time.Millisecond
		out, err := w.tap(t, wallet.Config{Faults: wallet.Faults{Stall: 5 * time.Second}}, cfg, nil)
		if err == nil || !errors.Is(err, terminal.ErrTimeout) {
			t.Fatalf("stall: %v", err)
		}
		mark(t, "faults", "the phone stalls before answering the request", "", "reason "+strings.Join(codes(out, err), ", ")+" after the exchange limit")
	})
	t.Run("vanish", func(t *testing.T) {
		out, err := w.tap(t, wallet.Config{Faults: wallet.Faults{Vanish: true}}, w.config(nfc.Limits{ExtendedAPDU: true}), nil)
		if err == nil {
			t.Fatal("vanish: no error")
		}
		mark(t, "faults", "the phone leaves instead of answering the request", "", "reason "+strings.Join(codes(out, err), ", "))
	})
}

// summary writes code counts in a fixed order.
func summary(seen map[string]int) string {
	var parts []string
	for _, c := range []string{"removed", "transport", "malformed", "session", "timeout", "unsupported", "issuer_untrusted", "device_auth", "value_digest", "issuer_signature", "wallet_status"} {
		if n := seen[c]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s ×%d", c, n))
			delete(seen, c)
		}
	}
	for c, n := range seen {
		parts = append(parts, fmt.Sprintf("%s ×%d", c, n))
	}
	return strings.Join(parts, ", ")
}
