package wallet

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"errors"
	"fmt"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/session"
)

// Capability containers of the handover modes (NFC Forum T4T 2.0 clause
// 5.3): CCLEN 000F, mapping version 2.0, MLe, MLc, then the NDEF File
// Control TLV 04 06 <file ID> <max NDEF size> <read access> <write access>.
var (
	// ccMultipaz is the multipaz holder's CC: 000F 20 7FFF 7FFF 04 06 E104
	// 7FFF 00 00 (write access FF for static handover).
	ccMultipaz = nfc.CapabilityContainer{MappingVersion: 0x20, MLe: 0x7FFF, MLc: 0x7FFF, NDEFFileID: 0xE104, MaxNDEFSize: 0x7FFF}
	// ccApple is Apple Wallet's CC as captured
	// (testdata/interop/apple_wallet_cc_file.hex): 000F 20 0400 0400 04 06
	// E104 0802 00 00, MLe = MLc = 1024.
	ccApple = nfc.CapabilityContainer{MappingVersion: 0x20, MLe: 0x0400, MLc: 0x0400, NDEFFileID: 0xE104, MaxNDEFSize: 0x0802}
)

// Service parameters of the handover service (TNEP 1.0 clause 4.1.2;
// ISO/IEC 18013-5 clause 8.2.2.1).
var (
	// spMultipaz: WT_INT 0 (T_wait 0.5 ms), N_wait 15, max NDEF size FFFF.
	spMultipaz = nfc.ServiceParameter{Version: nfc.TNEPVersion, ServiceNameURI: nfc.HandoverServiceURI, Mode: nfc.TNEPSingleResponse, WTInt: 0, NWait: 15, MaxNDEFSize: 0xFFFF}
	// spApple (testdata/interop/apple_wallet_initial_ndef_message.hex):
	// WT_INT 0x14 (T_wait 16 ms), N_wait 15, max NDEF size 0800.
	spApple = nfc.ServiceParameter{Version: nfc.TNEPVersion, ServiceNameURI: nfc.HandoverServiceURI, Mode: nfc.TNEPSingleResponse, WTInt: 0x14, NWait: 15, MaxNDEFSize: 0x0800}
)

// TNEP status values written in the Te record (TNEP 1.0 clause 4.3).
const (
	tnepSuccess       byte = 0x00
	tnepProtocolError byte = 0x01
)

// application is the currently selected application.
type application int

const (
	appNone application = iota
	appNDEF
	appData
)

// tnepState is the negotiated-handover progress.
type tnepState int

const (
	tnepIdle     tnepState = iota // initial Tp message in the NDEF file
	tnepSelected                  // Ts received, Te served
	tnepDone                      // Hr received, Hs served
)

// replyKind tells what the queued data-transfer reply is.
type replyKind int

const (
	replyNone     replyKind = iota
	replyResponse           // a DeviceResponse (or garbage in its place)
	replyFinal              // the last message of the tap (termination, error status)
)

// conversation is the transport-independent part of a tap: the engagement
// keys, the session and the report. NFC data transfer (transfer.go) and BLE
// (ble.go) both feed it whole messages through onMessage.
type conversation struct {
	cfg    *Config
	report Report

	priv *ecdh.PrivateKey
	de   *mdoc.DeviceEngagement
	dev  *session.Device
	est  bool // SessionEstablishment accepted
	// lastIn is the last SessionData received (for Faults.Hostile replay).
	lastIn []byte

	// BLE retrieval selected at engagement: the mode and service UUID.
	ble     bool
	bleMode ble.Mode
	bleUUID ble.UUID
}

// tap is the state of one tap: everything a field drop forgets.
type tap struct {
	conversation
	setup error
	// announce is called (under the wallet's lock) when the engagement
	// selected BLE, so that ServeBLE can pick the tap up.
	announce func(*tap)

	app      application
	file     uint16 // selected EF, 0 for none
	cc       nfc.CapabilityContainer
	ndef     []byte // NDEF file: NLEN + message
	tnep     tnepState
	notReady int

	rx       nfc.EnvelopeReceiver
	tx       nfc.ResponseChunker
	txKind   replyKind
	gone     bool
	finished bool

	callbacks []func()
}

// newTap starts a tap: a fresh EDeviceKey and DeviceEngagement, and the NDEF
// file of the handover mode. A setup failure is kept and answered 6F00.
func newTap(cfg *Config, announce func(*tap)) *tap {
	s := &tap{conversation: conversation{cfg: cfg, report: Report{Handover: cfg.Handover}}, announce: announce}
	s.setup = s.start()
	if s.setup != nil {
		s.report.Err = s.setup
	}
	return s
}

func (s *tap) start() error {
	if err := s.newEngagement(nil); err != nil {
		return err
	}
	switch s.cfg.Handover {
	case HandoverApple:
		s.cc = ccApple
	default:
		s.cc = ccMultipaz
	}
	if s.cfg.CC != nil {
		s.cc = *s.cfg.CC
	}
	if s.cfg.Handover == HandoverStatic {
		s.cc.WriteAccess = 0xFF // read-only: the reader cannot write (T4T 5.3)
		hs, err := s.handoverSelect(true, s.cfg.OfferBLE, nil)
		if err != nil {
			return err
		}
		return s.serveSelect(hs, nil)
	}
	s.cc.WriteAccess = 0x00
	return s.resetTNEP()
}

// newEngagement draws a fresh EDeviceKey and builds the DeviceEngagement
// with the given retrieval methods (key 2; none for NFC engagement, where
// the carriers are Handover Select records).
func (s *conversation) newEngagement(methods []mdoc.RetrievalMethod) error {
	priv, err := s.cfg.Curve.GenerateKey(s.cfg.Rand)
	if err != nil {
		return fmt.Errorf("wallet: generating EDeviceKey: %w", err)
	}
	b := mdoc.DeviceEngagementBuilder{EDeviceKey: priv.PublicKey(), RetrievalMethods: methods}
	if s.cfg.Handover == HandoverApple {
		// ISO/IEC 18013-5 second edition clause 8.2.1.1: version "1.1" with
		// OriginInfos (Apple sends 5: []) and Capabilities 6: {3: true,
		// 4: true} (ReaderAuthAllSupport, ExtendedRequestSupport).
		yes := true
		b.Version = mdoc.EngagementVersion11
		b.IncludeOriginInfos = true
		b.Capabilities = &mdoc.Capabilities{ReaderAuthAllSupport: &yes, ExtendedRequestSupport: &yes}
	} else {
		b.Version = mdoc.EngagementVersion10
	}
	de, err := b.Build()
	if err != nil {
		return fmt.Errorf("wallet: building DeviceEngagement: %w", err)
	}
	s.priv, s.de = priv, de
	s.report.DeviceEngagement = de.Raw
	return nil
}

// resetTNEP puts the initial message, the handover Service Parameter, back
// into the NDEF file.
func (s *tap) resetTNEP() error {
	sp := spMultipaz
	if s.cfg.Handover == HandoverApple {
		sp = spApple
	}
	rec, err := sp.Record()
	if err != nil {
		return err
	}
	msg, err := nfc.Message{rec}.Encode()
	if err != nil {
		return err
	}
	s.tnep, s.notReady = tnepIdle, 0
	s.setNDEF(msg)
	return nil
}

// setNDEF replaces the NDEF file with NLEN + msg.
func (s *tap) setNDEF(msg []byte) {
	f := make([]byte, 2, 2+len(msg))
	f[0], f[1] = byte(len(msg)>>8), byte(len(msg))
	s.ndef = append(f, msg...)
}

// nfcCarrier is the iso.org:18013:nfc record the wallet offers (ISO/IEC
// 18013-5 clause 8.2.2.2).
func (s *tap) nfcCarrier() *nfc.NFCCarrier {
	return &nfc.NFCCarrier{Version: 0x01, MaxCommandData: s.cfg.MaxCommandData, MaxResponseData: s.cfg.MaxResponseData}
}

// handoverSelect builds the Hs: the NFC carrier when offerNFC, BLE when
// offerBLE, in the configured mode (LE role 01 for mdoc central client mode,
// as Apple and Annex D; 00 for peripheral server mode). The service UUID
// (ISO/IEC 18013-5 clause 8.3.3.1.1.2): in negotiated central client mode
// the reader's from its Hr (readerUUID), left out of the Hs; otherwise a
// fresh one of the wallet's, in the Hs.
func (s *tap) handoverSelect(offerNFC, offerBLE bool, readerUUID *[16]byte) ([]byte, error) {
	var c nfc.Carriers
	s.ble = false
	if offerBLE {
		oob := &nfc.BLEOOB{HasRole: true, Role: nfc.LERoleCentralOnly}
		mode := s.cfg.bleMode()
		if mode == ble.ModePeripheralServer {
			oob.Role = nfc.LERolePeripheralOnly
		}
		if mode == ble.ModeCentralClient && readerUUID != nil {
			s.bleUUID = *readerUUID
		} else {
			u, err := s.newUUID()
			if err != nil {
				return nil, err
			}
			s.bleUUID = u
			oob.UUIDs = [][16]byte{u}
		}
		s.ble, s.bleMode = true, mode
		c.BLE = oob
	}
	if offerNFC {
		c.NFC = s.nfcCarrier()
	}
	hs, err := nfc.NewHandoverSelect(c, s.de.Raw)
	if err != nil {
		return nil, fmt.Errorf("wallet: building handover select: %w", err)
	}
	b, err := hs.Encode()
	if err != nil {
		return nil, fmt.Errorf("wallet: encoding handover select: %w", err)
	}
	return b, nil
}

// serveSelect puts the Hs into the NDEF file and prepares the session with
// Handover = [Hs, Hr] (ISO/IEC 18013-5 clause 9.1.5.1).
func (s *tap) serveSelect(hs, hr []byte) error {
	h, err := session.NFCHandover(hs, hr)
	if err != nil {
		return fmt.Errorf("wallet: building handover: %w", err)
	}
	dev, err := session.NewDevice(s.priv, s.de.Raw, h)
	if err != nil {
		return fmt.Errorf("wallet: preparing session: %w", err)
	}
	s.dev, s.est = dev, false
	s.report.HandoverSelect, s.report.HandoverRequest = hs, hr
	s.setNDEF(hs)
	if s.ble && s.announce != nil {
		s.announce(s)
	}
	return nil
}

func sw(v uint16) []byte { return nfc.Response{SW: v}.Encode() }

// handle answers one command APDU. A nil response with a nil error means the
// wallet leaves the field.
func (s *tap) handle(ctx context.Context, apdu []byte) ([]byte, error) {
	if s.gone {
		return nil, nil
	}
	if s.setup != nil {
		return sw(nfc.SWUnknown), nil
	}
	cmd, err := nfc.ParseCommand(apdu)
	if err != nil {
		return sw(nfc.SWWrongLength), nil
	}
	if cmd.INS == nfc.InsEnvelope {
		if cmd.CLA != nfc.ClaISO && cmd.CLA != nfc.ClaChained {
			return sw(nfc.SWClassNotSupported), nil
		}
		return s.envelope(ctx, cmd)
	}
	if cmd.CLA != nfc.ClaISO {
		return sw(nfc.SWClassNotSupported), nil
	}
	switch cmd.INS {
	case nfc.InsSelect:
		return s.selectCmd(cmd), nil
	case nfc.InsReadBinary:
		return s.readBinary(cmd), nil
	case nfc.InsUpdateBinary:
		return s.updateBinary(cmd), nil
	case nfc.InsGetResponse:
		return s.getResponse(cmd), nil
	}
	return sw(nfc.SWInsNotSupported), nil
}

// selectCmd is SELECT (ISO/IEC 7816-4 clause 7.1.1): by DF name for the NDEF
// application and the data transfer application, by file identifier for the
// CC and the NDEF file (T4T 2.0 clause 5.4.2, 5.4.3).
func (s *tap) selectCmd(cmd nfc.Command) []byte {
	switch cmd.P1 {
	case 0x04: // by DF name
		if cmd.P2 != 0x00 && cmd.P2 != 0x0C {
			return sw(nfc.SWWrongP1P2)
		}
		switch {
		case bytes.Equal(cmd.Data, nfc.NDEFApplicationAID):
			s.app, s.file = appNDEF, 0
			// A new NDEF detection restarts negotiated handover; the
			// EDeviceKey stays for the whole tap.
			if s.cfg.Handover != HandoverStatic && s.tnep != tnepIdle {
				if err := s.resetTNEP(); err != nil {
					s.report.Err = err
					return sw(nfc.SWUnknown)
				}
			}
			return sw(nfc.SWSuccess)
		case bytes.Equal(cmd.Data, nfc.DataTransferAID):
			s.app, s.file = appData, 0
			s.report.Transport = "nfc"
			s.rx = nfc.EnvelopeReceiver{Max: s.rx.Max}
			s.tx, s.txKind = nfc.ResponseChunker{}, replyNone
			return sw(nfc.SWSuccess)
		}
		s.app, s.file = appNone, 0
		return sw(nfc.SWFileNotFound)
	case 0x00: // by file identifier
		if cmd.P2 != 0x0C && cmd.P2 != 0x00 {
			return sw(nfc.SWWrongP1P2)
		}
		if len(cmd.Data) != 2 {
			return sw(nfc.SWWrongLength)
		}
		if s.app != appNDEF {
			return sw(nfc.SWFileNotFound)
		}
		switch id := uint16(cmd.Data[0])<<8 | uint16(cmd.Data[1]); id {
		case nfc.CCFileID, s.cc.NDEFFileID:
			s.file = id
			return sw(nfc.SWSuccess)
		}
		return sw(nfc.SWFileNotFound)
	}
	return sw(nfc.SWWrongP1P2)
}

// readBinary is READ BINARY (T4T 2.0 clause 5.4.4): offset in P1-P2 (bit 8
// of P1 clear), at most MLe bytes.
func (s *tap) readBinary(cmd nfc.Command) []byte {
	if s.app != appNDEF || s.file == 0 {
		return sw(nfc.SWCommandNotAllowed)
	}
	if cmd.P1&0x80 != 0 {
		return sw(nfc.SWWrongOffset)
	}
	if cmd.Ne == 0 || cmd.Ne > int(s.cc.MLe) {
		return sw(nfc.SWWrongLength)
	}
	off := int(cmd.P1)<<8 | int(cmd.P2)
	var f []byte
	if s.file == nfc.CCFileID {
		f = s.cc.Encode()
	} else {
		f = s.ndef
		if off == 0 && s.notReady > 0 {
			// Apple Wallet: NLEN stays 0 until the Hs is ready.
			s.notReady--
			s.report.NotReadyReads++
			return nfc.Response{Data: []byte{0, 0}[:min(2, cmd.Ne)], SW: nfc.SWSuccess}.Encode()
		}
	}
	if off > len(f) {
		return sw(nfc.SWWrongOffset)
	}
	end := min(off+cmd.Ne, len(f))
	return nfc.Response{Data: f[off:end], SW: nfc.SWSuccess}.Encode()
}

// updateBinary is UPDATE BINARY (T4T 2.0 clause 5.4.5; write procedure
// clause 7.5.5): NLEN 0000, the message at offset 2, then NLEN; or NLEN and
// the message in one command. The written message is acted on when NLEN
// becomes non-zero.
func (s *tap) updateBinary(cmd nfc.Command) []byte {
	if s.app != appNDEF || s.file == 0 {
		return sw(nfc.SWCommandNotAllowed)
	}
	if s.file != s.cc.NDEFFileID || s.cc.WriteAccess != 0x00 {
		return sw(nfc.SWSecurityStatus)
	}
	if cmd.P1&0x80 != 0 {
		return sw(nfc.SWWrongOffset)
	}
	if len(cmd.Data) == 0 || len(cmd.Data) > int(s.cc.MLc) {
		return sw(nfc.SWWrongLength)
	}
	off := int(cmd.P1)<<8 | int(cmd.P2)
	end := off + len(cmd.Data)
	if end > int(s.cc.MaxNDEFSize) {
		return sw(nfc.SWWrongOffset)
	}
	if end > len(s.ndef) {
		s.ndef = append(s.ndef, make([]byte, end-len(s.ndef))...)
	}
	copy(s.ndef[off:], cmd.Data)
	s.notReady = 0
	if off >= 2 || len(s.ndef) < 2 {
		return sw(nfc.SWSuccess)
	}
	nlen := int(s.ndef[0])<<8 | int(s.ndef[1])
	if nlen == 0 {
		return sw(nfc.SWSuccess) // write in progress
	}
	if 2+nlen > len(s.ndef) {
		s.ndef = s.ndef[:2]
		s.ndef[0], s.ndef[1] = 0, 0
		return sw(nfc.SWWrongLength)
	}
	s.onWrite(bytes.Clone(s.ndef[2 : 2+nlen]))
	return sw(nfc.SWSuccess)
}

// onWrite runs the TNEP service on a message the reader wrote: a Service
// Select gets a status, a Handover Request gets the Handover Select (TNEP
// 1.0 clause 5; ISO/IEC 18013-5 clause 8.2.2.1).
func (s *tap) onWrite(msg []byte) {
	m, err := nfc.ParseMessage(msg)
	if err != nil {
		s.report.Err = fmt.Errorf("wallet: reading written ndef message: %w", err)
		s.setNDEF(statusMessage(tnepProtocolError))
		return
	}
	switch {
	case m[0].Is(nfc.TNFWellKnown, nfc.TypeServiceSelect):
		uri, err := nfc.ParseServiceSelect(m[0].Payload)
		if err != nil || uri != nfc.HandoverServiceURI {
			s.report.Err = fmt.Errorf("wallet: service select %q: %w", uri, err)
			s.tnep = tnepIdle
			s.setNDEF(statusMessage(tnepProtocolError))
			return
		}
		s.tnep = tnepSelected
		s.setNDEF(statusMessage(tnepSuccess))
	case m[0].Is(nfc.TNFWellKnown, nfc.TypeHandoverRequest) && s.tnep != tnepIdle:
		hr, err := nfc.ParseHandoverRequest(msg)
		if err != nil {
			s.report.Err = fmt.Errorf("wallet: reading handover request: %w", err)
			s.setNDEF(statusMessage(tnepProtocolError))
			return
		}
		cs, err := hr.CarrierSet()
		if err != nil {
			s.report.Err = fmt.Errorf("wallet: reading handover request: %w", err)
			s.setNDEF(statusMessage(tnepProtocolError))
			return
		}
		offerBLE, readerUUID := s.bleAnswer(cs.BLE)
		offerNFC := cs.NFC != nil && !(offerBLE && s.cfg.BLEOnly)
		if !offerNFC && !offerBLE {
			s.report.Err = errors.New("wallet: handover request offers no carrier the wallet supports")
			s.setNDEF(statusMessage(tnepProtocolError))
			return
		}
		hs, err := s.handoverSelect(offerNFC, offerBLE, readerUUID)
		if err == nil {
			err = s.serveSelect(hs, msg)
		}
		if err != nil {
			s.report.Err = err
			s.setNDEF(statusMessage(tnepProtocolError))
			return
		}
		s.tnep = tnepDone
		if s.cfg.Handover == HandoverApple {
			s.notReady = s.cfg.NotReadyReads
		}
	default:
		s.report.Err = fmt.Errorf("wallet: unexpected ndef message (%s) in tnep state %d", m[0].Type, s.tnep)
		s.setNDEF(statusMessage(tnepProtocolError))
	}
}

// statusMessage returns the one-record TNEP status message (TNEP 1.0 clause
// 4.3) as nfc.Message{nfc.StatusRecord(st)}.Encode() writes it:
//
//	D1     MB | ME | SR, TNF 1 (well-known)
//	02 01  type length 2, payload length 1
//	54 65  "Te"
//	st     status
func statusMessage(st byte) []byte {
	return []byte{0xD1, 0x02, 0x01, 'T', 'e', st}
}
