package session

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/idreader/idreader/internal/testvectors"

	"github.com/idreader/idreader/mdoc"
)

// vector reads one hex vector from testdata.
func vector(tb testing.TB, dir, name string) []byte {
	tb.Helper()
	return testvectors.Load(tb, dir, name)
}

func annexD(tb testing.TB, name string) []byte { return vector(tb, "annexd", name) }

// annexDReader builds the reader of ISO/IEC 18013-5 Annex D.5.1: the NFC
// engagement, the published EReaderKey and the negotiated handover.
func annexDReader(tb testing.TB) *Reader {
	tb.Helper()
	de, err := mdoc.ParseDeviceEngagement(annexD(tb, "device_engagement_nfc"))
	if err != nil {
		tb.Fatal(err)
	}
	priv, err := ecdh.P256().NewPrivateKey(annexD(tb, "e_reader_key_d"))
	if err != nil {
		tb.Fatal(err)
	}
	h, err := NFCHandover(annexD(tb, "handover_select_message"), annexD(tb, "handover_request_message"))
	if err != nil {
		tb.Fatal(err)
	}
	r, err := NewReaderWithKey(priv, de, h)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func annexDDevice(tb testing.TB) *Device {
	tb.Helper()
	priv, err := ecdh.P256().NewPrivateKey(annexD(tb, "e_device_key_d"))
	if err != nil {
		tb.Fatal(err)
	}
	h := Handover{Raw: annexD(tb, "nfc_handover")}
	d, err := NewDevice(priv, annexD(tb, "device_engagement_nfc"), h)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// Annex D.5.1: transcript, Z_AB, salt, SKReader and SKDevice.
func TestAnnexDKeys(t *testing.T) {
	r := annexDReader(t)
	st := r.Transcript()
	if !bytes.Equal(st.Bytes(), annexD(t, "session_transcript_bytes")) {
		t.Errorf("SessionTranscriptBytes\n got %x\nwant %x", st.Bytes(), annexD(t, "session_transcript_bytes"))
	}
	if !bytes.Equal(st.ArrayBytes(), annexD(t, "session_transcript")) {
		t.Error("SessionTranscript array differs")
	}
	if !bytes.Equal(st.Handover.Raw, annexD(t, "nfc_handover")) {
		t.Error("NFCHandover differs")
	}
	if !bytes.Equal(r.EReaderKeyBytes().Raw, annexD(t, "e_reader_key_bytes")) {
		t.Error("EReaderKeyBytes differ")
	}
	salt := sha256.Sum256(st.Bytes())
	if !bytes.Equal(salt[:], annexD(t, "hkdf_salt")) {
		t.Error("salt differs")
	}
	peer, _ := mdoc.ParseCOSEKey(annexD(t, "e_device_key_cose"))
	pub, _ := peer.ECDHPublicKey()
	z, err := r.PrivateKey().ECDH(pub)
	if err != nil || !bytes.Equal(z, annexD(t, "zab_session")) {
		t.Errorf("Z_AB differs: %v", err)
	}
	if !bytes.Equal(r.skReader, annexD(t, "sk_reader")) {
		t.Errorf("SKReader %x", r.skReader)
	}
	if !bytes.Equal(r.skDevice, annexD(t, "sk_device")) {
		t.Errorf("SKDevice %x", r.skDevice)
	}
}

// Annex D.5.1: SessionEstablishment and SessionData decrypt to the published
// DeviceRequest and DeviceResponse and re-encrypt to the published bytes.
func TestAnnexDMessages(t *testing.T) {
	req, resp := annexD(t, "device_request"), annexD(t, "device_response")

	r := annexDReader(t)
	se, err := r.Establish(req)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(se, annexD(t, "session_establishment")) {
		t.Error("SessionEstablishment differs from Annex D")
	}
	if _, err := r.Establish(req); !errors.Is(err, ErrState) {
		t.Errorf("second Establish: %v", err)
	}

	d := annexDDevice(t)
	got, err := d.Establish(annexD(t, "session_establishment"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, req) {
		t.Error("decrypted DeviceRequest differs")
	}
	if !bytes.Equal(d.Transcript().Bytes(), annexD(t, "session_transcript_bytes")) {
		t.Error("device transcript differs")
	}
	sd, err := d.Seal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sd, annexD(t, "session_data")) {
		t.Error("SessionData differs from Annex D")
	}

	m, err := r.Open(annexD(t, "session_data"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Plaintext, resp) || m.HasStatus {
		t.Error("decrypted DeviceResponse differs")
	}
	// Replaying the same message is refused and does not disturb the state.
	if _, err := r.Open(annexD(t, "session_data")); !errors.Is(err, ErrDecrypt) {
		t.Errorf("replay: %v", err)
	}
	term, err := r.Open(annexD(t, "session_termination"))
	if err != nil {
		t.Fatal(err)
	}
	if !term.Terminated() || term.Plaintext != nil || term.Status != StatusTermination {
		t.Errorf("termination %+v", term)
	}
	dt, _ := d.Terminate()
	rt, _ := r.Terminate()
	if !bytes.Equal(dt, annexD(t, "session_termination")) || !bytes.Equal(rt, dt) {
		t.Errorf("termination encoding %x", dt)
	}
}

func TestReorderRefused(t *testing.T) {
	r := annexDReader(t)
	se, _ := r.Establish([]byte("request"))
	d := annexDDevice(t)
	if _, err := d.Establish(se); err != nil {
		t.Fatal(err)
	}
	m1, _ := d.Seal([]byte("one"))
	m2, _ := d.Seal([]byte("two"))
	if _, err := r.Open(m2); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("out of order: %v", err)
	}
	for _, want := range []string{"one", "two"} {
		msg := m1
		if want == "two" {
			msg = m2
		}
		got, err := r.Open(msg)
		if err != nil || string(got.Plaintext) != want {
			t.Fatalf("%s: %v %+v", want, err, got)
		}
	}
	// Reader → device later messages, with a replay.
	q, _ := r.Seal([]byte("again"))
	got, err := d.Open(q)
	if err != nil || string(got.Plaintext) != "again" {
		t.Fatalf("%v %+v", err, got)
	}
	if _, err := d.Open(q); !errors.Is(err, ErrDecrypt) {
		t.Errorf("device accepted a replay: %v", err)
	}
	// A tampered message is refused.
	m3, _ := d.Seal([]byte("three"))
	sd, _ := ParseSessionData(m3)
	sd.Data[0] ^= 1
	bad, _ := sd.Marshal()
	if _, err := r.Open(bad); !errors.Is(err, ErrDecrypt) {
		t.Errorf("tampered: %v", err)
	}
}

func TestDeviceStatusMessages(t *testing.T) {
	d := annexDDevice(t)
	// The wrong reader key: the establishment does not decrypt.
	other, _ := ecdh.P256().GenerateKey(rand.Reader)
	de, _ := mdoc.ParseDeviceEngagement(annexD(t, "device_engagement_nfc"))
	r, err := NewReaderWithKey(other, de, QRHandover())
	if err != nil {
		t.Fatal(err)
	}
	se, _ := r.Establish([]byte("x"))
	if _, err := d.Establish(se); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("wrong transcript: %v", err)
	}
	if _, err := d.Seal([]byte("x")); !errors.Is(err, ErrState) {
		t.Errorf("Seal before establishment: %v", err)
	}
	for _, s := range []Status{StatusEncryptionError, StatusDecodingError} {
		msg, err := d.SendStatus(s)
		if err != nil {
			t.Fatal(err)
		}
		m, err := r.Open(msg)
		if err != nil || !m.HasStatus || m.Status != s || m.Terminated() || m.Plaintext != nil {
			t.Errorf("status %d: %+v %v", s, m, err)
		}
	}
}

func TestReaderOrder(t *testing.T) {
	r := annexDReader(t)
	if _, err := r.Seal([]byte("x")); !errors.Is(err, ErrState) {
		t.Errorf("Seal before Establish: %v", err)
	}
	if _, err := r.Open(annexD(t, "session_data")); !errors.Is(err, ErrState) {
		t.Errorf("Open before Establish: %v", err)
	}
}

func TestNewDeviceKeyMismatch(t *testing.T) {
	other, _ := ecdh.P256().GenerateKey(rand.Reader)
	if _, err := NewDevice(other, annexD(t, "device_engagement_nfc"), QRHandover()); err == nil {
		t.Error("device accepted a key that is not in its engagement")
	}
}

func roundTrip(t *testing.T, curve ecdh.Curve, de func(*ecdh.PrivateKey) *mdoc.DeviceEngagement) {
	t.Helper()
	priv, err := curve.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e := de(priv)
	h, _ := NFCHandover([]byte{0xd1, 0x02, 0x01, 'H', 's', 0x15}, nil)
	r, err := NewReader(rand.Reader, e, h)
	if err != nil {
		t.Fatal(err)
	}
	if r.PrivateKey().Curve() != curve {
		t.Fatal("EReaderKey on another curve")
	}
	d, err := NewDevice(priv, e.Raw, h)
	if err != nil {
		t.Fatal(err)
	}
	se, err := r.Establish([]byte("request"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := d.Establish(se)
	if err != nil || string(req) != "request" {
		t.Fatalf("%v %q", err, req)
	}
	if !bytes.Equal(d.Transcript().Bytes(), r.Transcript().Bytes()) {
		t.Fatal("transcripts differ")
	}
	if !d.EReaderKey().Equal(r.PrivateKey().PublicKey()) {
		t.Fatal("device sees another EReaderKey")
	}
	for i := 0; i < 3; i++ {
		sd, err := d.Seal(bytes.Repeat([]byte{byte(i)}, 100*i))
		if err != nil {
			t.Fatal(err)
		}
		m, err := r.Open(sd)
		if err != nil || len(m.Plaintext) != 100*i {
			t.Fatalf("message %d: %v", i, err)
		}
	}
}

func TestRoundTripCurves(t *testing.T) {
	for name, c := range map[string]ecdh.Curve{"P-256": ecdh.P256(), "P-384": ecdh.P384(), "P-521": ecdh.P521(), "X25519": ecdh.X25519()} {
		t.Run(name, func(t *testing.T) {
			roundTrip(t, c, func(p *ecdh.PrivateKey) *mdoc.DeviceEngagement {
				de, err := mdoc.DeviceEngagementBuilder{EDeviceKey: p.PublicKey()}.Build()
				if err != nil {
					t.Fatal(err)
				}
				return de
			})
		})
	}
}

func foreignDE(t *testing.T, key map[int]any) *mdoc.DeviceEngagement {
	t.Helper()
	cose, _ := mdoc.Marshal(key)
	kb, _ := mdoc.NewTaggedCBOR(cose)
	raw, _ := mdoc.Marshal(map[int]any{0: "1.0", 1: []any{1, kb}})
	de, err := mdoc.ParseDeviceEngagement(raw)
	if err != nil {
		t.Fatal(err)
	}
	return de
}

func TestUnsupportedCurves(t *testing.T) {
	cases := map[string]map[int]any{
		"brainpoolP256r1": {1: 2, -1: 256, -2: bytes.Repeat([]byte{1}, 32), -3: bytes.Repeat([]byte{2}, 32)},
		"brainpoolP512r1": {1: 2, -1: 259, -2: bytes.Repeat([]byte{1}, 64), -3: bytes.Repeat([]byte{2}, 64)},
		"X448":            {1: 1, -1: 5, -2: bytes.Repeat([]byte{1}, 56)},
		"Ed25519":         {1: 1, -1: 6, -2: bytes.Repeat([]byte{1}, 32)},
	}
	for name, key := range cases {
		de := foreignDE(t, key)
		_, err := NewReader(rand.Reader, de, QRHandover())
		if !errors.Is(err, mdoc.ErrUnsupportedCurve) || !strings.Contains(err.Error(), "unsupported cipher suite") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := NewReader(rand.Reader, nil, QRHandover()); err == nil {
		t.Error("nil engagement accepted")
	}
	// A reader key on another curve than EDeviceKey.
	de, _ := mdoc.ParseDeviceEngagement(annexD(t, "device_engagement_nfc"))
	k384, _ := ecdh.P384().GenerateKey(rand.Reader)
	if _, err := NewReaderWithKey(k384, de, QRHandover()); !errors.Is(err, mdoc.ErrUnsupportedCurve) {
		t.Errorf("mixed curves: %v", err)
	}
}
