package wallet_test

import (
	"context"
	"testing"

	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
)

// BenchmarkTapToVerdict is one in-process tap, handover to verification
// verdict, for an mDL with its portrait, reporting APDUs and bytes on the
// wire (command + response APDUs) per tap.
func BenchmarkTapToVerdict(b *testing.B) {
	req := request{mdoc.DocTypeMDL, map[string]map[string]bool{mdoc.NameSpaceMDL: {
		"family_name": false, "given_name": false, "birth_date": false, "portrait": false,
		"document_number": false, "driving_privileges": false, "age_over_18": false,
	}}}
	for _, tc := range []struct {
		name string
		mode wallet.HandoverMode
		lim  nfc.Limits
	}{
		{"static/extended", wallet.HandoverStatic, extended},
		{"static/short", wallet.HandoverStatic, shortOnly},
		{"negotiated/short", wallet.HandoverNegotiated, shortOnly},
		{"apple/extended", wallet.HandoverApple, extended},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w := newWallet(b, wallet.Config{Handover: tc.mode}, "mdl")
			p := getFixture(b, "mdl").pki
			c := &counter{t: w.Transceiver()}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				w.PowerOn()
				res, err := readerTap{limits: tc.lim}.run(context.Background(), c, req)
				if err != nil {
					b.Fatal(err)
				}
				if v, err := res.verdict(p); !v.Accepted() {
					b.Fatal(err)
				}
				w.PowerOff()
			}
			b.ReportMetric(float64(c.apdus)/float64(b.N), "apdus/op")
			b.ReportMetric(float64(c.cmd+c.rs)/float64(b.N), "wire-B/op")
		})
	}
}
