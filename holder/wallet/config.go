package wallet

import (
	"crypto/ecdh"
	"crypto/x509"
	"fmt"
	"io"
	"time"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/nfc"
)

// HandoverMode selects how the wallet runs NFC engagement (ISO/IEC 18013-5
// clause 8.2.2.1).
type HandoverMode string

const (
	// HandoverStatic keeps a Handover Select in the NDEF file from the start;
	// the CC grants no write access (FF). Handover = [Hs, null].
	HandoverStatic HandoverMode = "static"
	// HandoverNegotiated runs NFC Forum TNEP negotiated handover with the
	// multipaz holder's parameters: CC MLe = MLc = 7FFF, write access 00,
	// service parameter WT_INT 0, N_wait 15, max NDEF size FFFF.
	HandoverNegotiated HandoverMode = "negotiated"
	// HandoverApple is negotiated handover shaped like Apple Wallet: its CC
	// file (MLe = MLc = 0400, max NDEF size 0802), its service parameter
	// (WT_INT 0x14, N_wait 15, max 0800), NLEN 0 for a few reads before
	// the Handover Select, and a "1.1" DeviceEngagement with 5: [] and
	// 6: {3: true, 4: true}.
	HandoverApple HandoverMode = "apple"
)

// ParseHandoverMode reads "static", "negotiated" or "apple".
func ParseHandoverMode(s string) (HandoverMode, error) {
	switch m := HandoverMode(s); m {
	case HandoverStatic, HandoverNegotiated, HandoverApple:
		return m, nil
	}
	return "", fmt.Errorf("wallet: unknown handover mode %q (static, negotiated, apple)", s)
}

// DeviceAuth selects the mdoc authentication method (ISO/IEC 18013-5 clause
// 9.1.3).
type DeviceAuth string

const (
	// AuthSignature answers with a deviceSignature (clause 9.1.3.6).
	AuthSignature DeviceAuth = "signature"
	// AuthMAC answers with a deviceMac keyed with EMacKey (clause 9.1.3.5).
	AuthMAC DeviceAuth = "mac"
)

// ParseDeviceAuth reads "signature" or "mac".
func ParseDeviceAuth(s string) (DeviceAuth, error) {
	switch a := DeviceAuth(s); a {
	case AuthSignature, AuthMAC:
		return a, nil
	}
	return "", fmt.Errorf("wallet: unknown device authentication %q (signature, mac)", s)
}

// ParseCurve reads an EDeviceKey curve name: p256, p384, p521 or x25519
// (ISO/IEC 18013-5 clause 9.1.5.2 cipher suite 1; case and dashes ignored).
func ParseCurve(s string) (ecdh.Curve, error) {
	switch normalize(s) {
	case "p256", "":
		return ecdh.P256(), nil
	case "p384":
		return ecdh.P384(), nil
	case "p521":
		return ecdh.P521(), nil
	case "x25519":
		return ecdh.X25519(), nil
	}
	return nil, fmt.Errorf("wallet: unknown curve %q (p256, p384, p521, x25519)", s)
}

func normalize(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == '_':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

// Garbage selects a broken reply to the reader's request.
type Garbage int

const (
	// GarbageNone sends the real answer.
	GarbageNone Garbage = iota
	// GarbageNotCBOR answers with bytes that are not CBOR at all.
	GarbageNotCBOR
	// GarbageUndecryptable answers with a well-formed SessionData whose data
	// does not decrypt under SKDevice.
	GarbageUndecryptable
)

// Faults break the wallet on purpose for the reader's negative tests. The
// zero value breaks nothing.
type Faults struct {
	// Tamper changes the value of the first disclosed element (by sorted
	// namespace and identifier) after signing, so its digest no longer
	// matches the MSO (the reader rejects with value_digest).
	// TamperElement names the element instead.
	Tamper        bool
	TamperElement string
	// SignOtherTranscript authenticates a DeviceAuthentication over another
	// SessionTranscript (device_auth).
	SignOtherTranscript bool
	// WrongDeviceKey authenticates with a fresh key instead of the MSO
	// deviceKey (device_auth).
	WrongDeviceKey bool
	// Stall waits this long (through Config.Sleep, so a reader's context or
	// Wallet.Close cuts it short) before answering the ENVELOPE that
	// completes the reader's request.
	Stall time.Duration
	// Vanish leaves the field instead of answering the ENVELOPE that
	// completes the reader's request: the vpcd card returns nil, the
	// in-process transceiver ErrGone, until the next power cycle.
	Vanish bool
	// Garbage replaces the encrypted DeviceResponse with a broken reply.
	Garbage Garbage
	// WithholdAll answers every document request with documentErrors (code
	// 0, data not returned; ISO/IEC 18013-5 clause 8.3.2.1.2.3) and no
	// document, status 0: a wallet that holds none of the doc types asked
	// for, or whose holder declined.
	WithholdAll bool
	// DiscloseAll over-discloses: every element held is returned, requested
	// or not (a wallet that ignores the request's element list).
	DiscloseAll bool
	// Hostile replaces the DeviceResponse with an attack made inside the
	// valid session (see [Hostile]).
	Hostile Hostile
}

// Config configures a Wallet. Only Credentials is required.
type Config struct {
	// Credentials are the mdocs held, each with its device key
	// (credential.Credential.DeviceKey). A request for another docType gets
	// documentErrors (ISO/IEC 18013-5 clause 8.3.2.1.2.3).
	Credentials []*credential.Credential
	// Rand is the source of randomness for signatures, the BLE UUID and
	// garbage; nil means crypto/rand.Reader. (Since Go 1.26 crypto/ecdh
	// draws key material from its own source outside of tests.)
	Rand io.Reader
	// Now is the clock for reader-certificate validation; nil means
	// time.Now.
	Now func() time.Time
	// Sleep waits for stalls; nil means nfc.Sleep.
	Sleep nfc.SleepFunc
	// Handover is the engagement mode; empty means HandoverStatic.
	Handover HandoverMode
	// Auth is the device authentication method; empty means AuthSignature.
	Auth DeviceAuth
	// Curve is the EDeviceKey curve; nil means P-256.
	Curve ecdh.Curve
	// MaxCommandData and MaxResponseData are the lengths the wallet
	// advertises in its iso.org:18013:nfc carrier record and enforces on
	// ENVELOPE / GET RESPONSE (ISO/IEC 18013-5 clause 8.2.2.2); 0 means
	// 0xFFFF and 0x10000, the multipaz holder's values.
	MaxCommandData, MaxResponseData int
	// OfferBLE adds a Bluetooth LE OOB carrier to the Handover Select, in
	// BLEMode: in static handover always, in negotiated handover when the
	// reader's Handover Request offers BLE with a role that fits. The data
	// retrieval over BLE is then run by Wallet.ServeBLE.
	OfferBLE bool
	// BLEMode is the BLE mode the wallet offers, in the Handover Select and
	// in the QR engagement (Wallet.ShowQR): ble.ModeCentralClient (the zero
	// value; LE role 01, the wallet is the GATT client, as Apple Wallet) or
	// ble.ModePeripheralServer (LE role 00, the wallet advertises and is the
	// GATT server).
	BLEMode ble.Mode
	// BLEOnly leaves the NFC carrier out of a negotiated Handover Select
	// that selects BLE, as Apple Wallet does.
	BLEOnly bool
	// NotReadyReads is how many NLEN reads answer 0 before the Handover
	// Select in apple mode; 0 means 3, negative means none.
	NotReadyReads int
	// CC overrides the capability container of the mode (for tests of
	// other NDEF file IDs or limits). Write access is still forced to FF in
	// static mode.
	CC *nfc.CapabilityContainer
	// ReaderTrust, when not empty, holds the reader-authentication roots:
	// a document request whose readerAuth is missing, invalid or does not
	// chain to one of them is refused (documentErrors, code 0). Without
	// roots readerAuth is still verified and recorded, never enforced.
	ReaderTrust []*x509.Certificate
	// Faults break the wallet on purpose.
	Faults Faults
	// OnResponse is called (from Transmit) when the last byte of a
	// DeviceResponse has been served; OnDone when the tap is over: the
	// reader terminated the session, the wallet sent an error status, or it
	// vanished. Both get a snapshot of the report.
	OnResponse func(Report)
	OnDone     func(Report)
}

// bleMode is BLEMode with its default.
func (c *Config) bleMode() ble.Mode {
	if c.BLEMode == ble.ModePeripheralServer {
		return ble.ModePeripheralServer
	}
	return ble.ModeCentralClient
}

// Defaults of Config.
const (
	DefaultMaxCommandData  = 0xFFFF
	DefaultMaxResponseData = 0x10000
	DefaultNotReadyReads   = 3
)
