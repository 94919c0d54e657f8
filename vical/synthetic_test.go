package vical_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/idreader/idreader/cose"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/reason"
	"github.com/idreader/idreader/verify"
	"github.com/idreader/idreader/vical"
	"github.com/idreader/idreader/vical/vicaltest"
)

func seeded(n uint64) *rand.ChaCha8 {
	var seed [32]byte
	seed[0] = byte(n)
	return rand.NewChaCha8(seed)
}

// annexDIACA is the IACA of ISO/IEC 18013-5 Annex D ("utopia iaca").
func annexDIACA(t testing.TB) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "annexd", "iaca_cert.hex"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := verify.ParseCertificates(data)
	if err != nil {
		t.Fatal(err)
	}
	return cs[0]
}

var (
	listDate = time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	listNext = time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	listNow  = time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)
)

func list(t testing.TB, docTypes ...string) vicaltest.List {
	return vicaltest.List{Provider: "Test Provider", Date: listDate, NextUpdate: listNext, IssueID: 7,
		Entries: []vicaltest.Entry{{Certificate: annexDIACA(t), DocTypes: docTypes, Country: "US"}}}
}

func newPKI(t testing.TB, o vicaltest.Options) *vicaltest.PKI {
	t.Helper()
	p, err := vicaltest.NewPKI(seeded(1), o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sign(t testing.TB, p *vicaltest.PKI, l vicaltest.List) []byte {
	t.Helper()
	data, err := p.Sign(seeded(2), l)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func wantCode(t *testing.T, err error, code reason.Code) {
	t.Helper()
	for _, p := range vical.Problems(err) {
		if p.Code == code {
			return
		}
	}
	t.Errorf("error %v, want code %s", err, code)
}

func TestSyntheticVerifies(t *testing.T) {
	p := newPKI(t, vicaltest.Options{})
	v, err := vical.Verify(sign(t, p, list(t, mdoc.DocTypeMDL)), []*x509.Certificate{p.Root}, listNow)
	if err != nil {
		t.Fatal(err)
	}
	if v.Provider != "Test Provider" || *v.IssueID != 7 || !v.Date.Equal(listDate) || len(v.Entries) != 1 {
		t.Fatalf("%+v", v)
	}
	if v.Source() != "VICAL Test Provider 2026-01-10 #7" {
		t.Errorf("source %q", v.Source())
	}
	store := verify.NewTrustStore()
	v.AddTo(store, "")
	info, ok := store.Anchor(annexDIACA(t))
	if !ok || info.Source != v.Source() || !slices.Equal(info.DocTypes, []string{mdoc.DocTypeMDL}) || info.Country != "US" {
		t.Errorf("anchor %+v %v", info, ok)
	}
}

// TestSignerWithoutEKU: a VICAL signed by a certificate without the VICAL
// signer EKU 1.0.18013.5.1.8 fails, although it chains and its signature
// verifies.
func TestSignerWithoutEKU(t *testing.T) {
	p := newPKI(t, vicaltest.Options{NoEKU: true})
	v, err := vical.Verify(sign(t, p, list(t, mdoc.DocTypeMDL)), []*x509.Certificate{p.Root}, listNow)
	if v != nil || !errors.Is(err, vical.ErrProfile) {
		t.Fatalf("%v, %v", v, err)
	}
	if ps := vical.Problems(err); len(ps) != 1 {
		t.Errorf("problems %v", ps)
	}
}

func TestOtherAnchor(t *testing.T) {
	p := newPKI(t, vicaltest.Options{})
	other2, err := vicaltest.NewPKI(seeded(9), vicaltest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	data := sign(t, p, list(t, mdoc.DocTypeMDL))
	_, err = vical.Verify(data, []*x509.Certificate{other2.Root}, listNow)
	wantCode(t, err, vical.CodeUntrusted)
	_, err = vical.Verify(data, nil, listNow)
	wantCode(t, err, vical.CodeUntrusted)
	// Another provider's signer key under the x5chain of this one.
	forged, err := other2.Sign(seeded(3), list(t, mdoc.DocTypeMDL))
	if err != nil {
		t.Fatal(err)
	}
	m := swapChain(t, forged, p)
	_, err = vical.Verify(m, []*x509.Certificate{p.Root}, listNow)
	wantCode(t, err, vical.CodeSignature)
}

// swapChain re-signs nothing: it replaces the x5chain of a VICAL made by
// one PKI with the chain of p, keeping the signature.
func swapChain(t *testing.T, data []byte, p *vicaltest.PKI) []byte {
	t.Helper()
	var arr []any
	if err := mdoc.Unmarshal(data, &arr); err != nil {
		t.Fatal(err)
	}
	arr[1] = map[int64]any{33: [][]byte{p.Signer.Raw, p.Root.Raw}}
	out, err := mdoc.Marshal(arr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDates(t *testing.T) {
	p := newPKI(t, vicaltest.Options{})
	data := sign(t, p, list(t, mdoc.DocTypeMDL))
	anchors := []*x509.Certificate{p.Root}
	// Before its date.
	_, err := vical.Verify(data, anchors, listDate.Add(-time.Second))
	wantCode(t, err, vical.CodeValidity)
	// On its date and just before nextUpdate it is fine.
	if _, err := vical.Verify(data, anchors, listDate); err != nil {
		t.Error(err)
	}
	if _, err := vical.Verify(data, anchors, listNext.Add(-time.Second)); err != nil {
		t.Error(err)
	}
	// At nextUpdate it is stale, and still returned.
	v, err := vical.Verify(data, anchors, listNext)
	if !errors.Is(err, vical.ErrStale) || v == nil {
		t.Errorf("at nextUpdate: %v, %v", v, err)
	}
	// An expired signer certificate.
	old := newPKI(t, vicaltest.Options{NotAfter: listNow.Add(-time.Hour)})
	v, err = vical.Verify(sign(t, old, list(t, mdoc.DocTypeMDL)), []*x509.Certificate{old.Root}, listNow)
	if v != nil {
		t.Error("VICAL of an expired signer returned")
	}
	wantCode(t, err, vical.CodeValidity)
}

func TestMalformed(t *testing.T) {
	p := newPKI(t, vicaltest.Options{})
	good := sign(t, p, list(t, mdoc.DocTypeMDL))
	for name, data := range map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)-1],
		"trailing":  append(bytes.Clone(good), 0),
		"not COSE":  {0xa0},
	} {
		_, err := vical.Parse(data)
		if !errors.Is(err, vical.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A payload without certificateInfos, properly signed.
	l := list(t, mdoc.DocTypeMDL)
	l.Entries = nil
	payload, err := l.Payload()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := mdoc.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	for _, missing := range []string{"certificateInfos", "vicalProvider", "date", "version"} {
		mm := map[string]any{}
		for k, v := range m {
			if k != missing {
				mm[k] = v
			}
		}
		_, err := vical.Parse(signPayload(t, p, mm))
		if !errors.Is(err, vical.ErrMalformed) {
			t.Errorf("without %s: %v", missing, err)
		}
	}
	// Both spellings of a member.
	m["extensions"] = map[string]any{}
	m["Extensions"] = map[string]any{}
	if _, err := vical.Parse(signPayload(t, p, m)); !errors.Is(err, vical.ErrMalformed) {
		t.Errorf("extensions twice: %v", err)
	}
}

func signPayload(t *testing.T, p *vicaltest.PKI, m map[string]any) []byte {
	t.Helper()
	payload, err := mdoc.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	data, err := cose.Sign1(seeded(4), p.SignerKey, payload, cose.SignOptions{X5Chain: [][]byte{p.Signer.Raw, p.Root.Raw}})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestDuplicateEntries: a certificate listed twice is one anchor with the
// doc types of both entries.
func TestDuplicateEntries(t *testing.T) {
	p := newPKI(t, vicaltest.Options{})
	l := list(t, mdoc.DocTypeMDL)
	l.Entries = append(l.Entries, vicaltest.Entry{Certificate: annexDIACA(t), DocTypes: []string{mdoc.DocTypeMyNumberCard, mdoc.DocTypeMDL}})
	v, err := vical.Verify(sign(t, p, l), []*x509.Certificate{p.Root}, listNow)
	if err != nil {
		t.Fatal(err)
	}
	certs, infos := v.Anchors("mine")
	if len(certs) != 1 || infos[0].Source != "mine" || !slices.Equal(infos[0].DocTypes, []string{mdoc.DocTypeMDL, mdoc.DocTypeMyNumberCard}) {
		t.Errorf("%d anchors, %+v", len(certs), infos)
	}
}
