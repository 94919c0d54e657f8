package session

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/cose"
	"github.com/idreader/idreader/mdoc"
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
	alg, err := cose.AlgorithmFor(key.Public())
	if err != nil {
		return nil, fmt.Errorf("%w: reader key: %w", mdoc.ErrUnsupportedCurve, err)
	}
	if alg.Curve() == nil {
		return nil, fmt.Errorf("%w: reader authentication signs with ES256/384/512 only", mdoc.ErrUnsupportedCurve)
	}
	rab, err := ReaderAuthenticationBytes(st, itemsRequestBytes)
	if err != nil {
		return nil, err
	}
	ders := make([][]byte, len(chain))
	for i, c := range chain {
		ders[i] = c.Raw
	}
	out, err := cose.Sign1(rand, key, rab.Raw, cose.SignOptions{X5Chain: ders, Detached: true})
	if err != nil {
		return nil, fmt.Errorf("signing ReaderAuthentication: %w", err)
	}
	return out, nil
}

// VerifyReaderAuth checks a readerAuth COSE_Sign1 (untagged, detached
// payload) over the ReaderAuthenticationBytes of st and itemsRequestBytes
// with the leaf certificate of its x5chain, and returns that chain, leaf
// first (ISO/IEC 18013-5 clause 9.1.4). The signature algorithm must be the
// one bound to the leaf key's curve. The chain is not validated here: the
// caller (the wallet) checks it against its trust anchors and the reader
// certificate profile. Failures wrap [ErrReaderAuth].
func VerifyReaderAuth(readerAuth []byte, st *SessionTranscript, itemsRequestBytes mdoc.TaggedCBOR) ([]*x509.Certificate, error) {
	if len(readerAuth) > 0 && readerAuth[0]>>5 == 6 {
		return nil, fmt.Errorf("%w: readerAuth is tagged (18013-5 uses an untagged COSE_Sign1)", ErrReaderAuth)
	}
	msg, err := cose.ParseSign1(readerAuth)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrReaderAuth, err)
	}
	if !msg.Detached {
		return nil, fmt.Errorf("%w: readerAuth payload is not detached (null)", ErrReaderAuth)
	}
	chain, err := msg.Certificates()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrReaderAuth, err)
	}
	rab, err := ReaderAuthenticationBytes(st, itemsRequestBytes)
	if err != nil {
		return nil, err
	}
	if err := msg.VerifySignature(chain[0].PublicKey, rab.Raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrReaderAuth, err)
	}
	return chain, nil
}
