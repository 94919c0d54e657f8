package nfc_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/idreader/idreader/nfc"
)

func TestNDEFRoundTrip(t *testing.T) {
	for _, f := range []string{
		"annexd/handover_select_message.hex",
		"annexd/handover_request_message.hex",
		"interop/apple_wallet_handover_select_message.hex",
		"interop/apple_wallet_initial_ndef_message.hex",
		"interop/apple_wallet_tnep_status_message.hex",
		"interop/multipaz_negotiated_handover_select_message.hex",
	} {
		b := vector(t, f)
		m, err := nfc.ParseMessage(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		enc, err := m.Encode()
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("%s: re-encode %v", f, err)
		}
	}
}

func TestNDEFLongAndChunked(t *testing.T) {
	long := bytes.Repeat([]byte{0x5A}, 300)
	m := nfc.Message{
		{TNF: nfc.TNFExternal, Type: []byte("a:b"), ID: []byte("id"), Payload: long},
		{TNF: nfc.TNFEmpty},
	}
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	// Long record: header 8C (MB|IL|TNF 4), 4-byte length 0000012C.
	if !bytes.HasPrefix(b, mustHex(t, "8c030000012c02")) {
		t.Fatalf("header %x", b[:7])
	}
	got, err := nfc.ParseMessage(b)
	if err != nil || len(got) != 2 || !bytes.Equal(got[0].Payload, long) || string(got[0].ID) != "id" || got[1].TNF != nfc.TNFEmpty {
		t.Fatalf("%+v %v", got, err)
	}
	// Chunked: first chunk (MB|CF|SR|IL, TNF 2, type "t/x", id "c") "ab",
	// middle chunk (CF|SR, TNF 6) "cd", terminating chunk (ME|SR, TNF 6) "e".
	chunked := mustHex(t, "ba 03 02 01 742f78 63 6162  36 00 02 6364  56 00 01 65")
	got, err = nfc.ParseMessage(chunked)
	if err != nil || len(got) != 1 || string(got[0].Payload) != "abcde" || string(got[0].Type) != "t/x" || string(got[0].ID) != "c" {
		t.Fatalf("%+v %v", got, err)
	}
}

func TestNDEFNegative(t *testing.T) {
	for _, tc := range []struct{ name, hex string }{
		{"empty", ""},
		{"no MB", "51 02 01 5465 00"},
		{"no ME", "91 02 01 5465 00"},
		{"MB twice", "91 02 01 5465 00 d1 02 01 5465 00"},
		{"trailing bytes", "d1 02 01 5465 00 00"},
		{"truncated payload", "d1 02 05 5465 00"},
		{"truncated type", "d1 05 00 54"},
		{"truncated long length", "c1 02 00 00"},
		{"huge long length", "c1 02 ffffffff 5465"},
		{"truncated id", "d9 02 00 05 5465 41"},
		{"empty TNF with type", "d0 01 00 54"},
		{"unchanged outside chunk", "d6 00 00"},
		{"reserved TNF", "d7 01 00 54"},
		{"well-known without type", "d1 00 01 00"},
		{"ME inside chunk", "fa 03 01 742f78 61"},
		{"bad middle chunk TNF", "ba 03 02 01 742f78 63 6162 52 01 01 54 65"},
		{"middle chunk with type", "ba 03 02 01 742f78 63 6162 56 01 01 54 65"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if m, err := nfc.ParseMessage(mustHex(t, tc.hex)); !errors.Is(err, nfc.ErrMalformedNDEF) {
				t.Fatalf("parsed %+v, err %v", m, err)
			}
		})
	}
	if _, err := (nfc.Message{}).Encode(); !errors.Is(err, nfc.ErrMalformedNDEF) {
		t.Fatal("empty message encoded")
	}
	if _, err := (nfc.Message{{TNF: nfc.TNFMedia, Type: make([]byte, 256)}}).Encode(); !errors.Is(err, nfc.ErrMalformedNDEF) {
		t.Fatal("long type encoded")
	}
}

func TestCapabilityContainer(t *testing.T) {
	b := vector(t, "interop/apple_wallet_cc_file.hex")
	cc, err := nfc.ParseCapabilityContainer(b)
	if err != nil {
		t.Fatal(err)
	}
	want := nfc.CapabilityContainer{MappingVersion: 0x20, MLe: 0x0400, MLc: 0x0400, NDEFFileID: 0xE104, MaxNDEFSize: 0x0802, ReadAccess: 0, WriteAccess: 0}
	if cc != want {
		t.Fatalf("cc = %+v", cc)
	}
	if !bytes.Equal(cc.Encode(), b) {
		t.Fatal("re-encode differs")
	}
	// The multipaz holder's static CC.
	mpz := mustHex(t, "000f207fff7fff0406e1047fff00ff")
	if cc, err := nfc.ParseCapabilityContainer(mpz); err != nil || cc.WriteAccess != 0xFF || cc.MLe != 0x7FFF {
		t.Fatalf("%+v %v", cc, err)
	}
	for i := 0; i < len(b); i++ {
		if _, err := nfc.ParseCapabilityContainer(b[:i]); !errors.Is(err, nfc.ErrMalformedCC) {
			t.Fatalf("prefix %d: %v", i, err)
		}
	}
	for _, h := range []string{
		"000e20040004000406e10408020000", // CCLEN 14
		"000f30040004000406e10408020000", // mapping 3.0
		"000f20000e04000406e10408020000", // MLe 14
		"000f20040004000506e10408020000", // not an NDEF File Control TLV
	} {
		if _, err := nfc.ParseCapabilityContainer(mustHex(t, h)); !errors.Is(err, nfc.ErrMalformedCC) {
			t.Errorf("%s: %v", h, err)
		}
	}
}

func TestTNEPRecords(t *testing.T) {
	initial := vector(t, "interop/apple_wallet_initial_ndef_message.hex")
	m, err := nfc.ParseMessage(initial)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := nfc.ParseServiceParameter(m[0].Payload)
	if err != nil {
		t.Fatal(err)
	}
	want := nfc.ServiceParameter{Version: 0x10, ServiceNameURI: nfc.HandoverServiceURI, Mode: 0, WTInt: 0x14, NWait: 15, MaxNDEFSize: 0x0800}
	if sp != want || sp.WaitTime() != 16*time.Millisecond {
		t.Fatalf("sp = %+v, T_wait %v", sp, sp.WaitTime())
	}
	rec, err := sp.Record()
	if err != nil {
		t.Fatal(err)
	}
	if enc, _ := (nfc.Message{rec}).Encode(); !bytes.Equal(enc, initial) {
		t.Fatalf("Tp re-encode %x", enc)
	}
	if (nfc.ServiceParameter{WTInt: 0}).WaitTime() != 500*time.Microsecond {
		t.Fatal("WT_INT 0")
	}
	te := vector(t, "interop/apple_wallet_tnep_status_message.hex")
	if enc, _ := (nfc.Message{nfc.StatusRecord(0)}).Encode(); !bytes.Equal(enc, te) {
		t.Fatalf("Te %x", enc)
	}
	ts, err := nfc.ServiceSelectRecord(nfc.HandoverServiceURI)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := nfc.Message{ts}.Encode()
	if !bytes.Equal(enc, mustHex(t, "d1021454731375726e3a6e66633a736e3a68616e646f766572")) {
		t.Fatalf("Ts %x", enc)
	}
	if uri, err := nfc.ParseServiceSelect(ts.Payload); err != nil || uri != nfc.HandoverServiceURI {
		t.Fatal(uri, err)
	}
	for _, p := range []string{"10", "1013", "2000000000000000", "10000040000800", "10000000100800"} {
		if _, err := nfc.ParseServiceParameter(mustHex(t, p)); !errors.Is(err, nfc.ErrMalformedTNEP) {
			t.Errorf("Tp %s: %v", p, err)
		}
	}
	if _, err := nfc.ParseServiceSelect(mustHex(t, "0541")); !errors.Is(err, nfc.ErrMalformedTNEP) {
		t.Error("Ts truncated")
	}
	if _, err := nfc.ParseStatus(nil); !errors.Is(err, nfc.ErrMalformedTNEP) {
		t.Error("Te empty")
	}
}

func TestCarrierRecords(t *testing.T) {
	// BLE: address without the type byte (multipaz), unknown AD kept, order
	// preserved on re-encode for the canonical order.
	p := mustHex(t, "07 1b 010203040506  02 1c 00  03 77 0102")
	o, err := nfc.ParseBLEOOB(p)
	if err != nil || o.HasAddressType || len(o.Address) != 6 || o.Role != nfc.LERolePeripheralOnly || len(o.Other) != 1 || o.Other[0].Type != 0x77 {
		t.Fatalf("%+v %v", o, err)
	}
	if enc, err := o.Encode(); err != nil || !bytes.Equal(enc, p) {
		t.Fatalf("re-encode %x %v", enc, err)
	}
	if _, err := nfc.ParseBLEOOB(mustHex(t, "0200 00")); err != nil {
		t.Fatalf("zero padding: %v", err)
	}
	for _, h := range []string{"05 1c 01", "03 1c 0102", "06 1b 0102030405", "10 07 00", "00 01", "02 1c 01 02 1c 01"} {
		if _, err := nfc.ParseBLEOOB(mustHex(t, h)); !errors.Is(err, nfc.ErrMalformedCarrier) {
			t.Errorf("BLE %s: %v", h, err)
		}
	}
	// NFC: the multipaz holder's record (0xFFFF / 0x10000).
	n := nfc.NFCCarrier{Version: 1, MaxCommandData: 0xFFFF, MaxResponseData: 0x10000}
	enc, err := n.Encode()
	if err != nil || !bytes.Equal(enc, mustHex(t, "01 0301ffff 0402010000")) {
		t.Fatalf("nfc %x %v", enc, err)
	}
	if back, err := nfc.ParseNFCCarrier(enc); err != nil || back != n {
		t.Fatalf("%+v %v", back, err)
	}
	if back, err := nfc.ParseNFCCarrier(mustHex(t, "01 0201ff 020200")); err != nil || back.MaxCommandData != 255 || back.MaxResponseData != 0 {
		t.Fatalf("%+v %v", back, err)
	}
	for _, h := range []string{"", "02", "01 03 01 ff", "01 0401010203", "01 0502 01020304", "01 00"} {
		if _, err := nfc.ParseNFCCarrier(mustHex(t, h)); !errors.Is(err, nfc.ErrMalformedCarrier) {
			t.Errorf("NFC %q: %v", h, err)
		}
	}
	if _, err := nfc.ParseWiFiAware(mustHex(t, "0301 01")); !errors.Is(err, nfc.ErrMalformedCarrier) {
		t.Error("wifi aware truncated")
	}
}

// A wallet's Handover Select for static handover with NFC and BLE
// (peripheral server mode with a UUID), and a reader's Hr with a
// ReaderEngagement.
func TestBuilders(t *testing.T) {
	de := vector(t, "annexd/device_engagement_nfc.hex")
	uuid := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	hs, err := nfc.NewHandoverSelect(nfc.Carriers{
		BLE: &nfc.BLEOOB{HasRole: true, Role: nfc.LERolePeripheralOnly, UUIDs: [][16]byte{uuid}},
		NFC: &nfc.NFCCarrier{MaxCommandData: 0xFFFF, MaxResponseData: 0x10000},
	}, de)
	if err != nil {
		t.Fatal(err)
	}
	b, err := hs.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := nfc.ParseHandoverSelect(b)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := back.CarrierSet()
	if err != nil || cs.BLE.UUIDs[0] != uuid || cs.NFC.MaxResponseData != 0x10000 || !bytes.Equal(cs.DeviceEngagement, de) {
		t.Fatalf("%+v %v", cs, err)
	}
	if _, err := nfc.NewHandoverSelect(nfc.Carriers{}, de); err == nil {
		t.Error("no carriers accepted")
	}
	if _, err := nfc.NewHandoverSelect(nfc.Carriers{NFC: &nfc.NFCCarrier{}}, nil); err == nil {
		t.Error("no DE accepted")
	}
	hr, err := nfc.NewHandoverRequest(bytes.NewReader([]byte{9, 9}), nfc.Carriers{NFC: &nfc.NFCCarrier{}}, []byte{0xa1, 0x00, 0x63, '1', '.', '0'})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = hr.Encode()
	rhr, err := nfc.ParseHandoverRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	rcs, err := rhr.CarrierSet()
	if err != nil || rhr.CollisionResolution != 0x0909 || rcs.NFC == nil || len(rcs.ReaderEngagement) != 6 {
		t.Fatalf("%+v %+v %v", rhr, rcs, err)
	}
	if _, err := nfc.NewHandoverRequest(bytes.NewReader(nil), nfc.Carriers{NFC: &nfc.NFCCarrier{}}, nil); err == nil {
		t.Error("no randomness accepted")
	}
}
