package nfc_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/nfc/nfctest"
)

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	return b
}

func TestTLV53(t *testing.T) {
	for _, tc := range []struct {
		n      int
		prefix string
	}{
		{0, "5300"}, {0x7F, "537f"}, {0x80, "538180"}, {0xFF, "5381ff"},
		{0x100, "53820100"}, {0xFFFF, "5382ffff"}, {0x10000, "5383010000"},
	} {
		v := pattern(tc.n, 1)
		w, err := nfc.WrapTLV53(v)
		if err != nil || !bytes.HasPrefix(w, mustHex(t, tc.prefix)) || len(w) != len(tc.prefix)/2+tc.n {
			t.Fatalf("%d: %x… %v", tc.n, w[:min(len(w), 6)], err)
		}
		back, err := nfc.ParseTLV53(w)
		if err != nil || !bytes.Equal(back, v) {
			t.Fatalf("%d: parse %v", tc.n, err)
		}
	}
	if _, err := nfc.WrapTLV53(make([]byte, 0x1000000)); !errors.Is(err, nfc.ErrMalformedTLV) {
		t.Error("oversized wrapped")
	}
	for _, h := range []string{"", "53", "5401aa", "5302aa", "5301aabb", "53817f" + "00", "5384000000010a", "5380", "5382007f"} {
		if _, err := nfc.ParseTLV53(mustHex(t, h)); !errors.Is(err, nfc.ErrMalformedTLV) {
			t.Errorf("%s: %v", h, err)
		}
	}
}

func TestResponseChunker(t *testing.T) {
	// 600 bytes at Le 256: 256 + 6100 (344 left), 256 + 6158 (88 left), 88 + 9000.
	c := nfc.NewResponseChunker(pattern(600, 2))
	var sws []uint16
	var got []byte
	for ne := 256; ; {
		r := c.Next(ne)
		sws = append(sws, r.SW)
		got = append(got, r.Data...)
		if r.SW == nfc.SWSuccess {
			break
		}
		ne = int(r.SW & 0xFF)
		if ne == 0 {
			ne = 256
		}
	}
	if want := []uint16{0x6100, 0x6158, 0x9000}; len(sws) != 3 || sws[0] != want[0] || sws[1] != want[1] || sws[2] != want[2] {
		t.Fatalf("sws %04X", sws)
	}
	if !bytes.Equal(got, pattern(600, 2)) || c.Pending() != 0 {
		t.Fatal("data differs")
	}
	// Exactly 255 left is 61FF; 256 left is 6100.
	if r := nfc.NewResponseChunker(make([]byte, 10+255)).Next(10); r.SW != 0x61FF {
		t.Fatalf("%04X", r.SW)
	}
	if r := nfc.NewResponseChunker(make([]byte, 10+256)).Next(10); r.SW != 0x6100 {
		t.Fatalf("%04X", r.SW)
	}
}

func TestExchange30KB(t *testing.T) {
	request := pattern(1000, 3)
	reply := pattern(30*1024, 4)
	wrappedReply := len(reply) + 4 // 53 82 xxxx
	for _, tc := range []struct {
		name         string
		lim          nfc.Limits
		mdoc         *nfc.NFCCarrier
		shortOnly    bool
		cmdBlock     int
		respMax      int
		envelopes    int
		getResponses int
		lastGetLe    string // hex encoding of the last GET RESPONSE
	}{
		{"extended", nfc.Limits{ExtendedAPDU: true}, &nfc.NFCCarrier{MaxCommandData: 0xFFFF, MaxResponseData: 0x10000}, false, 0xFFFF, 0x10000, 1, 0, ""},
		{"extended-4k", nfc.Limits{ExtendedAPDU: true, MaxCommandData: 400, MaxResponseData: 4096}, &nfc.NFCCarrier{MaxCommandData: 0xFFFF, MaxResponseData: 0x10000}, false, 400, 4096, 3, 7, "00c00000001000"},
		{"short-only", nfc.Limits{}, &nfc.NFCCarrier{MaxCommandData: 0xFFFF, MaxResponseData: 0x10000}, true, 255, 256, 4, 120, "00c0000004"},
		{"mdoc-limited", nfc.Limits{ExtendedAPDU: true}, &nfc.NFCCarrier{MaxCommandData: 255, MaxResponseData: 256}, true, 255, 256, 4, 120, "00c0000004"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := &nfctest.Responder{ShortOnly: tc.shortOnly, KeepLog: true, Handler: func(msg []byte) []byte {
				if !bytes.Equal(msg, request) {
					t.Error("request differs")
				}
				return reply
			}}
			e := nfc.NewExchanger(resp, tc.lim, tc.mdoc)
			if e.CommandBlock() != tc.cmdBlock || e.ResponseMax() != tc.respMax {
				t.Fatalf("sizes %d/%d", e.CommandBlock(), e.ResponseMax())
			}
			if err := e.Select(context.Background()); err != nil {
				t.Fatal(err)
			}
			got, err := e.Exchange(context.Background(), request)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, reply) {
				t.Fatal("reply differs")
			}
			log := resp.Log[1:]
			if len(log) != tc.envelopes+tc.getResponses {
				t.Fatalf("%d APDUs, want %d+%d", len(log), tc.envelopes, tc.getResponses)
			}
			// ENVELOPE blocks: CLA 10 and no Le, answered 9000; then the last
			// with CLA 00 and Le.
			for i, x := range log[:tc.envelopes] {
				cmd, err := nfc.ParseCommand(x.Command)
				if err != nil || cmd.INS != 0xC3 || cmd.P1 != 0 || cmd.P2 != 0 || len(cmd.Data) > tc.cmdBlock {
					t.Fatalf("envelope %d: %x… %v", i, x.Command[:7], err)
				}
				last := i == tc.envelopes-1
				if !last && (cmd.CLA != 0x10 || cmd.Ne != 0 || !bytes.Equal(x.Response, []byte{0x90, 0x00})) {
					t.Fatalf("non-last envelope %d: CLA %02X Ne %d → %x", i, cmd.CLA, cmd.Ne, x.Response)
				}
				if last && (cmd.CLA != 0x00 || cmd.Ne != tc.respMax) {
					t.Fatalf("last envelope: CLA %02X Ne %d", cmd.CLA, cmd.Ne)
				}
			}
			// Response chaining: 6100 while more than 255 bytes remain, then
			// 61xx, then 9000; GET RESPONSE is 00 C0 00 00 Le with no Lc.
			served := 0
			for i, x := range log[tc.envelopes-1:] {
				r, _ := nfc.ParseResponse(x.Response)
				served += len(r.Data)
				left := wrappedReply - served
				var want uint16
				switch {
				case left == 0:
					want = 0x9000
				case left > 255:
					want = 0x6100
				default:
					want = 0x6100 | uint16(left)
				}
				if r.SW != want {
					t.Fatalf("response %d: SW %04X, want %04X", i, r.SW, want)
				}
				if i > 0 {
					cmd, err := nfc.ParseCommand(x.Command)
					if err != nil || cmd.CLA != 0 || cmd.INS != 0xC0 || cmd.P1 != 0 || cmd.P2 != 0 || cmd.Data != nil {
						t.Fatalf("GET RESPONSE %x: %v", x.Command, err)
					}
				}
			}
			if tc.lastGetLe != "" && !bytes.Equal(log[len(log)-1].Command, mustHex(t, tc.lastGetLe)) {
				t.Fatalf("last GET RESPONSE %x", log[len(log)-1].Command)
			}
		})
	}
}

func TestExchangeErrors(t *testing.T) {
	// SELECT of the data transfer AID answered 6A82.
	e := nfc.NewExchanger(transceiverFunc(func(ctx context.Context, apdu []byte) ([]byte, error) {
		return []byte{0x6A, 0x82}, nil
	}), nfc.Limits{}, nil)
	if err := e.Select(context.Background()); !errors.Is(err, nfc.ErrFileNotFound) {
		t.Fatalf("err = %v", err)
	}
	// A reply that is not TLV 53.
	e = nfc.NewExchanger(transceiverFunc(func(ctx context.Context, apdu []byte) ([]byte, error) {
		return []byte{0x54, 0x00, 0x90, 0x00}, nil
	}), nfc.Limits{}, nil)
	if _, err := e.Exchange(context.Background(), []byte{1}); !errors.Is(err, nfc.ErrMalformedTLV) {
		t.Fatalf("err = %v", err)
	}
	// A transport error is returned as is.
	boom := errors.New("tag removed")
	e = nfc.NewExchanger(transceiverFunc(func(ctx context.Context, apdu []byte) ([]byte, error) {
		return nil, boom
	}), nfc.Limits{}, nil)
	if _, err := e.Exchange(context.Background(), []byte{1}); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
}

func TestEnvelopeReceiver(t *testing.T) {
	var r nfc.EnvelopeReceiver
	w, _ := nfc.WrapTLV53(pattern(300, 5))
	if _, done, err := r.Add(nfc.Envelope(w[:200], false, 0)); done || err != nil {
		t.Fatal(done, err)
	}
	msg, done, err := r.Add(nfc.Envelope(w[200:], true, 256))
	if !done || err != nil || !bytes.Equal(msg, pattern(300, 5)) {
		t.Fatal(done, err)
	}
	if _, _, err := r.Add(nfc.Command{INS: 0xB0}); !errors.Is(err, nfc.ErrInsNotSupported) {
		t.Fatal(err)
	}
	r.Max = 10
	if _, _, err := r.Add(nfc.Envelope(make([]byte, 11), false, 0)); !errors.Is(err, nfc.ErrWrongLength) {
		t.Fatal(err)
	}
}

func benchmarkExchange(b *testing.B, lim nfc.Limits) {
	request := pattern(1000, 3)
	reply := pattern(30*1024, 4)
	resp := &nfctest.Responder{Handler: func([]byte) []byte { return reply }}
	e := nfc.NewExchanger(resp, lim, &nfc.NFCCarrier{MaxCommandData: 0xFFFF, MaxResponseData: 0x10000})
	ctx := context.Background()
	if err := e.Select(ctx); err != nil {
		b.Fatal(err)
	}
	resp.APDUs, resp.CommandBytes, resp.ResponseBytes = 0, 0, 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Exchange(ctx, request); err != nil {
			b.Fatal(err)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(resp.APDUs)/n, "apdus/op")
	b.ReportMetric(float64(resp.CommandBytes)/n, "cmd-bytes/op")
	b.ReportMetric(float64(resp.ResponseBytes)/n, "resp-bytes/op")
}

// BenchmarkExchange30KB sends a 1000-byte request and receives a 30 KiB
// reply from an in-memory responder.
func BenchmarkExchange30KB(b *testing.B) {
	b.Run("extended", func(b *testing.B) { benchmarkExchange(b, nfc.Limits{ExtendedAPDU: true}) })
	b.Run("short-only", func(b *testing.B) { benchmarkExchange(b, nfc.Limits{}) })
}
