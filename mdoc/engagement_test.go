package mdoc_test

import (
	"bytes"
	"crypto/ecdh"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/idreader/idreader/internal/testvectors"

	"github.com/fxamacker/cbor/v2"
	"github.com/idreader/idreader/mdoc"
)

// deVector reads one hex vector from testdata (ISO/IEC 18013-5 Annex D or an
// interop capture).
func deVector(tb testing.TB, dir, name string) []byte {
	tb.Helper()
	return testvectors.Load(tb, dir, name)
}

// ndefRecordPayload walks a top-level NDEF message (NFC Forum NDEF 1.0 record
// layout) and returns the payload of the first record of the given type.
func ndefRecordPayload(tb testing.TB, msg []byte, typ string) []byte {
	tb.Helper()
	for len(msg) > 0 {
		hdr := msg[0]
		if len(msg) < 3 {
			tb.Fatal("ndef: truncated record header")
		}
		typeLen := int(msg[1])
		p := 2
		var payloadLen int
		if hdr&0x10 != 0 { // SR: one-byte payload length
			payloadLen = int(msg[p])
			p++
		} else {
			payloadLen = int(msg[p])<<24 | int(msg[p+1])<<16 | int(msg[p+2])<<8 | int(msg[p+3])
			p += 4
		}
		idLen := 0
		if hdr&0x08 != 0 { // IL: ID length present
			idLen = int(msg[p])
			p++
		}
		if p+typeLen+idLen+payloadLen > len(msg) {
			tb.Fatal("ndef: truncated record")
		}
		t := string(msg[p : p+typeLen])
		payload := msg[p+typeLen+idLen : p+typeLen+idLen+payloadLen]
		if t == typ {
			return payload
		}
		msg = msg[p+typeLen+idLen+payloadLen:]
	}
	tb.Fatalf("ndef: no %q record", typ)
	return nil
}

const deRecordType = "iso.org:18013:deviceengagement"

func appleDE(tb testing.TB) []byte {
	return ndefRecordPayload(tb, deVector(tb, "interop", "apple_wallet_handover_select_message"), deRecordType)
}

// Annex D.3.1 / D.5.1: the NFC DeviceEngagement (keys 0 and 1 only).
func TestDeviceEngagementAnnexDNFC(t *testing.T) {
	raw := deVector(t, "annexd", "device_engagement_nfc")
	de, err := mdoc.ParseDeviceEngagement(raw)
	if err != nil {
		t.Fatal(err)
	}
	if de.Version != "1.0" || de.CipherSuite != 1 || len(de.RetrievalMethods) != 0 || de.Capabilities != nil || de.HasOriginInfos {
		t.Fatalf("unexpected fields: %+v", de)
	}
	if !bytes.Equal(de.EDeviceKeyBytes.Raw, deVector(t, "annexd", "e_device_key_bytes")) {
		t.Error("EDeviceKeyBytes differ from Annex D")
	}
	if !bytes.Equal(de.EDeviceKey.X, deVector(t, "annexd", "e_device_key_x")) || !bytes.Equal(de.EDeviceKey.Y, deVector(t, "annexd", "e_device_key_y")) {
		t.Error("EDeviceKey coordinates differ from Annex D")
	}
	deb, err := de.DeviceEngagementBytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(deb.Raw, deVector(t, "annexd", "device_engagement_bytes_nfc")) {
		t.Error("DeviceEngagementBytes differ from SessionTranscript[0]")
	}
	// The builder reproduces the Annex D encoding from the key alone.
	pub, err := de.EDeviceKey.ECDHPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	built, err := mdoc.DeviceEngagementBuilder{EDeviceKey: pub}.Build()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built.Raw, raw) {
		t.Errorf("built %x\nwant  %x", built.Raw, raw)
	}
}

// Annex D.3.1: the QR DeviceEngagement with one BLE retrieval method.
func TestDeviceEngagementAnnexDQR(t *testing.T) {
	raw := deVector(t, "annexd", "device_engagement_qr")
	de, err := mdoc.ParseDeviceEngagement(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(de.RetrievalMethods) != 1 {
		t.Fatalf("%d retrieval methods", len(de.RetrievalMethods))
	}
	rm := de.RetrievalMethods[0]
	if rm.Type != mdoc.RetrievalBLE || rm.Version != 1 || rm.BLE == nil {
		t.Fatalf("method %+v", rm)
	}
	wantUUID, _ := hex.DecodeString("45efef742b2c4837a9a3b0e1d05a6917")
	if rm.BLE.PeripheralServerMode || !rm.BLE.CentralClientMode || !bytes.Equal(rm.BLE.CentralClientUUID, wantUUID) || rm.BLE.PeripheralServerUUID != nil || rm.BLE.PSM != nil {
		t.Errorf("BLE options %+v", rm.BLE)
	}
	pub, _ := de.EDeviceKey.ECDHPublicKey()
	built, err := mdoc.DeviceEngagementBuilder{EDeviceKey: pub, RetrievalMethods: []mdoc.RetrievalMethod{
		{Type: mdoc.RetrievalBLE, Version: 1, BLE: &mdoc.BLEOptions{CentralClientMode: true, CentralClientUUID: wantUUID}},
	}}.Build()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built.Raw, raw) {
		t.Errorf("built %x\nwant  %x", built.Raw, raw)
	}
	// QR text round trip, with and without padding, and a capitalised scheme.
	text := de.QR()
	if !strings.HasPrefix(text, "mdoc:") || strings.Contains(text, "=") {
		t.Fatalf("QR text %q", text)
	}
	for _, s := range []string{text, text + "=", "MDOC:" + text[5:], " " + text + "\n"} {
		got, err := mdoc.ParseQR(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if !bytes.Equal(got.Raw, raw) {
			t.Errorf("%q: raw differs", s)
		}
	}
}

func TestParseQRRejects(t *testing.T) {
	for _, s := range []string{"", "mdoc", "http://x", "mdoc:!!!", "mdoc:oA", "mdoc:" + strings.Repeat("A", 3)} {
		if _, err := mdoc.ParseQR(s); !errors.Is(err, mdoc.ErrMalformed) {
			t.Errorf("%q: err = %v, want ErrMalformed", s, err)
		}
	}
}

// Apple Wallet sends a "1.1" DeviceEngagement with 5: [] and 6: {3: true, 4: true}.
// The keys must be parsed and the bytes kept (isomdl PR #131 dropped them).
func TestDeviceEngagementAppleWallet(t *testing.T) {
	raw := appleDE(t)
	de, err := mdoc.ParseDeviceEngagement(raw)
	if err != nil {
		t.Fatal(err)
	}
	if de.Version != "1.1" || !de.HasOriginInfos || len(de.OriginInfos) != 0 || de.Capabilities == nil {
		t.Fatalf("fields %+v", de)
	}
	c := de.Capabilities
	if c.ReaderAuthAllSupport == nil || !*c.ReaderAuthAllSupport || c.ExtendedRequestSupport == nil || !*c.ExtendedRequestSupport || c.HandoverSessionEstablishmentSupport != nil {
		t.Errorf("capabilities %+v", c)
	}
	deb, err := de.DeviceEngagementBytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(deb.Inner, raw) || !bytes.HasSuffix(deb.Raw, raw) {
		t.Error("DeviceEngagementBytes are not over the received bytes")
	}
	// The DeviceEngagementBytes sit byte-exact inside a SessionTranscript array.
	st, err := mdoc.Marshal([]any{deb, deb, nil})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(st, raw) {
		t.Error("transcript lost the DE bytes")
	}
	var back []mdoc.TaggedCBOR
	if err := mdoc.Unmarshal(st[:len(st)-1], &back); err == nil {
		t.Error("truncated transcript decoded")
	}
	// The wallet simulator can produce the same bytes from the parsed fields.
	pub, _ := de.EDeviceKey.ECDHPublicKey()
	built, err := mdoc.DeviceEngagementBuilder{EDeviceKey: pub, IncludeOriginInfos: true, Capabilities: &mdoc.Capabilities{
		ReaderAuthAllSupport: c.ReaderAuthAllSupport, ExtendedRequestSupport: c.ExtendedRequestSupport,
	}}.Build()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built.Raw, raw) {
		t.Errorf("built %x\nwant  %x", built.Raw, raw)
	}
}

func TestDeviceEngagementAllMethodsAndUnknown(t *testing.T) {
	priv, err := ecdh.X25519().GenerateKey(zeroReader{})
	if err != nil {
		t.Fatal(err)
	}
	psm := uint64(0x1001)
	pass := "secret"
	class, ch := uint64(81), uint64(6)
	uuid := bytes.Repeat([]byte{0xab}, 16)
	b := mdoc.DeviceEngagementBuilder{
		EDeviceKey: priv.PublicKey(),
		RetrievalMethods: []mdoc.RetrievalMethod{
			{Type: mdoc.RetrievalNFC, Version: 1, NFC: &mdoc.NFCOptions{MaxCommandDataLength: 255, MaxResponseDataLength: 256}},
			{Type: mdoc.RetrievalBLE, Version: 1, BLE: &mdoc.BLEOptions{PeripheralServerMode: true, PeripheralServerUUID: uuid, PeripheralServerAddress: []byte{1, 2, 3, 4, 5, 6}, PSM: &psm}},
			{Type: mdoc.RetrievalWiFiAware, Version: 1, WiFiAware: &mdoc.WiFiAwareOptions{Passphrase: &pass, ChannelOperatingClass: &class, ChannelNumber: &ch, SupportedBands: []byte{0x14}}},
			{Type: 99, Version: 7, Options: cbor.RawMessage{0xa1, 0x01, 0x02}},
		},
		IncludeOriginInfos: true,
		OriginInfos:        []mdoc.OriginInfo{{Cat: 1, Type: 100, Details: cbor.RawMessage{0xa0}}},
		Unknown:            map[int]cbor.RawMessage{7: {0x63, 'a', 'b', 'c'}, -1: {0xf5}},
	}
	de, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if de.Version != "1.1" {
		t.Errorf("version %q", de.Version)
	}
	again, err := mdoc.ParseDeviceEngagement(de.Raw)
	if err != nil {
		t.Fatal(err)
	}
	rm := again.RetrievalMethods
	if len(rm) != 4 || rm[0].NFC.MaxResponseDataLength != 256 || *rm[1].BLE.PSM != psm || !bytes.Equal(rm[1].BLE.PeripheralServerUUID, uuid) ||
		*rm[2].WiFiAware.Passphrase != pass || *rm[2].WiFiAware.ChannelNumber != ch || rm[3].Type != 99 || !bytes.Equal(rm[3].Options, []byte{0xa1, 0x01, 0x02}) {
		t.Errorf("methods %+v", rm)
	}
	if len(again.OriginInfos) != 1 || again.OriginInfos[0].Type != 100 {
		t.Errorf("origin infos %+v", again.OriginInfos)
	}
	if len(again.Unknown) != 2 || !bytes.Equal(again.Unknown[7], []byte{0x63, 'a', 'b', 'c'}) || !bytes.Equal(again.Unknown[-1], []byte{0xf5}) {
		t.Errorf("unknown %v", again.Unknown)
	}
	if again.EDeviceKey.Crv != mdoc.CrvX25519 {
		t.Errorf("crv %d", again.EDeviceKey.Crv)
	}
	// Builder refuses a defined key among the extras.
	b.Unknown = map[int]cbor.RawMessage{2: {0xf6}}
	if _, err := b.Build(); err == nil {
		t.Error("defined key accepted as extra")
	}
}

func TestDeviceEngagementForeignCurveParses(t *testing.T) {
	// brainpoolP256r1 (COSE crv 256): parse keeps it; session setup refuses it.
	key, _ := mdoc.Marshal(map[int]any{1: 2, -1: 256, -2: bytes.Repeat([]byte{1}, 32), -3: bytes.Repeat([]byte{2}, 32)})
	kb, _ := mdoc.NewTaggedCBOR(key)
	raw, _ := mdoc.Marshal(map[int]any{0: "1.0", 1: []any{1, kb}})
	de, err := mdoc.ParseDeviceEngagement(raw)
	if err != nil {
		t.Fatal(err)
	}
	if de.EDeviceKey.Crv != 256 {
		t.Errorf("crv %d", de.EDeviceKey.Crv)
	}
	if _, err := de.EDeviceKey.ECDHPublicKey(); !errors.Is(err, mdoc.ErrUnsupportedCurve) {
		t.Errorf("err = %v", err)
	}
}

func TestDeviceEngagementRejects(t *testing.T) {
	good := deVector(t, "annexd", "device_engagement_qr")
	kb := deVector(t, "annexd", "e_device_key_bytes")
	var keyBytes mdoc.TaggedCBOR
	_ = keyBytes.UnmarshalCBOR(kb)
	enc := func(v any) []byte {
		b, err := mdoc.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := map[string][]byte{
		"empty":             nil,
		"truncated":         good[:len(good)-1],
		"trailing":          append(append([]byte(nil), good...), 0x00),
		"not a map":         {0x80},
		"no version":        enc(map[int]any{1: []any{1, keyBytes}}),
		"version 2.0":       enc(map[int]any{0: "2.0", 1: []any{1, keyBytes}}),
		"no security":       enc(map[int]any{0: "1.0"}),
		"security short":    enc(map[int]any{0: "1.0", 1: []any{1}}),
		"key not tagged":    enc(map[int]any{0: "1.0", 1: []any{1, kb[4:]}}),
		"empty methods":     enc(map[int]any{0: "1.0", 1: []any{1, keyBytes}, 2: []any{}}),
		"method of 2":       enc(map[int]any{0: "1.0", 1: []any{1, keyBytes}, 2: []any{[]any{2, 1}}}),
		"ble uuid 15 bytes": enc(map[int]any{0: "1.0", 1: []any{1, keyBytes}, 2: []any{[]any{2, 1, map[int]any{0: true, 1: false, 10: make([]byte, 15)}}}}),
		"nfc missing max":   enc(map[int]any{0: "1.0", 1: []any{1, keyBytes}, 2: []any{[]any{1, 1, map[int]any{0: 255}}}}),
		"capability string": enc(map[int]any{0: "1.1", 1: []any{1, keyBytes}, 6: map[int]any{3: "yes"}}),
		"text key":          enc(map[any]any{0: "1.0", 1: []any{1, keyBytes}, "x": 1}),
		"duplicate key":     {0xa3, 0x00, 0x63, '1', '.', '0', 0x00, 0x63, '1', '.', '0', 0x01, 0x80},
	}
	for name, in := range cases {
		if _, err := mdoc.ParseDeviceEngagement(in); !errors.Is(err, mdoc.ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	if _, err := mdoc.ParseDeviceEngagement(enc(map[int]any{0: "1.0", 1: []any{2, keyBytes}})); !errors.Is(err, mdoc.ErrUnsupportedCurve) {
		t.Errorf("cipher suite 2: err = %v", err)
	}
	// Every strict prefix of the Apple engagement is refused.
	apple := appleDE(t)
	for i := range apple {
		if _, err := mdoc.ParseDeviceEngagement(apple[:i]); err == nil {
			t.Errorf("prefix of %d bytes accepted", i)
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 7
	}
	return len(p), nil
}

func FuzzDeviceEngagement(f *testing.F) {
	f.Add(deVector(f, "annexd", "device_engagement_nfc"))
	f.Add(deVector(f, "annexd", "device_engagement_qr"))
	f.Add(appleDE(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		de, err := mdoc.ParseDeviceEngagement(data)
		if err != nil {
			return
		}
		if !bytes.Equal(de.Raw, data) {
			t.Fatal("Raw differs from input")
		}
		deb, err := de.DeviceEngagementBytes()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(deb.Inner, data) {
			t.Fatal("DeviceEngagementBytes not over input")
		}
		back, err := mdoc.ParseQR(de.QR())
		if err != nil || !bytes.Equal(back.Raw, data) {
			t.Fatalf("QR round trip: %v", err)
		}
	})
}

func FuzzQR(f *testing.F) {
	for _, name := range []string{"device_engagement_nfc", "device_engagement_qr"} {
		de, err := mdoc.ParseDeviceEngagement(deVector(f, "annexd", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(de.QR())
	}
	f.Add("mdoc:")
	f.Fuzz(func(t *testing.T, s string) {
		de, err := mdoc.ParseQR(s)
		if err != nil {
			return
		}
		if _, err := mdoc.ParseDeviceEngagement(de.Raw); err != nil {
			t.Fatal(err)
		}
	})
}
