package mdoc

import (
	"fmt"
	"math"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/internal/smallset"
)

// COSEStructure is a COSE_Sign1 or COSE_Mac0 as read by [ReadCOSEStructure]
// (RFC 9052 sections 4.2 and 6.2):
//
//	COSE_Sign1 = [protected: bstr, unprotected: header_map, payload: bstr / nil, signature: bstr]
//	COSE_Mac0  = [protected: bstr, unprotected: header_map, payload: bstr / nil, tag: bstr]
//
// Every slice aliases the input.
type COSEStructure struct {
	// Protected is the content of the protected bstr, exactly as received.
	Protected   []byte
	Unprotected map[int64]cbor.RawMessage
	// Payload is the attached payload, nil when Detached.
	Payload   []byte
	Detached  bool
	Signature []byte
}

// coseHeaderShape is header_map = {Generic_Headers, * label => values}
// (RFC 9052 section 3), with the labels this project decodes: integers.
var coseHeaderShape = mapOf(intShape, anyShape, false)

// ReadCOSEStructure reads a COSE_Sign1 (tag 18) or COSE_Mac0 (tag 17), tagged
// with that number or untagged, in one pass once [CheckCOSEStructure] has
// proven its shape and the limits of the decode mode. The labels of the
// unprotected header must be integers within the int64 range and appear once,
// as when the header was decoded into a map[int64]; the protected header is
// returned as received (decode it with [ParseCOSEHeaderMap]). The result
// aliases data.
func ReadCOSEStructure(data []byte, tag uint64) (COSEStructure, error) {
	if err := CheckCOSEStructure(data, tag); err != nil {
		return COSEStructure{}, err
	}
	var s COSEStructure
	c := cursor(data)
	if mt, _ := c.peekMajor(); mt == majorTag {
		c.head(majorTag) // the number was checked
	}
	c.head(majorArray) // four members, checked
	s.Protected = c.bytes()
	var err error
	if s.Unprotected, err = readHeaderMap(&c, "unprotected"); err != nil {
		return COSEStructure{}, err
	}
	if c[0] == 0xf6 { // null: detached payload
		c = c[1:]
		s.Detached = true
	} else {
		s.Payload = c.bytes()
	}
	s.Signature = c.bytes()
	return s, nil
}

// ParseCOSEHeaderMap decodes a header_map (RFC 9052 section 3), such as the
// content of a protected header, that must span all of data: labels are
// integers within the int64 range, each once; values are returned as
// received (aliasing data). The limits of the decode mode apply.
func ParseCOSEHeaderMap(data []byte) (map[int64]cbor.RawMessage, error) {
	if err := checkShape(data, coseHeaderShape, "COSE header map"); err != nil {
		return nil, err
	}
	c := cursor(data)
	return readHeaderMap(&c, "protected")
}

// ScanCOSEHeaderMap reads a header_map that must span all of data, held to
// what [ParseCOSEHeaderMap] requires, and calls visit with each label and
// its value as received (aliasing data), without building a map. On an
// error, visit may have seen some of the labels.
func ScanCOSEHeaderMap(data []byte, visit func(label int64, value []byte)) error {
	if err := checkShape(data, coseHeaderShape, "COSE header map"); err != nil {
		return err
	}
	c := cursor(data)
	return scanHeaderMap(&c, "protected", visit)
}

// readHeaderMap reads a header map whose well-formedness was proven into a
// map, as scanHeaderMap checks it. An empty header map gives a nil map.
func readHeaderMap(c *cursor, which string) (map[int64]cbor.RawMessage, error) {
	_, n, _, _ := parseHead(*c) // the pairs are there: the shape was proven
	if n == 0 {
		c.head(majorMap)
		return nil, nil // an empty bucket, as in most COSE_Mac0: no map to allocate
	}
	m := make(map[int64]cbor.RawMessage, n)
	err := scanHeaderMap(c, which, func(label int64, value []byte) { m[label] = value })
	if err != nil {
		return nil, err
	}
	return m, nil
}

// scanHeaderMap reads a header map whose well-formedness was proven and
// calls visit with each label and value: every label must be an untagged
// integer that fits an int64 and appear once (compared by value, as the
// decode mode does).
func scanHeaderMap(c *cursor, which string, visit func(label int64, value []byte)) error {
	var seen smallset.Set[int64]
	for n, _ := c.head(majorMap); n > 0; n-- {
		label, ok := c.int64()
		if !ok {
			return fmt.Errorf("%w: COSE %s header label is not an integer of the int64 range", ErrMalformed, which)
		}
		if seen.Add(label) {
			return fmt.Errorf("%w: COSE %s header label %d twice", ErrMalformed, which, label)
		}
		visit(label, c.item())
	}
	return nil
}

// bytes reads a byte string the shape check proved there and returns its
// content.
func (c *cursor) bytes() []byte {
	n, _ := c.head(majorBytes)
	b, _ := c.take(n)
	return b
}

// int64 reads an untagged integer (major type 0 or 1) that fits an int64.
// On failure the cursor may have moved.
func (c *cursor) int64() (int64, bool) {
	mt, ok := c.peekMajor()
	if !ok || (mt != majorUint && mt != majorNint) {
		return 0, false
	}
	arg, ok := c.head(mt)
	if !ok || arg > math.MaxInt64 {
		return 0, false
	}
	if mt == majorNint {
		return -1 - int64(arg), true
	}
	return int64(arg), true
}

// ReadBytes returns the content of data, one untagged definite-length CBOR
// byte string (RFC 8949 major type 2) that spans all of data, without
// copying: the result aliases data.
func ReadBytes(data []byte) ([]byte, bool) {
	c := cursor(data)
	n, ok := c.head(majorBytes)
	return c, ok && n == uint64(len(c))
}

// ReadInt decodes data, one untagged CBOR integer (RFC 8949 major type 0 or
// 1) that fits an int64 and spans all of data.
func ReadInt(data []byte) (int64, bool) {
	c := cursor(data)
	v, ok := c.int64()
	return v, ok && len(c) == 0
}
