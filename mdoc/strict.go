package mdoc

import (
	"fmt"
	"strings"
)

// The generic decoder is lenient in ways ISO/IEC 18013-5 is not: it matches
// map keys to struct fields without regard to case, skips any tag in front of
// a value it decodes into a plain Go type (a bignum where a uint is wanted,
// tag 55799 anywhere), and turns a text string into a []byte. Every message
// received from an mdoc is therefore first walked against its CDDL with the
// shapes below, and only decoded when it has exactly the shape the CDDL
// gives: keys compared byte for byte, a tag only where the CDDL names one,
// bstr where it says bstr, uint as major type 0.

// shapeKind is what one CDDL position allows.
type shapeKind uint8

const (
	shapeAny    shapeKind = iota // any well-formed item, tags included
	shapeText                    // tstr, untagged
	shapeBytes                   // bstr, untagged
	shapeUint                    // uint (major type 0), untagged
	shapeInt                     // int (major type 0 or 1), untagged
	shapeTag24                   // #6.24(bstr)
	shapeTDate                   // tdate = #6.0(tstr)
	shapeArray                   // [* elem] or [+ elem]
	shapeMap                     // {* key => elem} or {+ key => elem}
	shapeStruct                  // a map with named text keys
	shapeSign1                   // COSE_Sign1, tag 18 optional
	shapeMac0                    // COSE_Mac0, tag 17 optional
)

// shape is one position of a CDDL rule.
type shape struct {
	kind shapeKind
	// nonEmpty is the "+" of [+ x] and {+ k => v}.
	nonEmpty bool
	// key is the map key shape (shapeText, shapeUint or shapeInt).
	key *shape
	// elem is the array element or map value shape.
	elem *shape
	// fields are the known keys of a struct; others are skipped, but a key
	// that differs from a known one only in case is refused.
	fields map[string]*shape
	// required lists the struct keys that must be present.
	required []string
}

var (
	anyShape   = &shape{kind: shapeAny}
	textShape  = &shape{kind: shapeText}
	bytesShape = &shape{kind: shapeBytes}
	uintShape  = &shape{kind: shapeUint}
	intShape   = &shape{kind: shapeInt}
	tag24Shape = &shape{kind: shapeTag24}
	tdateShape = &shape{kind: shapeTDate}
	sign1Shape = &shape{kind: shapeSign1}
	mac0Shape  = &shape{kind: shapeMac0}
	// header_map = {Generic_Headers, * label => values} (RFC 9052 section 3)
	headerMapShape = &shape{kind: shapeMap, key: anyShape, elem: anyShape}
)

func arrayOf(elem *shape, nonEmpty bool) *shape {
	return &shape{kind: shapeArray, elem: elem, nonEmpty: nonEmpty}
}

func mapOf(key, elem *shape, nonEmpty bool) *shape {
	return &shape{kind: shapeMap, key: key, elem: elem, nonEmpty: nonEmpty}
}

func structOf(fields map[string]*shape, required ...string) *shape {
	return &shape{kind: shapeStruct, fields: fields, required: required}
}

// The CDDL of ISO/IEC 18013-5 clause 8.3.2.1.2.2 (DeviceResponse) and 9.1.2.4
// (MobileSecurityObject), as shapes.
var (
	// Errors = {+ NameSpace => ErrorItems}; ErrorItems = {+ DataElementIdentifier => ErrorCode}
	errorsShape = mapOf(textShape, mapOf(textShape, intShape, true), true)
	// DocumentError = {DocType => ErrorCode}
	documentErrorShape = mapOf(textShape, intShape, true)
	// IssuerSigned = {? "nameSpaces": IssuerNameSpaces, "issuerAuth": IssuerAuth}
	// IssuerNameSpaces = {+ NameSpace => [+ IssuerSignedItemBytes]}
	issuerSignedShape = structOf(map[string]*shape{
		"nameSpaces": mapOf(textShape, arrayOf(tag24Shape, true), true),
		"issuerAuth": sign1Shape,
	}, "issuerAuth")
	// DeviceSigned = {"nameSpaces": DeviceNameSpacesBytes, "deviceAuth": DeviceAuth}
	// DeviceAuth = {"deviceSignature": DeviceSignature // "deviceMac": DeviceMac}
	deviceSignedShape = structOf(map[string]*shape{
		"nameSpaces": tag24Shape,
		"deviceAuth": structOf(map[string]*shape{
			"deviceSignature": sign1Shape,
			"deviceMac":       mac0Shape,
		}),
	}, "nameSpaces", "deviceAuth")
	// Document = {"docType": DocType, "issuerSigned": IssuerSigned,
	//             "deviceSigned": DeviceSigned, ? "errors": Errors}
	documentShape = structOf(map[string]*shape{
		"docType":      textShape,
		"issuerSigned": issuerSignedShape,
		"deviceSigned": deviceSignedShape,
		"errors":       errorsShape,
	}, "docType", "issuerSigned", "deviceSigned")
	// DeviceResponse = {"version": tstr, ? "documents": [+ Document],
	//                   ? "documentErrors": [+ DocumentError], "status": uint}
	deviceResponseShape = structOf(map[string]*shape{
		"version":        textShape,
		"documents":      arrayOf(documentShape, true),
		"documentErrors": arrayOf(documentErrorShape, true),
		"status":         uintShape,
	}, "version", "status")
	// IssuerSignedItem = {"digestID": uint, "random": bstr,
	//                     "elementIdentifier": tstr, "elementValue": any}
	issuerSignedItemShape = structOf(map[string]*shape{
		"digestID":          uintShape,
		"random":            bytesShape,
		"elementIdentifier": textShape,
		"elementValue":      anyShape,
	}, "digestID", "random", "elementIdentifier", "elementValue")
	// DeviceNameSpaces = {* NameSpace => DeviceSignedItems}
	// DeviceSignedItems = {+ DataElementIdentifier => DataElementValue}
	deviceNameSpacesShape = mapOf(textShape, mapOf(textShape, anyShape, true), false)
	// MobileSecurityObject (clause 9.1.2.4); valueDigests and deviceKey have
	// their own strict readers (parseValueDigests, ParseCOSEKey).
	msoShape = structOf(map[string]*shape{
		"version":         textShape,
		"digestAlgorithm": textShape,
		"valueDigests":    mapOf(textShape, mapOf(uintShape, bytesShape, true), true),
		"deviceKeyInfo": structOf(map[string]*shape{
			"deviceKey": mapOf(intShape, anyShape, true),
			// KeyAuthorizations = {? "nameSpaces": [+ NameSpace],
			//                      ? "dataElements": {+ NameSpace => [+ DataElementIdentifier]}}
			"keyAuthorizations": structOf(map[string]*shape{
				"nameSpaces":   arrayOf(textShape, true),
				"dataElements": mapOf(textShape, arrayOf(textShape, true), true),
			}),
			// KeyInfo = {+ int => any}
			"keyInfo": mapOf(intShape, anyShape, true),
		}, "deviceKey"),
		"docType": textShape,
		// ValidityInfo = {"signed": tdate, "validFrom": tdate, "validUntil": tdate, ? "expectedUpdate": tdate}
		"validityInfo": structOf(map[string]*shape{
			"signed":         tdateShape,
			"validFrom":      tdateShape,
			"validUntil":     tdateShape,
			"expectedUpdate": tdateShape,
		}, "signed", "validFrom", "validUntil"),
	}, "version", "digestAlgorithm", "valueDigests", "deviceKeyInfo", "docType", "validityInfo")
)

// checkShape reports, wrapping [ErrMalformed], the first place where data (one
// well-formed CBOR item) departs from s. what names the rule in errors.
func checkShape(data []byte, s *shape, what string) error {
	c := cursor(data)
	if err := c.check(s, what, 0); err != nil {
		return err
	}
	if len(c) != 0 {
		return fmt.Errorf("%w: trailing bytes after %s", ErrMalformed, what)
	}
	return nil
}

// CBOR major types (RFC 8949 section 3.1).
const (
	majorUint   = 0
	majorNint   = 1
	majorBytes  = 2
	majorText   = 3
	majorArray  = 4
	majorMap    = 5
	majorTag    = 6
	majorSimple = 7
)

// peekMajor returns the major type of the next item.
func (c cursor) peekMajor() (byte, bool) {
	if len(c) == 0 {
		return 0, false
	}
	return c[0] >> 5, true
}

// check reads one item of shape s.
func (c *cursor) check(s *shape, at string, depth int) error {
	if depth > maxNestedLevels {
		return fmt.Errorf("%w: %s nested too deeply", ErrMalformed, at)
	}
	mt, ok := c.peekMajor()
	if !ok {
		return fmt.Errorf("%w: truncated at %s", ErrMalformed, at)
	}
	switch s.kind {
	case shapeAny:
		return c.skip(at, depth)
	case shapeTag24, shapeTDate, shapeSign1, shapeMac0:
		return c.checkTagged(s, at, depth)
	}
	if mt == majorTag {
		n, _ := c.head(majorTag)
		return fmt.Errorf("%w: tag %d on %s, where the CDDL has no tag", ErrMalformed, n, at)
	}
	switch s.kind {
	case shapeText:
		return c.checkString(majorText, "a text string", at)
	case shapeBytes:
		return c.checkString(majorBytes, "a byte string", at)
	case shapeUint:
		if _, ok := c.head(majorUint); !ok {
			return fmt.Errorf("%w: %s is not an unsigned integer", ErrMalformed, at)
		}
		return nil
	case shapeInt:
		if mt != majorUint && mt != majorNint {
			return fmt.Errorf("%w: %s is not an integer", ErrMalformed, at)
		}
		if _, ok := c.head(mt); !ok {
			return fmt.Errorf("%w: truncated at %s", ErrMalformed, at)
		}
		return nil
	case shapeArray:
		n, ok := c.head(majorArray)
		if !ok {
			return fmt.Errorf("%w: %s is not an array", ErrMalformed, at)
		}
		if n == 0 && s.nonEmpty {
			return fmt.Errorf("%w: %s is an empty array", ErrMalformed, at)
		}
		elemAt := at + "[]"
		for ; n > 0; n-- {
			if err := c.check(s.elem, elemAt, depth+1); err != nil {
				return err
			}
		}
		return nil
	case shapeMap:
		n, ok := c.head(majorMap)
		if !ok {
			return fmt.Errorf("%w: %s is not a map", ErrMalformed, at)
		}
		if n == 0 && s.nonEmpty {
			return fmt.Errorf("%w: %s is an empty map", ErrMalformed, at)
		}
		keyAt, valueAt := at+" key", at+" value"
		for ; n > 0; n-- {
			if err := c.check(s.key, keyAt, depth+1); err != nil {
				return err
			}
			if err := c.check(s.elem, valueAt, depth+1); err != nil {
				return err
			}
		}
		return nil
	case shapeStruct:
		return c.checkStruct(s, at, depth)
	}
	return fmt.Errorf("%w: no shape for %s", ErrMalformed, at)
}

// checkString reads a definite-length string of major type mt.
func (c *cursor) checkString(mt byte, want, at string) error {
	n, ok := c.head(mt)
	if !ok {
		return fmt.Errorf("%w: %s is not %s", ErrMalformed, at, want)
	}
	if _, ok := c.take(n); !ok {
		return fmt.Errorf("%w: truncated at %s", ErrMalformed, at)
	}
	return nil
}

// checkStruct reads a map with named text keys.
func (c *cursor) checkStruct(s *shape, at string, depth int) error {
	n, ok := c.head(majorMap)
	if !ok {
		return fmt.Errorf("%w: %s is not a map", ErrMalformed, at)
	}
	seen := make(map[string]bool, len(s.fields))
	for i := uint64(0); i < n; i++ {
		l, ok := c.head(majorText)
		if !ok {
			return fmt.Errorf("%w: %s has a key that is not an untagged text string", ErrMalformed, at)
		}
		k, ok := c.take(l)
		if !ok {
			return fmt.Errorf("%w: truncated at %s", ErrMalformed, at)
		}
		key := string(k)
		fs, known := s.fields[key]
		if !known {
			for name := range s.fields {
				if strings.EqualFold(name, key) {
					return fmt.Errorf("%w: %s has key %.64q where the CDDL has %q (keys are case-sensitive)", ErrMalformed, at, key, name)
				}
			}
			if err := c.skip(at, depth+1); err != nil {
				return err
			}
			continue
		}
		seen[key] = true
		if err := c.check(fs, at+"."+key, depth+1); err != nil {
			return err
		}
	}
	for _, r := range s.required {
		if !seen[r] {
			return fmt.Errorf("%w: %s without %s", ErrMalformed, at, r)
		}
	}
	return nil
}

// checkTagged reads the positions whose CDDL carries a tag: #6.24(bstr) and
// #6.0(tstr) require theirs; COSE_Sign1 and COSE_Mac0 may carry 18 and 17
// (RFC 9052 section 2) and are then [bstr, header map, bstr / nil, bstr].
func (c *cursor) checkTagged(s *shape, at string, depth int) error {
	var want uint64
	required := true
	switch s.kind {
	case shapeTag24:
		want = tagEncodedCBOR
	case shapeTDate:
		want = tagTDate
	case shapeSign1:
		want, required = 18, false
	case shapeMac0:
		want, required = 17, false
	}
	if mt, _ := c.peekMajor(); mt == majorTag {
		n, _ := c.head(majorTag)
		if n != want {
			return fmt.Errorf("%w: tag %d on %s, where the CDDL has tag %d", ErrMalformed, n, at, want)
		}
	} else if required {
		return fmt.Errorf("%w: %s without its tag %d", ErrMalformed, at, want)
	}
	switch s.kind {
	case shapeTag24:
		return c.checkString(majorBytes, "a byte string", at+" content")
	case shapeTDate:
		return c.checkString(majorText, "a text string", at+" content")
	}
	// COSE_Sign1 / COSE_Mac0 = [Headers, payload: bstr / nil, signature / tag: bstr]
	// Headers = (protected: empty_or_serialized_map, unprotected: header_map)
	n, ok := c.head(majorArray)
	if !ok || n != 4 {
		return fmt.Errorf("%w: %s is not a four-element COSE array", ErrMalformed, at)
	}
	if err := c.check(bytesShape, at+" protected header", depth+1); err != nil {
		return err
	}
	if err := c.check(headerMapShape, at+" unprotected header", depth+1); err != nil {
		return err
	}
	if len(*c) > 0 && (*c)[0] == 0xf6 { // null: detached payload
		*c = (*c)[1:]
	} else if err := c.check(bytesShape, at+" payload", depth+1); err != nil {
		return err
	}
	return c.check(bytesShape, at+" signature", depth+1)
}

// skip reads one item of any shape.
func (c *cursor) skip(at string, depth int) error {
	if depth > maxNestedLevels {
		return fmt.Errorf("%w: %s nested too deeply", ErrMalformed, at)
	}
	mt, ok := c.peekMajor()
	if !ok {
		return fmt.Errorf("%w: truncated at %s", ErrMalformed, at)
	}
	if mt == majorSimple {
		// Simple values and floats: the head carries no length of nested items.
		var size int
		switch ai := (*c)[0] & 0x1f; {
		case ai < 24:
			size = 1
		case ai <= 27:
			size = 1 << (ai - 24) // 1, 2, 4 or 8 bytes of argument
			size++
		}
		if size == 0 || len(*c) < size {
			return fmt.Errorf("%w: bad simple value at %s", ErrMalformed, at)
		}
		*c = (*c)[size:]
		return nil
	}
	n, ok := c.head(mt)
	if !ok {
		return fmt.Errorf("%w: truncated or indefinite item at %s", ErrMalformed, at)
	}
	switch mt {
	case majorBytes, majorText:
		if _, ok := c.take(n); !ok {
			return fmt.Errorf("%w: truncated at %s", ErrMalformed, at)
		}
	case majorArray, majorMap:
		items := n
		if mt == majorMap {
			if n > uint64(len(*c)) {
				return fmt.Errorf("%w: truncated at %s", ErrMalformed, at)
			}
			items = 2 * n
		}
		if items > uint64(len(*c)) {
			return fmt.Errorf("%w: truncated at %s", ErrMalformed, at)
		}
		for ; items > 0; items-- {
			if err := c.skip(at, depth+1); err != nil {
				return err
			}
		}
	case majorTag:
		// RFC 8949 section 3.4: the content of the built-in tags has a
		// type (a bignum is a byte string, a date-time a text string).
		var want byte
		typed := true
		switch n {
		case 0:
			want = majorText
		case 2, 3:
			want = majorBytes
		default:
			typed = false
		}
		if mt, ok := c.peekMajor(); typed && ok && mt != want {
			return fmt.Errorf("%w: tag %d with content of major type %d at %s", ErrMalformed, n, mt, at)
		}
		return c.skip(at, depth+1)
	}
	return nil
}

// CheckCOSEStructure reports, wrapping [ErrMalformed], whether data (one
// well-formed item) departs from the CDDL of a COSE_Sign1 (tag 18) or
// COSE_Mac0 (tag 17) of RFC 9052: an optional tag of that number, then
// [bstr, header map, bstr / nil, bstr], with no tag in front of any member
// (the self-described tag 55799 included, which a generic decoder drops
// silently). Package cose calls it before decoding a message.
func CheckCOSEStructure(data []byte, tag uint64) error {
	s := sign1Shape
	if tag == 17 {
		s = mac0Shape
	} else if tag != 18 {
		return fmt.Errorf("%w: no COSE structure has tag %d", ErrMalformed, tag)
	}
	return checkShape(data, s, "COSE structure")
}
