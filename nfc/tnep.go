package nfc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"time"
)

// Well-known record types of NFC Forum TNEP 1.0 (clause 4) and the service
// name of 18013-5 negotiated handover.
const (
	TypeServiceParameter = "Tp"
	TypeServiceSelect    = "Ts"
	TypeTNEPStatus       = "Te"
	// HandoverServiceURI is the TNEP service name of Connection Handover
	// (ISO/IEC 18013-5 clause 8.2.2.1; NFC Forum TNEP).
	HandoverServiceURI = "urn:nfc:sn:handover"
	// TNEPVersion is TNEP 1.0.
	TNEPVersion byte = 0x10
	// TNEPSingleResponse is communication mode 0x00, single response.
	TNEPSingleResponse byte = 0x00
	// TNEPStatusSuccess is the Te status for success.
	TNEPStatusSuccess byte = 0x00
)

// ErrMalformedTNEP is wrapped by TNEP record parsing errors.
var ErrMalformedTNEP = errors.New("nfc: malformed tnep record")

// ErrNotReady is returned (wrapped) when a TNEP tag still reads NLEN 0 after
// N_wait waiting time extensions.
var ErrNotReady = errors.New("nfc: tag not ready: NLEN still 0 after N_wait waits")

// ServiceParameter is the payload of a TNEP Service Parameter record
// (TNEP 1.0 clause 4.1.2).
type ServiceParameter struct {
	Version        byte
	ServiceNameURI string
	Mode           byte
	// WTInt encodes the minimum waiting time T_wait = 2^(WT_INT/4 − 1) ms.
	WTInt byte
	// NWait is the largest number of waiting time extensions (0–15).
	NWait byte
	// MaxNDEFSize is the largest NDEF message the service accepts.
	MaxNDEFSize uint16
}

// ParseServiceParameter decodes a Tp payload.
func ParseServiceParameter(p []byte) (ServiceParameter, error) {
	c := cursor(p)
	var sp ServiceParameter
	var uri []byte
	if !c.u8(&sp.Version) || !c.lenPrefixed(&uri) || !c.u8(&sp.Mode) || !c.u8(&sp.WTInt) || !c.u8(&sp.NWait) || !c.u16(&sp.MaxNDEFSize) {
		return ServiceParameter{}, fmt.Errorf("%w: truncated service parameter", ErrMalformedTNEP)
	}
	if len(c) != 0 {
		return ServiceParameter{}, fmt.Errorf("%w: %d bytes after service parameter", ErrMalformedTNEP, len(c))
	}
	if sp.Version>>4 != TNEPVersion>>4 {
		return ServiceParameter{}, fmt.Errorf("%w: TNEP version %#02x", ErrMalformedTNEP, sp.Version)
	}
	if sp.WTInt > 63 || sp.NWait > 15 {
		return ServiceParameter{}, fmt.Errorf("%w: WT_INT %d, N_wait %d", ErrMalformedTNEP, sp.WTInt, sp.NWait)
	}
	sp.ServiceNameURI = string(uri)
	return sp, nil
}

// WaitTime returns T_wait = 2^(WT_INT/4 − 1) ms (TNEP 1.0 clause 4.1.6).
func (sp ServiceParameter) WaitTime() time.Duration {
	return time.Duration(math.Pow(2, float64(sp.WTInt)/4-1) * float64(time.Millisecond))
}

// Record returns the Tp record.
func (sp ServiceParameter) Record() (Record, error) {
	if len(sp.ServiceNameURI) > 255 {
		return Record{}, fmt.Errorf("%w: service name of %d bytes", ErrMalformedTNEP, len(sp.ServiceNameURI))
	}
	p := []byte{sp.Version, byte(len(sp.ServiceNameURI))}
	p = append(p, sp.ServiceNameURI...)
	p = append(p, sp.Mode, sp.WTInt, sp.NWait, byte(sp.MaxNDEFSize>>8), byte(sp.MaxNDEFSize))
	return Record{TNF: TNFWellKnown, Type: []byte(TypeServiceParameter), Payload: p}, nil
}

// ServiceSelectRecord returns the Ts record selecting the service uri (TNEP
// 1.0 clause 4.2).
func ServiceSelectRecord(uri string) (Record, error) {
	if len(uri) > 255 {
		return Record{}, fmt.Errorf("%w: service name of %d bytes", ErrMalformedTNEP, len(uri))
	}
	p := append([]byte{byte(len(uri))}, uri...)
	return Record{TNF: TNFWellKnown, Type: []byte(TypeServiceSelect), Payload: p}, nil
}

// ParseServiceSelect decodes a Ts payload and returns the service name.
func ParseServiceSelect(p []byte) (string, error) {
	c := cursor(p)
	var uri []byte
	if !c.lenPrefixed(&uri) || len(c) != 0 {
		return "", fmt.Errorf("%w: bad service select", ErrMalformedTNEP)
	}
	return string(uri), nil
}

// StatusRecord returns the Te record with the given status (TNEP 1.0 clause
// 4.3).
func StatusRecord(status byte) Record {
	return Record{TNF: TNFWellKnown, Type: []byte(TypeTNEPStatus), Payload: []byte{status}}
}

// ParseStatus decodes a Te payload.
func ParseStatus(p []byte) (byte, error) {
	if len(p) != 1 {
		return 0, fmt.Errorf("%w: status of %d bytes", ErrMalformedTNEP, len(p))
	}
	return p[0], nil
}

// SleepFunc waits for d or until ctx is done, returning ctx.Err() then.
type SleepFunc func(ctx context.Context, d time.Duration) error

// spinBelow is the wait below which Sleep yields in a loop instead of
// arming a timer: a Go timer of half a millisecond fires a millisecond or
// more late, and TNEP's T_wait (0.5 ms for WT_INT 0) is a minimum the
// reader need not exceed (TNEP 1.0 clause 4.1.6).
const spinBelow = 2 * time.Millisecond

// Sleep is the default SleepFunc: a timer that ctx cancels, or for waits
// under 2 ms a yielding loop that ends at the deadline (or when ctx ends).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	if d < spinBelow {
		deadline := time.Now().Add(d)
		for time.Now().Before(deadline) {
			if err := ctx.Err(); err != nil {
				return err
			}
			runtime.Gosched()
		}
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// HandoverResult is the outcome of an NFC engagement.
type HandoverResult struct {
	// Negotiated is true for TNEP negotiated handover.
	Negotiated bool
	// Select is the Handover Select message exactly as read from the tag.
	Select []byte
	// Request is the Handover Request message exactly as written, nil for
	// static handover. Handover = [Select, Request] (or [Select, null]) in
	// the SessionTranscript (ISO/IEC 18013-5 clause 9.1.5.1).
	Request []byte
	// HandoverSelect is Select parsed.
	HandoverSelect HandoverSelect
	// Carriers are the carriers the mdoc selected. In negotiated handover,
	// when the mdoc's BLE record has no UUID (mdoc central client mode) and
	// the Request offered one, the Request's UUIDs are filled in
	// (ISO/IEC 18013-5 clause 8.3.3.1.1.2) and BLEUUIDFromRequest is set.
	Carriers           CarrierSet
	BLEUUIDFromRequest bool
	// DeviceEngagement is the DeviceEngagement payload exactly as received.
	DeviceEngagement []byte
	// CC is the tag's capability container.
	CC CapabilityContainer
	// Service is the TNEP service parameter (negotiated handover only).
	Service ServiceParameter
}

// HandoverReader runs the reader side of 18013-5 NFC engagement (ISO/IEC
// 18013-5 clause 8.2.2.1) over a Type 4 Tag: static handover when the NDEF
// file holds a Handover Select, TNEP negotiated handover when it holds a
// Service Parameter record for urn:nfc:sn:handover.
type HandoverReader struct {
	// Limits are the reader hardware limits.
	Limits Limits
	// Request is the encoded Handover Request to send in negotiated
	// handover (see NewHandoverRequest); a tag asking for negotiated
	// handover is an error when it is nil.
	Request []byte
	// Sleep waits T_wait; nil means [Sleep]. Tests inject an instant one.
	Sleep SleepFunc
}

// handoverState is one engagement in progress.
type handoverState struct {
	r   *HandoverReader
	tag *Tag
	res *HandoverResult
}

// Read runs the engagement with the tag behind t.
func (r *HandoverReader) Read(ctx context.Context, t Transceiver) (*HandoverResult, error) {
	s := &handoverState{r: r, tag: NewTag(t, r.Limits), res: &HandoverResult{}}
	if err := s.tag.Select(ctx); err != nil {
		return nil, err // Select names its step; the caller says "reading handover"
	}
	s.res.CC = s.tag.CC()
	initial, err := s.tag.ReadNDEF(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading initial ndef message: %w", err)
	}
	if len(initial) == 0 {
		return nil, fmt.Errorf("reading initial ndef message: %w: empty", ErrMalformedNDEF)
	}
	msg, err := ParseMessage(initial)
	if err != nil {
		return nil, fmt.Errorf("reading initial ndef message: %w", err)
	}
	if msg[0].Is(TNFWellKnown, TypeHandoverSelect) {
		return s.finish(initial)
	}
	sp, ok, err := findHandoverService(msg)
	if err != nil {
		return nil, fmt.Errorf("reading service parameter: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("reading initial ndef message: %w: neither Hs nor a handover service parameter", ErrMalformedHandover)
	}
	return s.negotiate(ctx, sp)
}

func findHandoverService(msg Message) (ServiceParameter, bool, error) {
	for _, rec := range msg {
		if !rec.Is(TNFWellKnown, TypeServiceParameter) {
			continue
		}
		sp, err := ParseServiceParameter(rec.Payload)
		if err != nil {
			return ServiceParameter{}, false, err
		}
		if sp.ServiceNameURI == HandoverServiceURI {
			return sp, true, nil
		}
	}
	return ServiceParameter{}, false, nil
}

// negotiate runs TNEP single-response negotiated handover: Service Select,
// status, Handover Request, Handover Select.
func (s *handoverState) negotiate(ctx context.Context, sp ServiceParameter) (*HandoverResult, error) {
	s.res.Negotiated, s.res.Service = true, sp
	if s.r.Request == nil {
		return nil, fmt.Errorf("negotiating handover: %w: no handover request configured", ErrMalformedHandover)
	}
	if sp.Mode != TNEPSingleResponse {
		return nil, fmt.Errorf("negotiating handover: %w: communication mode %#02x", ErrMalformedTNEP, sp.Mode)
	}
	if len(s.r.Request) > int(sp.MaxNDEFSize) {
		return nil, fmt.Errorf("negotiating handover: %w: request of %d bytes exceeds the service maximum %d", ErrWrongLength, len(s.r.Request), sp.MaxNDEFSize)
	}

	// Step 1: select the handover service and read its status.
	ts, err := ServiceSelectRecord(HandoverServiceURI)
	if err != nil {
		return nil, err
	}
	tsMsg, err := Message{ts}.Encode()
	if err != nil {
		return nil, err
	}
	if err := s.tag.WriteNDEF(ctx, tsMsg); err != nil {
		return nil, fmt.Errorf("writing service select: %w", err)
	}
	status, err := s.poll(ctx, sp)
	if err != nil {
		return nil, fmt.Errorf("reading tnep status: %w", err)
	}
	if err := checkTNEPStatus(status); err != nil {
		return nil, fmt.Errorf("reading tnep status: %w", err)
	}

	// Step 2: send the Handover Request and read back the Handover Select.
	if err := s.tag.WriteNDEF(ctx, s.r.Request); err != nil {
		return nil, fmt.Errorf("writing handover request: %w", err)
	}
	s.res.Request = s.r.Request
	hs, err := s.poll(ctx, sp)
	if err != nil {
		return nil, fmt.Errorf("reading handover select: %w", err)
	}
	return s.finish(hs)
}

func checkTNEPStatus(b []byte) error {
	msg, err := ParseMessage(b)
	if err != nil {
		return err
	}
	te, ok := msg.Find(TNFWellKnown, TypeTNEPStatus)
	if !ok {
		return fmt.Errorf("%w: no Te record", ErrMalformedTNEP)
	}
	st, err := ParseStatus(te.Payload)
	if err != nil {
		return err
	}
	if st != TNEPStatusSuccess {
		return fmt.Errorf("nfc: tnep status %#02x", st)
	}
	return nil
}

// poll waits T_wait and reads the NDEF file; while NLEN reads 0 it waits
// T_wait and re-reads, at most N_wait times (TNEP 1.0 clause 5; Apple Wallet
// answers NLEN 0 until its Handover Select is ready).
func (s *handoverState) poll(ctx context.Context, sp ServiceParameter) ([]byte, error) {
	sleep := s.r.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	d := sp.WaitTime()
	for i := 0; ; i++ {
		if err := sleep(ctx, d); err != nil {
			return nil, err
		}
		b, err := s.tag.ReadNDEF(ctx)
		if err != nil {
			return nil, err
		}
		if len(b) > 0 {
			return b, nil
		}
		if i >= int(sp.NWait) {
			return nil, fmt.Errorf("%w (%d waits of %v)", ErrNotReady, sp.NWait, d)
		}
	}
}

// finish parses the Handover Select and resolves the carriers.
func (s *handoverState) finish(hsBytes []byte) (*HandoverResult, error) {
	hs, err := ParseHandoverSelect(hsBytes)
	if err != nil {
		return nil, fmt.Errorf("reading handover select: %w", err)
	}
	cs, err := hs.CarrierSet()
	if err != nil {
		return nil, fmt.Errorf("reading handover select: %w", err)
	}
	if cs.DeviceEngagement == nil {
		return nil, fmt.Errorf("reading handover select: %w: no device engagement record", ErrMalformedHandover)
	}
	if s.res.Negotiated && cs.BLE != nil && len(cs.BLE.UUIDs) == 0 {
		if hr, err := ParseHandoverRequest(s.res.Request); err == nil {
			if rcs, err := hr.CarrierSet(); err == nil && rcs.BLE != nil && len(rcs.BLE.UUIDs) > 0 {
				ble := *cs.BLE
				ble.UUIDs = rcs.BLE.UUIDs
				cs.BLE = &ble
				s.res.BLEUUIDFromRequest = true
			}
		}
	}
	s.res.Select = hsBytes
	s.res.HandoverSelect = hs
	s.res.Carriers = cs
	s.res.DeviceEngagement = cs.DeviceEngagement
	return s.res, nil
}
