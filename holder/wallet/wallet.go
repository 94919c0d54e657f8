package wallet

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/vpcd"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/session"
)

// ErrGone is returned by the in-process transceiver once the wallet has left
// the field (Faults.Vanish), until the next power cycle.
var ErrGone = errors.New("wallet: card left the field")

// Report describes one tap as the wallet saw it.
type Report struct {
	// Handover is the engagement mode (NFC engagement only).
	Handover HandoverMode
	// QR reports a QR engagement (Wallet.ShowQR).
	QR bool
	// Transport is "nfc" or the BLE mode ("central client", "peripheral
	// server") the data retrieval used, empty before it started.
	Transport string
	// MTU is the ATT MTU of the BLE connection (0 for NFC).
	MTU int
	// DeviceEngagement is the DeviceEngagement the wallet sent.
	DeviceEngagement []byte
	// HandoverSelect and HandoverRequest are the handover messages of the
	// SessionTranscript, exactly as served and received (HandoverRequest is
	// nil for static handover).
	HandoverSelect, HandoverRequest []byte
	// NotReadyReads counts the NLEN reads answered 0 before the Handover
	// Select (apple mode).
	NotReadyReads int
	// Requests are the documents requested, in order.
	Requests []credential.DocRequest
	// ReaderAuth has one entry per document request that carried
	// readerAuth or was refused for lacking it.
	ReaderAuth []ReaderAuthResult
	// Responses counts the DeviceResponses sent.
	Responses int
	// Terminated is set when the reader ended the session (status 20).
	Terminated bool
	// Status is the SessionData error status the wallet sent (10 or 11),
	// when HasStatus.
	Status    session.Status
	HasStatus bool
	// Received lists the SessionData status codes the reader sent, in
	// order (ISO/IEC 18013-5 clause 9.1.1.4: 10 session encryption error,
	// 11 CBOR decoding error, 20 session termination).
	Received []session.Status
	// Vanished is set when the wallet left the field on purpose.
	Vanished bool
	// Err is the last thing that went wrong, nil if nothing did.
	Err error
}

// ReaderAuthResult is the wallet's check of one readerAuth (ISO/IEC 18013-5
// clause 9.1.4).
type ReaderAuthResult struct {
	DocType string
	// Present reports that the request carried readerAuth.
	Present bool
	// Chain is the x5chain, leaf first, when the signature verified.
	Chain []*x509.Certificate
	// Err is nil when the signature verified (and, with Config.ReaderTrust,
	// the chain led to one of its roots).
	Err error
	// Refused reports that the document was withheld because of Err.
	Refused bool
}

// Wallet is the simulated wallet. It implements vpcd.Card; Transceiver gives
// the same card as an nfc.Transceiver. Its methods are safe for concurrent
// use, but APDUs are processed one at a time.
type Wallet struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc

	mu   sync.Mutex
	s    *tap
	next *tap // prepared when the field comes up; see PowerOn
	last Report

	// bleTaps holds the latest tap whose engagement selected BLE, for
	// ServeBLE.
	bleTaps chan *tap
}

var _ vpcd.Card = (*Wallet)(nil)

// New checks cfg and returns a wallet out of the field. Call Close to cut
// short a stall in progress when the wallet is served over vpcd.
func New(cfg Config) (*Wallet, error) {
	if len(cfg.Credentials) == 0 {
		return nil, errors.New("wallet: no credentials")
	}
	for i, c := range cfg.Credentials {
		if c == nil || c.DeviceKey == nil {
			return nil, fmt.Errorf("wallet: credential %d: %w", i, credential.ErrNoDeviceKey)
		}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = nfc.Sleep
	}
	if cfg.Handover == "" {
		cfg.Handover = HandoverStatic
	}
	if _, err := ParseHandoverMode(string(cfg.Handover)); err != nil {
		return nil, err
	}
	if cfg.Auth == "" {
		cfg.Auth = AuthSignature
	}
	if _, err := ParseDeviceAuth(string(cfg.Auth)); err != nil {
		return nil, err
	}
	if cfg.Curve == nil {
		cfg.Curve = ecdh.P256()
	}
	if cfg.MaxCommandData <= 0 {
		cfg.MaxCommandData = DefaultMaxCommandData
	}
	if cfg.MaxResponseData <= 0 {
		cfg.MaxResponseData = DefaultMaxResponseData
	}
	if cfg.MaxCommandData > nfc.MaxExtendedCommandData || cfg.MaxResponseData > nfc.MaxExtendedResponseData {
		return nil, fmt.Errorf("wallet: data lengths %d/%d exceed the extended APDU limits", cfg.MaxCommandData, cfg.MaxResponseData)
	}
	if cfg.NotReadyReads == 0 {
		cfg.NotReadyReads = DefaultNotReadyReads
	}
	if cfg.NotReadyReads < 0 {
		cfg.NotReadyReads = 0
	}
	if cfg.CC != nil {
		if _, err := nfc.ParseCapabilityContainer(cfg.CC.Encode()); err != nil {
			return nil, fmt.Errorf("wallet: configured CC: %w", err)
		}
		if cfg.CC.NDEFFileID == nfc.CCFileID || cfg.CC.NDEFFileID == 0 {
			return nil, fmt.Errorf("wallet: configured CC: NDEF file ID %04X", cfg.CC.NDEFFileID)
		}
	}
	if cfg.BLEMode != 0 && cfg.BLEMode != ble.ModeCentralClient && cfg.BLEMode != ble.ModePeripheralServer {
		return nil, fmt.Errorf("wallet: unknown BLE mode %d", int(cfg.BLEMode))
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Wallet{cfg: cfg, ctx: ctx, cancel: cancel, bleTaps: make(chan *tap, 1)}, nil
}

// Close cancels any stall in progress (vpcd path) and makes later stalls
// return at once. The wallet still answers APDUs.
func (w *Wallet) Close() error {
	w.cancel()
	return nil
}

// PowerOn implements vpcd.Card: the field comes up, a new tap begins. The
// wallet prepares its engagement (EDeviceKey, DeviceEngagement, the NDEF
// file) now, as a phone has its engagement ready before the reader's first
// command; a tap that never gets a command discards it.
func (w *Wallet) PowerOn() { w.drop(true) }

// PowerOff implements vpcd.Card: the field drops, the session is forgotten.
func (w *Wallet) PowerOff() { w.drop(false) }

// Reset implements vpcd.Card: a warm reset forgets the session, like a field
// drop, and a new tap begins as after PowerOn.
func (w *Wallet) Reset() { w.drop(true) }

func (w *Wallet) drop(prepare bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.s != nil {
		w.last = w.s.report
		w.s = nil
	}
	switch {
	case !prepare:
		w.next = nil
	case w.next == nil:
		// An unused prepared tap is as fresh as a new one: keep it, so
		// a reset right after power-on draws no second key.
		w.next = newTap(&w.cfg, w.announce)
	}
}

// Report returns the report of the tap in progress, or of the last one after
// a power cycle.
func (w *Wallet) Report() Report {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.s != nil {
		return w.s.snapshot()
	}
	return w.last
}

// Transmit implements vpcd.Card. A nil response means the wallet left the
// field (Faults.Vanish, or a stall cut short by Close).
func (w *Wallet) Transmit(apdu []byte) []byte {
	resp, err := w.transmit(w.ctx, apdu)
	if err != nil {
		return nil
	}
	return resp
}

// Transceiver returns the wallet as an in-process nfc.Transceiver: a tap
// without pcscd. Call PowerOff (or Reset) between taps.
func (w *Wallet) Transceiver() nfc.Transceiver { return transceiver{w} }

type transceiver struct{ w *Wallet }

// Transmit implements nfc.Transceiver. It returns ErrGone after the wallet
// left the field, and ctx's error when ctx ends first (including during a
// stall).
func (t transceiver) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return t.w.transmit(ctx, apdu)
}

func (w *Wallet) transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	w.mu.Lock()
	if w.s == nil {
		w.s, w.next = w.next, nil
		if w.s == nil {
			w.s = newTap(&w.cfg, w.announce)
		}
	}
	s := w.s
	resp, err := s.handle(ctx, apdu)
	calls := s.callbacks
	s.callbacks = nil
	w.mu.Unlock()
	for _, f := range calls {
		f()
	}
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return nil, ErrGone
	}
	return resp, nil
}

// snapshot copies the report so callers cannot race with the tap.
func (s *tap) snapshot() Report {
	r := s.report
	r.Requests = append([]credential.DocRequest(nil), r.Requests...)
	r.ReaderAuth = append([]ReaderAuthResult(nil), r.ReaderAuth...)
	r.Received = append([]session.Status(nil), r.Received...)
	r.DeviceEngagement = bytes.Clone(r.DeviceEngagement)
	r.HandoverSelect = bytes.Clone(r.HandoverSelect)
	r.HandoverRequest = bytes.Clone(r.HandoverRequest)
	return r
}

// notify queues a callback to run after the APDU is answered, outside the
// lock.
func (s *tap) notify(f func(Report)) {
	if f == nil {
		return
	}
	r := s.snapshot()
	s.callbacks = append(s.callbacks, func() { f(r) })
}
