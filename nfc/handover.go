package nfc

import (
	"errors"
	"fmt"
	"io"
)

// ErrMalformedHandover is wrapped by every Handover Request / Select error.
var ErrMalformedHandover = errors.New("nfc: malformed handover message")

// Well-known record types of NFC Forum Connection Handover 1.5 (clause 6)
// and the version this package writes.
const (
	TypeHandoverSelect      = "Hs"
	TypeHandoverRequest     = "Hr"
	TypeAlternativeCarrier  = "ac"
	TypeCollisionResolution = "cr"
	// HandoverVersion is Connection Handover 1.5 (major 1, minor 5).
	HandoverVersion byte = 0x15
)

// CPS is the Carrier Power State of an alternative carrier (Connection
// Handover 1.5 clause 6.2.1).
type CPS byte

// Carrier power states.
const (
	CPSInactive   CPS = 0x00
	CPSActive     CPS = 0x01
	CPSActivating CPS = 0x02
	CPSUnknown    CPS = 0x03
)

// AlternativeCarrier is the payload of an "ac" record (Connection Handover
// 1.5 clause 6.2): CPS, a carrier data reference (the ID of the carrier
// configuration record) and auxiliary data references (IDs of records such
// as the DeviceEngagement, "mdoc").
type AlternativeCarrier struct {
	CPS               CPS
	CarrierDataRef    []byte
	AuxiliaryDataRefs [][]byte
}

func parseAlternativeCarrier(p []byte) (AlternativeCarrier, error) {
	c := cursor(p)
	var ac AlternativeCarrier
	var cps, n byte
	if !c.u8(&cps) || !c.lenPrefixed(&ac.CarrierDataRef) || !c.u8(&n) {
		return AlternativeCarrier{}, fmt.Errorf("%w: truncated ac record", ErrMalformedHandover)
	}
	ac.CPS = CPS(cps & 0x03) // the upper six bits are reserved
	if len(ac.CarrierDataRef) == 0 {
		return AlternativeCarrier{}, fmt.Errorf("%w: ac record with an empty carrier data reference", ErrMalformedHandover)
	}
	for i := 0; i < int(n); i++ {
		var ref []byte
		if !c.lenPrefixed(&ref) {
			return AlternativeCarrier{}, fmt.Errorf("%w: truncated ac auxiliary reference", ErrMalformedHandover)
		}
		ac.AuxiliaryDataRefs = append(ac.AuxiliaryDataRefs, ref)
	}
	if len(c) != 0 {
		return AlternativeCarrier{}, fmt.Errorf("%w: %d bytes after ac record", ErrMalformedHandover, len(c))
	}
	return ac, nil
}

// Record returns the "ac" record.
func (ac AlternativeCarrier) Record() (Record, error) {
	if len(ac.CarrierDataRef) == 0 || len(ac.CarrierDataRef) > 255 || len(ac.AuxiliaryDataRefs) > 255 {
		return Record{}, fmt.Errorf("%w: bad ac references", ErrMalformedHandover)
	}
	p := []byte{byte(ac.CPS), byte(len(ac.CarrierDataRef))}
	p = append(p, ac.CarrierDataRef...)
	p = append(p, byte(len(ac.AuxiliaryDataRefs)))
	for _, r := range ac.AuxiliaryDataRefs {
		if len(r) > 255 {
			return Record{}, fmt.Errorf("%w: auxiliary reference of %d bytes", ErrMalformedHandover, len(r))
		}
		p = append(p, byte(len(r)))
		p = append(p, r...)
	}
	return Record{TNF: TNFWellKnown, Type: []byte(TypeAlternativeCarrier), Payload: p}, nil
}

// HandoverSelect is a Handover Select message (Connection Handover 1.5
// clause 6.1.2): the Hs record, whose payload is the version and an embedded
// message of "ac" records, followed by the carrier configuration and
// auxiliary records (ISO/IEC 18013-5 clause 8.2.2.1).
type HandoverSelect struct {
	Version  byte
	Carriers []AlternativeCarrier
	// Records are the records after the Hs record, in order.
	Records Message
}

// HandoverRequest is a Handover Request message (Connection Handover 1.5
// clause 6.1.1): the Hr record (version, "cr" collision resolution record,
// "ac" records) followed by carrier configuration and auxiliary records.
type HandoverRequest struct {
	Version             byte
	CollisionResolution uint16
	Carriers            []AlternativeCarrier
	Records             Message
}

// parseHandoverRecord splits an Hs or Hr message into the version, the
// embedded records and the records after it.
func parseHandoverRecord(b []byte, typ string) (byte, Message, Message, error) {
	msg, err := ParseMessage(b)
	if err != nil {
		return 0, nil, nil, err
	}
	if !msg[0].Is(TNFWellKnown, typ) {
		return 0, nil, nil, fmt.Errorf("%w: first record is not %s", ErrMalformedHandover, typ)
	}
	p := msg[0].Payload
	if len(p) == 0 {
		return 0, nil, nil, fmt.Errorf("%w: empty %s payload", ErrMalformedHandover, typ)
	}
	if p[0]>>4 != 1 {
		return 0, nil, nil, fmt.Errorf("%w: %s major version %d", ErrMalformedHandover, typ, p[0]>>4)
	}
	var inner Message
	if len(p) > 1 {
		if inner, err = ParseMessage(p[1:]); err != nil {
			return 0, nil, nil, fmt.Errorf("parsing embedded %s message: %w", typ, err)
		}
	}
	return p[0], inner, msg[1:], nil
}

func collectCarriers(inner Message) ([]AlternativeCarrier, error) {
	var acs []AlternativeCarrier
	for _, r := range inner {
		if !r.Is(TNFWellKnown, TypeAlternativeCarrier) {
			continue // "err" and unknown local records are ignored
		}
		ac, err := parseAlternativeCarrier(r.Payload)
		if err != nil {
			return nil, err
		}
		acs = append(acs, ac)
	}
	return acs, nil
}

// ParseHandoverSelect decodes a Handover Select message. Records other than
// "ac" inside the Hs record are ignored.
func ParseHandoverSelect(b []byte) (HandoverSelect, error) {
	v, inner, rest, err := parseHandoverRecord(b, TypeHandoverSelect)
	if err != nil {
		return HandoverSelect{}, err
	}
	acs, err := collectCarriers(inner)
	if err != nil {
		return HandoverSelect{}, err
	}
	return HandoverSelect{Version: v, Carriers: acs, Records: rest}, nil
}

// ParseHandoverRequest decodes a Handover Request message. The "cr" record
// is required (Connection Handover 1.5 clause 6.1.1).
func ParseHandoverRequest(b []byte) (HandoverRequest, error) {
	v, inner, rest, err := parseHandoverRecord(b, TypeHandoverRequest)
	if err != nil {
		return HandoverRequest{}, err
	}
	cr, ok := inner.Find(TNFWellKnown, TypeCollisionResolution)
	if !ok || len(cr.Payload) != 2 {
		return HandoverRequest{}, fmt.Errorf("%w: missing or bad cr record", ErrMalformedHandover)
	}
	acs, err := collectCarriers(inner)
	if err != nil {
		return HandoverRequest{}, err
	}
	return HandoverRequest{
		Version:             v,
		CollisionResolution: uint16(cr.Payload[0])<<8 | uint16(cr.Payload[1]),
		Carriers:            acs,
		Records:             rest,
	}, nil
}

func encodeHandover(typ string, version byte, pre []Record, acs []AlternativeCarrier, rest Message) ([]byte, error) {
	inner := append(Message(nil), pre...)
	for _, ac := range acs {
		r, err := ac.Record()
		if err != nil {
			return nil, err
		}
		inner = append(inner, r)
	}
	payload := []byte{version}
	if len(inner) > 0 {
		b, err := inner.Encode()
		if err != nil {
			return nil, err
		}
		payload = append(payload, b...)
	}
	msg := append(Message{{TNF: TNFWellKnown, Type: []byte(typ), Payload: payload}}, rest...)
	return msg.Encode()
}

// Encode returns the Handover Select message bytes.
func (h HandoverSelect) Encode() ([]byte, error) {
	return encodeHandover(TypeHandoverSelect, h.Version, nil, h.Carriers, h.Records)
}

// Encode returns the Handover Request message bytes.
func (h HandoverRequest) Encode() ([]byte, error) {
	cr := Record{TNF: TNFWellKnown, Type: []byte(TypeCollisionResolution),
		Payload: []byte{byte(h.CollisionResolution >> 8), byte(h.CollisionResolution)}}
	return encodeHandover(TypeHandoverRequest, h.Version, []Record{cr}, h.Carriers, h.Records)
}

// CarrierSet is what a handover message offers, resolved by record type and
// ID rather than by position (records arrive in any order).
type CarrierSet struct {
	// BLE, NFC and WiFiAware are the parsed carrier records that an
	// alternative carrier references; nil when not offered.
	BLE       *BLEOOB
	NFC       *NFCCarrier
	WiFiAware *WiFiAware
	// BLEPower, NFCPower and WiFiAwarePower are the CPS of each carrier.
	BLEPower, NFCPower, WiFiAwarePower CPS
	// DeviceEngagement is the iso.org:18013:deviceengagement payload exactly
	// as received, nil if absent.
	DeviceEngagement []byte
	// ReaderEngagement is the iso.org:18013:readerengagement payload, nil if
	// absent.
	ReaderEngagement []byte
}

func resolveCarriers(acs []AlternativeCarrier, recs Message) (CarrierSet, error) {
	var cs CarrierSet
	for _, ac := range acs {
		r, ok := recs.FindID(ac.CarrierDataRef)
		if !ok {
			return CarrierSet{}, fmt.Errorf("%w: carrier data reference %q has no record", ErrMalformedHandover, ac.CarrierDataRef)
		}
		for _, aux := range ac.AuxiliaryDataRefs {
			if _, ok := recs.FindID(aux); !ok {
				return CarrierSet{}, fmt.Errorf("%w: auxiliary data reference %q has no record", ErrMalformedHandover, aux)
			}
		}
		switch {
		case r.Is(TNFMedia, TypeBLEOOB):
			o, err := ParseBLEOOB(r.Payload)
			if err != nil {
				return CarrierSet{}, err
			}
			cs.BLE, cs.BLEPower = &o, ac.CPS
		case r.Is(TNFExternal, TypeNFC):
			n, err := ParseNFCCarrier(r.Payload)
			if err != nil {
				return CarrierSet{}, err
			}
			cs.NFC, cs.NFCPower = &n, ac.CPS
		case r.Is(TNFMedia, TypeWiFiAware):
			w, err := ParseWiFiAware(r.Payload)
			if err != nil {
				return CarrierSet{}, err
			}
			cs.WiFiAware, cs.WiFiAwarePower = &w, ac.CPS
		}
	}
	if r, ok := recs.Find(TNFExternal, TypeDeviceEngagement); ok {
		cs.DeviceEngagement = r.Payload
	}
	if r, ok := recs.Find(TNFExternal, TypeReaderEngagement); ok {
		cs.ReaderEngagement = r.Payload
	}
	return cs, nil
}

// CarrierSet resolves the selected carriers and the DeviceEngagement record.
// Every carrier data and auxiliary reference must name a record.
func (h HandoverSelect) CarrierSet() (CarrierSet, error) {
	return resolveCarriers(h.Carriers, h.Records)
}

// CarrierSet resolves the offered carriers and a ReaderEngagement record.
func (h HandoverRequest) CarrierSet() (CarrierSet, error) {
	return resolveCarriers(h.Carriers, h.Records)
}

// Carriers lists the carrier records to offer or select, each with an
// active alternative carrier, in the order BLE, NFC, Wi-Fi Aware (the Annex D
// order).
type Carriers struct {
	BLE       *BLEOOB
	NFC       *NFCCarrier
	WiFiAware *WiFiAware
}

func (c Carriers) records(aux [][]byte) ([]AlternativeCarrier, Message, error) {
	var acs []AlternativeCarrier
	var recs Message
	add := func(r Record, err error) error {
		if err != nil {
			return err
		}
		acs = append(acs, AlternativeCarrier{CPS: CPSActive, CarrierDataRef: r.ID, AuxiliaryDataRefs: aux})
		recs = append(recs, r)
		return nil
	}
	if c.BLE != nil {
		if err := add(c.BLE.Record()); err != nil {
			return nil, nil, err
		}
	}
	if c.NFC != nil {
		if err := add(c.NFC.Record()); err != nil {
			return nil, nil, err
		}
	}
	if c.WiFiAware != nil {
		if err := add(c.WiFiAware.Record()); err != nil {
			return nil, nil, err
		}
	}
	if len(acs) == 0 {
		return nil, nil, fmt.Errorf("%w: no carrier", ErrMalformedHandover)
	}
	return acs, recs, nil
}

// NewHandoverRequest builds the reader's Handover Request (ISO/IEC 18013-5
// clause 8.2.2.1, Connection Handover 1.5): a "cr" record with a 2-byte
// random number read from rnd, an active "ac" for each offered carrier and
// the carrier records; with a non-nil readerEngagement, a ReaderEngagement
// record is appended and referenced from each ac. For a reader offering BLE
// in mdoc central client mode, c.BLE usually holds LE role 0x02 and the
// reader's service UUID.
func NewHandoverRequest(rnd io.Reader, c Carriers, readerEngagement []byte) (HandoverRequest, error) {
	var r [2]byte
	if _, err := io.ReadFull(rnd, r[:]); err != nil {
		return HandoverRequest{}, fmt.Errorf("reading collision resolution random: %w", err)
	}
	var aux [][]byte
	if readerEngagement != nil {
		aux = [][]byte{[]byte(IDReaderEngagement)}
	}
	acs, recs, err := c.records(aux)
	if err != nil {
		return HandoverRequest{}, err
	}
	if readerEngagement != nil {
		recs = append(recs, ReaderEngagementRecord(readerEngagement))
	}
	return HandoverRequest{
		Version:             HandoverVersion,
		CollisionResolution: uint16(r[0])<<8 | uint16(r[1]),
		Carriers:            acs,
		Records:             recs,
	}, nil
}

// NewHandoverSelect builds a wallet's Handover Select (ISO/IEC 18013-5
// clause 8.2.2.1): an active "ac" for each carrier, each listing "mdoc" as an
// auxiliary reference, then the carrier records and the DeviceEngagement
// record (the Annex D and Apple order). The same structure serves static
// handover (stored in the NDEF file) and negotiated handover (the answer to a
// Handover Request); in negotiated mdoc central client mode, leave the UUID
// out of c.BLE.
func NewHandoverSelect(c Carriers, deviceEngagement []byte) (HandoverSelect, error) {
	if len(deviceEngagement) == 0 {
		return HandoverSelect{}, fmt.Errorf("%w: no device engagement", ErrMalformedHandover)
	}
	acs, recs, err := c.records([][]byte{[]byte(IDDeviceEngagement)})
	if err != nil {
		return HandoverSelect{}, err
	}
	recs = append(recs, DeviceEngagementRecord(deviceEngagement))
	return HandoverSelect{Version: HandoverVersion, Carriers: acs, Records: recs}, nil
}
