package session

import (
	"crypto/ecdh"
	"errors"
	"fmt"
	"io"

	"github.com/idreader/idreader/mdoc"
)

// ErrState is returned when a message is built or read out of the protocol
// order (for example SessionData before SessionEstablishment).
var ErrState = errors.New("session: out of order")

// Reader is the mdoc reader's side of a session (ISO/IEC 18013-5 clause
// 9.1.1): it holds the ephemeral EReaderKey, the SessionTranscript and the
// two directions of AES-256-GCM. The first message it sends is a
// SessionEstablishment, later ones SessionData.
type Reader struct {
	priv            *ecdh.PrivateKey
	eReaderKeyBytes mdoc.TaggedCBOR
	transcript      *SessionTranscript
	skReader        []byte
	skDevice        []byte
	out             *direction // reader → mdoc, SKReader, identifier 0
	in              *direction // mdoc → reader, SKDevice, identifier 1
	established     bool
}

// NewReader makes an ephemeral EReaderKey on the curve of de.EDeviceKey
// (P-256, P-384, P-521 or X25519), builds the SessionTranscript from the exact
// DeviceEngagementBytes, the new EReaderKeyBytes and handover, and derives
// SKReader and SKDevice (ISO/IEC 18013-5 clauses 9.1.1.4, 9.1.5.1, 9.1.1.5).
// Any other curve fails with an error wrapping mdoc.ErrUnsupportedCurve.
func NewReader(rand io.Reader, de *mdoc.DeviceEngagement, handover Handover) (*Reader, error) {
	if de == nil {
		return nil, fmt.Errorf("session: no DeviceEngagement")
	}
	priv, err := GenerateEphemeralKey(rand, de.EDeviceKey)
	if err != nil {
		return nil, fmt.Errorf("making EReaderKey: %w", err)
	}
	return NewReaderWithKey(priv, de, handover)
}

// NewReaderWithKey is [NewReader] with a given EReaderKey, which must be on
// the curve of de.EDeviceKey (tests replay ISO/IEC 18013-5 Annex D with it).
func NewReaderWithKey(priv *ecdh.PrivateKey, de *mdoc.DeviceEngagement, handover Handover) (*Reader, error) {
	if de == nil || priv == nil {
		return nil, fmt.Errorf("session: no DeviceEngagement or EReaderKey")
	}
	peer, err := peerKey(de.EDeviceKey)
	if err != nil {
		return nil, fmt.Errorf("reading EDeviceKey: %w", err)
	}
	deb, err := de.DeviceEngagementBytes()
	if err != nil {
		return nil, fmt.Errorf("reading DeviceEngagement: %w", err)
	}
	erk, err := encodeEphemeral(priv.PublicKey())
	if err != nil {
		return nil, err
	}
	st, err := NewSessionTranscript(deb, erk, handover)
	if err != nil {
		return nil, err
	}
	skR, skD, err := sessionKeys(priv, peer, st)
	if err != nil {
		return nil, fmt.Errorf("deriving session keys: %w", err)
	}
	out, err := newDirection(skR, readerIdentifier)
	if err != nil {
		return nil, err
	}
	in, err := newDirection(skD, deviceIdentifier)
	if err != nil {
		return nil, err
	}
	return &Reader{priv: priv, eReaderKeyBytes: erk, transcript: st, skReader: skR, skDevice: skD, out: out, in: in}, nil
}

// Transcript returns the SessionTranscript of the session.
func (r *Reader) Transcript() *SessionTranscript { return r.transcript }

// EReaderKeyBytes returns #6.24(bstr .cbor EReaderKey), as sent in the
// SessionEstablishment and embedded in the transcript.
func (r *Reader) EReaderKeyBytes() mdoc.TaggedCBOR { return r.eReaderKeyBytes }

// PrivateKey returns the ephemeral EReaderKey private key; the verifier needs
// it for deviceMac (EMacKey = HKDF(ECDH(EReaderKey, SDeviceKey)), clause 9.1.3.5).
func (r *Reader) PrivateKey() *ecdh.PrivateKey { return r.priv }

// Establish encrypts the DeviceRequest into the first message,
// SessionEstablishment {"eReaderKey", "data"}. It can be called once.
func (r *Reader) Establish(deviceRequest []byte) ([]byte, error) {
	if r.established {
		return nil, fmt.Errorf("%w: SessionEstablishment already sent", ErrState)
	}
	ct, err := r.out.seal(deviceRequest)
	if err != nil {
		return nil, err
	}
	r.established = true
	return (&SessionEstablishment{EReaderKeyBytes: r.eReaderKeyBytes, Data: ct}).Marshal()
}

// Seal encrypts a later request as SessionData {"data"}.
func (r *Reader) Seal(deviceRequest []byte) ([]byte, error) {
	if !r.established {
		return nil, fmt.Errorf("%w: SessionData before SessionEstablishment", ErrState)
	}
	return sealSessionData(r.out, deviceRequest)
}

// Open decrypts a SessionData from the mdoc. A message may carry only a
// status (10, 11 or 20); Message.Terminated reports status 20. A replayed,
// reordered or tampered message fails with [ErrDecrypt] and leaves the
// counter unchanged.
func (r *Reader) Open(sessionData []byte) (*Message, error) {
	if !r.established {
		return nil, fmt.Errorf("%w: SessionData before SessionEstablishment", ErrState)
	}
	return openSessionData(r.in, sessionData)
}

// Terminate returns SessionData {"status": 20}.
func (r *Reader) Terminate() ([]byte, error) { return statusMessage(StatusTermination) }

// SendStatus returns SessionData {"status": s}, for example 10 when the
// mdoc's SessionData does not decrypt or 11 when it does not decode; the
// reader sends it before it ends the session (ISO/IEC 18013-5 clause
// 9.1.1.4, table 20).
func (r *Reader) SendStatus(s Status) ([]byte, error) { return statusMessage(s) }
