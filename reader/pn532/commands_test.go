package pn532

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/idreader/idreader/reader"
)

func TestParseBus(t *testing.T) {
	for _, s := range []string{"i2c:/dev/i2c-1", "spi:/dev/spidev0.0", "uart:/dev/ttyAMA0"} {
		b, err := ParseBus(s)
		if err != nil || b.String() != s {
			t.Errorf("%s: %v %v", s, b, err)
		}
	}
	for _, s := range []string{"", "i2c", "i2c:", "usb:/dev/x", "uart:ttyAMA0"} {
		if _, err := ParseBus(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}

// TestStatus: every status code is an error with a text; timeout matches
// reader.ErrTimeout; errors.As finds the code through wrapping.
func TestStatus(t *testing.T) {
	for s := range statusText {
		if s == StatusOK {
			continue
		}
		err := fmt.Errorf("exchanging data: %w", statusErr(byte(s)|statusMI))
		var got Status
		if !errors.As(err, &got) || got != s || !errors.Is(err, s) {
			t.Errorf("status 0x%02X lost in wrapping: %v", byte(s), err)
		}
		if errors.Is(err, reader.ErrTimeout) != (s == StatusTimeout) {
			t.Errorf("status 0x%02X: Is(ErrTimeout) wrong", byte(s))
		}
	}
	if statusErr(0x40) != nil {
		t.Error("MI bit alone is an error")
	}
	if Status(0x3E).Error() == "" || !StatusCardGone.RF() || StatusInvalidParameter.RF() {
		t.Error("status classification")
	}
}

func TestParseTargetList(t *testing.T) {
	// NbTg 1, Tg 1, SENS_RES 0004, SEL_RES 20, UID 08 5A 1C 93, ATS 05 78 33 80 02.
	a := []byte{0x01, 0x01, 0x00, 0x04, 0x20, 0x04, 0x08, 0x5A, 0x1C, 0x93, 0x05, 0x78, 0x33, 0x80, 0x02}
	ti, err := parseTargetList(a, TypeA)
	if err != nil || !ti.ISODEP() || ti.FSC() != 256 || len(ti.UID) != 4 {
		t.Fatalf("%+v %v", ti, err)
	}
	if r := ti.BitRates(); len(r) != 3 || r[2] != Rate424 {
		t.Fatalf("bit rates %v", r)
	}
	if atr := ti.ATR(); !bytes.Equal(atr, []byte{0x3B, 0x80, 0x80, 0x01, 0x01}) {
		t.Fatalf("ATR % X", atr)
	}
	// An ATS without TA(1) allows 106 kbit/s only; historical bytes go
	// into the ATR.
	ti.ATS = []byte{0x06, 0x08, 0xAA, 0xBB, 0xCC, 0xDD}
	if r := ti.BitRates(); len(r) != 1 || !bytes.Equal(ti.Historical(), []byte{0xAA, 0xBB, 0xCC, 0xDD}) {
		t.Fatalf("bit rates %v historical % X", r, ti.Historical())
	}
	if none, err := parseTargetList([]byte{0x00}, TypeA); none != nil || err != nil {
		t.Fatalf("empty field: %v %v", none, err)
	}
	b := append([]byte{0x01, 0x01}, 0x50, 1, 2, 3, 4, 0, 0, 0, 0, 0x33, 0x81, 0x81, 0x01, 0x00)
	tb, err := parseTargetList(b, TypeB)
	if err != nil || !tb.ISODEP() || tb.FSC() != 256 || len(tb.BitRates()) != 3 || len(tb.ATR()) != 5+7 {
		t.Fatalf("type B %+v %v", tb, err)
	}
	for name, bad := range map[string][]byte{
		"empty":         {},
		"no Tg":         {0x01},
		"UID length 5":  {0x01, 0x01, 0x00, 0x04, 0x20, 0x05, 1, 2, 3, 4, 5},
		"truncated UID": {0x01, 0x01, 0x00, 0x04, 0x00, 0x04, 1, 2},
		"truncated ATS": {0x01, 0x01, 0x00, 0x04, 0x20, 0x04, 1, 2, 3, 4, 0x05, 0x78},
		"zero TL":       {0x01, 0x01, 0x00, 0x04, 0x20, 0x04, 1, 2, 3, 4, 0x00},
	} {
		if _, err := parseTargetList(bad, TypeA); !errors.Is(err, ErrResponse) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := parseTargetList([]byte{0x01, 0x01, 0x51, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, TypeB); err == nil {
		t.Error("ATQB without 0x50 accepted")
	}
}

// FuzzParseTargetList: target data from the chip never panics the parser.
func FuzzParseTargetList(f *testing.F) {
	f.Add([]byte{0x01, 0x01, 0x00, 0x04, 0x20, 0x04, 0x08, 0x5A, 0x1C, 0x93, 0x05, 0x78, 0x33, 0x80, 0x02}, false)
	f.Add([]byte{0x01, 0x01, 0x50, 1, 2, 3, 4, 0, 0, 0, 0, 0x33, 0x81, 0x81, 0x01, 0x00}, true)
	f.Fuzz(func(t *testing.T, b []byte, typeB bool) {
		typ := TypeA
		if typeB {
			typ = TypeB
		}
		ti, err := parseTargetList(b, typ)
		if err != nil || ti == nil {
			return
		}
		ti.ISODEP()
		ti.BitRates()
		ti.FSC()
		ti.ATR()
	})
}

// TestExpectedLength: Ne from the Le field of each APDU case (ISO/IEC
// 7816-4 clause 5.1), none for cases 1 and 3.
func TestExpectedLength(t *testing.T) {
	for _, tc := range []struct {
		apdu []byte
		ne   int
		ok   bool
	}{
		{[]byte{0x00, 0xA4, 0x04, 0x00}, 0, false},                                              // case 1
		{[]byte{0x00, 0xC0, 0x00, 0x00, 0x00}, 256, true},                                       // case 2S, Le 00
		{[]byte{0x00, 0xB0, 0x00, 0x00, 0x10}, 16, true},                                        // case 2S
		{[]byte{0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00}, 256, true},                           // case 2E
		{[]byte{0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00}, 65536, true},                         // case 2E, Le 0000
		{[]byte{0x00, 0xA4, 0x04, 0x00, 0x02, 0xA0, 0x00}, 0, false},                            // case 3S
		{[]byte{0x00, 0xA4, 0x04, 0x00, 0x02, 0xA0, 0x00, 0x00}, 256, true},                     // case 4S
		{[]byte{0x00, 0xA4, 0x04, 0x00, 0x02, 0xA0, 0x00, 0x20}, 32, true},                      // case 4S
		{[]byte{0x00, 0xC3, 0x00, 0x00, 0x00, 0x00, 0x02, 0xA0, 0x00}, 0, false},                // case 3E
		{[]byte{0x00, 0xC3, 0x00, 0x00, 0x00, 0x00, 0x02, 0xA0, 0x00, 0x00, 0x00}, 65536, true}, // case 4E
		{[]byte{0x00, 0xC3, 0x00, 0x00, 0x00, 0x00, 0x02, 0xA0, 0x00, 0x01, 0x02}, 258, true},   // case 4E
		{[]byte{0x00}, 0, false},
	} {
		ne, ok := expectedLength(tc.apdu)
		if ne != tc.ne || ok != tc.ok {
			t.Errorf("% X: Ne %d %v, want %d %v", tc.apdu, ne, ok, tc.ne, tc.ok)
		}
	}
}

// TestResendable: commands that act on the air are never sent twice.
func TestResendable(t *testing.T) {
	for _, cmd := range []byte{CmdInDataExchange, CmdInListPassiveTarget, CmdInPSL} {
		if Resendable(cmd) {
			t.Errorf("command 0x%02X resendable", cmd)
		}
	}
	for _, cmd := range []byte{CmdGetFirmwareVersion, CmdSAMConfiguration, CmdRFConfiguration, CmdDiagnose, CmdInRelease} {
		if !Resendable(cmd) {
			t.Errorf("command 0x%02X not resendable", cmd)
		}
	}
}
