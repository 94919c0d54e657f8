package session

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"github.com/fxamacker/cbor/v2"
	"github.com/idreader/idreader/mdoc"
	"github.com/veraison/go-cose"
)

// ErrReaderAuth is wrapped by every reader-authentication verification
// failure: a bad signature, a missing or unparsable certificate, an algorithm
// that does not match the key.
var ErrReaderAuth = errors.New("session: reader authentication failed")

// readerAuthContext is the first item of ReaderAuthentication.
const readerAuthContext = "ReaderAuthentication"

// ReaderAuthenticationBytes builds (ISO/IEC 18013-5 clause 9.1.4.1)
//
//	ReaderAuthentication = ["ReaderAuthentication", SessionTranscript, ItemsRequestBytes]
//	ReaderAuthenticationBytes = #6.24(bstr .cbor ReaderAuthentication)
//
// from the transcript's exact array bytes and ItemsRequestBytes as held.
func ReaderAuthenticationBytes(st *SessionTranscript, itemsRequestBytes mdoc.TaggedCBOR) (mdoc.TaggedCBOR, error) {
	if st == nil || len(st.ArrayBytes()) == 0 || len(itemsRequestBytes.Raw) == 0 {
		return mdoc.TaggedCBOR{}, fmt.Errorf("session: ReaderAuthentication needs a transcript and ItemsRequestBytes")
	}
	inner, err := mdoc.Marshal([]any{readerAuthContext, cbor.RawMessage(st.ArrayBytes()), cbor.RawMessage(itemsRequestBytes.Raw)})
	if err != nil {
		return mdoc.TaggedCBOR{}, fmt.Errorf("encoding ReaderAuthentication: %w", err)
	}
	return mdoc.NewTaggedCBOR(inner)
}

// algorithmFor picks the COSE algorithm of an ECDSA key: ES256 on P-256,
// ES384 on P-384, ES512 on P-521 (RFC 9053 2.1).
func algorithmFor(pub crypto.PublicKey) (cose.Algorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return cose.AlgorithmES256, nil
		case elliptic.P384():
			return cose.AlgorithmES384, nil
		case elliptic.P521():
			return cose.AlgorithmES512, nil
		}
	case ed25519.PublicKey:
		return cose.AlgorithmEdDSA, nil
	}
	return 0, fmt.Errorf("%w: reader key %T", mdoc.ErrUnsupportedCurve, pub)
}

// SignReaderAuth signs ReaderAuthenticationBytes with the reader key and
// returns readerAuth, an untagged COSE_Sign1 with a detached payload
// (ISO/IEC 18013-5 clause 9.1.4):
//
//	[<<{1: alg}>>, {33: x5chain}, null, signature]
//
// The algorithm follows the key: ES256, ES384 or ES512 (raw r‖s). x5chain is
// one bstr for a single certificate, an array (leaf first) for more.
func SignReaderAuth(rand io.Reader, key crypto.Signer, chain []*x509.Certificate, st *SessionTranscript, itemsRequestBytes mdoc.TaggedCBOR) ([]byte, error) {
	if len(chain) == 0 {
		return nil, fmt.Errorf("session: reader authentication without a certificate")
	}
	alg, err := algorithmFor(key.Public())
	if err != nil {
		return nil, err
	}
	if alg == cose.AlgorithmEdDSA {
		return nil, fmt.Errorf("%w: reader authentication signs with ES256/384/512 only", mdoc.ErrUnsupportedCurve)
	}
	signer, err := cose.NewSigner(alg, key)
	if err != nil {
		return nil, fmt.Errorf("session: reader key: %w", err)
	}
	rab, err := ReaderAuthenticationBytes(st, itemsRequestBytes)
	if err != nil {
		return nil, err
	}
	var x5chain any
	if len(chain) == 1 {
		x5chain = chain[0].Raw
	} else {
		ders := make([]any, len(chain))
		for i, c := range chain {
			ders[i] = c.Raw
		}
		x5chain = ders
	}
	msg := cose.UntaggedSign1Message{
		Headers: cose.Headers{
			Protected:   cose.ProtectedHeader{cose.HeaderLabelAlgorithm: alg},
			Unprotected: cose.UnprotectedHeader{cose.HeaderLabelX5Chain: x5chain},
		},
		// go-cose v1.3.0 signs only with the payload set; it is detached
		// (null) on the wire, so it is cleared after signing.
		Payload: rab.Raw,
	}
	if err := msg.Sign(rand, nil, signer); err != nil {
		return nil, fmt.Errorf("signing ReaderAuthentication: %w", err)
	}
	msg.Payload = nil
	out, err := msg.MarshalCBOR()
	if err != nil {
		return nil, fmt.Errorf("encoding readerAuth: %w", err)
	}
	return out, nil
}

// VerifyReaderAuth checks a readerAuth COSE_Sign1 (detached payload) over
// the ReaderAuthenticationBytes of st and itemsRequestBytes with the leaf
// certificate of its x5chain, and returns that chain, leaf first (ISO/IEC
// 18013-5 clause 9.1.4). The chain is not validated here: the caller (the
// wallet) checks it against its trust anchors and the reader certificate
// profile. Failures wrap [ErrReaderAuth].
func VerifyReaderAuth(readerAuth []byte, st *SessionTranscript, itemsRequestBytes mdoc.TaggedCBOR) ([]*x509.Certificate, error) {
	var msg cose.UntaggedSign1Message
	if err := msg.UnmarshalCBOR(readerAuth); err != nil {
		return nil, fmt.Errorf("%w: decoding COSE_Sign1: %v", ErrReaderAuth, err)
	}
	if msg.Payload != nil {
		return nil, fmt.Errorf("%w: readerAuth payload is not detached (null)", ErrReaderAuth)
	}
	alg, err := msg.Headers.Protected.Algorithm()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrReaderAuth, err)
	}
	chain, err := x5chain(msg.Headers)
	if err != nil {
		return nil, err
	}
	want, err := algorithmFor(chain[0].PublicKey)
	if err != nil || want != alg {
		return nil, fmt.Errorf("%w: algorithm %v does not match the reader certificate key", ErrReaderAuth, alg)
	}
	verifier, err := cose.NewVerifier(alg, chain[0].PublicKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrReaderAuth, err)
	}
	rab, err := ReaderAuthenticationBytes(st, itemsRequestBytes)
	if err != nil {
		return nil, err
	}
	msg.Payload = rab.Raw
	if err := msg.Verify(nil, verifier); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrReaderAuth, err)
	}
	return chain, nil
}

// x5chain reads header 33 (RFC 9360): one bstr or an array of bstr, leaf
// first, from the unprotected or the protected bucket.
func x5chain(h cose.Headers) ([]*x509.Certificate, error) {
	v, ok := h.Unprotected[cose.HeaderLabelX5Chain]
	if !ok {
		v, ok = h.Protected[cose.HeaderLabelX5Chain]
	}
	if !ok {
		return nil, fmt.Errorf("%w: no x5chain", ErrReaderAuth)
	}
	var ders [][]byte
	switch c := v.(type) {
	case []byte:
		ders = [][]byte{c}
	case []any:
		for _, e := range c {
			b, ok := e.([]byte)
			if !ok {
				return nil, fmt.Errorf("%w: x5chain entry is not a byte string", ErrReaderAuth)
			}
			ders = append(ders, b)
		}
	default:
		return nil, fmt.Errorf("%w: x5chain of type %T", ErrReaderAuth, v)
	}
	if len(ders) == 0 {
		return nil, fmt.Errorf("%w: empty x5chain", ErrReaderAuth)
	}
	certs := make([]*x509.Certificate, 0, len(ders))
	for i, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: x5chain certificate %d: %v", ErrReaderAuth, i, err)
		}
		if !bytes.Equal(c.Raw, der) {
			return nil, fmt.Errorf("%w: x5chain certificate %d has trailing data", ErrReaderAuth, i)
		}
		certs = append(certs, c)
	}
	return certs, nil
}
