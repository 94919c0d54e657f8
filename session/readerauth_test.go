package session

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/idreader/idreader/mdoc"
)

func annexDItems(tb testing.TB) mdoc.TaggedCBOR {
	tb.Helper()
	irb, err := mdoc.ParseTaggedCBOR(annexD(tb, "items_request_bytes"))
	if err != nil {
		tb.Fatal(err)
	}
	return irb
}

// Annex D.4.1.1 / D.5.4: ReaderAuthenticationBytes and the published readerAuth.
func TestReaderAuthAnnexD(t *testing.T) {
	st, err := ParseSessionTranscript(annexD(t, "session_transcript_bytes"))
	if err != nil {
		t.Fatal(err)
	}
	irb := annexDItems(t)
	rab, err := ReaderAuthenticationBytes(st, irb)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rab.Raw, annexD(t, "reader_authentication_bytes")) {
		t.Error("ReaderAuthenticationBytes differ")
	}
	chain, err := VerifyReaderAuth(annexD(t, "reader_auth"), st, irb)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 1 || !bytes.Equal(chain[0].Raw, annexD(t, "reader_cert")) {
		t.Error("returned chain is not the reader certificate")
	}
	// The readerAuth inside the DeviceRequest verifies the same way.
	req, err := mdoc.ParseDeviceRequest(annexD(t, "device_request"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyReaderAuth(req.DocRequests[0].ReaderAuth, st, req.DocRequests[0].ItemsRequestBytes); err != nil {
		t.Error(err)
	}
	// Another transcript or another request does not verify.
	other, _ := mdoc.WrapCBOR(map[string]any{"docType": "x", "nameSpaces": map[string]any{}})
	if _, err := VerifyReaderAuth(annexD(t, "reader_auth"), st, other); !errors.Is(err, ErrReaderAuth) {
		t.Errorf("other request: %v", err)
	}
	r := annexDReader(t)
	qr, _ := NewSessionTranscript(r.Transcript().DeviceEngagementBytes, r.EReaderKeyBytes(), QRHandover())
	if _, err := VerifyReaderAuth(annexD(t, "reader_auth"), qr, irb); !errors.Is(err, ErrReaderAuth) {
		t.Errorf("other transcript: %v", err)
	}
}

func testCert(t *testing.T, curve elliptic.Curve, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "reader"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<33, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: parent == nil,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func TestReaderAuthFresh(t *testing.T) {
	st := annexDReader(t).Transcript()
	irb := annexDItems(t)
	for name, curve := range map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()} {
		t.Run(name, func(t *testing.T) {
			root, rootKey := testCert(t, curve, nil, nil)
			leaf, leafKey := testCert(t, curve, root, rootKey)
			// One certificate: x5chain is a single bstr.
			one, err := SignReaderAuth(rand.Reader, leafKey, []*x509.Certificate{leaf}, st, irb)
			if err != nil {
				t.Fatal(err)
			}
			var items []any
			if err := mdoc.Unmarshal(one, &items); err != nil || len(items) != 4 || items[2] != nil {
				t.Errorf("readerAuth is not [protected, unprotected, null, signature]: %v", err)
			}
			if sig, _ := items[3].([]byte); len(sig) != 2*((curve.Params().BitSize+7)/8) {
				t.Errorf("signature of %d bytes is not raw r||s", len(sig))
			}
			chain, err := VerifyReaderAuth(one, st, irb)
			if err != nil || len(chain) != 1 || !chain[0].Equal(leaf) {
				t.Fatalf("verify: %v", err)
			}
			// Two certificates: an array, leaf first.
			two, err := SignReaderAuth(rand.Reader, leafKey, []*x509.Certificate{leaf, root}, st, irb)
			if err != nil {
				t.Fatal(err)
			}
			chain, err = VerifyReaderAuth(two, st, irb)
			if err != nil || len(chain) != 2 || !chain[1].Equal(root) {
				t.Fatalf("verify chain: %v", err)
			}
			// A flipped signature bit fails.
			bad := append([]byte(nil), one...)
			bad[len(bad)-1] ^= 1
			if _, err := VerifyReaderAuth(bad, st, irb); !errors.Is(err, ErrReaderAuth) {
				t.Errorf("tampered: %v", err)
			}
			// The wrong certificate fails.
			wrong, _ := SignReaderAuth(rand.Reader, rootKey, []*x509.Certificate{leaf}, st, irb)
			if _, err := VerifyReaderAuth(wrong, st, irb); !errors.Is(err, ErrReaderAuth) {
				t.Errorf("wrong key: %v", err)
			}
		})
	}
}

func TestReaderAuthRejects(t *testing.T) {
	st := annexDReader(t).Transcript()
	irb := annexDItems(t)
	good := annexD(t, "reader_auth")
	enc := func(v any) []byte { b, _ := mdoc.Marshal(v); return b }
	var items []any
	if err := mdoc.Unmarshal(good, &items); err != nil {
		t.Fatal(err)
	}
	withPayload := enc([]any{items[0], items[1], []byte("payload"), items[3]})
	noChain := enc([]any{items[0], map[int]any{}, nil, items[3]})
	badChain := enc([]any{items[0], map[int]any{33: []byte{1, 2, 3}}, nil, items[3]})
	es384 := enc([]any{[]byte{0xa1, 0x01, 0x38, 0x22}, items[1], nil, items[3]})
	for name, in := range map[string][]byte{
		"empty": nil, "truncated": good[:len(good)-1], "tagged": append([]byte{0xd2}, good...),
		"attached payload": withPayload, "no x5chain": noChain, "bad x5chain": badChain, "alg mismatch": es384,
	} {
		if _, err := VerifyReaderAuth(in, st, irb); !errors.Is(err, ErrReaderAuth) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := SignReaderAuth(rand.Reader, nil, nil, st, irb); err == nil {
		t.Error("signing without a certificate")
	}
}
