package nfc_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/idreader/idreader/nfc"
)

// Annex D (ISO/IEC 18013-5 D.5.1, negotiated handover) Handover Select.
func TestAnnexDHandoverSelect(t *testing.T) {
	b := vector(t, "annexd/handover_select_message.hex")
	hs, err := nfc.ParseHandoverSelect(b)
	if err != nil {
		t.Fatal(err)
	}
	if hs.Version != 0x15 || len(hs.Carriers) != 1 || string(hs.Carriers[0].CarrierDataRef) != "0" ||
		hs.Carriers[0].CPS != nfc.CPSActive || len(hs.Carriers[0].AuxiliaryDataRefs) != 1 ||
		string(hs.Carriers[0].AuxiliaryDataRefs[0]) != "mdoc" {
		t.Fatalf("hs = %+v", hs)
	}
	cs, err := hs.CarrierSet()
	if err != nil {
		t.Fatal(err)
	}
	if cs.BLE == nil || !cs.BLE.HasRole || cs.BLE.Role != nfc.LERoleCentralOnly || len(cs.BLE.UUIDs) != 0 {
		t.Fatalf("ble = %+v", cs.BLE)
	}
	if hex.EncodeToString(cs.BLE.Address) != "28128b372828" || !cs.BLE.HasAddressType || cs.BLE.AddressType != 1 {
		t.Fatalf("ble address = %x type %v", cs.BLE.Address, cs.BLE.AddressType)
	}
	if de := vector(t, "annexd/device_engagement_nfc.hex"); !bytes.Equal(cs.DeviceEngagement, de) {
		t.Fatalf("device engagement = %x", cs.DeviceEngagement)
	}
	if cs.NFC != nil || cs.WiFiAware != nil {
		t.Fatal("unexpected carriers")
	}
	// Re-encoding the parsed structure and building it afresh are byte-exact.
	enc, err := hs.Encode()
	if err != nil || !bytes.Equal(enc, b) {
		t.Fatalf("re-encode: %v\n got %x\nwant %x", err, enc, b)
	}
	built, err := nfc.NewHandoverSelect(nfc.Carriers{BLE: cs.BLE}, cs.DeviceEngagement)
	if err != nil {
		t.Fatal(err)
	}
	if enc, err = built.Encode(); err != nil || !bytes.Equal(enc, b) {
		t.Fatalf("build: %v\n got %x\nwant %x", err, enc, b)
	}
}

// Annex D (ISO/IEC 18013-5 D.5.1) Handover Request: cr 0x0102, BLE, NFC and
// Wi-Fi Aware.
func TestAnnexDHandoverRequest(t *testing.T) {
	b := vector(t, "annexd/handover_request_message.hex")
	hr, err := nfc.ParseHandoverRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	if hr.Version != 0x15 || hr.CollisionResolution != 0x0102 || len(hr.Carriers) != 3 {
		t.Fatalf("hr = %+v", hr)
	}
	cs, err := hr.CarrierSet()
	if err != nil {
		t.Fatal(err)
	}
	wantUUID := mustHex(t, "3a82d455d5fc4db3bea06fd2f6ff32c8")
	if cs.BLE == nil || cs.BLE.Role != nfc.LERoleBothPeripheralFirst || len(cs.BLE.UUIDs) != 1 || !bytes.Equal(cs.BLE.UUIDs[0][:], wantUUID) {
		t.Fatalf("ble = %+v", cs.BLE)
	}
	if cs.NFC == nil || cs.NFC.Version != 1 || cs.NFC.MaxCommandData != 0 {
		t.Fatalf("nfc = %+v", cs.NFC)
	}
	if cs.WiFiAware == nil || len(cs.WiFiAware.TLVs) != 3 {
		t.Fatalf("wifi aware = %+v", cs.WiFiAware)
	}
	if v, ok := cs.WiFiAware.Find(0x02); !ok || len(v) != 34 {
		t.Fatalf("wifi aware TLV 2 = %x", v)
	}
	enc, err := hr.Encode()
	if err != nil || !bytes.Equal(enc, b) {
		t.Fatalf("re-encode: %v\n got %x\nwant %x", err, enc, b)
	}
	built, err := nfc.NewHandoverRequest(bytes.NewReader([]byte{1, 2}), nfc.Carriers{BLE: cs.BLE, NFC: cs.NFC, WiFiAware: cs.WiFiAware}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if enc, err = built.Encode(); err != nil || !bytes.Equal(enc, b) {
		t.Fatalf("build: %v\n got %x\nwant %x", err, enc, b)
	}
}

func TestInteropHandoverSelects(t *testing.T) {
	for _, tc := range []struct {
		file    string
		deLen   int
		hasUUID bool
	}{
		{"interop/apple_wallet_handover_select_message.hex", 96, false},
		{"interop/multipaz_negotiated_handover_select_message.hex", 88, false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := vector(t, tc.file)
			hs, err := nfc.ParseHandoverSelect(b)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := hs.CarrierSet()
			if err != nil {
				t.Fatal(err)
			}
			if cs.BLE == nil || cs.BLE.Role != nfc.LERoleCentralOnly || cs.BLE.Address != nil || len(cs.BLE.UUIDs) != 0 {
				t.Fatalf("ble = %+v", cs.BLE)
			}
			if len(cs.DeviceEngagement) != tc.deLen {
				t.Fatalf("device engagement of %d bytes", len(cs.DeviceEngagement))
			}
			enc, err := hs.Encode()
			if err != nil || !bytes.Equal(enc, b) {
				t.Fatalf("re-encode: %v\n got %x\nwant %x", err, enc, b)
			}
		})
	}
}

func TestHandoverNegative(t *testing.T) {
	hs := vector(t, "annexd/handover_select_message.hex")
	hr := vector(t, "annexd/handover_request_message.hex")
	if _, err := nfc.ParseHandoverRequest(hs); !errors.Is(err, nfc.ErrMalformedHandover) {
		t.Errorf("Hs as Hr: %v", err)
	}
	if _, err := nfc.ParseHandoverSelect(hr); !errors.Is(err, nfc.ErrMalformedHandover) {
		t.Errorf("Hr as Hs: %v", err)
	}
	// Every strict prefix is rejected.
	for i := 0; i < len(hs); i++ {
		if _, err := nfc.ParseHandoverSelect(hs[:i]); err == nil {
			t.Fatalf("prefix %d accepted", i)
		}
	}
	// A dangling carrier data reference: rename the BLE record ID "0" to "1".
	bad := bytes.Clone(hs)
	i := bytes.Index(bad, []byte("application/vnd.bluetooth.le.oob0"))
	bad[i+len("application/vnd.bluetooth.le.oob")] = '1'
	sel, err := nfc.ParseHandoverSelect(bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sel.CarrierSet(); !errors.Is(err, nfc.ErrMalformedHandover) {
		t.Errorf("dangling reference: %v", err)
	}
	// Major version 2 is rejected.
	bad = bytes.Clone(hs)
	bad[5] = 0x25
	if _, err := nfc.ParseHandoverSelect(bad); !errors.Is(err, nfc.ErrMalformedHandover) {
		t.Errorf("version 2: %v", err)
	}
}
