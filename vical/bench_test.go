package vical_test

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/idreader/idreader/internal/testvectors"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/verify"
	"github.com/idreader/idreader/vical"
	"github.com/idreader/idreader/vical/vicaltest"
)

// annexDOptions verifies the ISO/IEC 18013-5 Annex D response at a time
// inside its validity, with trust as the store.
func annexDOptions(b *testing.B, trust *verify.TrustStore) verify.Options {
	rk, err := ecdh.P256().NewPrivateKey(testvectors.AnnexD(b, "e_reader_key_d"))
	if err != nil {
		b.Fatal(err)
	}
	return verify.Options{Trust: trust, Now: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC),
		SessionTranscript: testvectors.AnnexD(b, "session_transcript_bytes"), ReaderKey: rk}
}

// vicalStore returns a trust store loaded from a verified VICAL of n
// entries: the Annex D IACA for the mDL and n-1 other IACAs (distinct
// subjects, each for the mDL and the My Number Card).
func vicalStore(b *testing.B, n int) *verify.TrustStore {
	iaca := annexDIACA(b)
	l := vicaltest.List{Provider: "Bench", Date: time.Date(2020, 12, 1, 0, 0, 0, 0, time.UTC),
		Entries: []vicaltest.Entry{{Certificate: iaca, DocTypes: []string{mdoc.DocTypeMDL}, Country: "US"}}}
	r := seeded(42)
	for i := 1; i < n; i++ {
		key, err := ecdsa.GenerateKey(elliptic.P256(), r)
		if err != nil {
			b.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i)),
			Subject:   pkix.Name{Country: []string{"US"}, Province: []string{fmt.Sprintf("US-%02d", i)}, CommonName: fmt.Sprintf("IACA %d", i)},
			NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
		der, err := x509.CreateCertificate(r, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			b.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		l.Entries = append(l.Entries, vicaltest.Entry{Certificate: c, DocTypes: []string{mdoc.DocTypeMDL, mdoc.DocTypeMyNumberCard}, Country: "US"})
	}
	p, err := vicaltest.NewPKI(seeded(1), vicaltest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	data, err := p.Sign(seeded(2), l)
	if err != nil {
		b.Fatal(err)
	}
	v, err := vical.Verify(data, []*x509.Certificate{p.Root}, time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		b.Fatal(err)
	}
	store := verify.NewTrustStore()
	v.AddTo(store, "")
	if store.Len() != n {
		b.Fatalf("%d anchors", store.Len())
	}
	return store
}

// BenchmarkVerifyFolderAnchor is today's per-response cost: the Annex D
// response against a store holding its IACA, as a trust folder loads it.
func BenchmarkVerifyFolderAnchor(b *testing.B) {
	resp := testvectors.AnnexD(b, "device_response")
	opts := annexDOptions(b, verify.NewTrustStore(annexDIACA(b)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verify.Verify(resp, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyVICAL100 is the same verification against a store of 100
// anchors loaded from a VICAL, each with its doc-type limits.
func BenchmarkVerifyVICAL100(b *testing.B) {
	resp := testvectors.AnnexD(b, "device_response")
	opts := annexDOptions(b, vicalStore(b, 100))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verify.Verify(resp, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVICAL100OverFolder alternates one verification against each
// store per iteration (in turn first) and reports their time ratio
// ("vical100/folder"), which a busy machine disturbs less than two
// separate runs.
func BenchmarkVICAL100OverFolder(b *testing.B) {
	benchRatio(b, func() time.Duration {
		return time.Duration(time.Now().UnixNano())
	}, "")
}

// benchRatio runs the alternation of BenchmarkVICAL100OverFolder with
// clock as the time source; suffix tells the metrics apart.
func benchRatio(b *testing.B, clock func() time.Duration, suffix string) {
	resp := testvectors.AnnexD(b, "device_response")
	folder := annexDOptions(b, verify.NewTrustStore(annexDIACA(b)))
	v100 := annexDOptions(b, vicalStore(b, 100))
	run := func(o verify.Options) time.Duration {
		t0 := clock()
		if _, err := verify.Verify(resp, o); err != nil {
			b.Fatal(err)
		}
		return clock() - t0
	}
	var tf, tv time.Duration
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			tf += run(folder)
			tv += run(v100)
		} else {
			tv += run(v100)
			tf += run(folder)
		}
		i++
	}
	b.ReportMetric(float64(tv)/float64(tf), "vical100/folder"+suffix)
	b.ReportMetric(float64(tf.Nanoseconds())/float64(b.N), "folder"+suffix+"-ns/op")
	b.ReportMetric(float64(tv.Nanoseconds())/float64(b.N), "vical100"+suffix+"-ns/op")
}

// BenchmarkVerifyAAMVA is the cost of verifying the production AAMVA VICAL
// (14 entries), which a daemon pays once per refresh, not per response.
func BenchmarkVerifyAAMVA(b *testing.B) {
	data := testvectors.Interop(b, "aamva_vical")
	v, err := vical.Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	anchors := []*x509.Certificate{v.Chain[len(v.Chain)-1]}
	now := time.Date(2025, 11, 18, 20, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := vical.Verify(data, anchors, now); err != nil {
			b.Fatal(err)
		}
	}
}
