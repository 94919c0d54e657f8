package mdoc

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// DeviceRequestVersion is the DeviceRequest version of ISO/IEC 18013-5
// clause 8.3.2.1.2.1.
const DeviceRequestVersion = "1.0"

// DeviceRequest is the reader's request (ISO/IEC 18013-5 clause 8.3.2.1.2.1):
//
//	DeviceRequest = {"version": tstr, "docRequests": [+ DocRequest]}
//
// Raw is the encoded request as received or built.
type DeviceRequest struct {
	Version     string
	DocRequests []DocRequest
	Raw         []byte
}

// DocRequest is one requested document:
//
//	DocRequest = {"itemsRequest": ItemsRequestBytes, ? "readerAuth": ReaderAuth}
//
// ItemsRequestBytes is kept as received (the reader signature covers it);
// ItemsRequest is its decoded content. ReaderAuth is the COSE_Sign1 exactly as
// received, nil when absent (verify it with session.VerifyReaderAuth).
type DocRequest struct {
	ItemsRequestBytes TaggedCBOR
	ItemsRequest      ItemsRequest
	ReaderAuth        cbor.RawMessage
}

// ItemsRequest is the content of ItemsRequestBytes (ISO/IEC 18013-5 clause
// 8.3.2.1.2.1):
//
//	ItemsRequest = {"docType": tstr, "nameSpaces": {+ tstr => {+ tstr => bool}},
//	                ? "requestInfo": {* tstr => any}}
//
// NameSpaces maps a namespace to its element identifiers and their
// IntentToRetain flag.
type ItemsRequest struct {
	DocType     string                     `cbor:"docType"`
	NameSpaces  map[string]map[string]bool `cbor:"nameSpaces"`
	RequestInfo map[string]cbor.RawMessage `cbor:"requestInfo,omitempty"`
}

type deviceRequestWire struct {
	Version     string           `cbor:"version"`
	DocRequests []docRequestWire `cbor:"docRequests"`
}

type docRequestWire struct {
	ItemsRequest TaggedCBOR      `cbor:"itemsRequest"`
	ReaderAuth   cbor.RawMessage `cbor:"readerAuth,omitempty"`
}

// ParseDeviceRequest decodes a DeviceRequest and every ItemsRequest in it,
// keeping data as Raw. The version must be major version 1.
func ParseDeviceRequest(data []byte) (*DeviceRequest, error) {
	var keys map[string]cbor.RawMessage
	if err := Unmarshal(data, &keys); err != nil {
		return nil, fmt.Errorf("decoding DeviceRequest: %w", err)
	}
	if _, ok := keys["version"]; !ok {
		return nil, fmt.Errorf("%w: DeviceRequest without version", ErrMalformed)
	}
	if _, ok := keys["docRequests"]; !ok {
		return nil, fmt.Errorf("%w: DeviceRequest without docRequests", ErrMalformed)
	}
	var w deviceRequestWire
	if err := Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decoding DeviceRequest: %w", err)
	}
	if len(w.Version) < 2 || w.Version[:2] != "1." {
		return nil, fmt.Errorf("%w: DeviceRequest version %q", ErrMalformed, w.Version)
	}
	if len(w.DocRequests) == 0 {
		return nil, fmt.Errorf("%w: DeviceRequest without DocRequest", ErrMalformed)
	}
	req := &DeviceRequest{Version: w.Version, Raw: append([]byte(nil), data...)}
	for i, dw := range w.DocRequests {
		if len(dw.ItemsRequest.Raw) == 0 {
			return nil, fmt.Errorf("%w: DocRequest %d without itemsRequest", ErrMalformed, i)
		}
		dr := DocRequest{ItemsRequestBytes: dw.ItemsRequest}
		if err := parseItemsRequest(dw.ItemsRequest.Inner, &dr.ItemsRequest); err != nil {
			return nil, fmt.Errorf("reading DocRequest %d: %w", i, err)
		}
		if dw.ReaderAuth != nil {
			if err := checkCOSESign1Shape(dw.ReaderAuth); err != nil {
				return nil, fmt.Errorf("reading DocRequest %d readerAuth: %w", i, err)
			}
			dr.ReaderAuth = dw.ReaderAuth
		}
		req.DocRequests = append(req.DocRequests, dr)
	}
	return req, nil
}

// ParseItemsRequest decodes the content of ItemsRequestBytes (the untagged map).
func ParseItemsRequest(data []byte) (*ItemsRequest, error) {
	var ir ItemsRequest
	if err := parseItemsRequest(data, &ir); err != nil {
		return nil, err
	}
	return &ir, nil
}

func parseItemsRequest(data []byte, ir *ItemsRequest) error {
	var keys map[string]cbor.RawMessage
	if err := Unmarshal(data, &keys); err != nil {
		return fmt.Errorf("decoding ItemsRequest: %w", err)
	}
	if _, ok := keys["docType"]; !ok {
		return fmt.Errorf("%w: ItemsRequest without docType", ErrMalformed)
	}
	if _, ok := keys["nameSpaces"]; !ok {
		return fmt.Errorf("%w: ItemsRequest without nameSpaces", ErrMalformed)
	}
	if err := Unmarshal(data, ir); err != nil {
		return fmt.Errorf("decoding ItemsRequest: %w", err)
	}
	if ir.DocType == "" {
		return fmt.Errorf("%w: ItemsRequest with an empty docType", ErrMalformed)
	}
	return nil
}

// checkCOSESign1Shape checks that raw is an untagged four-item array, the
// shape of COSE_Sign1 (RFC 9052 section 4.2). The signature is checked where
// the session transcript is known.
func checkCOSESign1Shape(raw []byte) error {
	var items []cbor.RawMessage
	if err := Unmarshal(raw, &items); err != nil {
		return fmt.Errorf("decoding COSE_Sign1: %w", err)
	}
	if len(items) != 4 {
		return fmt.Errorf("%w: COSE_Sign1 with %d items", ErrMalformed, len(items))
	}
	return CheckCOSEStructure(raw, 18)
}

// NewDocRequest encodes ir deterministically as ItemsRequestBytes and returns
// a DocRequest without reader authentication. Sign it with
// session.SignReaderAuth and set ReaderAuth.
func NewDocRequest(ir ItemsRequest) (DocRequest, error) {
	if ir.DocType == "" || len(ir.NameSpaces) == 0 {
		return DocRequest{}, fmt.Errorf("mdoc: ItemsRequest needs a docType and at least one namespace")
	}
	irb, err := WrapCBOR(ir)
	if err != nil {
		return DocRequest{}, fmt.Errorf("encoding ItemsRequest: %w", err)
	}
	return DocRequest{ItemsRequestBytes: irb, ItemsRequest: ir}, nil
}

// BuildDeviceRequest encodes a version "1.0" DeviceRequest with one or more
// DocRequests (EncodeDeviceRequest) and reads it back with
// ParseDeviceRequest. Each ItemsRequestBytes and ReaderAuth is written
// exactly as held, so signatures stay valid.
func BuildDeviceRequest(first DocRequest, more ...DocRequest) (*DeviceRequest, error) {
	raw, err := EncodeDeviceRequest(first, more...)
	if err != nil {
		return nil, err
	}
	req, err := ParseDeviceRequest(raw)
	if err != nil {
		return nil, fmt.Errorf("checking built DeviceRequest: %w", err)
	}
	return req, nil
}

// EncodeDeviceRequest is BuildDeviceRequest without reading the message
// back: the encoding a reader sends in its SessionEstablishment (clause
// 8.3.2.1.2.1), built on the critical path of every tap.
// TestEncodeDeviceRequest holds it to ParseDeviceRequest.
func EncodeDeviceRequest(first DocRequest, more ...DocRequest) ([]byte, error) {
	w := deviceRequestWire{Version: DeviceRequestVersion, DocRequests: make([]docRequestWire, 0, 1+len(more))}
	for i, d := range append([]DocRequest{first}, more...) {
		if len(d.ItemsRequestBytes.Raw) == 0 {
			return nil, fmt.Errorf("mdoc: DocRequest %d without ItemsRequestBytes", i)
		}
		w.DocRequests = append(w.DocRequests, docRequestWire{ItemsRequest: d.ItemsRequestBytes, ReaderAuth: d.ReaderAuth})
	}
	raw, err := Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encoding DeviceRequest: %w", err)
	}
	return raw, nil
}
