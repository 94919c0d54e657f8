package nfc_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/idreader/idreader/nfc"
)

func TestCommandEncodeParse(t *testing.T) {
	data300 := bytes.Repeat([]byte{7}, 300)
	for _, tc := range []struct {
		name string
		cmd  nfc.Command
		hex  string
	}{
		{"case1", nfc.Command{INS: 0xA4, P1: 1, P2: 2}, "00a40102"},
		{"case2S", nfc.ReadBinary(0, 15), "00b000000f"},
		{"case2S-256", nfc.ReadBinary(0x0102, 256), "00b0010200"},
		{"case3S", nfc.SelectFile(0xE103), "00a4000c02e103"},
		{"case4S", nfc.SelectAID(nfc.NDEFApplicationAID), "00a4040007d276000085010100"},
		{"case2E", nfc.Command{INS: 0xB0, Ne: 1024}, "00b00000000400"},
		{"case2E-65536", nfc.Command{INS: 0xB0, Ne: 65536}, "00b00000000000"},
		{"case2E-forced", nfc.Command{INS: 0xB0, Ne: 15, Extended: true}, "00b0000000000f"},
		{"case4E-by-Le", nfc.Envelope([]byte{1, 2}, true, 65536), "00c300000000020102 0000"},
		{"get-response-short", nfc.GetResponse(0x20), "00c0000020"},
		{"get-response-256", nfc.GetResponse(256), "00c0000000"},
		{"get-response-ext", nfc.GetResponse(65536), "00c00000000000"},
		{"chained", nfc.Envelope([]byte{9}, false, 0), "10c300000109"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.cmd.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if want := mustHex(t, tc.hex); !bytes.Equal(b, want) {
				t.Fatalf("encode = %x, want %x", b, want)
			}
			p, err := nfc.ParseCommand(b)
			if err != nil {
				t.Fatal(err)
			}
			again, err := p.Encode()
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("round trip %x: %v", again, err)
			}
			if p.Ne != tc.cmd.Ne || !bytes.Equal(p.Data, tc.cmd.Data) {
				t.Fatalf("parsed %+v", p)
			}
		})
	}
	// Case 3E with 300 bytes of data.
	b, err := nfc.Command{INS: 0xD6, Data: data300}.Encode()
	if err != nil || !bytes.Equal(b[:7], mustHex(t, "00d6000000012c")) || len(b) != 307 {
		t.Fatalf("case 3E %x: %v", b[:7], err)
	}
	if p, err := nfc.ParseCommand(b); err != nil || !p.Extended || len(p.Data) != 300 || p.Ne != 0 {
		t.Fatalf("case 3E parse %+v %v", p, err)
	}
}

func TestCommandParseNegative(t *testing.T) {
	for _, tc := range []struct{ name, hex string }{
		{"short header", "00a404"},
		{"truncated short data", "00a4040007d2760000"},
		{"short data too long", "00a4000c02e10300aa"},
		{"short Lc with extended Le", "00c300000501020304050000"},
		{"extended Lc with short Le", "00c30000000005010203040500"},
		{"broken GET RESPONSE 00 C0 00 00 00 Le", "00c000000010"},
		{"extended Lc 0", "00c3000000000000"},
		{"truncated extended data", "00c3000000000501"},
		{"truncated extended length", "00c300000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := nfc.ParseCommand(mustHex(t, tc.hex)); !errors.Is(err, nfc.ErrMalformedAPDU) {
				t.Fatalf("parsed %+v, err %v", c, err)
			}
		})
	}
	for _, c := range []nfc.Command{{Ne: -1}, {Ne: 65537}, {Data: make([]byte, 65536)}} {
		if _, err := c.Encode(); !errors.Is(err, nfc.ErrMalformedAPDU) {
			t.Errorf("encode %d/%d: %v", len(c.Data), c.Ne, err)
		}
	}
}

func TestResponse(t *testing.T) {
	r, err := nfc.ParseResponse(mustHex(t, "0102039000"))
	if err != nil || r.SW != 0x9000 || !bytes.Equal(r.Data, []byte{1, 2, 3}) || r.Err() != nil {
		t.Fatalf("%+v %v", r, err)
	}
	if !bytes.Equal(r.Encode(), mustHex(t, "0102039000")) {
		t.Fatal("encode")
	}
	for _, b := range [][]byte{nil, {0x90}} {
		if _, err := nfc.ParseResponse(b); !errors.Is(err, nfc.ErrMalformedAPDU) {
			t.Errorf("%x: %v", b, err)
		}
	}
}

func TestStatusErrors(t *testing.T) {
	for _, tc := range []struct {
		sw   uint16
		want error
	}{
		{0x6A82, nfc.ErrFileNotFound},
		{0x6700, nfc.ErrWrongLength},
		{0x6C10, nfc.ErrWrongLength},
		{0x6982, nfc.ErrSecurityStatus},
		{0x6985, nfc.ErrConditionsNotSatisfied},
		{0x6986, nfc.ErrCommandNotAllowed},
		{0x6A80, nfc.ErrWrongData},
		{0x6A81, nfc.ErrFunctionNotSupported},
		{0x6A86, nfc.ErrWrongP1P2},
		{0x6B00, nfc.ErrWrongP1P2},
		{0x6D00, nfc.ErrInsNotSupported},
		{0x6E00, nfc.ErrClassNotSupported},
	} {
		err := fmt.Errorf("reading: %w", nfc.Response{SW: tc.sw}.Err())
		if !errors.Is(err, tc.want) {
			t.Errorf("%04X is not %v", tc.sw, tc.want)
		}
		if errors.Is(err, nfc.ErrReadOnly) || (tc.want != nfc.ErrFileNotFound && errors.Is(err, nfc.ErrFileNotFound)) {
			t.Errorf("%04X matches too much", tc.sw)
		}
		if !errors.Is(err, nfc.StatusError{SW: tc.sw}) {
			t.Errorf("%04X does not match its StatusError", tc.sw)
		}
	}
	if err := (nfc.StatusError{SW: 0x6F00}); err.Error() != "nfc: status 6F00" {
		t.Errorf("message %q", err.Error())
	}
}

func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		lim      nfc.Limits
		cmd, rsp int
	}{
		{nfc.Limits{}, 255, 256},
		{nfc.Limits{MaxCommandData: 1000, MaxResponseData: 1000}, 255, 256},
		{nfc.Limits{MaxCommandData: 54, MaxResponseData: 64}, 54, 64},
		{nfc.Limits{ExtendedAPDU: true}, 65535, 65536},
		{nfc.Limits{ExtendedAPDU: true, MaxCommandData: 1017, MaxResponseData: 1017}, 1017, 1017},
	} {
		if c, r := tc.lim.CommandData(), tc.lim.ResponseData(); c != tc.cmd || r != tc.rsp {
			t.Errorf("%+v: %d/%d", tc.lim, c, r)
		}
	}
}
