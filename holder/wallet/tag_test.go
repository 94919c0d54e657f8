package wallet_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/nfc"
)

func apdu(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStatusWords drives the tag with scripted APDUs and checks the status
// words of wrong states and bad parameters (ISO/IEC 7816-4 clause 5.6; T4T 2.0
// clause 5.4).
func TestStatusWords(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mode   wallet.HandoverMode
		script [][2]string // command, expected response (suffix match)
	}{
		{"static", wallet.HandoverStatic, [][2]string{
			{"00 B0 0000 0F", "6986"},                   // READ BINARY before any SELECT
			{"00 A4 000C 02 E103", "6A82"},              // file SELECT before the application
			{"00 A4 0400 07 D2760000850102 00", "6A82"}, // unknown AID
			{"00 A4 0400 07 D2760000850101 00", "9000"},
			{"00 A4 000C 02 E105", "6A82"}, // unknown file
			{"00 A4 000C 02 E103", "9000"},
			{"00 B0 0000 0F", "000F207FFF7FFF0406E1047FFF00FF9000"}, // static: write access FF
			{"00 B0 0010 01", "6B00"},                               // past the end of the CC
			{"00 D6 0000 02 0000", "6982"},                          // CC is read-only
			{"00 A4 000C 02 E104", "9000"},
			{"00 D6 0000 02 0000", "6982"}, // static NDEF is read-only
			{"00 B0 8000 02", "6B00"},      // P1 bit 8 set
			{"00 B0 0000", "6700"},         // no Le
			{"00 B0 0000 00 8000", "6700"}, // Le 0x8000 > MLe 0x7FFF
			{"80 B0 0000 02", "6E00"},      // proprietary class
			{"00 CA 0000 00", "6D00"},      // unknown instruction
			{"00 C3 0000 02 5300", "6985"}, // ENVELOPE outside data transfer
			{"00 C0 0000 00", "6985"},      // GET RESPONSE outside data transfer
			{"00 A4 0400 07 A0000002480400 00", "9000"},
			{"00 C0 0000 00", "6985"},      // nothing pending
			{"00 C3 0102 02 5300", "6A86"}, // P1-P2 not 0000
			{"00 C3 0000 02 5400", "6A80"}, // not TLV 53
			{"10 C3 0000 02 5301", "9000"}, // chained block
			{"00 C3 0000 01 00", "610B"},   // completes 53 01 00: not a SessionEstablishment, status 11; no Le → 61xx
			{"00 C0 0000 00", "9000"},
			{"00 B0 0000 02", "6986"}, // READ BINARY in the data transfer application
		}},
		{"negotiated", wallet.HandoverNegotiated, [][2]string{
			{"00 A4 0400 07 D2760000850101 00", "9000"},
			{"00 A4 000C 02 E104", "9000"},
			{"00 B0 0000 02", "001F9000"},
			{"00 D6 8000 02 0000", "6B00"},
			{"00 D6 7FFF 02 0000", "6B00"}, // past max NDEF size
			// Ts in one UPDATE BINARY (NLEN + message).
			{"00 D6 0000 1B 0019 D1021454731375726E3A6E66633A736E3A68616E646F766572", "9000"},
			{"00 B0 0000 08", "0006D102015465009000"}, // Te 00
			// A message that is neither Ts nor Hr: Te 01.
			{"00 D6 0000 08 0006 D10201546500", "9000"},
			{"00 B0 0002 06", "D102015465019000"},
			// NLEN written past the data: 6700 and NLEN back to 0.
			{"00 D6 0000 02 00FF", "6700"},
			{"00 B0 0000 02", "00009000"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWallet(t, wallet.Config{Handover: tc.mode}, "mdl")
			for i, step := range tc.script {
				got := w.Transmit(apdu(t, step[0]))
				want := strings.ReplaceAll(step[1], " ", "")
				if !strings.HasSuffix(strings.ToUpper(hex.EncodeToString(got)), want) {
					t.Fatalf("step %d %s: got %X, want …%s", i, step[0], got, want)
				}
			}
		})
	}
}

// TestOtherFileID serves the NDEF file under the ID a configured CC names.
func TestOtherFileID(t *testing.T) {
	cc := nfc.CapabilityContainer{MappingVersion: 0x20, MLe: 0x00FF, MLc: 0x0010, NDEFFileID: 0xE105, MaxNDEFSize: 0x0800}
	for _, mode := range []wallet.HandoverMode{wallet.HandoverStatic, wallet.HandoverNegotiated} {
		w := newWallet(t, wallet.Config{Handover: mode, CC: &cc}, "mdl")
		c := &counter{t: w.Transceiver(), keep: true}
		res, err := readerTap{limits: extended}.run(context.Background(), c, requestFor("mdl"))
		if err != nil {
			t.Fatal(err)
		}
		if res.handover.CC.NDEFFileID != 0xE105 || res.handover.CC.MLe != 0xFF {
			t.Errorf("CC %+v", res.handover.CC)
		}
		if v, _ := res.verdict(getFixture(t, "mdl").pki); !v.Accepted() {
			t.Error("rejected")
		}
		// The Hr (over MLc 0x10 with NLEN) went in several UPDATE BINARY.
		if mode == wallet.HandoverNegotiated {
			n := 0
			for _, l := range c.log {
				if strings.HasPrefix(l, "00d6") {
					n++
				}
			}
			if n < 4 {
				t.Errorf("%d UPDATE BINARY", n)
			}
		}
	}
}

// TestHandoverRequestWithoutNFC: a reader offering only BLE gets an Hs with
// BLE only when the wallet offers it, and a TNEP error status otherwise
// (package nfc builds no Handover Select without a carrier).
func TestHandoverRequestWithoutNFC(t *testing.T) {
	ble := &nfc.BLEOOB{HasRole: true, Role: nfc.LERoleBothCentralFirst, UUIDs: [][16]byte{{1, 2, 3}}}
	for _, offer := range []bool{false, true} {
		w := newWallet(t, wallet.Config{Handover: wallet.HandoverNegotiated, OfferBLE: offer}, "mdl")
		_, err := readerTap{limits: extended, hrCarrier: nfc.Carriers{BLE: ble}}.run(context.Background(), w.Transceiver(), requestFor("mdl"))
		if !offer {
			if err == nil || w.Report().Err == nil || w.Report().HandoverSelect != nil {
				t.Errorf("no common carrier: %v, report %+v", err, w.Report())
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "did not select NFC") {
			t.Fatalf("err %v", err)
		}
		hs, err := nfc.ParseHandoverSelect(w.Report().HandoverSelect)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := hs.CarrierSet()
		if err != nil {
			t.Fatal(err)
		}
		if cs.NFC != nil || cs.BLE == nil || cs.BLE.Role != nfc.LERoleCentralOnly || len(cs.BLE.UUIDs) != 0 {
			t.Errorf("carriers %+v", cs)
		}
	}
}

// TestAdvertisedLimits checks the NFC carrier record and the enforcement of
// the advertised maximum command length.
func TestAdvertisedLimits(t *testing.T) {
	w := newWallet(t, wallet.Config{MaxCommandData: 200, MaxResponseData: 300}, "mdl")
	c := &counter{t: w.Transceiver(), keep: true}
	res, err := readerTap{limits: extended}.run(context.Background(), c, requestFor("mdl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := res.handover.Carriers.NFC; n.MaxCommandData != 200 || n.MaxResponseData != 300 {
		t.Errorf("carrier %+v", n)
	}
	for _, l := range c.log {
		cmd, _, _ := strings.Cut(l, " -> ")
		b, _ := hex.DecodeString(cmd)
		parsed, err := nfc.ParseCommand(b)
		if err == nil && parsed.INS == nfc.InsEnvelope && len(parsed.Data) > 200 {
			t.Errorf("ENVELOPE of %d bytes", len(parsed.Data))
		}
	}
	w.PowerOff()
	big := append(apdu(t, "00 C3 0000 00 00C9"), bytes.Repeat([]byte{0}, 201)...)
	w.Transmit(apdu(t, "00 A4 0400 07 A0000002480400 00"))
	if got := w.Transmit(big); !bytes.Equal(got, []byte{0x67, 0x00}) {
		t.Errorf("oversize ENVELOPE answered %X", got)
	}
}

// FuzzTransmit feeds arbitrary APDU sequences to a negotiated-handover
// wallet: it must answer every one with at least a status word, never panic.
func FuzzTransmit(f *testing.F) {
	w := newWallet(f, wallet.Config{Handover: wallet.HandoverNegotiated}, "mdl")
	f.Add(apdu(f, "00A4040007D276000085010100"), apdu(f, "00A4000C02E104"), apdu(f, "00D600001B0019D1021454731375726E3A6E66633A736E3A68616E646F766572"))
	f.Add(apdu(f, "00A4040007A000000248040000"), apdu(f, "10C30000025301"), apdu(f, "00C300000100 00"))
	f.Add(apdu(f, "00B0000002"), apdu(f, "00C0000000"), apdu(f, "00D6000002FFFF"))
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		for _, x := range [][]byte{a, b, c} {
			if r := w.Transmit(x); len(r) < 2 {
				t.Fatalf("answer %x to %x", r, x)
			}
		}
		if len(a)%7 == 0 {
			w.Reset()
		}
	})
}
