package pn532

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestEncodeInfo checks frames against the worked examples of the PN532
// User Manual and the application note: GetFirmwareVersion and
// SAMConfiguration (normal mode, 1 s timeout, IRQ used).
func TestEncodeInfo(t *testing.T) {
	for _, tc := range []struct {
		data []byte
		want string
	}{
		{[]byte{CmdGetFirmwareVersion}, "00 00 FF 02 FE D4 02 2A 00"},
		{[]byte{CmdSAMConfiguration, 0x01, 0x14, 0x01}, "00 00 FF 05 FB D4 14 01 14 01 02 00"},
		{[]byte{CmdInListPassiveTarget, 0x01, 0x00}, "00 00 FF 04 FC D4 4A 01 00 E1 00"},
	} {
		got, err := EncodeInfo(TFIHost, tc.data)
		if err != nil {
			t.Fatal(err)
		}
		if want := unhex(t, tc.want); !bytes.Equal(got, want) {
			t.Errorf("EncodeInfo(% X) = % X, want % X", tc.data, got, want)
		}
		f, n, err := ParseFrame(got)
		if err != nil || n != len(got) || f.Kind != KindInfo || f.TFI != TFIHost || !bytes.Equal(f.Data, tc.data) || f.Extended {
			t.Errorf("round trip of % X: %+v %d %v", got, f, n, err)
		}
	}
}

func TestExtendedFrame(t *testing.T) {
	data := make([]byte, 300-1)
	data[0] = CmdInDataExchange
	if _, err := EncodeInfo(TFIHost, data); err == nil {
		t.Fatal("300-byte frame accepted beyond the 265-byte limit")
	}
	data = data[:MaxFrameLen-1]
	for i := range data[1:] {
		data[1+i] = byte(i)
	}
	enc, err := EncodeInfo(TFIHost, data)
	if err != nil {
		t.Fatal(err)
	}
	// 00 00 FF FF FF 01 09 F6: LEN 0x0109 = 265, LCS = -(0x01+0x09).
	if !bytes.HasPrefix(enc, unhex(t, "0000FFFFFF0109F6D4")) {
		t.Fatalf("extended header % X", enc[:9])
	}
	f, n, err := ParseFrame(enc)
	if err != nil || n != len(enc) || !f.Extended || !bytes.Equal(f.Data, data) {
		t.Fatalf("extended round trip: %+v %d %v", f.Extended, n, err)
	}
	// The longest normal frame stays normal.
	enc, _ = EncodeInfo(TFIHost, data[:MaxNormalLen-1])
	if f, _, err := ParseFrame(enc); err != nil || f.Extended || enc[3] != 0xFF || enc[4] != 0x01 {
		t.Fatalf("255-byte frame: % X %v", enc[:5], err)
	}
	if _, err := EncodeInfo(TFIHost, nil); err == nil {
		t.Fatal("empty frame accepted")
	}
}

func TestControlFrames(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		kind FrameKind
	}{
		{ACKFrame(), KindACK},
		{NACKFrame(), KindNACK},
		{ErrorFrame(), KindError},
	} {
		f, n, err := ParseFrame(tc.in)
		if err != nil || f.Kind != tc.kind || n != len(tc.in) {
			t.Errorf("% X: %v %d %v", tc.in, f.Kind, n, err)
		}
		enc, err := f.Encode()
		if err != nil || !bytes.Equal(enc, tc.in) {
			t.Errorf("%v encodes to % X %v", tc.kind, enc, err)
		}
	}
}

// TestParseStream: frames back to back with wake-up bytes and padding in
// front, as on the UART, parse one after the other.
func TestParseStream(t *testing.T) {
	resp, _ := EncodeInfo(TFIChip, []byte{0x03, 0x32, 0x01, 0x06, 0x07})
	stream := append(append([]byte{0x55, 0x55, 0x00, 0x00}, ACKFrame()...), resp...)
	f, n, err := ParseFrame(stream)
	if err != nil || f.Kind != KindACK {
		t.Fatalf("first frame: %v %v", f.Kind, err)
	}
	f, m, err := ParseFrame(stream[n:])
	if err != nil || f.Kind != KindInfo || f.TFI != TFIChip || n+m != len(stream) {
		t.Fatalf("second frame: %+v %d %v", f, m, err)
	}
}

func TestParseFrameErrors(t *testing.T) {
	good, _ := EncodeInfo(TFIHost, []byte{CmdGetFirmwareVersion})
	for _, tc := range []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrShortFrame},
		{"no start code", "00 00 00 55", ErrShortFrame},
		{"truncated header", "00 00 FF 02", ErrShortFrame},
		{"truncated body", "00 00 FF 02 FE D4", ErrShortFrame},
		{"truncated before DCS", "00 00 FF 02 FE D4 02", ErrShortFrame},
		{"truncated extended header", "00 00 FF FF FF 01", ErrShortFrame},
		{"bad LCS", "00 00 FF 02 FD D4 02 2A 00", ErrChecksum},
		{"bad DCS", "00 00 FF 02 FE D4 02 2B 00", ErrChecksum},
		{"bad extended LCS", "00 00 FF FF FF 01 09 F5", ErrChecksum},
		{"extended beyond 265", "00 00 FF FF FF 01 0A F5", ErrBadFrame},
		{"zero extended length", "00 00 FF FF FF 00 00 00", ErrBadFrame},
		{"TFI only", "00 00 FF 01 FF D4 2C 00", ErrBadFrame},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, n, err := ParseFrame(unhex(t, tc.in))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if errors.Is(err, ErrShortFrame) && n != 0 {
				t.Fatalf("short frame consumed %d bytes", n)
			}
			if !errors.Is(err, ErrShortFrame) && n == 0 {
				t.Fatal("bad frame consumed nothing")
			}
		})
	}
	// Every strict prefix of a good frame is short, never wrong.
	for i := range len(good) - 1 {
		if _, _, err := ParseFrame(good[:i]); !errors.Is(err, ErrShortFrame) {
			t.Errorf("prefix %d: %v", i, err)
		}
	}
}

// FuzzParseFrame: the parser never panics, consumes no more than it was
// given, and what it accepts encodes back to the bytes it consumed (after
// the skipped lead-in).
func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{
		"0000FF02FED4022A00", "0000FF00FF00", "0000FFFF0000", "0000FF01FF7F8100",
		"0000FF06FAD50332010607EE00", "5555000000000000FF02FED4022A00",
		"0000FFFFFF0003FDD54100EA00", "0000FF02FED4022B00",
	} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, n, err := ParseFrame(b)
		if n < 0 || n > len(b) {
			t.Fatalf("consumed %d of %d", n, len(b))
		}
		if err != nil {
			return
		}
		enc, err := fr.Encode()
		if err != nil {
			t.Fatalf("parsed frame does not encode: %v", err)
		}
		if fr.Kind == KindInfo && fr.Extended != (len(fr.Data)+1 > MaxNormalLen) {
			// A short extended frame is legal on the wire but encodes
			// as a normal one.
			return
		}
		if !bytes.Contains(b[:n], enc[1:len(enc)-1]) {
			t.Fatalf("re-encoding % X not within consumed % X", enc, b[:n])
		}
	})
}
