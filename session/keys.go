package session

import (
	"crypto/ecdh"
	"fmt"
	"io"

	"github.com/idreader/idreader/mdoc"
)

// peerKey returns the ECDH public key of a peer's ephemeral COSE_Key on
// P-256, P-384, P-521 or X25519 (ISO/IEC 18013-5 clause 9.1.5.2, cipher suite
// 1). Every other curve of the cipher suite (X448, brainpool) fails with an
// error wrapping mdoc.ErrUnsupportedCurve.
func peerKey(k *mdoc.COSEKey) (*ecdh.PublicKey, error) {
	if k == nil {
		return nil, fmt.Errorf("%w: no ephemeral key", mdoc.ErrMalformed)
	}
	pub, err := k.ECDHPublicKey()
	if err != nil {
		return nil, err
	}
	return pub, nil
}

// encodeEphemeral returns #6.24(bstr .cbor COSE_Key) of a public key, the
// form of EReaderKeyBytes and EDeviceKeyBytes.
func encodeEphemeral(pub *ecdh.PublicKey) (mdoc.TaggedCBOR, error) {
	cose, err := mdoc.EncodeCOSEKey(pub)
	if err != nil {
		return mdoc.TaggedCBOR{}, fmt.Errorf("encoding ephemeral key: %w", err)
	}
	return mdoc.NewTaggedCBOR(cose)
}

// GenerateEphemeralKey makes a private key on the same curve as peer (for
// the reader: the curve of EDeviceKey). rand is passed to crypto/ecdh; note
// that since Go 1.26 the standard library draws key material from its own
// secure source and ignores rand outside of testing/cryptotest.
func GenerateEphemeralKey(rand io.Reader, peer *mdoc.COSEKey) (*ecdh.PrivateKey, error) {
	pub, err := peerKey(peer)
	if err != nil {
		return nil, err
	}
	return pub.Curve().GenerateKey(rand)
}

// sessionKeys derives SKReader and SKDevice (ISO/IEC 18013-5 clause 9.1.1.5)
// from ECDH(priv, peer) and the SessionTranscriptBytes.
func sessionKeys(priv *ecdh.PrivateKey, peer *ecdh.PublicKey, st *SessionTranscript) (skReader, skDevice []byte, err error) {
	if priv.Curve() != peer.Curve() {
		return nil, nil, fmt.Errorf("%w: ephemeral keys on different curves", mdoc.ErrUnsupportedCurve)
	}
	z, err := priv.ECDH(peer)
	if err != nil {
		return nil, nil, fmt.Errorf("session: key agreement: %w", err)
	}
	if skReader, err = DeriveKey(z, st.Bytes(), InfoSKReader); err != nil {
		return nil, nil, err
	}
	if skDevice, err = DeriveKey(z, st.Bytes(), InfoSKDevice); err != nil {
		return nil, nil, err
	}
	return skReader, skDevice, nil
}

// Message is a decrypted SessionData: Plaintext is the decrypted data (nil
// when the message had none); Status is set when HasStatus.
type Message struct {
	Plaintext []byte
	Status    Status
	HasStatus bool
}

// Terminated reports whether the message ends the session (status 20).
func (m *Message) Terminated() bool { return m.HasStatus && m.Status == StatusTermination }

// openSessionData parses a SessionData and decrypts its data with d.
func openSessionData(d *direction, msg []byte) (*Message, error) {
	sd, err := ParseSessionData(msg)
	if err != nil {
		return nil, err
	}
	m := &Message{Status: sd.Status, HasStatus: sd.HasStatus}
	if sd.Data != nil {
		if m.Plaintext, err = d.open(sd.Data); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// sealSessionData encrypts plaintext with d as SessionData {"data": ...}.
func sealSessionData(d *direction, plaintext []byte) ([]byte, error) {
	ct, err := d.seal(plaintext)
	if err != nil {
		return nil, err
	}
	return (&SessionData{Data: ct}).Marshal()
}

// statusMessage is SessionData {"status": s}.
func statusMessage(s Status) ([]byte, error) {
	return (&SessionData{Status: s, HasStatus: true}).Marshal()
}
