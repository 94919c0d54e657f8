package nfc

import (
	"errors"
	"fmt"
)

// ErrMalformedCarrier is wrapped by every carrier configuration record error.
var ErrMalformedCarrier = errors.New("nfc: malformed carrier record")

// Record types and IDs of the carrier configuration and engagement records
// (ISO/IEC 18013-5 clause 8.2.2; Bluetooth Secure Simple Pairing Using NFC;
// Wi-Fi Aware specification).
const (
	// TypeBLEOOB is the MIME type (TNF 2) of a Bluetooth LE OOB record.
	TypeBLEOOB = "application/vnd.bluetooth.le.oob"
	// TypeWiFiAware is the MIME type (TNF 2) of a Wi-Fi Aware (NAN) record.
	TypeWiFiAware = "application/vnd.wfa.nan"
	// TypeNFC is the external type (TNF 4) of the 18013-5 NFC carrier record.
	TypeNFC = "iso.org:18013:nfc"
	// TypeDeviceEngagement is the external type (TNF 4) of the record that
	// carries the DeviceEngagement CBOR (ISO/IEC 18013-5 clause 8.2.2.1).
	TypeDeviceEngagement = "iso.org:18013:deviceengagement"
	// TypeReaderEngagement is the external type (TNF 4) of the record that
	// carries a ReaderEngagement in a Handover Request (multipaz only;
	// unconfirmed in ISO/IEC 18013-5).
	TypeReaderEngagement = "iso.org:18013:readerengagement"

	// RefBLE, RefNFC and RefWiFiAware are the carrier data references (record
	// IDs) used by 18013-5 implementations and Annex D.
	RefBLE       = "0"
	RefNFC       = "nfc"
	RefWiFiAware = "W"
	// IDDeviceEngagement is the ID of the DeviceEngagement record, listed as
	// an auxiliary data reference by the mdoc's alternative carriers.
	IDDeviceEngagement = "mdoc"
	// IDReaderEngagement is the ID of the ReaderEngagement record.
	IDReaderEngagement = "mdocreader"
)

// BLE AD types used in the LE OOB record (Bluetooth Core Specification
// Supplement, Part A, clause 1; Assigned Numbers).
const (
	adUUID128Complete byte = 0x07
	adLEAddress       byte = 0x1B
	adLERole          byte = 0x1C
)

// LERole is the value of the LE Role AD structure (CSS Part A 1.17). Coming
// from the mdoc, 0x00 means mdoc peripheral server mode and 0x01 mdoc central
// client mode (ISO/IEC 18013-5 clause 8.2.2.3).
type LERole byte

// LE Role values (Bluetooth CSS Part A 1.17).
const (
	LERolePeripheralOnly      LERole = 0x00
	LERoleCentralOnly         LERole = 0x01
	LERoleBothPeripheralFirst LERole = 0x02
	LERoleBothCentralFirst    LERole = 0x03
)

// ADStructure is one Bluetooth AD structure (length, type, data) kept as is.
type ADStructure struct {
	Type byte
	Data []byte
}

// BLEOOB is the payload of an application/vnd.bluetooth.le.oob record: a
// sequence of AD structures (ISO/IEC 18013-5 clause 8.2.2.3, Bluetooth SSP
// Using NFC clause 4.2). Encode writes the address, role, UUID list and then
// Other, which is the order Annex D uses.
type BLEOOB struct {
	// HasRole reports an LE Role AD structure (0x1C).
	HasRole bool
	Role    LERole
	// UUIDs is the complete list of 128-bit service UUIDs (AD 0x07), each in
	// big-endian (textual) byte order; on the wire they are little-endian.
	UUIDs [][16]byte
	// Address is the 6-byte LE device address (AD 0x1B) in wire order
	// (little-endian); nil if absent.
	Address []byte
	// HasAddressType reports that the address AD carried the type byte
	// (AD length 8, as in Annex D); multipaz sends length 7 without it.
	HasAddressType bool
	// AddressType is 0x00 public or 0x01 random.
	AddressType byte
	// Other holds every other AD structure, in order.
	Other []ADStructure
}

// ParseBLEOOB decodes an LE OOB payload. A zero AD length ends the data only
// if every remaining byte is zero (padding).
func ParseBLEOOB(b []byte) (BLEOOB, error) {
	var o BLEOOB
	seenUUID := false
	c := cursor(b)
	for len(c) > 0 {
		var n byte
		c.u8(&n)
		if n == 0 {
			for _, x := range c {
				if x != 0 {
					return BLEOOB{}, fmt.Errorf("%w: ble: data after a zero-length AD structure", ErrMalformedCarrier)
				}
			}
			break
		}
		var ad []byte
		if !c.bytes(&ad, int(n)) {
			return BLEOOB{}, fmt.Errorf("%w: ble: truncated AD structure", ErrMalformedCarrier)
		}
		typ, data := ad[0], ad[1:]
		switch typ {
		case adLERole:
			if o.HasRole || len(data) != 1 {
				return BLEOOB{}, fmt.Errorf("%w: ble: bad or repeated LE role", ErrMalformedCarrier)
			}
			o.HasRole, o.Role = true, LERole(data[0])
		case adUUID128Complete:
			if seenUUID || len(data)%16 != 0 {
				return BLEOOB{}, fmt.Errorf("%w: ble: bad or repeated 128-bit UUID list", ErrMalformedCarrier)
			}
			seenUUID = true
			for i := 0; i < len(data); i += 16 {
				var u [16]byte
				for j := 0; j < 16; j++ {
					u[j] = data[i+15-j]
				}
				o.UUIDs = append(o.UUIDs, u)
			}
		case adLEAddress:
			if o.Address != nil || (len(data) != 6 && len(data) != 7) {
				return BLEOOB{}, fmt.Errorf("%w: ble: bad or repeated LE device address", ErrMalformedCarrier)
			}
			o.Address = data[:6:6]
			if len(data) == 7 {
				o.HasAddressType, o.AddressType = true, data[6]
			}
		default:
			o.Other = append(o.Other, ADStructure{Type: typ, Data: data})
		}
	}
	return o, nil
}

// Encode returns the LE OOB payload.
func (o BLEOOB) Encode() ([]byte, error) {
	var b []byte
	if o.Address != nil {
		if len(o.Address) != 6 {
			return nil, fmt.Errorf("%w: ble: address of %d bytes", ErrMalformedCarrier, len(o.Address))
		}
		if o.HasAddressType {
			b = append(b, 8, adLEAddress)
			b = append(b, o.Address...)
			b = append(b, o.AddressType)
		} else {
			b = append(b, 7, adLEAddress)
			b = append(b, o.Address...)
		}
	}
	if o.HasRole {
		b = append(b, 2, adLERole, byte(o.Role))
	}
	if len(o.UUIDs) > 0 {
		if len(o.UUIDs) > 15 {
			return nil, fmt.Errorf("%w: ble: %d UUIDs do not fit one AD structure", ErrMalformedCarrier, len(o.UUIDs))
		}
		b = append(b, byte(1+16*len(o.UUIDs)), adUUID128Complete)
		for _, u := range o.UUIDs {
			for j := 15; j >= 0; j-- {
				b = append(b, u[j]) // little-endian on the wire
			}
		}
	}
	for _, ad := range o.Other {
		if len(ad.Data) > 254 {
			return nil, fmt.Errorf("%w: ble: AD structure of %d bytes", ErrMalformedCarrier, len(ad.Data))
		}
		b = append(b, byte(1+len(ad.Data)), ad.Type)
		b = append(b, ad.Data...)
	}
	return b, nil
}

// Record returns the carrier configuration record with ID [RefBLE].
func (o BLEOOB) Record() (Record, error) {
	p, err := o.Encode()
	if err != nil {
		return Record{}, err
	}
	return Record{TNF: TNFMedia, Type: []byte(TypeBLEOOB), ID: []byte(RefBLE), Payload: p}, nil
}

// nfcVersion is the only version of the 18013-5 NFC carrier record.
const nfcVersion = 0x01

// TLV types of the 18013-5 NFC carrier record (ISO/IEC 18013-5 clause
// 8.2.2.2, as multipaz implements it).
const (
	nfcMaxCommandData  byte = 0x01
	nfcMaxResponseData byte = 0x02
)

// NFCCarrier is the payload of the iso.org:18013:nfc record: version 01,
// then optional TLVs (length covering type and value) for the maximum
// command data length (type 01, 1–2 value bytes) and maximum response data
// length (type 02, 1–3 value bytes) (ISO/IEC 18013-5 clause 8.2.2.2). The
// reader's Handover Request in Annex D carries only the version.
type NFCCarrier struct {
	Version byte
	// MaxCommandData is 0 when absent.
	MaxCommandData int
	// MaxResponseData is 0 when absent.
	MaxResponseData int
}

// ParseNFCCarrier decodes an iso.org:18013:nfc payload. Unknown TLVs are
// skipped.
func ParseNFCCarrier(b []byte) (NFCCarrier, error) {
	c := cursor(b)
	var n NFCCarrier
	if !c.u8(&n.Version) {
		return NFCCarrier{}, fmt.Errorf("%w: nfc: empty payload", ErrMalformedCarrier)
	}
	if n.Version != nfcVersion {
		return NFCCarrier{}, fmt.Errorf("%w: nfc: version %#02x", ErrMalformedCarrier, n.Version)
	}
	for len(c) > 0 {
		var tlv []byte
		if !c.lenPrefixed(&tlv) || len(tlv) == 0 {
			return NFCCarrier{}, fmt.Errorf("%w: nfc: truncated TLV", ErrMalformedCarrier)
		}
		typ, v := tlv[0], tlv[1:]
		var max int
		switch typ {
		case nfcMaxCommandData:
			max = 2
		case nfcMaxResponseData:
			max = 3
		default:
			continue
		}
		if len(v) < 1 || len(v) > max {
			return NFCCarrier{}, fmt.Errorf("%w: nfc: TLV %#02x of %d bytes", ErrMalformedCarrier, typ, len(v))
		}
		x := 0
		for _, d := range v {
			x = x<<8 | int(d)
		}
		if typ == nfcMaxCommandData {
			n.MaxCommandData = x
		} else {
			n.MaxResponseData = x
		}
	}
	return n, nil
}

// Encode returns the payload, writing each present length in the fewest
// bytes.
func (n NFCCarrier) Encode() ([]byte, error) {
	v := n.Version
	if v == 0 {
		v = nfcVersion
	}
	if n.MaxCommandData < 0 || n.MaxCommandData > 0xFFFF || n.MaxResponseData < 0 || n.MaxResponseData > 0xFFFFFF {
		return nil, fmt.Errorf("%w: nfc: lengths out of range", ErrMalformedCarrier)
	}
	b := []byte{v}
	put := func(typ byte, x int) {
		switch {
		case x < 0x100:
			b = append(b, 2, typ, byte(x))
		case x < 0x10000:
			b = append(b, 3, typ, byte(x>>8), byte(x))
		default:
			b = append(b, 4, typ, byte(x>>16), byte(x>>8), byte(x))
		}
	}
	if n.MaxCommandData > 0 {
		put(nfcMaxCommandData, n.MaxCommandData)
	}
	if n.MaxResponseData > 0 {
		put(nfcMaxResponseData, n.MaxResponseData)
	}
	return b, nil
}

// Record returns the carrier configuration record with ID [RefNFC].
func (n NFCCarrier) Record() (Record, error) {
	p, err := n.Encode()
	if err != nil {
		return Record{}, err
	}
	return Record{TNF: TNFExternal, Type: []byte(TypeNFC), ID: []byte(RefNFC), Payload: p}, nil
}

// TLV is a (length, type, value) item whose 1-byte length covers the type
// and the value, as in the Wi-Fi Aware carrier record.
type TLV struct {
	Type  byte
	Value []byte
}

// WiFiAware is the payload of an application/vnd.wfa.nan record, kept as its
// TLVs (ISO/IEC 18013-5 clause 8.2.2.4; Wi-Fi Aware table 142: 0x01 cipher
// suites, 0x03 passphrase, 0x04 band info; Annex D also has a type 0x02 of
// unconfirmed meaning).
type WiFiAware struct {
	TLVs []TLV
}

// ParseWiFiAware decodes a Wi-Fi Aware carrier payload.
func ParseWiFiAware(b []byte) (WiFiAware, error) {
	var w WiFiAware
	c := cursor(b)
	for len(c) > 0 {
		var tlv []byte
		if !c.lenPrefixed(&tlv) || len(tlv) == 0 {
			return WiFiAware{}, fmt.Errorf("%w: wifi aware: truncated TLV", ErrMalformedCarrier)
		}
		w.TLVs = append(w.TLVs, TLV{Type: tlv[0], Value: tlv[1:]})
	}
	return w, nil
}

// Find returns the value of the first TLV of type typ.
func (w WiFiAware) Find(typ byte) ([]byte, bool) {
	for _, t := range w.TLVs {
		if t.Type == typ {
			return t.Value, true
		}
	}
	return nil, false
}

// Encode returns the payload.
func (w WiFiAware) Encode() ([]byte, error) {
	var b []byte
	for _, t := range w.TLVs {
		if len(t.Value) > 254 {
			return nil, fmt.Errorf("%w: wifi aware: TLV of %d bytes", ErrMalformedCarrier, len(t.Value))
		}
		b = append(b, byte(1+len(t.Value)), t.Type)
		b = append(b, t.Value...)
	}
	return b, nil
}

// Record returns the carrier configuration record with ID [RefWiFiAware].
func (w WiFiAware) Record() (Record, error) {
	p, err := w.Encode()
	if err != nil {
		return Record{}, err
	}
	return Record{TNF: TNFMedia, Type: []byte(TypeWiFiAware), ID: []byte(RefWiFiAware), Payload: p}, nil
}

// DeviceEngagementRecord returns the iso.org:18013:deviceengagement record
// with ID "mdoc" carrying de (ISO/IEC 18013-5 clause 8.2.2.1).
func DeviceEngagementRecord(de []byte) Record {
	return Record{TNF: TNFExternal, Type: []byte(TypeDeviceEngagement), ID: []byte(IDDeviceEngagement), Payload: de}
}

// ReaderEngagementRecord returns the iso.org:18013:readerengagement record
// with ID "mdocreader" carrying re (multipaz; unconfirmed in ISO/IEC 18013-5).
func ReaderEngagementRecord(re []byte) Record {
	return Record{TNF: TNFExternal, Type: []byte(TypeReaderEngagement), ID: []byte(IDReaderEngagement), Payload: re}
}
