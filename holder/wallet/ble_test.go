package wallet_test

import (
	"context"
	"errors"
	"testing"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
)

// TestHandoverSelectBLE: the BLE record of the Handover Select in each mode,
// and the negotiation against the reader's BLE record (ISO/IEC 18013-5
// clause 8.2.2.3, 8.3.3.1.1.2).
func TestHandoverSelectBLE(t *testing.T) {
	readerUUID := [16]byte{0x3a, 0x82, 0xd4, 0x55, 0xd5, 0xfc, 0x4d, 0xb3, 0xbe, 0xa0, 0x6f, 0xd2, 0xf6, 0xff, 0x32, 0xc8}
	hrBLE := func(role nfc.LERole, uuid bool) nfc.Carriers {
		o := &nfc.BLEOOB{HasRole: true, Role: role}
		if uuid {
			o.UUIDs = [][16]byte{readerUUID}
		}
		return nfc.Carriers{BLE: o, NFC: &nfc.NFCCarrier{Version: 1}}
	}
	for _, tc := range []struct {
		name     string
		cfg      wallet.Config
		hr       nfc.Carriers
		wantBLE  bool
		wantRole nfc.LERole
		hsUUID   bool // the Hs carries a UUID
		fromHr   bool // the reader's UUID is used
		wantNFC  bool
	}{
		{name: "static/central", cfg: wallet.Config{Handover: wallet.HandoverStatic}, wantBLE: true, wantRole: nfc.LERoleCentralOnly, hsUUID: true, wantNFC: true},
		{name: "static/peripheral", cfg: wallet.Config{Handover: wallet.HandoverStatic, BLEMode: ble.ModePeripheralServer}, wantBLE: true, wantRole: nfc.LERolePeripheralOnly, hsUUID: true, wantNFC: true},
		{name: "negotiated/central", cfg: wallet.Config{Handover: wallet.HandoverNegotiated}, hr: hrBLE(nfc.LERoleBothPeripheralFirst, true), wantBLE: true, wantRole: nfc.LERoleCentralOnly, fromHr: true, wantNFC: true},
		{name: "negotiated/central/ble-only", cfg: wallet.Config{Handover: wallet.HandoverApple, BLEOnly: true}, hr: hrBLE(nfc.LERolePeripheralOnly, true), wantBLE: true, wantRole: nfc.LERoleCentralOnly, fromHr: true},
		{name: "negotiated/central/no-reader-uuid", cfg: wallet.Config{Handover: wallet.HandoverNegotiated}, hr: hrBLE(nfc.LERoleBothPeripheralFirst, false), wantBLE: true, wantRole: nfc.LERoleCentralOnly, hsUUID: true, wantNFC: true},
		{name: "negotiated/central/reader-central-only", cfg: wallet.Config{Handover: wallet.HandoverNegotiated}, hr: hrBLE(nfc.LERoleCentralOnly, false), wantNFC: true},
		{name: "negotiated/peripheral", cfg: wallet.Config{Handover: wallet.HandoverNegotiated, BLEMode: ble.ModePeripheralServer}, hr: hrBLE(nfc.LERoleBothCentralFirst, true), wantBLE: true, wantRole: nfc.LERolePeripheralOnly, hsUUID: true, wantNFC: true},
		{name: "negotiated/peripheral/reader-peripheral-only", cfg: wallet.Config{Handover: wallet.HandoverNegotiated, BLEMode: ble.ModePeripheralServer}, hr: hrBLE(nfc.LERolePeripheralOnly, true), wantNFC: true},
		{name: "negotiated/no-ble-in-hr", cfg: wallet.Config{Handover: wallet.HandoverNegotiated}, wantNFC: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.OfferBLE = true
			w := newWallet(t, cfg, "mdl")
			res, _ := readerTap{hrCarrier: tc.hr}.run(context.Background(), w.Transceiver(), requestFor("mdl"))
			if res == nil || res.handover == nil {
				t.Fatalf("no handover (wallet: %v)", w.Report().Err)
			}
			hs, err := nfc.ParseHandoverSelect(res.handover.Select)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := hs.CarrierSet()
			if err != nil {
				t.Fatal(err)
			}
			if (cs.NFC != nil) != tc.wantNFC {
				t.Errorf("nfc %+v", cs.NFC)
			}
			if (cs.BLE != nil) != tc.wantBLE {
				t.Fatalf("ble %+v", cs.BLE)
			}
			if !tc.wantBLE {
				return
			}
			if !cs.BLE.HasRole || cs.BLE.Role != tc.wantRole || (len(cs.BLE.UUIDs) == 1) != tc.hsUUID {
				t.Errorf("ble record %+v", cs.BLE)
			}
			if tc.fromHr && (!res.handover.BLEUUIDFromRequest || res.handover.Carriers.BLE.UUIDs[0] != readerUUID) {
				t.Errorf("the reader's UUID was not used: %+v", res.handover.Carriers.BLE)
			}
		})
	}
}

// TestShowQR: the QR engagement carries one BLE retrieval method in the
// configured mode (DeviceEngagement key 2, clause 8.2.2.3), and the card no
// longer answers NFC.
func TestShowQR(t *testing.T) {
	for _, mode := range []ble.Mode{ble.ModeCentralClient, ble.ModePeripheralServer} {
		t.Run(mode.String(), func(t *testing.T) {
			w := newWallet(t, wallet.Config{BLEMode: mode}, "mdl")
			text, err := w.ShowQR()
			if err != nil {
				t.Fatal(err)
			}
			de, err := mdoc.ParseQR(text)
			if err != nil {
				t.Fatal(err)
			}
			if len(de.RetrievalMethods) != 1 || de.RetrievalMethods[0].Type != mdoc.RetrievalBLE || de.RetrievalMethods[0].BLE == nil {
				t.Fatalf("retrieval methods %+v", de.RetrievalMethods)
			}
			o := de.RetrievalMethods[0].BLE
			central := mode == ble.ModeCentralClient
			if o.CentralClientMode != central || o.PeripheralServerMode == central ||
				(len(o.CentralClientUUID) == 16) != central || (len(o.PeripheralServerUUID) == 16) == central {
				t.Errorf("ble options %+v", o)
			}
			if r := w.Report(); !r.QR || string(r.DeviceEngagement) != string(de.Raw) {
				t.Errorf("report %+v", r)
			}
			apdu, err := nfc.SelectAID(nfc.NDEFApplicationAID).Encode()
			if err != nil {
				t.Fatal(err)
			}
			resp, err := w.Transceiver().Transmit(context.Background(), apdu)
			if err != nil || len(resp) != 2 || resp[0] != 0x6F {
				t.Errorf("apdu after QR: %x %v", resp, err)
			}
		})
	}
}

// TestServeBLEWithoutEngagement: ServeBLE waits for an engagement that
// selects BLE and leaves with ctx, without marking the tap failed.
func TestServeBLEWithoutEngagement(t *testing.T) {
	w := newWallet(t, wallet.Config{}, "mdl")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.ServeBLE(ctx, nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if r := w.Report(); r.Err != nil {
		t.Errorf("report error %v", r.Err)
	}
	cfg := wallet.Config{Credentials: []*credential.Credential{getFixture(t, "mdl").cred}, BLEMode: 7}
	if _, err := wallet.New(cfg); err == nil {
		t.Error("unknown BLE mode accepted")
	}
}
