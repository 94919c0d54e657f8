package session

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/idreader/idreader/mdoc"
)

// appleHs returns the Apple Wallet Handover Select and the DeviceEngagement
// inside it (the payload of the iso.org:18013:deviceengagement record).
func appleHs(tb testing.TB) (hs, de []byte) {
	tb.Helper()
	hs = vector(tb, "interop", "apple_wallet_handover_select_message")
	msg := hs
	for len(msg) > 3 {
		hdr, typeLen, p := msg[0], int(msg[1]), 2
		payloadLen := int(msg[p])
		p++
		if hdr&0x10 == 0 { // not SR: four-byte length
			payloadLen = int(msg[2])<<24 | int(msg[3])<<16 | int(msg[4])<<8 | int(msg[5])
			p += 3
		}
		idLen := 0
		if hdr&0x08 != 0 {
			idLen = int(msg[p])
			p++
		}
		end := p + typeLen + idLen + payloadLen
		if end > len(msg) {
			tb.Fatal("truncated NDEF record")
		}
		if string(msg[p:p+typeLen]) == "iso.org:18013:deviceengagement" {
			return hs, msg[p+typeLen+idLen : end]
		}
		msg = msg[end:]
	}
	tb.Fatal("no DeviceEngagement record")
	return nil, nil
}

func TestTranscriptParseBothForms(t *testing.T) {
	tagged, array := annexD(t, "session_transcript_bytes"), annexD(t, "session_transcript")
	for name, in := range map[string][]byte{"tagged": tagged, "array": array} {
		st, err := ParseSessionTranscript(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(st.Bytes(), tagged) || !bytes.Equal(st.ArrayBytes(), array) {
			t.Errorf("%s: bytes differ", name)
		}
		if !bytes.Equal(st.DeviceEngagementBytes.Raw, annexD(t, "device_engagement_bytes_nfc")) || !bytes.Equal(st.EReaderKeyBytes.Raw, annexD(t, "e_reader_key_bytes")) {
			t.Errorf("%s: items differ", name)
		}
		hs, hr, ok := st.Handover.NFC()
		if !ok || !bytes.Equal(hs, annexD(t, "handover_select_message")) || !bytes.Equal(hr, annexD(t, "handover_request_message")) || st.Handover.IsQR() {
			t.Errorf("%s: handover", name)
		}
	}
	for name, in := range map[string][]byte{
		"empty":      nil,
		"truncated":  tagged[:len(tagged)-1],
		"two items":  mustMarshal(t, []any{nil, nil}),
		"bstr items": mustMarshal(t, []any{[]byte{1}, []byte{2}, nil}),
		"tag 25":     append([]byte{0xd8, 0x19}, tagged[2:]...),
	} {
		if _, err := ParseSessionTranscript(in); !errors.Is(err, mdoc.ErrMalformed) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	for i := range array {
		if _, err := ParseSessionTranscript(array[:i]); err == nil {
			t.Errorf("prefix of %d bytes accepted", i)
		}
	}
}

func mustMarshal(t testing.TB, v any) []byte {
	b, err := mdoc.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHandoverForms(t *testing.T) {
	if !bytes.Equal(QRHandover().Raw, []byte{0xf6}) || !QRHandover().IsQR() {
		t.Error("QR handover is not null")
	}
	if _, _, ok := QRHandover().NFC(); ok {
		t.Error("QR handover read as NFC")
	}
	h, err := NFCHandover(annexD(t, "handover_select_message"), annexD(t, "handover_request_message"))
	if err != nil || !bytes.Equal(h.Raw, annexD(t, "nfc_handover")) {
		t.Errorf("negotiated handover differs: %v", err)
	}
	static, err := NFCHandover([]byte{1, 2}, nil)
	if err != nil || !bytes.Equal(static.Raw, []byte{0x82, 0x42, 1, 2, 0xf6}) {
		t.Errorf("static handover %x %v", static.Raw, err)
	}
	if hs, hr, ok := static.NFC(); !ok || hr != nil || !bytes.Equal(hs, []byte{1, 2}) {
		t.Error("static handover not read back")
	}
	if _, err := NFCHandover(nil, nil); err == nil {
		t.Error("handover without Hs")
	}
}

// Apple Wallet's "1.1" engagement goes into the transcript byte for byte,
// with a static ([Hs, null]) and a negotiated handover, and the session works.
func TestTranscriptAppleWallet(t *testing.T) {
	hs, raw := appleHs(t)
	de, err := mdoc.ParseDeviceEngagement(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, hr := range [][]byte{nil, annexD(t, "handover_request_message")} {
		h, _ := NFCHandover(hs, hr)
		r, err := NewReader(rand.Reader, de, h)
		if err != nil {
			t.Fatal(err)
		}
		st, err := ParseSessionTranscript(r.Transcript().Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(st.DeviceEngagementBytes.Inner, raw) || !bytes.Contains(st.ArrayBytes(), raw) {
			t.Error("DeviceEngagement bytes not kept in the transcript")
		}
		gotHs, gotHr, ok := st.Handover.NFC()
		if !ok || !bytes.Equal(gotHs, hs) || !bytes.Equal(gotHr, hr) {
			t.Error("handover not kept")
		}
	}
}

func TestNewSessionTranscriptRejects(t *testing.T) {
	st, _ := ParseSessionTranscript(annexD(t, "session_transcript_bytes"))
	if _, err := NewSessionTranscript(mdoc.TaggedCBOR{}, st.EReaderKeyBytes, QRHandover()); err == nil {
		t.Error("missing DeviceEngagementBytes")
	}
	if _, err := NewSessionTranscript(st.DeviceEngagementBytes, st.EReaderKeyBytes, Handover{}); err == nil {
		t.Error("missing handover")
	}
}

func TestMessagesEncodeDecode(t *testing.T) {
	se, err := ParseSessionEstablishment(annexD(t, "session_establishment"))
	if err != nil {
		t.Fatal(err)
	}
	back, _ := se.Marshal()
	if !bytes.Equal(back, annexD(t, "session_establishment")) {
		t.Error("SessionEstablishment does not re-encode")
	}
	sd, err := ParseSessionData(annexD(t, "session_data"))
	if err != nil || sd.HasStatus || len(sd.Data) != len(annexD(t, "device_response"))+16 {
		t.Fatalf("%v %d", err, len(sd.Data))
	}
	back, _ = sd.Marshal()
	if !bytes.Equal(back, annexD(t, "session_data")) {
		t.Error("SessionData does not re-encode")
	}
	term, err := ParseSessionData(annexD(t, "session_termination"))
	if err != nil || !term.HasStatus || term.Status != StatusTermination || term.Data != nil {
		t.Fatalf("termination %+v %v", term, err)
	}
	both := SessionData{Data: []byte{}, Status: StatusEncryptionError, HasStatus: true}
	enc, _ := both.Marshal()
	got, err := ParseSessionData(enc)
	if err != nil || got.Data == nil || len(got.Data) != 0 || got.Status != 10 {
		t.Errorf("data+status %+v %v", got, err)
	}
	if StatusTermination.String() != "session termination" || Status(99).String() != "status 99" {
		t.Error("status names")
	}
	if _, err := (&SessionData{}).Marshal(); err == nil {
		t.Error("empty SessionData encoded")
	}
	erk := annexD(t, "e_reader_key_bytes")
	var erkItem mdoc.TaggedCBOR
	_ = erkItem.UnmarshalCBOR(erk)
	for name, in := range map[string][]byte{
		"empty map":        {0xa0},
		"snake case key":   mustMarshal(t, map[string]any{"e_reader_key": erkItem, "data": []byte{1}}),
		"no data":          mustMarshal(t, map[string]any{"eReaderKey": erkItem}),
		"untagged key":     mustMarshal(t, map[string]any{"eReaderKey": erk[4:], "data": []byte{1}}),
		"data not bstr":    mustMarshal(t, map[string]any{"eReaderKey": erkItem, "data": "x"}),
		"data null":        mustMarshal(t, map[string]any{"eReaderKey": erkItem, "data": nil}),
		"truncated":        annexD(t, "session_establishment")[:100],
		"duplicate data":   {0xa2, 0x64, 'd', 'a', 't', 'a', 0x40, 0x64, 'd', 'a', 't', 'a', 0x40},
		"not a map":        {0x80},
		"negative status":  mustMarshal(t, map[string]any{"status": -1}),
		"status as string": mustMarshal(t, map[string]any{"status": "20"}),
	} {
		_, err1 := ParseSessionEstablishment(in)
		if !errors.Is(err1, mdoc.ErrMalformed) {
			t.Errorf("SessionEstablishment %s: err = %v", name, err1)
		}
		if name == "no data" || name == "snake case key" || name == "untagged key" {
			continue
		}
		if _, err2 := ParseSessionData(in); !errors.Is(err2, mdoc.ErrMalformed) {
			t.Errorf("SessionData %s: err = %v", name, err2)
		}
	}
	if _, err := ParseSessionData(mustMarshal(t, map[string]any{"eReaderKey": erkItem})); !errors.Is(err, mdoc.ErrMalformed) {
		t.Errorf("SessionData without data or status: %v", err)
	}
}

func TestEstablishWithBadReaderKey(t *testing.T) {
	d := annexDDevice(t)
	k384, _ := ecdh.P384().GenerateKey(rand.Reader)
	cose, _ := mdoc.EncodeCOSEKey(k384.PublicKey())
	kb, _ := mdoc.NewTaggedCBOR(cose)
	msg, _ := (&SessionEstablishment{EReaderKeyBytes: kb, Data: []byte{1}}).Marshal()
	if _, err := d.Establish(msg); !errors.Is(err, mdoc.ErrUnsupportedCurve) {
		t.Errorf("P-384 reader key against a P-256 device key: %v", err)
	}
}
