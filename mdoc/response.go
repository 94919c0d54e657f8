package mdoc

import (
	"bytes"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// DeviceResponse status codes (ISO/IEC 18013-5 clause 8.3.2.1.2.3, table 8).
const (
	StatusOK                  = 0
	StatusGeneralError        = 10
	StatusCBORDecodingError   = 11
	StatusCBORValidationError = 12
)

const (
	// minIssuerSignedItemRandom: random is a bstr of at least 16 bytes (clause 9.1.2.5).
	minIssuerSignedItemRandom = 16
	// deviceNameSpacesEmptyBytes is #6.24(<<{}>>), the usual empty DeviceNameSpacesBytes.
	deviceNameSpacesEmptyBytes = "\xd8\x18\x41\xa0"
)

// DeviceResponse is the mdoc's answer (ISO/IEC 18013-5 clause 8.3.2.1.2.2):
//
//	DeviceResponse = {"version": tstr, ? "documents": [+ Document],
//	                  ? "documentErrors": [+ DocumentError], "status": uint}
type DeviceResponse struct {
	Version        string
	Documents      []Document
	DocumentErrors []map[string]int64
	Status         uint64
}

// Document is one returned document (clause 8.3.2.1.2.2):
//
//	Document = {"docType": tstr, "issuerSigned": IssuerSigned,
//	            "deviceSigned": DeviceSigned, ? "errors": Errors}
type Document struct {
	DocType      string
	IssuerSigned IssuerSigned
	DeviceSigned DeviceSigned
	// Errors is namespace → element identifier → ErrorCode for elements
	// requested but not returned.
	Errors map[string]map[string]int64
}

// IssuerSigned holds the issuer-signed elements and the issuer's signature
// (clause 8.3.2.1.2.2):
//
//	IssuerSigned = {? "nameSpaces": IssuerNameSpaces, "issuerAuth": IssuerAuth}
//	IssuerNameSpaces = {+ NameSpace => [+ IssuerSignedItemBytes]}
type IssuerSigned struct {
	NameSpaces map[string][]IssuerSignedItemBytes
	// IssuerAuth is the COSE_Sign1 (clause 9.1.2.4) exactly as received.
	IssuerAuth cbor.RawMessage
}

// IssuerSignedItemBytes is #6.24(bstr .cbor IssuerSignedItem) as received,
// together with the decoded item. Value digests (clause 9.1.2.5) are computed
// over Bytes.Raw, the tag included.
type IssuerSignedItemBytes struct {
	Bytes TaggedCBOR
	Item  IssuerSignedItem
}

// IssuerSignedItem is one issuer-signed data element (clause 8.3.2.1.2.2):
//
//	IssuerSignedItem = {"digestID": uint, "random": bstr,
//	                    "elementIdentifier": tstr, "elementValue": any}
type IssuerSignedItem struct {
	DigestID          uint64          `cbor:"digestID"`
	Random            []byte          `cbor:"random"`
	ElementIdentifier string          `cbor:"elementIdentifier"`
	ElementValue      cbor.RawMessage `cbor:"elementValue"`
}

// DeviceSigned holds the device-signed elements and device authentication
// (clause 8.3.2.1.2.2):
//
//	DeviceSigned = {"nameSpaces": DeviceNameSpacesBytes, "deviceAuth": DeviceAuth}
//	DeviceNameSpacesBytes = #6.24(bstr .cbor DeviceNameSpaces)
//	DeviceAuth = {"deviceSignature": DeviceSignature // "deviceMac": DeviceMac}
type DeviceSigned struct {
	// NameSpaces is DeviceNameSpacesBytes exactly as received: it is embedded
	// in DeviceAuthentication (clause 9.1.3.4).
	NameSpaces TaggedCBOR
	// DeviceSignature is the COSE_Sign1 as received, or nil.
	DeviceSignature cbor.RawMessage
	// DeviceMac is the COSE_Mac0 as received, or nil.
	DeviceMac cbor.RawMessage
}

// Wire forms. Pointers distinguish a missing required field from a zero value.
type deviceResponseWire struct {
	Version        *string            `cbor:"version"`
	Documents      []documentWire     `cbor:"documents,omitempty"`
	DocumentErrors []map[string]int64 `cbor:"documentErrors,omitempty"`
	Status         *uint64            `cbor:"status"`
}

type documentWire struct {
	DocType      *string                     `cbor:"docType"`
	IssuerSigned *issuerSignedWire           `cbor:"issuerSigned"`
	DeviceSigned *deviceSignedWire           `cbor:"deviceSigned"`
	Errors       map[string]map[string]int64 `cbor:"errors,omitempty"`
}

type issuerSignedWire struct {
	NameSpaces map[string][]IssuerSignedItemBytes `cbor:"nameSpaces,omitempty"`
	IssuerAuth cbor.RawMessage                    `cbor:"issuerAuth"`
}

type deviceSignedWire struct {
	NameSpaces *TaggedCBOR     `cbor:"nameSpaces"`
	DeviceAuth *deviceAuthWire `cbor:"deviceAuth"`
}

type deviceAuthWire struct {
	DeviceSignature cbor.RawMessage `cbor:"deviceSignature,omitempty"`
	DeviceMac       cbor.RawMessage `cbor:"deviceMac,omitempty"`
}

// ParseDeviceResponse decodes a DeviceResponse and every IssuerSignedItemBytes
// in it, keeping all signed and hashed parts as received. It checks the shape
// the CDDL requires (required fields, tag-24 items, random of at least 16
// bytes, exactly one of deviceSignature and deviceMac); it verifies nothing.
//
// The response is read in one pass over the bytes once its shape is proven
// (checkShape also enforces the limits of the decode mode): the result's
// byte slices alias one private copy of data.
func ParseDeviceResponse(data []byte) (*DeviceResponse, error) {
	return parseDeviceResponse(data, true)
}

// ParseDeviceResponseNoCopy is [ParseDeviceResponse] without the private
// copy: the result aliases data, which must not change while the result is
// in use. It is for a buffer the caller hands over, such as the plaintext
// just decrypted from a SessionData.
func ParseDeviceResponseNoCopy(data []byte) (*DeviceResponse, error) {
	return parseDeviceResponse(data, false)
}

func parseDeviceResponse(data []byte, private bool) (*DeviceResponse, error) {
	if err := checkShape(data, deviceResponseShape, "DeviceResponse"); err != nil {
		return nil, fmt.Errorf("decoding DeviceResponse: %w", err)
	}
	if private {
		data = bytes.Clone(data)
	}
	c := cursor(data)
	r := &DeviceResponse{}
	for n, _ := c.head(majorMap); n > 0; n-- {
		switch string(c.text()) {
		case "version":
			r.Version = str(c.text())
		case "status":
			r.Status, _ = c.head(majorUint)
		case "documents":
			m, _ := c.head(majorArray)
			r.Documents = make([]Document, 0, m)
			for i := range int(m) {
				d, err := readDocument(&c)
				if err != nil {
					return nil, fmt.Errorf("reading document %d: %w", i, err)
				}
				r.Documents = append(r.Documents, d)
			}
		case "documentErrors":
			if err := Unmarshal(c.item(), &r.DocumentErrors); err != nil {
				return nil, fmt.Errorf("decoding DeviceResponse: %w", err)
			}
		default:
			c.item()
		}
	}
	if r.Documents == nil {
		r.Documents = []Document{}
	}
	return r, nil
}

// readDocument reads one Document whose shape checkShape proved.
func readDocument(c *cursor) (Document, error) {
	var d Document
	for n, _ := c.head(majorMap); n > 0; n-- {
		switch string(c.text()) {
		case "docType":
			d.DocType = str(c.text())
		case "issuerSigned":
			if err := d.IssuerSigned.read(c); err != nil {
				return Document{}, err
			}
		case "deviceSigned":
			if err := d.DeviceSigned.read(c); err != nil {
				return Document{}, err
			}
		case "errors":
			if err := Unmarshal(c.item(), &d.Errors); err != nil {
				return Document{}, fmt.Errorf("decoding Document errors: %w", err)
			}
		default:
			c.item()
		}
	}
	return d, nil
}

// read reads IssuerSigned (shape proved), decoding every IssuerSignedItemBytes.
func (is *IssuerSigned) read(c *cursor) error {
	for n, _ := c.head(majorMap); n > 0; n-- {
		switch string(c.text()) {
		case "nameSpaces":
			m, _ := c.head(majorMap)
			is.NameSpaces = make(map[string][]IssuerSignedItemBytes, m)
			for ; m > 0; m-- {
				ns := str(c.text())
				k, _ := c.head(majorArray)
				items := make([]IssuerSignedItemBytes, k)
				for i := range items {
					if err := items[i].read(c.item()); err != nil {
						return err
					}
				}
				is.NameSpaces[ns] = items
			}
		case "issuerAuth":
			is.IssuerAuth = c.item()
		default:
			c.item()
		}
	}
	return nil
}

// read reads DeviceSigned (shape proved).
func (ds *DeviceSigned) read(c *cursor) error {
	for n, _ := c.head(majorMap); n > 0; n-- {
		switch string(c.text()) {
		case "nameSpaces":
			raw := c.item()
			inner, err := SplitTag24(raw)
			if err != nil {
				return err
			}
			if err := decMode.Wellformed(inner); err != nil {
				return fmt.Errorf("decoding tag-24 item: %w: tag 24 content is not one CBOR item: %v", ErrMalformed, err)
			}
			ds.NameSpaces = TaggedCBOR{Raw: raw, Inner: inner}
		case "deviceAuth":
			for m, _ := c.head(majorMap); m > 0; m-- {
				switch string(c.text()) {
				case "deviceSignature":
					ds.DeviceSignature = c.item()
				case "deviceMac":
					ds.DeviceMac = c.item()
				default:
					c.item()
				}
			}
			if (ds.DeviceSignature == nil) == (ds.DeviceMac == nil) {
				return fmt.Errorf("%w: DeviceAuth must hold exactly one of deviceSignature and deviceMac", ErrMalformed)
			}
		default:
			c.item()
		}
	}
	return nil
}

// text reads a text string the shape check proved there and returns its
// content.
func (c *cursor) text() []byte {
	n, _ := c.head(majorText)
	b, _ := c.take(n)
	return b
}

// item reads any one item the shape check proved well-formed and returns
// its bytes.
func (c *cursor) item() []byte {
	w := walker{c: *c}
	if w.skip(0) != nil {
		// Not reached after checkShape; consume everything so that a
		// caller cannot loop.
		b := *c
		*c = nil
		return b
	}
	b := (*c)[: len(*c)-len(w.c) : len(*c)-len(w.c)]
	*c = w.c
	return b
}

// str returns the well-known strings of a response without allocating.
func str(b []byte) string {
	switch string(b) {
	case "1.0":
		return "1.0"
	case DocTypeMDL:
		return DocTypeMDL
	case NameSpaceMDL:
		return NameSpaceMDL
	}
	return string(b)
}

// mdlIdentifiers are the data element identifiers of the mDL namespace
// (ISO/IEC 18013-5 clause 7.2.1, table 5), but for age_over_NN.
var mdlIdentifiers = map[string]string{}

// ageOver holds "age_over_00" to "age_over_99" (clause 7.2.5).
var ageOver [100]string

func init() {
	for _, id := range []string{
		"family_name", "given_name", "birth_date", "issue_date", "expiry_date", "issuing_country",
		"issuing_authority", "document_number", "portrait", "driving_privileges", "un_distinguishing_sign",
		"administrative_number", "sex", "height", "weight", "eye_colour", "hair_colour", "birth_place",
		"resident_address", "portrait_capture_date", "age_in_years", "age_birth_year", "issuing_jurisdiction",
		"nationality", "resident_city", "resident_state", "resident_postal_code", "resident_country",
		"family_name_national_character", "given_name_national_character", "signature_usual_mark",
	} {
		mdlIdentifiers[id] = id
	}
	for n := range ageOver {
		ageOver[n] = fmt.Sprintf("age_over_%02d", n)
	}
}

// identifier returns b as a string, sharing the string of a well-known
// element identifier instead of allocating one for each item read.
func identifier(b []byte) string {
	if len(b) == len("age_over_NN") && string(b[:9]) == "age_over_" && isDigit(b[9]) && isDigit(b[10]) {
		return ageOver[int(b[9]-'0')*10+int(b[10]-'0')]
	}
	if id, ok := mdlIdentifiers[string(b)]; ok {
		return id
	}
	return string(b)
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// MarshalCBOR encodes the response deterministically; tag-24 items and COSE
// structures are written exactly as held.
func (r *DeviceResponse) MarshalCBOR() ([]byte, error) {
	w := deviceResponseWire{Version: &r.Version, DocumentErrors: r.DocumentErrors, Status: &r.Status}
	for i := range r.Documents {
		d := &r.Documents[i]
		w.Documents = append(w.Documents, documentWire{
			DocType: &d.DocType,
			IssuerSigned: &issuerSignedWire{
				NameSpaces: d.IssuerSigned.NameSpaces,
				IssuerAuth: d.IssuerSigned.IssuerAuth,
			},
			DeviceSigned: &deviceSignedWire{
				NameSpaces: &d.DeviceSigned.NameSpaces,
				DeviceAuth: &deviceAuthWire{
					DeviceSignature: d.DeviceSigned.DeviceSignature,
					DeviceMac:       d.DeviceSigned.DeviceMac,
				},
			},
			Errors: d.Errors,
		})
	}
	return encMode.Marshal(w)
}

// ParseIssuerSignedItemBytes decodes one #6.24(bstr .cbor IssuerSignedItem).
func ParseIssuerSignedItemBytes(data []byte) (IssuerSignedItemBytes, error) {
	var b IssuerSignedItemBytes
	if err := b.UnmarshalCBOR(data); err != nil {
		return IssuerSignedItemBytes{}, err
	}
	return b, nil
}

// UnmarshalCBOR implements cbor.Unmarshaler: it keeps the tag-24 item as
// received and decodes the IssuerSignedItem inside it.
func (b *IssuerSignedItemBytes) UnmarshalCBOR(data []byte) error {
	return b.read(bytes.Clone(data))
}

// read decodes the tag-24 item raw, which the result aliases.
func (b *IssuerSignedItemBytes) read(raw []byte) error {
	inner, err := SplitTag24(raw)
	if err != nil {
		return fmt.Errorf("decoding IssuerSignedItemBytes: %w", err)
	}
	if err := checkShape(inner, issuerSignedItemShape, "IssuerSignedItem"); err != nil {
		return fmt.Errorf("decoding IssuerSignedItem: %w", err)
	}
	var it IssuerSignedItem
	c := cursor(inner)
	for n, _ := c.head(majorMap); n > 0; n-- {
		switch string(c.text()) {
		case "digestID":
			it.DigestID, _ = c.head(majorUint)
		case "random":
			l, _ := c.head(majorBytes)
			it.Random, _ = c.take(l)
		case "elementIdentifier":
			it.ElementIdentifier = identifier(c.text())
		case "elementValue":
			it.ElementValue = c.item()
		default:
			c.item()
		}
	}
	if len(it.Random) < minIssuerSignedItemRandom {
		// Clause 9.1.2.5: random shall be at least 16 bytes.
		return fmt.Errorf("%w: IssuerSignedItem random of %d bytes, at least 16 required", ErrMalformed, len(it.Random))
	}
	b.Bytes = TaggedCBOR{Raw: raw, Inner: inner}
	b.Item = it
	return nil
}

// MarshalCBOR implements cbor.Marshaler, writing the item as held in Bytes.
func (b IssuerSignedItemBytes) MarshalCBOR() ([]byte, error) {
	return b.Bytes.MarshalCBOR()
}

// NewIssuerSignedItemBytes encodes an IssuerSignedItem (deterministically)
// and wraps it in tag 24, for a wallet or issuer building a credential.
// value is encoded with [EncodeElementValue].
func NewIssuerSignedItemBytes(digestID uint64, random []byte, identifier string, value any) (IssuerSignedItemBytes, error) {
	if len(random) < minIssuerSignedItemRandom {
		return IssuerSignedItemBytes{}, fmt.Errorf("mdoc: IssuerSignedItem random must be at least 16 bytes")
	}
	ev, err := EncodeElementValue(value)
	if err != nil {
		return IssuerSignedItemBytes{}, err
	}
	item := IssuerSignedItem{DigestID: digestID, Random: random, ElementIdentifier: identifier, ElementValue: ev}
	t, err := WrapCBOR(item)
	if err != nil {
		return IssuerSignedItemBytes{}, fmt.Errorf("mdoc: encoding IssuerSignedItem: %w", err)
	}
	return IssuerSignedItemBytes{Bytes: t, Item: item}, nil
}

// DeviceNameSpaces decodes DeviceNameSpacesBytes (clause 8.3.2.1.2.2):
//
//	DeviceNameSpaces = {* NameSpace => {+ DataElementIdentifier => DataElementValue}}
//
// Values are returned as raw CBOR; decode them with [DecodeElementValue].
func (d *DeviceSigned) DeviceNameSpaces() (map[string]map[string]cbor.RawMessage, error) {
	if len(d.NameSpaces.Raw) == len(deviceNameSpacesEmptyBytes) && string(d.NameSpaces.Raw) == deviceNameSpacesEmptyBytes {
		return nil, nil
	}
	var m map[string]map[string]cbor.RawMessage
	if err := d.NameSpaces.Decode(&m); err != nil {
		return nil, fmt.Errorf("decoding DeviceNameSpaces: %w", err)
	}
	if err := checkShape(d.NameSpaces.Inner, deviceNameSpacesShape, "DeviceNameSpaces"); err != nil {
		return nil, fmt.Errorf("decoding DeviceNameSpaces: %w", err)
	}
	for ns, els := range m {
		if len(els) == 0 {
			return nil, fmt.Errorf("%w: device namespace %q without elements", ErrMalformed, ns)
		}
	}
	return m, nil
}

// DeviceAuthenticationBytes builds DeviceAuthenticationBytes (ISO/IEC 18013-5
// clause 9.1.3.4) from received bytes, without re-encoding any of them:
//
//	DeviceAuthentication = ["DeviceAuthentication", SessionTranscript, DocType, DeviceNameSpacesBytes]
//	DeviceAuthenticationBytes = #6.24(bstr .cbor DeviceAuthentication)
//
// sessionTranscript is the bare SessionTranscript array as received and
// deviceNameSpacesBytes the tag-24 item as received; both are embedded as
// they are. The caller must pass well-formed items.
func DeviceAuthenticationBytes(sessionTranscript []byte, docType string, deviceNameSpacesBytes []byte) []byte {
	const label = "DeviceAuthentication"
	inner := 1 + headLen(uint64(len(label))) + len(label) + len(sessionTranscript) +
		headLen(uint64(len(docType))) + len(docType) + len(deviceNameSpacesBytes)
	out := make([]byte, 0, 2+headLen(uint64(inner))+inner)
	out = append(out, 0xd8, tagEncodedCBOR) // tag 24, one-byte argument
	out = AppendHead(out, 0x40, uint64(inner))
	out = append(out, 0x84) // array of 4
	out = AppendHead(out, 0x60, uint64(len(label)))
	out = append(out, label...)
	out = append(out, sessionTranscript...)
	out = AppendHead(out, 0x60, uint64(len(docType)))
	out = append(out, docType...)
	return append(out, deviceNameSpacesBytes...)
}

// headLen is the size of a CBOR head carrying argument n (RFC 8949 3.1).
func headLen(n uint64) int {
	switch {
	case n < 24:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	case n <= 0xffffffff:
		return 5
	}
	return 9
}

// AppendHead appends the shortest CBOR head of major type mt (given as its
// high bits, e.g. 0x40 for bstr) with argument n (RFC 8949 3.1, 4.2.1), for
// code that writes structures to be hashed or signed without re-encoding the
// received parts around them.
func AppendHead(b []byte, mt byte, n uint64) []byte {
	switch {
	case n < 24:
		return append(b, mt|byte(n))
	case n <= 0xff:
		return append(b, mt|24, byte(n))
	case n <= 0xffff:
		return append(b, mt|25, byte(n>>8), byte(n))
	case n <= 0xffffffff:
		return append(b, mt|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, mt|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// SplitTag24 returns the content of the byte string inside #6.24(bstr), which
// must span all of data, without copying (the result aliases data). It reads
// the heads directly (RFC 8949 section 3); the content's own well-formedness
// is left to whoever decodes it. [ParseTaggedCBOR] is the checked, copying form.
func SplitTag24(data []byte) ([]byte, error) {
	if len(data) < 3 || data[0] != 0xd8 || data[1] != tagEncodedCBOR {
		return nil, fmt.Errorf("%w: not a tag-24 item", ErrMalformed)
	}
	c := cursor(data[2:])
	n, ok := c.head(2)
	if !ok {
		return nil, fmt.Errorf("%w: tag 24 content is not a definite-length byte string", ErrMalformed)
	}
	if n != uint64(len(c)) {
		return nil, fmt.Errorf("%w: tag-24 item length %d, %d bytes present", ErrMalformed, n, len(c))
	}
	return c, nil
}
