package session

import (
	"crypto/ecdh"
	"fmt"

	"github.com/idreader/idreader/mdoc"
)

// Device is the mdoc's side of a session, for the simulated wallet: it reads
// the reader's SessionEstablishment, derives the same keys, decrypts requests
// and encrypts responses (ISO/IEC 18013-5 clause 9.1.1).
type Device struct {
	priv       *ecdh.PrivateKey
	deb        mdoc.TaggedCBOR
	handover   Handover
	transcript *SessionTranscript
	eReaderKey *ecdh.PublicKey
	in         *direction // reader → mdoc, SKReader, identifier 0
	out        *direction // mdoc → reader, SKDevice, identifier 1
}

// NewDevice prepares the mdoc side from its EDeviceKey private key, the
// DeviceEngagement bytes it sent (exactly) and the handover. The
// engagement's EDeviceKey must be priv's public key.
func NewDevice(priv *ecdh.PrivateKey, deviceEngagement []byte, handover Handover) (*Device, error) {
	if priv == nil {
		return nil, fmt.Errorf("session: no EDeviceKey")
	}
	de, err := mdoc.ParseDeviceEngagement(deviceEngagement)
	if err != nil {
		return nil, fmt.Errorf("reading DeviceEngagement: %w", err)
	}
	pub, err := peerKey(de.EDeviceKey)
	if err != nil {
		return nil, fmt.Errorf("reading EDeviceKey: %w", err)
	}
	if !pub.Equal(priv.PublicKey()) {
		return nil, fmt.Errorf("session: EDeviceKey of the engagement is not the given private key's")
	}
	deb, err := de.DeviceEngagementBytes()
	if err != nil {
		return nil, err
	}
	return &Device{priv: priv, deb: deb, handover: handover}, nil
}

// Establish reads the reader's SessionEstablishment: it checks EReaderKey is
// on the curve of EDeviceKey, builds the SessionTranscript with
// EReaderKeyBytes as received, derives SKReader/SKDevice and returns the
// decrypted DeviceRequest. A failure to decrypt returns [ErrDecrypt]; the
// wallet then answers with SendStatus(StatusEncryptionError).
func (d *Device) Establish(sessionEstablishment []byte) ([]byte, error) {
	if d.transcript != nil {
		return nil, fmt.Errorf("%w: SessionEstablishment already received", ErrState)
	}
	se, err := ParseSessionEstablishment(sessionEstablishment)
	if err != nil {
		return nil, err
	}
	cose, err := mdoc.ParseCOSEKey(se.EReaderKeyBytes.Inner)
	if err != nil {
		return nil, fmt.Errorf("reading EReaderKey: %w", err)
	}
	peer, err := peerKey(cose)
	if err != nil {
		return nil, fmt.Errorf("reading EReaderKey: %w", err)
	}
	st, err := NewSessionTranscript(d.deb, se.EReaderKeyBytes, d.handover)
	if err != nil {
		return nil, err
	}
	skR, skD, err := sessionKeys(d.priv, peer, st)
	if err != nil {
		return nil, fmt.Errorf("deriving session keys: %w", err)
	}
	in, err := newDirection(skR, readerIdentifier)
	if err != nil {
		return nil, err
	}
	out, err := newDirection(skD, deviceIdentifier)
	if err != nil {
		return nil, err
	}
	req, err := in.open(se.Data)
	if err != nil {
		return nil, err
	}
	d.transcript, d.eReaderKey, d.in, d.out = st, peer, in, out
	return req, nil
}

// Transcript returns the SessionTranscript, nil before Establish succeeded.
func (d *Device) Transcript() *SessionTranscript { return d.transcript }

// EReaderKey returns the reader's ephemeral public key, nil before Establish
// succeeded; the wallet needs it for deviceMac (clause 9.1.3.5).
func (d *Device) EReaderKey() *ecdh.PublicKey { return d.eReaderKey }

// Open decrypts a later SessionData from the reader.
func (d *Device) Open(sessionData []byte) (*Message, error) {
	if d.transcript == nil {
		return nil, fmt.Errorf("%w: SessionData before SessionEstablishment", ErrState)
	}
	return openSessionData(d.in, sessionData)
}

// Seal encrypts a DeviceResponse as SessionData {"data"}.
func (d *Device) Seal(deviceResponse []byte) ([]byte, error) {
	if d.transcript == nil {
		return nil, fmt.Errorf("%w: response before SessionEstablishment", ErrState)
	}
	return sealSessionData(d.out, deviceResponse)
}

// SendStatus returns SessionData {"status": s} (for example 10 when the
// request did not decrypt, 11 when it did not decode). It needs no keys.
func (d *Device) SendStatus(s Status) ([]byte, error) { return statusMessage(s) }

// Terminate returns SessionData {"status": 20}.
func (d *Device) Terminate() ([]byte, error) { return statusMessage(StatusTermination) }
