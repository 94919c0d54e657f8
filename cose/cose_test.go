package cose

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/internal/p256"
	"github.com/idreader/idreader/internal/testvectors"
	"github.com/idreader/idreader/mdoc"
)

func vec(tb testing.TB, name string) []byte {
	tb.Helper()
	return testvectors.AnnexD(tb, name)
}

func cert(tb testing.TB, name string) *x509.Certificate {
	tb.Helper()
	c, err := x509.ParseCertificate(vec(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Annex D.5.2: issuerAuth, an attached COSE_Sign1 (ES256) with the DS
// certificate as a single-bstr x5chain.
func TestIssuerAuthAnnexD(t *testing.T) {
	m, err := ParseSign1(vec(t, "issuer_auth"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Alg != AlgES256 || m.Detached || !bytes.Equal(m.Payload, vec(t, "mobile_security_object_bytes")) {
		t.Fatalf("alg %v detached %v", m.Alg, m.Detached)
	}
	chain, err := m.X5Chain()
	if err != nil || len(chain) != 1 || !bytes.Equal(chain[0], vec(t, "ds_cert")) {
		t.Fatalf("x5chain: %v", err)
	}
	certs, err := m.Certificates()
	if err != nil || len(certs) != 1 {
		t.Fatal(err)
	}
	if err := m.VerifySignature(certs[0].PublicKey, m.Payload); err != nil {
		t.Fatal(err)
	}
	// Another payload, another key, a flipped signature bit: ErrVerify.
	if err := m.VerifySignature(certs[0].PublicKey, vec(t, "mobile_security_object")); !errors.Is(err, ErrVerify) {
		t.Errorf("other payload: %v", err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err := m.VerifySignature(&other.PublicKey, m.Payload); !errors.Is(err, ErrVerify) {
		t.Errorf("other key: %v", err)
	}
	m.Signature[5] ^= 1
	if err := m.VerifySignature(certs[0].PublicKey, m.Payload); !errors.Is(err, ErrVerify) {
		t.Errorf("flipped bit: %v", err)
	}
}

// Annex D.5.3: deviceMac, a detached COSE_Mac0 over
// DeviceAuthenticationBytes with EMacKey.
func TestDeviceMacAnnexD(t *testing.T) {
	m, err := ParseMac0(vec(t, "device_mac"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Alg != AlgHMAC256 || !m.Detached || !bytes.Equal(m.Signature, vec(t, "device_mac_tag")) {
		t.Fatalf("alg %v detached %v", m.Alg, m.Detached)
	}
	dab := vec(t, "device_authentication_bytes")
	if err := m.VerifyMAC(vec(t, "emac_key"), dab); err != nil {
		t.Fatal(err)
	}
	if err := m.VerifyMAC(vec(t, "sk_device"), dab); !errors.Is(err, ErrVerify) {
		t.Errorf("other key: %v", err)
	}
	if err := m.VerifyMAC(vec(t, "emac_key"), dab[1:]); !errors.Is(err, ErrVerify) {
		t.Errorf("other payload: %v", err)
	}
	// A MAC is not a signature.
	if err := m.VerifySignature(cert(t, "ds_cert").PublicKey, dab); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Mac0 as signature: %v", err)
	}
	// Our own Mac0 over the same bytes carries the same tag.
	mine, err := Mac0(vec(t, "emac_key"), dab, true)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mine, vec(t, "device_mac")) {
		t.Errorf("Mac0 = %x, want the Annex D deviceMac", mine)
	}
}

// Annex D.4.1.1: readerAuth, a detached COSE_Sign1 over
// ReaderAuthenticationBytes with the reader certificate in x5chain.
func TestReaderAuthAnnexD(t *testing.T) {
	m, err := ParseSign1(vec(t, "reader_auth"))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := m.Certificates()
	if err != nil || !bytes.Equal(certs[0].Raw, vec(t, "reader_cert")) {
		t.Fatalf("x5chain: %v", err)
	}
	if !m.Detached {
		t.Fatal("readerAuth payload is attached")
	}
	if err := m.VerifySignature(certs[0].PublicKey, vec(t, "reader_authentication_bytes")); err != nil {
		t.Fatal(err)
	}
	// The Mac0 parser refuses it only by tag; untagged it parses, and the
	// algorithm is then not a MAC.
	mac, err := ParseMac0(vec(t, "reader_auth"))
	if err != nil {
		t.Fatal(err)
	}
	if err := mac.VerifyMAC([]byte("k"), nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Sign1 as MAC: %v", err)
	}
}

func TestAlgorithmTable(t *testing.T) {
	for _, tc := range []struct {
		curve elliptic.Curve
		alg   Algorithm
		name  string
	}{{elliptic.P256(), AlgES256, "ES256"}, {elliptic.P384(), AlgES384, "ES384"}, {elliptic.P521(), AlgES512, "ES512"}} {
		k, _ := ecdsa.GenerateKey(tc.curve, rand.Reader)
		a, err := AlgorithmFor(&k.PublicKey)
		if err != nil || a != tc.alg || a.String() != tc.name || a.Curve() != tc.curve {
			t.Errorf("%s: %v %v", tc.name, a, err)
		}
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	if a, err := AlgorithmFor(pub); err != nil || a != AlgEdDSA || a.Curve() != nil {
		t.Errorf("Ed25519: %v %v", a, err)
	}
	k224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if _, err := AlgorithmFor(&k224.PublicKey); !errors.Is(err, ErrUnsupported) {
		t.Errorf("P-224: %v", err)
	}
	if _, err := AlgorithmFor("key"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("string key: %v", err)
	}
	if Algorithm(-999).String() != "alg -999" || AlgHMAC256.String() != "HMAC 256/256" {
		t.Error("names")
	}
}

// TestSignVerifyRoundTrip signs with every curve and Ed25519, attached and
// detached, with one and two certificates, and verifies; an algorithm
// bound to another curve than the key's is refused.
func TestSignVerifyRoundTrip(t *testing.T) {
	ds := vec(t, "ds_cert")
	iaca := vec(t, "iaca_cert")
	payload := []byte("payload")
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	for _, key := range []crypto.Signer{p256, p384, p521, ed} {
		for _, detached := range []bool{false, true} {
			for _, chain := range [][][]byte{{ds}, {ds, iaca}, nil} {
				b, err := Sign1(rand.Reader, key, payload, SignOptions{X5Chain: chain, Detached: detached})
				if err != nil {
					t.Fatal(err)
				}
				m, err := ParseSign1(b)
				if err != nil {
					t.Fatal(err)
				}
				if m.Detached != detached || (!detached && !bytes.Equal(m.Payload, payload)) {
					t.Errorf("%T detached=%v: payload %x", key, detached, m.Payload)
				}
				got, err := m.X5Chain()
				switch {
				case chain == nil && !errors.Is(err, ErrMalformed):
					t.Errorf("no x5chain: %v", err)
				case chain != nil && (err != nil || len(got) != len(chain)):
					t.Errorf("x5chain: %d, %v", len(got), err)
				}
				if err := m.VerifySignature(key.Public(), payload); err != nil {
					t.Errorf("%T: %v", key, err)
				}
				if err := m.VerifySignature(key.Public(), append(payload, 0)); !errors.Is(err, ErrVerify) {
					t.Errorf("%T other payload: %v", key, err)
				}
			}
		}
	}
	// ES256 header with a P-384 key: the alg is bound to P-256.
	b, _ := Sign1(rand.Reader, p256, payload, SignOptions{})
	m, _ := ParseSign1(b)
	if err := m.VerifySignature(&p384.PublicKey, payload); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ES256 with P-384: %v", err)
	}
	if err := m.VerifySignature(ed.Public(), payload); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ES256 with Ed25519: %v", err)
	}
	m.Signature = m.Signature[1:]
	if err := m.VerifySignature(&p256.PublicKey, payload); !errors.Is(err, ErrVerify) {
		t.Errorf("short signature: %v", err)
	}
	eb, _ := Sign1(rand.Reader, ed, payload, SignOptions{})
	em, _ := ParseSign1(eb)
	if err := em.VerifySignature(&p256.PublicKey, payload); !errors.Is(err, ErrUnsupported) {
		t.Errorf("EdDSA with ECDSA key: %v", err)
	}
}

// enc encodes a COSE array from parts for the negative cases.
func enc(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := mdoc.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParseRefuses(t *testing.T) {
	prot := enc(t, map[int]int{1: -7})
	sig := make([]byte, 64)
	ds := vec(t, "ds_cert")
	cases := []struct {
		name string
		data []byte
		kind error
	}{
		{"empty", nil, ErrMalformed},
		{"not an array", enc(t, map[int]int{1: 2}), ErrMalformed},
		{"three members", enc(t, []any{prot, map[int]any{}, []byte("p")}), ErrMalformed},
		{"wrong tag", enc(t, cborTag(17, []any{prot, map[int]any{}, []byte("p"), sig})), ErrMalformed},
		{"payload is a map", enc(t, []any{prot, map[int]any{}, map[int]int{}, sig}), ErrMalformed},
		{"protected not a map", enc(t, []any{enc(t, 5), map[int]any{}, []byte("p"), sig}), ErrMalformed},
		{"no alg", enc(t, []any{enc(t, map[int]int{4: 1}), map[int]any{}, []byte("p"), sig}), ErrMalformed},
		{"empty protected", enc(t, []any{[]byte{}, map[int]any{1: -7}, []byte("p"), sig}), ErrMalformed},
		{"alg in both", enc(t, []any{prot, map[int]any{1: -7}, []byte("p"), sig}), ErrMalformed},
		{"text alg", enc(t, []any{enc(t, map[int]string{1: "ES256"}), map[int]any{}, []byte("p"), sig}), ErrUnsupported},
		{"crit", enc(t, []any{enc(t, map[int]any{1: -7, 2: []int{99}}), map[int]any{}, []byte("p"), sig}), ErrUnsupported},
		{"x5chain in both", enc(t, []any{enc(t, map[int]any{1: -7, 33: ds}), map[int]any{33: ds}, []byte("p"), sig}), ErrMalformed},
	}
	for _, tc := range cases {
		if _, err := ParseSign1(tc.data); !errors.Is(err, tc.kind) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.kind)
		}
	}
	// x5chain of the wrong shape: parse succeeds, X5Chain refuses.
	for name, x5 := range map[string]any{"empty array": []any{}, "text": "cert", "array of int": []int{1}} {
		m, err := ParseSign1(enc(t, []any{prot, map[int]any{33: x5}, []byte("p"), sig}))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := m.X5Chain(); !errors.Is(err, ErrMalformed) {
			t.Errorf("x5chain %s: %v", name, err)
		}
	}
	// x5chain in the protected bucket is found; a bstr that is no
	// certificate fails Certificates.
	m, err := ParseSign1(enc(t, []any{enc(t, map[int]any{1: -7, 33: []any{ds, []byte("junk")}}), map[int]any{}, []byte("p"), sig}))
	if err != nil {
		t.Fatal(err)
	}
	if chain, err := m.X5Chain(); err != nil || len(chain) != 2 {
		t.Errorf("protected x5chain: %v", err)
	}
	if _, err := m.Certificates(); !errors.Is(err, ErrMalformed) {
		t.Errorf("junk certificate: %v", err)
	}
	// A tagged Sign1 parses; the error text names the kind.
	tagged := enc(t, cborTag(18, []any{prot, map[int]any{}, []byte("p"), sig}))
	if _, err := ParseSign1(tagged); err != nil {
		t.Error(err)
	}
	_, err = ParseMac0(tagged)
	var ce *Error
	if !errors.As(err, &ce) || ce.Kind != ErrMalformed || err.Error() != "cose: malformed: COSE tag 18, want 17" {
		t.Errorf("%v", err)
	}
}

func cborTag(n uint64, content any) cbor.Tag { return cbor.Tag{Number: n, Content: content} }

// TestParseStrictCDDL: members that a lenient decoder accepts but RFC 9052's
// CDDL does not (issue 12 finding 4): the protected header as a text
// string, and a tag in front of any member.
func TestParseStrictCDDL(t *testing.T) {
	prot := enc(t, map[int]int{1: -7})
	sig := make([]byte, 64)
	tagged := func(v any) cbor.RawMessage { return enc(t, cborTag(55799, v)) }
	cases := map[string][]byte{
		"protected as text":   enc(t, []any{string(prot), map[int]any{}, []byte("p"), sig}),
		"tagged protected":    enc(t, []any{tagged(prot), map[int]any{}, []byte("p"), sig}),
		"tagged unprotected":  enc(t, []any{prot, tagged(map[int]any{}), []byte("p"), sig}),
		"tagged payload":      enc(t, []any{prot, map[int]any{}, tagged([]byte("p")), sig}),
		"tagged signature":    enc(t, []any{prot, map[int]any{}, []byte("p"), tagged(sig)}),
		"signature as text":   enc(t, []any{prot, map[int]any{}, []byte("p"), string(sig)}),
		"payload as text":     enc(t, []any{prot, map[int]any{}, "p", sig}),
		"bignum in unprotect": enc(t, []any{prot, tagged(map[int]any{4: []byte("k")}), []byte("p"), sig}),
	}
	for name, data := range cases {
		if _, err := ParseSign1(data); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	if _, err := ParseSign1(enc(t, []any{prot, map[int]any{}, []byte("p"), sig})); err != nil {
		t.Errorf("well-formed message refused: %v", err)
	}
}

// A prepared P-256 key (internal/p256) gives VerifySignature the answers of
// the plain key: on Annex D's issuerAuth, on other payloads, other keys,
// flipped bits, a signature of the wrong length and an algorithm other than
// ES256.
func TestVerifySignaturePreparedKey(t *testing.T) {
	ds := cert(t, "ds_cert")
	prepared, err := p256.Prepare(ds.PublicKey.(*ecdsa.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseSign1(vec(t, "issuer_auth"))
	if err != nil {
		t.Fatal(err)
	}
	same := func(name string, m *Message, payload []byte) {
		t.Helper()
		want := m.VerifySignature(ds.PublicKey, payload)
		got := m.VerifySignature(prepared, payload)
		if (want == nil) != (got == nil) || (want != nil && !errors.Is(got, errors.Unwrap(want))) {
			t.Errorf("%s: prepared key %v, plain key %v", name, got, want)
		}
	}
	if err := m.VerifySignature(prepared, m.Payload); err != nil {
		t.Fatalf("Annex D issuerAuth: %v", err)
	}
	same("Annex D", m, m.Payload)
	same("other payload", m, vec(t, "mobile_security_object"))
	for bit := 0; bit < 8*len(m.Signature); bit += 37 {
		m.Signature[bit/8] ^= 1 << (bit % 8)
		same("flipped bit", m, m.Payload)
		m.Signature[bit/8] ^= 1 << (bit % 8)
	}
	sig := m.Signature
	m.Signature = sig[:63]
	same("short signature", m, m.Payload)
	m.Signature = sig
	m.Alg = AlgES384
	if err := m.VerifySignature(prepared, m.Payload); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ES384 with a prepared P-256 key: %v", err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b, _ := Sign1(rand.Reader, other, []byte("payload"), SignOptions{})
	om, _ := ParseSign1(b)
	if err := om.VerifySignature(prepared, om.Payload); !errors.Is(err, ErrVerify) {
		t.Errorf("another key's signature: %v", err)
	}
}
