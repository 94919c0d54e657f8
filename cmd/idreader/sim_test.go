package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/internal/syncbuf"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/pki"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/session"
	"github.com/idreader/idreader/verify"
)

// fakeVPCD plays vpcd: it listens, and each accepted connection is a card in
// the field, reached through the vpcd framing (2-byte length + payload).
type fakeVPCD struct{ ln net.Listener }

func newFakeVPCD(t *testing.T) *fakeVPCD {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &fakeVPCD{ln}
}

func (f *fakeVPCD) addr() string { return f.ln.Addr().String() }

type vpcdCard struct{ c net.Conn }

func (f *fakeVPCD) accept(t *testing.T) *vpcdCard {
	c, err := f.ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &vpcdCard{c}
}

func (v *vpcdCard) send(p []byte) error {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(p)))
	_, err := v.c.Write(append(b, p...))
	return err
}

func (v *vpcdCard) recv() ([]byte, error) {
	var l [2]byte
	if _, err := io.ReadFull(v.c, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	_, err := io.ReadFull(v.c, b)
	return b, err
}

// Transmit implements nfc.Transceiver over the vpcd framing.
func (v *vpcdCard) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	if err := v.send(apdu); err != nil {
		return nil, err
	}
	return v.recv()
}

func instantSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// readOneTap is the reader side of a tap: negotiated or static handover,
// a request for the mDL family name and portrait, termination; it returns
// the verification result.
func readOneTap(t *testing.T, card nfc.Transceiver, trust *pki.PKI, lim nfc.Limits) *verify.Result {
	t.Helper()
	ctx := context.Background()
	hr, err := nfc.NewHandoverRequest(rand.Reader, nfc.Carriers{NFC: &nfc.NFCCarrier{Version: 1}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hrBytes, _ := hr.Encode()
	res, err := (&nfc.HandoverReader{Limits: lim, Request: hrBytes, Sleep: instantSleep}).Read(ctx, card)
	if err != nil {
		t.Fatal(err)
	}
	de, err := mdoc.ParseDeviceEngagement(res.DeviceEngagement)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := session.NFCHandover(res.Select, res.Request)
	rd, err := session.NewReader(rand.Reader, de, h)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := mdoc.NewDocRequest(mdoc.ItemsRequest{DocType: mdoc.DocTypeMDL, NameSpaces: map[string]map[string]bool{mdoc.NameSpaceMDL: {"family_name": false, "portrait": false}}})
	dr, _ := mdoc.BuildDeviceRequest(d)
	se, err := rd.Establish(dr.Raw)
	if err != nil {
		t.Fatal(err)
	}
	ex := nfc.NewExchanger(card, lim, res.Carriers.NFC)
	if err := ex.Select(ctx); err != nil {
		t.Fatal(err)
	}
	reply, err := ex.Exchange(ctx, se)
	if err != nil {
		t.Fatal(err)
	}
	m, err := rd.Open(reply)
	if err != nil {
		t.Fatal(err)
	}
	term, _ := rd.Terminate()
	if _, err := ex.Exchange(ctx, term); err != nil {
		t.Fatal(err)
	}
	v, _ := verify.Verify(m.Plaintext, verify.Options{Trust: verify.NewTrustStore(trust.IACA), Now: time.Now(), SessionTranscript: rd.Transcript().Bytes(), ReaderKey: rd.PrivateKey()})
	return v
}

// runAsync runs the command in the background.
func runAsync(ctx context.Context, args ...string) (done chan int, out *syncBuffer) {
	out = &syncBuffer{}
	done = make(chan int, 1)
	go func() { done <- run(ctx, args, out, out) }()
	return done, out
}

// syncBuffer collects output written from several goroutines.
type syncBuffer = syncbuf.Buffer

func TestPKICommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	code, out, errOut := runCmd(t, "pki", "--out", dir, "--country", "jp")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, filepath.Join(dir, pki.FileIACA)) {
		t.Errorf("output %q", out)
	}
	p, err := pki.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c := p.IACA.Subject.Country; len(c) != 1 || c[0] != "JP" {
		t.Errorf("country %v", c)
	}
	for _, args := range [][]string{{"pki"}, {"pki", "--out", dir, "--country", "USA"}, {"pki", "--out", dir, "--curve", "x25519"}, {"pki", "--out", dir, "extra"}} {
		if code, _, _ := runCmd(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestSimUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"sim"},
		{"sim", "--pki", dir, "--credential", dir},
		{"sim", "--pki", dir, "--handover", "qr"},
		{"sim", "--pki", dir, "--auth", "pin"},
		{"sim", "--pki", dir, "--curve", "p224"},
		{"sim", "--pki", dir, "--fault", "explode"},
		{"sim", "--pki", dir, "--hostile", "polite"},
		{"sim", "--pki", dir, "--doctype", "passport"},
		{"sim", "--pki", dir, "--taps", "-1"},
		{"sim", "--pki", filepath.Join(dir, "missing")},
		{"sim", "--credential", dir},
	} {
		if code, _, _ := runCmd(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, out, _ := runCmd(t, "sim", "--help"); code != exitOK || !strings.Contains(out, "usage: idreader sim") {
		t.Errorf("help: %d %q", code, out)
	}
}

// TestSimTaps runs `idreader sim --taps 2` against a fake vpcd: two taps,
// each verified, the card leaving the field after each, then exit 0.
func TestSimTaps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if code, _, e := runCmd(t, "pki", "--out", dir); code != exitOK {
		t.Fatal(e)
	}
	p, err := pki.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"static", "negotiated", "apple"} {
		t.Run(mode, func(t *testing.T) {
			v := newFakeVPCD(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			done, out := runAsync(ctx, "sim", "--vpcd", v.addr(), "--pki", dir, "--handover", mode, "--auth", "mac", "--taps", "2", "--gap", "10ms")
			for i := 0; i < 2; i++ {
				card := v.accept(t)
				// vpcd's first messages: get ATR, power on.
				if err := card.send([]byte{0x04}); err != nil {
					t.Fatal(err)
				}
				if atr, err := card.recv(); err != nil || len(atr) == 0 {
					t.Fatalf("ATR %x %v", atr, err)
				}
				card.send([]byte{0x01})
				lim := nfc.Limits{ExtendedAPDU: i == 0}
				if res := readOneTap(t, card, p, lim); !res.Accepted() {
					t.Fatalf("tap %d rejected: %+v", i, res.Report())
				}
				// The card leaves the field after the termination.
				if _, err := card.recv(); !errors.Is(err, io.EOF) {
					t.Fatalf("tap %d: card still in the field: %v", i, err)
				}
			}
			select {
			case code := <-done:
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, out)
				}
			case <-ctx.Done():
				t.Fatal("sim did not exit")
			}
			if n := strings.Count(out.String(), "received status 20; terminated by reader"); n != 2 {
				t.Errorf("output: %s", out)
			}
		})
	}
}

// TestSimCredentialTimeout loads a saved credential, and leaves the field on
// its own when the reader never finishes; SIGINT-like cancellation exits 0.
func TestSimCredentialTimeout(t *testing.T) {
	p, err := pki.New(pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	els, _ := credential.MDL(credential.SampleOptions{Now: time.Now()})
	dk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c, err := credential.Issue(credential.IssueOptions{DocType: mdoc.DocTypeMDL, Elements: els, DeviceKey: dk, DSCert: p.DS, DSKey: p.DSKey, Signed: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	cdir := t.TempDir()
	if err := c.Save(cdir); err != nil {
		t.Fatal(err)
	}
	v := newFakeVPCD(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done, out := runAsync(ctx, "sim", "--vpcd", v.addr(), "--credential", cdir, "--tap-timeout", "200ms", "--gap", "10ms")
	card := v.accept(t)
	card.send([]byte{0x01})
	// Only the engagement, never the data transfer: the sim gives up.
	if _, err := (&nfc.HandoverReader{Sleep: instantSleep}).Read(context.Background(), card); err != nil {
		t.Fatal(err)
	}
	if _, err := card.recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("card still in the field: %v", err)
	}
	// It comes back for the next tap; then the operator stops it.
	card = v.accept(t)
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, out)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim did not exit")
	}
	if !strings.Contains(out.String(), "timed out") || !strings.Contains(out.String(), "interrupted") {
		t.Errorf("output: %s", out)
	}
	_ = card
}

// TestSimFaultNames: the wallet modes of issue-style answers are reachable
// by name.
func TestSimFaultNames(t *testing.T) {
	for name, want := range map[string]wallet.Faults{
		"withhold":     {WithholdAll: true},
		"overdisclose": {DiscloseAll: true},
	} {
		f, err := parseFault(name, 0)
		if err != nil || f != want {
			t.Errorf("%s: %+v %v", name, f, err)
		}
	}
	var b strings.Builder
	printTap(&b, 1, wallet.Report{Responses: 1, Received: []session.Status{session.StatusEncryptionError}}, false)
	if !strings.Contains(b.String(), "received status 10") {
		t.Errorf("printTap: %s", b.String())
	}
}
