package mdoc

import (
	"crypto"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// DeviceEngagement versions (ISO/IEC 18013-5 clause 8.2.1.1). "1.1" is used
// when OriginInfos (key 5) or Capabilities (key 6) are present.
const (
	EngagementVersion10 = "1.0"
	EngagementVersion11 = "1.1"
)

// CipherSuite1 is the only cipher suite identifier of ISO/IEC 18013-5
// clause 9.1.5.2 (Security = [1, EDeviceKeyBytes]).
const CipherSuite1 = 1

// DeviceRetrievalMethod types (ISO/IEC 18013-5 clause 8.2.2.1).
const (
	RetrievalNFC       = 1
	RetrievalBLE       = 2
	RetrievalWiFiAware = 3
)

// DeviceEngagement map keys (ISO/IEC 18013-5 clause 8.2.1.1).
const (
	deKeyVersion          = 0
	deKeySecurity         = 1
	deKeyDeviceRetrieval  = 2
	deKeyServerRetrieval  = 3
	deKeyProtocolInfo     = 4
	deKeyOriginInfos      = 5
	deKeyCapabilities     = 6
	retrievalMethodLength = 3 // [type, version, options]
)

// DeviceEngagement is the mdoc's engagement structure of ISO/IEC 18013-5
// clause 8.2.1.1, as read from a QR code or an NFC Handover Select:
//
//	DeviceEngagement = {
//	  0: tstr,                       ; version
//	  1: Security,                   ; [1, EDeviceKeyBytes]
//	  ? 2: DeviceRetrievalMethods,
//	  ? 3: ServerRetrievalMethods,
//	  ? 4: ProtocolInfo,
//	  ? 5: OriginInfos,
//	  ? 6: Capabilities,
//	  * int => any
//	}
//
// Raw is the map exactly as received: the SessionTranscript embeds it, so it
// is never re-encoded (see [DeviceEngagement.DeviceEngagementBytes]).
type DeviceEngagement struct {
	// Version is key 0, "1.0" or "1.1".
	Version string
	// CipherSuite is Security[0]; always [CipherSuite1] after parsing.
	CipherSuite int
	// EDeviceKeyBytes is Security[1], #6.24(bstr .cbor COSE_Key), as received.
	EDeviceKeyBytes TaggedCBOR
	// EDeviceKey is the parsed ephemeral device key. Its curve may be one this
	// project cannot use (brainpool, X448); session setup reports that with
	// [ErrUnsupportedCurve].
	EDeviceKey *COSEKey
	// RetrievalMethods is key 2, in the order received.
	RetrievalMethods []RetrievalMethod
	// ServerRetrievalMethods (key 3) and ProtocolInfo (key 4), raw; nil when absent.
	ServerRetrievalMethods cbor.RawMessage
	ProtocolInfo           cbor.RawMessage
	// OriginInfos is key 5; HasOriginInfos tells an empty list (Apple sends
	// 5: []) from an absent key. OriginInfosRaw is the array as received.
	OriginInfos    []OriginInfo
	HasOriginInfos bool
	OriginInfosRaw cbor.RawMessage
	// Capabilities is key 6, nil when absent.
	Capabilities *Capabilities
	// Unknown holds every other integer key with its value as received.
	Unknown map[int]cbor.RawMessage
	// Raw is the encoded DeviceEngagement exactly as received or built.
	Raw []byte
}

// RetrievalMethod is one DeviceRetrievalMethod = [type, version,
// RetrievalOptions] (ISO/IEC 18013-5 clause 8.2.2.1). Exactly one of NFC, BLE
// and WiFiAware is set for the known types; Options always holds the options
// item as received, so unknown types are kept.
type RetrievalMethod struct {
	Type      int
	Version   int
	NFC       *NFCOptions
	BLE       *BLEOptions
	WiFiAware *WiFiAwareOptions
	// Options is the encoded RetrievalOptions item. When building, it is used
	// for a Type that has no typed options set.
	Options cbor.RawMessage
}

// NFCOptions are the NFC retrieval options (ISO/IEC 18013-5 clause 8.2.2.2):
// {0: max command data length, 1: max response data length}.
type NFCOptions struct {
	MaxCommandDataLength  uint64 `cbor:"0,keyasint"`
	MaxResponseDataLength uint64 `cbor:"1,keyasint"`
}

// BLEOptions are the BLE retrieval options (ISO/IEC 18013-5 clause 8.2.2.3).
// UUIDs are 16 bytes, big-endian; the address is 6 bytes.
type BLEOptions struct {
	PeripheralServerMode bool `cbor:"0,keyasint"`
	CentralClientMode    bool `cbor:"1,keyasint"`
	// PeripheralServerUUID is key 10, CentralClientUUID key 11; nil when absent.
	PeripheralServerUUID []byte `cbor:"10,keyasint,omitempty"`
	CentralClientUUID    []byte `cbor:"11,keyasint,omitempty"`
	// PeripheralServerAddress is key 20, the mdoc BLE device address.
	PeripheralServerAddress []byte `cbor:"20,keyasint,omitempty"`
	// PSM is key 21, the L2CAP PSM (second-edition draft); nil when absent.
	PSM *uint64 `cbor:"21,keyasint,omitempty"`
}

// WiFiAwareOptions are the Wi-Fi Aware retrieval options (ISO/IEC 18013-5
// clause 8.2.2.4): {? 0: passphrase, ? 1: channel operating class,
// ? 2: channel number, ? 3: supported bands}. Absent keys are nil.
type WiFiAwareOptions struct {
	Passphrase            *string `cbor:"0,keyasint,omitempty"`
	ChannelOperatingClass *uint64 `cbor:"1,keyasint,omitempty"`
	ChannelNumber         *uint64 `cbor:"2,keyasint,omitempty"`
	SupportedBands        []byte  `cbor:"3,keyasint,omitempty"`
}

// OriginInfo is one entry of OriginInfos (DeviceEngagement key 5, ISO/IEC
// 18013-5 second edition / 18013-7): {"cat": uint, "type": uint, "details": any}.
// Raw is the entry as received.
type OriginInfo struct {
	Cat     uint64          `cbor:"cat"`
	Type    uint64          `cbor:"type"`
	Details cbor.RawMessage `cbor:"details,omitempty"`
	Raw     cbor.RawMessage `cbor:"-"`
}

// Capabilities is DeviceEngagement key 6 (ISO/IEC 18013-5 second edition,
// clause 8.2.2.4 as quoted by implementations): {? 2: bool
// HandoverSessionEstablishmentSupport, ? 3: bool ReaderAuthAllSupport,
// ? 4: bool ExtendedRequestSupport}. Absent flags are nil; other keys are kept
// in Unknown; Raw is the map as received.
type Capabilities struct {
	HandoverSessionEstablishmentSupport *bool
	ReaderAuthAllSupport                *bool
	ExtendedRequestSupport              *bool
	Unknown                             map[int]cbor.RawMessage
	Raw                                 cbor.RawMessage
}

// Capabilities map keys.
const (
	capKeyHandoverSessionEstablishment = 2
	capKeyReaderAuthAll                = 3
	capKeyExtendedRequest              = 4
)

// ParseDeviceEngagement decodes a DeviceEngagement (ISO/IEC 18013-5 clause
// 8.2.1.1) and keeps data as Raw. Versions "1.0" and "1.1" are accepted;
// unknown integer keys are kept in Unknown. An EDeviceKey on a curve this
// project cannot use still parses (see [DeviceEngagement.EDeviceKey]).
func ParseDeviceEngagement(data []byte) (*DeviceEngagement, error) {
	var m map[int]cbor.RawMessage
	if err := Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decoding DeviceEngagement: %w", err)
	}
	de := &DeviceEngagement{Raw: append([]byte(nil), data...)}

	vRaw, ok := m[deKeyVersion]
	if !ok {
		return nil, fmt.Errorf("%w: DeviceEngagement without version (key 0)", ErrMalformed)
	}
	if err := Unmarshal(vRaw, &de.Version); err != nil {
		return nil, fmt.Errorf("decoding DeviceEngagement version: %w", err)
	}
	if de.Version != EngagementVersion10 && de.Version != EngagementVersion11 {
		return nil, fmt.Errorf("%w: DeviceEngagement version %q", ErrMalformed, de.Version)
	}

	secRaw, ok := m[deKeySecurity]
	if !ok {
		return nil, fmt.Errorf("%w: DeviceEngagement without Security (key 1)", ErrMalformed)
	}
	if err := de.parseSecurity(secRaw); err != nil {
		return nil, fmt.Errorf("reading DeviceEngagement Security: %w", err)
	}

	if raw, ok := m[deKeyDeviceRetrieval]; ok {
		methods, err := parseRetrievalMethods(raw)
		if err != nil {
			return nil, fmt.Errorf("reading DeviceRetrievalMethods: %w", err)
		}
		de.RetrievalMethods = methods
	}
	if raw, ok := m[deKeyServerRetrieval]; ok {
		de.ServerRetrievalMethods = raw
	}
	if raw, ok := m[deKeyProtocolInfo]; ok {
		de.ProtocolInfo = raw
	}
	if raw, ok := m[deKeyOriginInfos]; ok {
		infos, err := parseOriginInfos(raw)
		if err != nil {
			return nil, fmt.Errorf("reading OriginInfos: %w", err)
		}
		de.OriginInfos, de.HasOriginInfos, de.OriginInfosRaw = infos, true, raw
	}
	if raw, ok := m[deKeyCapabilities]; ok {
		c, err := parseCapabilities(raw)
		if err != nil {
			return nil, fmt.Errorf("reading Capabilities: %w", err)
		}
		de.Capabilities = c
	}
	for k, v := range m {
		if k < deKeyVersion || k > deKeyCapabilities {
			if de.Unknown == nil {
				de.Unknown = make(map[int]cbor.RawMessage)
			}
			de.Unknown[k] = v
		}
	}
	return de, nil
}

// parseSecurity reads Security = [cipher suite identifier, EDeviceKeyBytes].
func (de *DeviceEngagement) parseSecurity(raw []byte) error {
	var sec []cbor.RawMessage
	if err := Unmarshal(raw, &sec); err != nil {
		return err
	}
	if len(sec) != 2 {
		return fmt.Errorf("%w: Security has %d items, want 2", ErrMalformed, len(sec))
	}
	if err := Unmarshal(sec[0], &de.CipherSuite); err != nil {
		return fmt.Errorf("decoding cipher suite: %w", err)
	}
	if de.CipherSuite != CipherSuite1 {
		return fmt.Errorf("%w: cipher suite identifier %d", ErrUnsupportedCurve, de.CipherSuite)
	}
	kb, err := ParseTaggedCBOR(sec[1])
	if err != nil {
		return fmt.Errorf("decoding EDeviceKeyBytes: %w", err)
	}
	de.EDeviceKeyBytes = kb
	key, err := ParseCOSEKey(kb.Inner)
	if errors.Is(err, ErrUnsupportedCurve) {
		key, err = parseForeignCOSEKey(kb.Inner)
	}
	if err != nil {
		return fmt.Errorf("decoding EDeviceKey: %w", err)
	}
	de.EDeviceKey = key
	return nil
}

// parseForeignCOSEKey keeps the labels of a COSE_Key on a curve that
// ParseCOSEKey refuses, so that the refusal can happen where the key is used.
func parseForeignCOSEKey(data []byte) (*COSEKey, error) {
	var m struct {
		Kty int             `cbor:"1,keyasint"`
		Crv int             `cbor:"-1,keyasint"`
		X   []byte          `cbor:"-2,keyasint"`
		Y   cbor.RawMessage `cbor:"-3,keyasint"`
	}
	if err := Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decoding COSE_Key: %w", err)
	}
	k := &COSEKey{Kty: m.Kty, Crv: m.Crv, X: m.X, Raw: append([]byte(nil), data...)}
	var y []byte
	if len(m.Y) > 0 && Unmarshal(m.Y, &y) == nil {
		k.Y = y
	}
	return k, nil
}

func parseRetrievalMethods(raw []byte) ([]RetrievalMethod, error) {
	var items [][]cbor.RawMessage
	if err := Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%w: empty DeviceRetrievalMethods", ErrMalformed)
	}
	methods := make([]RetrievalMethod, 0, len(items))
	for i, it := range items {
		if len(it) != retrievalMethodLength {
			return nil, fmt.Errorf("%w: retrieval method %d has %d items, want 3", ErrMalformed, i, len(it))
		}
		var rm RetrievalMethod
		if err := Unmarshal(it[0], &rm.Type); err != nil {
			return nil, fmt.Errorf("decoding retrieval method %d type: %w", i, err)
		}
		if err := Unmarshal(it[1], &rm.Version); err != nil {
			return nil, fmt.Errorf("decoding retrieval method %d version: %w", i, err)
		}
		rm.Options = it[2]
		if err := rm.parseOptions(); err != nil {
			return nil, fmt.Errorf("decoding retrieval method %d options: %w", i, err)
		}
		methods = append(methods, rm)
	}
	return methods, nil
}

func (rm *RetrievalMethod) parseOptions() error {
	switch rm.Type {
	case RetrievalNFC:
		var o NFCOptions
		var keys map[int]cbor.RawMessage
		if err := Unmarshal(rm.Options, &keys); err != nil {
			return err
		}
		if _, ok := keys[0]; !ok {
			return fmt.Errorf("%w: NFC options without max command data length", ErrMalformed)
		}
		if _, ok := keys[1]; !ok {
			return fmt.Errorf("%w: NFC options without max response data length", ErrMalformed)
		}
		if err := Unmarshal(rm.Options, &o); err != nil {
			return err
		}
		rm.NFC = &o
	case RetrievalBLE:
		var o BLEOptions
		if err := Unmarshal(rm.Options, &o); err != nil {
			return err
		}
		if err := o.check(); err != nil {
			return err
		}
		rm.BLE = &o
	case RetrievalWiFiAware:
		var o WiFiAwareOptions
		if err := Unmarshal(rm.Options, &o); err != nil {
			return err
		}
		rm.WiFiAware = &o
	default:
		if err := decMode.Wellformed(rm.Options); err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	}
	return nil
}

// UUID and address sizes of the BLE options.
const (
	bleUUIDLength    = 16
	bleAddressLength = 6
)

func (o *BLEOptions) check() error {
	if o.PeripheralServerUUID != nil && len(o.PeripheralServerUUID) != bleUUIDLength {
		return fmt.Errorf("%w: BLE peripheral server UUID of %d bytes", ErrMalformed, len(o.PeripheralServerUUID))
	}
	if o.CentralClientUUID != nil && len(o.CentralClientUUID) != bleUUIDLength {
		return fmt.Errorf("%w: BLE central client UUID of %d bytes", ErrMalformed, len(o.CentralClientUUID))
	}
	if o.PeripheralServerAddress != nil && len(o.PeripheralServerAddress) != bleAddressLength {
		return fmt.Errorf("%w: BLE address of %d bytes", ErrMalformed, len(o.PeripheralServerAddress))
	}
	return nil
}

func parseOriginInfos(raw []byte) ([]OriginInfo, error) {
	var items []cbor.RawMessage
	if err := Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	infos := make([]OriginInfo, 0, len(items))
	for i, it := range items {
		var oi OriginInfo
		if err := Unmarshal(it, &oi); err != nil {
			return nil, fmt.Errorf("decoding OriginInfo %d: %w", i, err)
		}
		oi.Raw = it
		infos = append(infos, oi)
	}
	return infos, nil
}

func parseCapabilities(raw []byte) (*Capabilities, error) {
	var m map[int]cbor.RawMessage
	if err := Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	c := &Capabilities{Raw: raw}
	for k, v := range m {
		var dst **bool
		switch k {
		case capKeyHandoverSessionEstablishment:
			dst = &c.HandoverSessionEstablishmentSupport
		case capKeyReaderAuthAll:
			dst = &c.ReaderAuthAllSupport
		case capKeyExtendedRequest:
			dst = &c.ExtendedRequestSupport
		default:
			if c.Unknown == nil {
				c.Unknown = make(map[int]cbor.RawMessage)
			}
			c.Unknown[k] = v
			continue
		}
		var b bool
		if err := Unmarshal(v, &b); err != nil {
			return nil, fmt.Errorf("decoding capability %d: %w", k, err)
		}
		*dst = &b
	}
	return c, nil
}

// DeviceEngagementBytes returns #6.24(bstr .cbor DeviceEngagement) over the
// exact Raw bytes, the first element of the SessionTranscript (ISO/IEC
// 18013-5 clause 9.1.5.1).
func (de *DeviceEngagement) DeviceEngagementBytes() (TaggedCBOR, error) {
	if len(de.Raw) == 0 {
		return TaggedCBOR{}, fmt.Errorf("mdoc: DeviceEngagement without raw bytes")
	}
	return NewTaggedCBOR(de.Raw)
}

// DeviceEngagementBuilder describes a DeviceEngagement to encode, for the
// simulated wallet. [DeviceEngagementBuilder.Build] encodes it
// deterministically (RFC 8949 4.2.1, as ISO/IEC 18013-5 clause 8.1 asks).
type DeviceEngagementBuilder struct {
	// Version defaults to "1.0", or "1.1" when OriginInfos or Capabilities
	// are included.
	Version string
	// EDeviceKey is the public ephemeral device key: *ecdh.PublicKey or
	// *ecdsa.PublicKey, as [EncodeCOSEKey] accepts.
	EDeviceKey crypto.PublicKey
	// RetrievalMethods become key 2 when not empty.
	RetrievalMethods []RetrievalMethod
	// ServerRetrievalMethods and ProtocolInfo are encoded items for keys 3
	// and 4; nil leaves them out.
	ServerRetrievalMethods cbor.RawMessage
	ProtocolInfo           cbor.RawMessage
	// OriginInfos is key 5, written when IncludeOriginInfos is set (Apple
	// Wallet sends an empty list).
	OriginInfos        []OriginInfo
	IncludeOriginInfos bool
	// Capabilities is key 6 when not nil (Apple Wallet: {3: true, 4: true}).
	Capabilities *Capabilities
	// Unknown holds extra integer keys (other than 0–6) with encoded values.
	Unknown map[int]cbor.RawMessage
}

// Build encodes the DeviceEngagement and returns it parsed, with Raw set to
// the encoding.
func (b DeviceEngagementBuilder) Build() (*DeviceEngagement, error) {
	if b.EDeviceKey == nil {
		return nil, fmt.Errorf("mdoc: DeviceEngagement without EDeviceKey")
	}
	cose, err := EncodeCOSEKey(b.EDeviceKey)
	if err != nil {
		return nil, fmt.Errorf("encoding EDeviceKey: %w", err)
	}
	keyBytes, err := NewTaggedCBOR(cose)
	if err != nil {
		return nil, err
	}
	version := b.Version
	if version == "" {
		version = EngagementVersion10
		if b.IncludeOriginInfos || b.Capabilities != nil {
			version = EngagementVersion11
		}
	}
	m := make(map[int]any, 7+len(b.Unknown))
	for k, v := range b.Unknown {
		if k >= deKeyVersion && k <= deKeyCapabilities {
			return nil, fmt.Errorf("mdoc: DeviceEngagement extra key %d is a defined key", k)
		}
		m[k] = v
	}
	m[deKeyVersion] = version
	m[deKeySecurity] = []any{CipherSuite1, keyBytes}
	if len(b.RetrievalMethods) > 0 {
		methods := make([]any, 0, len(b.RetrievalMethods))
		for i, rm := range b.RetrievalMethods {
			enc, err := rm.encodeOptions()
			if err != nil {
				return nil, fmt.Errorf("encoding retrieval method %d: %w", i, err)
			}
			methods = append(methods, []any{rm.Type, rm.Version, enc})
		}
		m[deKeyDeviceRetrieval] = methods
	}
	if b.ServerRetrievalMethods != nil {
		m[deKeyServerRetrieval] = b.ServerRetrievalMethods
	}
	if b.ProtocolInfo != nil {
		m[deKeyProtocolInfo] = b.ProtocolInfo
	}
	if b.IncludeOriginInfos {
		infos := make([]any, 0, len(b.OriginInfos))
		for _, oi := range b.OriginInfos {
			if oi.Raw != nil {
				infos = append(infos, oi.Raw)
			} else {
				infos = append(infos, oi)
			}
		}
		m[deKeyOriginInfos] = infos
	}
	if b.Capabilities != nil {
		m[deKeyCapabilities] = b.Capabilities.encodable()
	}
	raw, err := Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding DeviceEngagement: %w", err)
	}
	de, err := ParseDeviceEngagement(raw)
	if err != nil {
		return nil, fmt.Errorf("checking built DeviceEngagement: %w", err)
	}
	return de, nil
}

func (rm RetrievalMethod) encodeOptions() (cbor.RawMessage, error) {
	var v any
	switch {
	case rm.NFC != nil:
		v = rm.NFC
	case rm.BLE != nil:
		if err := rm.BLE.check(); err != nil {
			return nil, err
		}
		v = rm.BLE
	case rm.WiFiAware != nil:
		v = rm.WiFiAware
	case rm.Options != nil:
		return rm.Options, nil
	default:
		return nil, fmt.Errorf("mdoc: retrieval method type %d without options", rm.Type)
	}
	return Marshal(v)
}

func (c *Capabilities) encodable() map[int]any {
	m := make(map[int]any, 3+len(c.Unknown))
	for k, v := range c.Unknown {
		m[k] = v
	}
	if c.HandoverSessionEstablishmentSupport != nil {
		m[capKeyHandoverSessionEstablishment] = *c.HandoverSessionEstablishmentSupport
	}
	if c.ReaderAuthAllSupport != nil {
		m[capKeyReaderAuthAll] = *c.ReaderAuthAllSupport
	}
	if c.ExtendedRequestSupport != nil {
		m[capKeyExtendedRequest] = *c.ExtendedRequestSupport
	}
	return m
}
