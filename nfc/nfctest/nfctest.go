// Package nfctest provides in-memory fakes for testing code built on package
// nfc: a Type 4 Tag that serves an NDEF file (and can run a TNEP service), and
// an mdoc NFC data transfer responder. Both implement nfc.Transceiver and
// record the APDUs they see.
package nfctest

import (
	"bytes"
	"context"
	"sync"

	"github.com/idreader/idreader/nfc"
)

// Exchange is one command APDU and the response APDU the fake returned.
type Exchange struct {
	Command, Response []byte
}

// Tag is a fake NFC Forum Type 4 Tag (T4T 2.0). It answers SELECT of the
// NDEF application and files, READ BINARY and UPDATE BINARY, enforces MLe and
// MLc from its CC, and can refuse extended APDUs. When the reader completes
// an NDEF write (NLEN set non-zero), OnWrite, if set, gives the next content
// of the NDEF file and for how many NLEN reads the tag answers 0 first
// ("not ready yet", as Apple Wallet does).
type Tag struct {
	mu sync.Mutex
	// CC is the capability container served from E103.
	CC nfc.CapabilityContainer
	// NDEF is the current NDEF message (without NLEN).
	NDEF []byte
	// ShortOnly makes the tag answer 6700 to extended APDUs.
	ShortOnly bool
	// OnWrite receives each NDEF message the reader writes.
	OnWrite func(msg []byte) (next []byte, notReadyReads int)
	// Log holds every exchange.
	Log []Exchange

	app      bool
	file     uint16
	written  []byte // NDEF file as being written (NLEN + message)
	notReady int
}

// NewTag returns a tag with the given CC and initial NDEF message.
func NewTag(cc nfc.CapabilityContainer, ndef []byte) *Tag {
	return &Tag{CC: cc, NDEF: ndef}
}

// Transmit implements nfc.Transceiver.
func (t *Tag) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	resp := t.handle(apdu).Encode()
	t.Log = append(t.Log, Exchange{Command: bytes.Clone(apdu), Response: bytes.Clone(resp)})
	return resp, nil
}

func sw(s uint16) nfc.Response { return nfc.Response{SW: s} }

func (t *Tag) handle(apdu []byte) nfc.Response {
	cmd, err := nfc.ParseCommand(apdu)
	if err != nil {
		return sw(nfc.SWWrongLength)
	}
	if t.ShortOnly && cmd.Extended {
		return sw(nfc.SWWrongLength)
	}
	if cmd.CLA != 0x00 {
		return sw(nfc.SWClassNotSupported)
	}
	switch cmd.INS {
	case nfc.InsSelect:
		return t.selectCmd(cmd)
	case nfc.InsReadBinary:
		return t.read(cmd)
	case nfc.InsUpdateBinary:
		return t.update(cmd)
	}
	return sw(nfc.SWInsNotSupported)
}

func (t *Tag) selectCmd(cmd nfc.Command) nfc.Response {
	switch {
	case cmd.P1 == 0x04 && cmd.P2 == 0x00:
		t.app = bytes.Equal(cmd.Data, nfc.NDEFApplicationAID)
		t.file = 0
		if !t.app {
			return sw(nfc.SWFileNotFound)
		}
		return sw(nfc.SWSuccess)
	case cmd.P1 == 0x00 && cmd.P2 == 0x0C && len(cmd.Data) == 2 && t.app:
		id := uint16(cmd.Data[0])<<8 | uint16(cmd.Data[1])
		if id != nfc.CCFileID && id != t.CC.NDEFFileID {
			return sw(nfc.SWFileNotFound)
		}
		t.file = id
		return sw(nfc.SWSuccess)
	}
	return sw(nfc.SWFileNotFound)
}

func (t *Tag) content() []byte {
	switch t.file {
	case nfc.CCFileID:
		return t.CC.Encode()
	case t.CC.NDEFFileID:
		if t.written != nil {
			return t.written
		}
		f := []byte{byte(len(t.NDEF) >> 8), byte(len(t.NDEF))}
		return append(f, t.NDEF...)
	}
	return nil
}

func (t *Tag) read(cmd nfc.Command) nfc.Response {
	if t.file == 0 {
		return sw(nfc.SWCommandNotAllowed)
	}
	if cmd.Ne == 0 || cmd.Ne > int(t.CC.MLe) {
		return sw(nfc.SWWrongLength)
	}
	off := int(cmd.P1)<<8 | int(cmd.P2)
	f := t.content()
	if off > len(f) {
		return sw(nfc.SWWrongOffset)
	}
	if t.file == t.CC.NDEFFileID && off == 0 && t.notReady > 0 {
		t.notReady--
		return nfc.Response{Data: []byte{0, 0}[:min(2, cmd.Ne)], SW: nfc.SWSuccess}
	}
	end := min(off+cmd.Ne, len(f))
	return nfc.Response{Data: bytes.Clone(f[off:end]), SW: nfc.SWSuccess}
}

func (t *Tag) update(cmd nfc.Command) nfc.Response {
	if t.file != t.CC.NDEFFileID || t.file == 0 {
		return sw(nfc.SWCommandNotAllowed)
	}
	if t.CC.WriteAccess != 0x00 {
		return sw(nfc.SWSecurityStatus)
	}
	if len(cmd.Data) > int(t.CC.MLc) {
		return sw(nfc.SWWrongLength)
	}
	off := int(cmd.P1)<<8 | int(cmd.P2)
	if off+len(cmd.Data) > int(t.CC.MaxNDEFSize) {
		return sw(nfc.SWWrongOffset)
	}
	if t.written == nil {
		t.written = t.content()
	}
	if need := off + len(cmd.Data); need > len(t.written) {
		t.written = append(t.written, make([]byte, need-len(t.written))...)
	}
	copy(t.written[off:], cmd.Data)
	if off == 0 && len(t.written) >= 2 {
		nlen := int(t.written[0])<<8 | int(t.written[1])
		if nlen > 0 && nlen+2 <= len(t.written) {
			msg := bytes.Clone(t.written[2 : 2+nlen])
			t.written = nil
			t.NDEF = msg
			if t.OnWrite != nil {
				t.NDEF, t.notReady = t.OnWrite(msg)
			}
		}
	}
	return sw(nfc.SWSuccess)
}

// Responder is a fake mdoc for NFC data transfer (ISO/IEC 18013-5 clause
// 8.3.3.1.2): it answers SELECT of the data transfer AID, collects chained
// ENVELOPE blocks, passes the message to Handler and serves the reply in
// Le-sized pieces through 61xx and GET RESPONSE.
type Responder struct {
	mu sync.Mutex
	// Handler computes the reply to one message.
	Handler func(msg []byte) []byte
	// ShortOnly makes the responder answer 6700 to extended APDUs.
	ShortOnly bool
	// KeepLog records every exchange in Log; CommandBytes, ResponseBytes and
	// APDUs are always counted.
	KeepLog                            bool
	Log                                []Exchange
	APDUs, CommandBytes, ResponseBytes int

	selected bool
	rx       nfc.EnvelopeReceiver
	tx       nfc.ResponseChunker
}

// Transmit implements nfc.Transceiver.
func (r *Responder) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	resp := r.handle(apdu).Encode()
	r.APDUs++
	r.CommandBytes += len(apdu)
	r.ResponseBytes += len(resp)
	if r.KeepLog {
		r.Log = append(r.Log, Exchange{Command: bytes.Clone(apdu), Response: bytes.Clone(resp)})
	}
	return resp, nil
}

func (r *Responder) handle(apdu []byte) nfc.Response {
	cmd, err := nfc.ParseCommand(apdu)
	if err != nil || (r.ShortOnly && cmd.Extended) {
		return sw(nfc.SWWrongLength)
	}
	switch {
	case cmd.INS == nfc.InsSelect && cmd.P1 == 0x04:
		r.selected = bytes.Equal(cmd.Data, nfc.DataTransferAID)
		if !r.selected {
			return sw(nfc.SWFileNotFound)
		}
		return sw(nfc.SWSuccess)
	case !r.selected:
		return sw(nfc.SWConditionsNotSatisfied)
	case cmd.INS == nfc.InsEnvelope:
		msg, done, err := r.rx.Add(cmd)
		if err != nil {
			return sw(nfc.SWWrongData)
		}
		if !done {
			return sw(nfc.SWSuccess)
		}
		if err := r.tx.SetMessage(r.Handler(msg)); err != nil {
			return sw(nfc.SWUnknown)
		}
		return r.tx.Next(cmd.Ne)
	case cmd.INS == nfc.InsGetResponse && cmd.CLA == 0x00 && cmd.P1 == 0 && cmd.P2 == 0 && len(cmd.Data) == 0:
		if r.tx.Pending() == 0 {
			return sw(nfc.SWConditionsNotSatisfied)
		}
		return r.tx.Next(cmd.Ne)
	}
	return sw(nfc.SWInsNotSupported)
}
