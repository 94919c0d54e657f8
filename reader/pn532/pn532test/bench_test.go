package pn532test_test

import (
	"context"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/reader/pn532"
	"github.com/idreader/idreader/reader/pn532/pn532test"
)

// portrait is the size of the portrait the on-air model is quoted for.
const portrait = 20 * 1024

// BenchmarkTap runs one full tap per iteration through the driver, the
// emulated chip on each bus and the simulated wallet, and reports the host
// bus frames and the modelled on-air time of the tap, and the modelled
// on-air time of a 20 KB portrait at 106 and 424 kbit/s.
//
//	go test -run '^$' -bench BenchmarkTap -benchmem ./reader/pn532/pn532test
func BenchmarkTap(b *testing.B) {
	for _, bus := range pn532test.Buses {
		b.Run(bus, func(b *testing.B) {
			ctx := context.Background()
			rig := newRig(b, bus, pn532test.Options{}, testOptions())
			w, cfg := newWallet(b, "mdl", wallet.HandoverStatic)
			before := rig.Reader.Stats()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				out, _, err := tap(ctx, rig, w, cfg)
				accepted(b, out, err)
			}
			b.StopTimer()
			st := rig.Reader.Stats()
			n := float64(b.N)
			b.ReportMetric(float64(st.Bus.Frames-before.Bus.Frames)/n, "frames/op")
			b.ReportMetric(float64(st.Bus.Bytes-before.Bus.Bytes)/n, "busB/op")
			b.ReportMetric(float64(st.AirBytes-before.AirBytes)/n, "airB/op")
			b.ReportMetric(float64((st.AirTime-before.AirTime)/time.Microsecond)/1000/n, "air-ms/op")
			b.ReportMetric(float64(pn532.AirTime(portrait, pn532.ModelFSD, pn532.Rate106)/time.Microsecond)/1000, "portrait20KB-ms@106")
			b.ReportMetric(float64(pn532.AirTime(portrait, pn532.ModelFSD, pn532.Rate424)/time.Microsecond)/1000, "portrait20KB-ms@424")
		})
	}
}

// TestAirTimeModel pins the model to the figures the issue quotes: a 20 KB
// portrait takes about 1.9 s at 106 kbit/s and about 0.5 s at 424.
func TestAirTimeModel(t *testing.T) {
	at106 := pn532.AirTime(portrait, pn532.ModelFSD, pn532.Rate106)
	at424 := pn532.AirTime(portrait, pn532.ModelFSD, pn532.Rate424)
	if at106 < 1700*time.Millisecond || at106 > 2100*time.Millisecond || at424 < 400*time.Millisecond || at424 > 650*time.Millisecond {
		t.Fatalf("20 KB: %v at 106, %v at 424", at106, at424)
	}
	if pn532.AirBytes(0, 64) != 3 || pn532.AirBytes(61, 64) != 64 || pn532.AirBytes(62, 64) != 62+6+3 {
		t.Fatalf("AirBytes framing: %d %d %d", pn532.AirBytes(0, 64), pn532.AirBytes(61, 64), pn532.AirBytes(62, 64))
	}
}
