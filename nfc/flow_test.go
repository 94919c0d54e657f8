package nfc_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/nfc/nfctest"
)

// instantSleep records the waits and returns at once (or ctx.Err()).
type instantSleep struct{ waits []time.Duration }

func (s *instantSleep) sleep(ctx context.Context, d time.Duration) error {
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func appleCC(t *testing.T) nfc.CapabilityContainer {
	cc, err := nfc.ParseCapabilityContainer(vector(t, "interop/apple_wallet_cc_file.hex"))
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

// appleTag is a fake tag behaving like Apple Wallet in the isomdl capture:
// Tp initially, Te after the Service Select, then NLEN 0 notReady times
// before the Handover Select.
func appleTag(t *testing.T, notReady int) *nfctest.Tag {
	hs := vector(t, "interop/apple_wallet_handover_select_message.hex")
	te := vector(t, "interop/apple_wallet_tnep_status_message.hex")
	tag := nfctest.NewTag(appleCC(t), vector(t, "interop/apple_wallet_initial_ndef_message.hex"))
	tag.ShortOnly = true
	tag.OnWrite = func(msg []byte) ([]byte, int) {
		m, err := nfc.ParseMessage(msg)
		if err != nil {
			t.Errorf("tag got a bad message: %v", err)
			return nil, 0
		}
		switch {
		case m[0].Is(nfc.TNFWellKnown, nfc.TypeServiceSelect):
			if uri, err := nfc.ParseServiceSelect(m[0].Payload); err != nil || uri != nfc.HandoverServiceURI {
				t.Errorf("service select %q, %v", uri, err)
			}
			return te, 0
		case m[0].Is(nfc.TNFWellKnown, nfc.TypeHandoverRequest):
			return hs, notReady
		}
		t.Errorf("unexpected write %x", msg)
		return nil, 0
	}
	return tag
}

func readerHr(t *testing.T) []byte {
	uuid := [16]byte{0x3a, 0x82, 0xd4, 0x55, 0xd5, 0xfc, 0x4d, 0xb3, 0xbe, 0xa0, 0x6f, 0xd2, 0xf6, 0xff, 0x32, 0xc8}
	hr, err := nfc.NewHandoverRequest(bytes.NewReader([]byte{0xAB, 0xCD}), nfc.Carriers{
		BLE: &nfc.BLEOOB{HasRole: true, Role: nfc.LERoleBothPeripheralFirst, UUIDs: [][16]byte{uuid}},
		NFC: &nfc.NFCCarrier{Version: 1},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := hr.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNegotiatedHandoverApple(t *testing.T) {
	tag := appleTag(t, 3)
	hr := readerHr(t)
	var s instantSleep
	r := nfc.HandoverReader{Limits: nfc.Limits{}, Request: hr, Sleep: s.sleep}
	res, err := r.Read(context.Background(), tag)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Negotiated || !bytes.Equal(res.Request, hr) ||
		!bytes.Equal(res.Select, vector(t, "interop/apple_wallet_handover_select_message.hex")) {
		t.Fatalf("result %+v", res)
	}
	if res.Service.WaitTime() != 16*time.Millisecond || res.Service.NWait != 15 || res.Service.MaxNDEFSize != 0x0800 {
		t.Fatalf("service %+v", res.Service)
	}
	// One wait before the Te read, one before the first Hs read, three more
	// while NLEN reads 0.
	if len(s.waits) != 5 {
		t.Fatalf("waits %v", s.waits)
	}
	if res.Carriers.BLE == nil || !res.BLEUUIDFromRequest || len(res.Carriers.BLE.UUIDs) != 1 || res.Carriers.BLE.Role != nfc.LERoleCentralOnly {
		t.Fatalf("ble %+v", res.Carriers.BLE)
	}
	if len(res.DeviceEngagement) != 96 || res.DeviceEngagement[0] != 0xa4 {
		t.Fatalf("device engagement %x", res.DeviceEngagement)
	}
	// The wire: SELECT app with Le 00, SELECT E103, short READ BINARY of 15,
	// SELECT E104, then NLEN and the message in one READ BINARY with the
	// largest short Le (256, encoded 00).
	want := []string{"00a4040007d276000085010100", "00a4000c02e103", "00b000000f", "00a4000c02e104", "00b0000000"}
	for i, w := range want {
		if got := tag.Log[i].Command; !bytes.Equal(got, mustHex(t, w)) {
			t.Errorf("apdu %d = %x, want %s", i, got, w)
		}
	}
	for _, e := range tag.Log {
		if !bytes.HasSuffix(e.Response, []byte{0x90, 0x00}) {
			t.Errorf("%x answered %x", e.Command, e.Response)
		}
	}
}

func TestNegotiatedHandoverNeverReady(t *testing.T) {
	tag := appleTag(t, 1000)
	var s instantSleep
	r := nfc.HandoverReader{Request: readerHr(t), Sleep: s.sleep}
	_, err := r.Read(context.Background(), tag)
	if !errors.Is(err, nfc.ErrNotReady) {
		t.Fatalf("err = %v", err)
	}
	// 1 wait for Te, then 1 + N_wait (15) for the Hs.
	if len(s.waits) != 17 {
		t.Fatalf("%d waits", len(s.waits))
	}
}

func TestNegotiatedHandoverCancel(t *testing.T) {
	tag := appleTag(t, 1000)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	r := nfc.HandoverReader{Request: readerHr(t), Sleep: func(ctx context.Context, d time.Duration) error {
		if n++; n == 4 {
			cancel()
		}
		return ctx.Err()
	}}
	if _, err := r.Read(ctx, tag); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	// The default Sleep honours ctx too.
	if err := nfc.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep: %v", err)
	}
}

func TestNegotiatedHandoverNoRequest(t *testing.T) {
	r := nfc.HandoverReader{Sleep: (&instantSleep{}).sleep}
	if _, err := r.Read(context.Background(), appleTag(t, 0)); !errors.Is(err, nfc.ErrMalformedHandover) {
		t.Fatalf("err = %v", err)
	}
}

func TestNegotiatedHandoverTNEPError(t *testing.T) {
	tag := appleTag(t, 0)
	next := tag.OnWrite
	tag.OnWrite = func(msg []byte) ([]byte, int) {
		b, n := next(msg)
		if bytes.Equal(b, vector(t, "interop/apple_wallet_tnep_status_message.hex")) {
			b, _ = nfc.Message{nfc.StatusRecord(0x01)}.Encode()
		}
		return b, n
	}
	r := nfc.HandoverReader{Request: readerHr(t), Sleep: (&instantSleep{}).sleep}
	if _, err := r.Read(context.Background(), tag); err == nil {
		t.Fatal("tnep error status accepted")
	}
}

func staticTag(t *testing.T, hs []byte, mle uint16) *nfctest.Tag {
	cc := nfc.CapabilityContainer{MappingVersion: 0x20, MLe: mle, MLc: 0x7FFF, NDEFFileID: 0xE104, MaxNDEFSize: 0x7FFF, WriteAccess: 0xFF}
	return nfctest.NewTag(cc, hs)
}

func TestStaticHandover(t *testing.T) {
	hs := vector(t, "annexd/handover_select_message.hex")
	for _, tc := range []struct {
		name  string
		lim   nfc.Limits
		mle   uint16
		reads int // READ BINARY commands for the message
	}{
		{"extended", nfc.Limits{ExtendedAPDU: true}, 0x7FFF, 1},
		{"short", nfc.Limits{}, 0x7FFF, 1},
		{"acr122u", nfc.Limits{MaxResponseData: 64}, 0x7FFF, 4},
		{"small-mle", nfc.Limits{ExtendedAPDU: true}, 0x0040, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag := staticTag(t, hs, tc.mle)
			r := nfc.HandoverReader{Limits: tc.lim}
			res, err := r.Read(context.Background(), tag)
			if err != nil {
				t.Fatal(err)
			}
			if res.Negotiated || res.Request != nil || !bytes.Equal(res.Select, hs) {
				t.Fatalf("result %+v", res)
			}
			if !bytes.Equal(res.DeviceEngagement, vector(t, "annexd/device_engagement_nfc.hex")) {
				t.Fatal("device engagement differs")
			}
			// After SELECT×3 and the CC read come the file reads, NLEN
			// and the message together, at file offsets 0, chunk, ...
			reads := tag.Log[4:]
			if len(reads) != tc.reads {
				t.Fatalf("%d message reads", len(reads))
			}
			off := 0
			for _, e := range reads {
				cmd, err := nfc.ParseCommand(e.Command)
				if err != nil || cmd.INS != nfc.InsReadBinary || int(cmd.P1)<<8|int(cmd.P2) != off {
					t.Fatalf("read %x at offset %d", e.Command, off)
				}
				off += len(e.Response) - 2
			}
		})
	}
}

func TestStaticHandoverErrors(t *testing.T) {
	// No NDEF application: 6A82 surfaces as ErrFileNotFound.
	tr := nfc.Transceiver(transceiverFunc(func(ctx context.Context, apdu []byte) ([]byte, error) {
		return []byte{0x6A, 0x82}, nil
	}))
	_, err := (&nfc.HandoverReader{}).Read(context.Background(), tr)
	if !errors.Is(err, nfc.ErrFileNotFound) {
		t.Fatalf("err = %v", err)
	}
	var se nfc.StatusError
	if !errors.As(err, &se) || se.SW != 0x6A82 {
		t.Fatalf("As: %v", se)
	}
	// NLEN larger than the file.
	tag := staticTag(t, vector(t, "annexd/handover_select_message.hex"), 0x7FFF)
	tag.CC.MaxNDEFSize = 100
	if _, err := (&nfc.HandoverReader{}).Read(context.Background(), tag); !errors.Is(err, nfc.ErrMalformedNDEF) {
		t.Fatalf("err = %v", err)
	}
	// A message that is neither Hs nor Tp.
	te := vector(t, "interop/apple_wallet_tnep_status_message.hex")
	if _, err := (&nfc.HandoverReader{}).Read(context.Background(), staticTag(t, te, 0x7FFF)); !errors.Is(err, nfc.ErrMalformedHandover) {
		t.Fatalf("err = %v", err)
	}
}

type transceiverFunc func(ctx context.Context, apdu []byte) ([]byte, error)

func (f transceiverFunc) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	return f(ctx, apdu)
}

func TestWriteNDEF(t *testing.T) {
	long := bytes.Repeat([]byte{0xAB}, 600)
	msg, err := nfc.Message{{TNF: nfc.TNFMedia, Type: []byte("x/y"), Payload: long}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	small, _ := nfc.Message{nfc.StatusRecord(0)}.Encode()
	for _, tc := range []struct {
		name string
		lim  nfc.Limits
		mlc  uint16
		msg  []byte
		cmds int
	}{
		{"single", nfc.Limits{}, 0x7FFF, small, 1},
		{"short-chunks", nfc.Limits{}, 0x7FFF, msg, 2 + 3}, // 609 bytes in 255-byte pieces
		{"mlc-chunks", nfc.Limits{ExtendedAPDU: true}, 200, msg, 2 + 4},
		{"extended-one-piece", nfc.Limits{ExtendedAPDU: true}, 0x7FFF, msg, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := nfc.CapabilityContainer{MappingVersion: 0x20, MLe: 0x7FFF, MLc: tc.mlc, NDEFFileID: 0xE104, MaxNDEFSize: 0x7FFF}
			tag := nfctest.NewTag(cc, small)
			g := nfc.NewTag(tag, tc.lim)
			if err := g.Select(context.Background()); err != nil {
				t.Fatal(err)
			}
			n := len(tag.Log)
			if err := g.WriteNDEF(context.Background(), tc.msg); err != nil {
				t.Fatal(err)
			}
			if got := len(tag.Log) - n; got != tc.cmds {
				t.Fatalf("%d commands", got)
			}
			if !bytes.Equal(tag.NDEF, tc.msg) {
				t.Fatal("tag content differs")
			}
			if tc.cmds > 1 {
				first, last := tag.Log[n].Command, tag.Log[len(tag.Log)-1].Command
				if !bytes.Equal(first, mustHex(t, "00d60000020000")) || !bytes.HasPrefix(last, mustHex(t, "00d6000002")) {
					t.Fatalf("first %x last %x", first, last)
				}
			}
			got, err := g.ReadNDEF(context.Background())
			if err != nil || !bytes.Equal(got, tc.msg) {
				t.Fatalf("read back: %v", err)
			}
		})
	}
	// A static tag (write access FF) is read-only.
	tag := staticTag(t, small, 0x7FFF)
	g := nfc.NewTag(tag, nfc.Limits{})
	if err := g.Select(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := g.WriteNDEF(context.Background(), small); !errors.Is(err, nfc.ErrReadOnly) {
		t.Fatalf("err = %v", err)
	}
}

// A tag that refuses a READ BINARY with a Le beyond two bytes at offset 0
// (6700) is read the classic way: NLEN with Le 2, then the message.
func TestReadNDEFFallsBackToNLEN(t *testing.T) {
	hs := vector(t, "annexd/handover_select_message.hex")
	tag := staticTag(t, hs, 0x7FFF)
	strict := transceiverFunc(func(ctx context.Context, apdu []byte) ([]byte, error) {
		cmd, err := nfc.ParseCommand(apdu)
		if err == nil && cmd.INS == nfc.InsReadBinary && cmd.P1 == 0 && cmd.P2 == 0 && cmd.Ne > 2 && tag.CC.NDEFFileID != 0 && len(tag.Log) > 3 {
			return []byte{0x67, 0x00}, nil
		}
		return tag.Transmit(ctx, apdu)
	})
	res, err := (&nfc.HandoverReader{}).Read(context.Background(), strict)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Select, hs) {
		t.Fatal("handover select differs")
	}
	// SELECT×3, READ CC, then (after the refused read) NLEN and the message.
	if n := len(tag.Log); n != 6 {
		t.Fatalf("%d APDUs reached the tag", n)
	}
	if got := tag.Log[4].Command; !bytes.Equal(got, mustHex(t, "00b0000002")) {
		t.Errorf("fallback read %x", got)
	}
}

// Sleep waits at least d, below and above the 2 ms where it stops spinning,
// and returns the context's error when the context ends first.
func TestSleep(t *testing.T) {
	for _, d := range []time.Duration{0, 500 * time.Microsecond, 3 * time.Millisecond} {
		start := time.Now()
		if err := nfc.Sleep(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got < d {
			t.Errorf("Sleep(%v) returned after %v", d, got)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, d := range []time.Duration{500 * time.Microsecond, time.Hour} {
		if err := nfc.Sleep(ctx, d); !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep(%v) with an ended context: %v", d, err)
		}
	}
}
