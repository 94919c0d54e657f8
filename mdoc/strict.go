package mdoc

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
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
	// fields are the known keys of a struct (at most 64); others are
	// skipped, but a key that differs from a known one only in case is
	// refused.
	fields []field
}

// field is one named key of a struct shape.
type field struct {
	name     string
	dotName  string // "." + name, the path segment
	shape    *shape
	required bool
}

// field returns the index of the field named k, -1 if none.
func (s *shape) field(k []byte) int {
	for i := range s.fields {
		if s.fields[i].name == string(k) {
			return i
		}
	}
	return -1
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
	s := &shape{kind: shapeStruct}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) > 64 {
		panic("mdoc: a struct shape has at most 64 fields")
	}
	for _, name := range names {
		s.fields = append(s.fields, field{name: name, dotName: "." + name, shape: fields[name], required: slices.Contains(required, name)})
	}
	for _, r := range required {
		if fields[r] == nil {
			panic("mdoc: required field " + r + " not in the struct shape")
		}
	}
	return s
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

// walker checks a message against a shape. segs[d] is the path segment of
// the item being read at depth d; the text of a position is built only when
// a check fails, so that a message of the right shape is walked without
// allocating.
type walker struct {
	c    cursor
	segs [maxNestedLevels + 2]string
}

// enter names the item about to be read at depth+1 and returns w.
func (w *walker) enter(depth int, seg string) *walker {
	w.segs[depth+1] = seg
	return w
}

// pos is a position of the message for an error: the segments up to depth,
// then suffix.
type pos struct {
	w      *walker
	depth  int
	suffix string
}

func (w *walker) pos(depth int) pos { return pos{w: w, depth: depth} }

func (p pos) String() string {
	return strings.Join(p.w.segs[:p.depth+1], "") + p.suffix
}

// checkShape reports, wrapping [ErrMalformed], the first place where data (one
// well-formed CBOR item) departs from s. what names the rule in errors.
//
// Besides the shape it enforces what the project's decode mode does
// (DecMode): definite lengths, at most maxNestedLevels of nested arrays,
// maps and tags, at most maxArrayElements elements and maxMapPairs pairs,
// valid UTF-8 in every text string it reads as text, no duplicate key in a
// map or struct (keys compared by value, as the decoder does). A message
// that passes can therefore be read directly, without a second decoder.
func checkShape(data []byte, s *shape, what string) error {
	if len(data) > MaxMessageSize {
		return fmt.Errorf("%w: %s of %d bytes exceeds the %d-byte limit", ErrMalformed, what, len(data), MaxMessageSize)
	}
	w := walker{c: cursor(data)}
	w.segs[0] = what
	if err := w.check(s, 0); err != nil {
		return err
	}
	if len(w.c) != 0 {
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

// nest checks that a container or tag read at depth may hold items: the
// decode mode counts the container itself as one level.
func nest(depth int, at pos) error {
	if depth+1 > maxNestedLevels {
		return fmt.Errorf("%w: %s nested too deeply", ErrMalformed, at.String())
	}
	return nil
}

// count checks the number of elements (array) or pairs (map) against the
// decode mode's limits.
func count(mt byte, n uint64, at pos) error {
	if (mt == majorArray && n > maxArrayElements) || (mt == majorMap && n > maxMapPairs) {
		return fmt.Errorf("%w: %s has %d entries, more than the limit", ErrMalformed, at.String(), n)
	}
	return nil
}

// check reads one item of shape s.
func (w *walker) check(s *shape, depth int) error {
	c, at := &w.c, w.pos(depth)
	if depth > maxNestedLevels {
		return fmt.Errorf("%w: %s nested too deeply", ErrMalformed, at.String())
	}
	mt, ok := c.peekMajor()
	if !ok {
		return fmt.Errorf("%w: truncated at %s", ErrMalformed, at.String())
	}
	switch s.kind {
	case shapeAny:
		return w.skip(depth)
	case shapeTag24, shapeTDate, shapeSign1, shapeMac0:
		return w.checkTagged(s, depth)
	}
	if mt == majorTag {
		n, _ := c.head(majorTag)
		return fmt.Errorf("%w: tag %d on %s, where the CDDL has no tag", ErrMalformed, n, at.String())
	}
	switch s.kind {
	case shapeText:
		_, err := c.checkText(at)
		return err
	case shapeBytes:
		return c.checkString(majorBytes, "a byte string", at)
	case shapeUint:
		if _, ok := c.head(majorUint); !ok {
			return fmt.Errorf("%w: %s is not an unsigned integer", ErrMalformed, at.String())
		}
		return nil
	case shapeInt:
		if mt != majorUint && mt != majorNint {
			return fmt.Errorf("%w: %s is not an integer", ErrMalformed, at.String())
		}
		if _, ok := c.head(mt); !ok {
			return fmt.Errorf("%w: truncated at %s", ErrMalformed, at.String())
		}
		return nil
	case shapeArray:
		n, err := c.open(majorArray, "an array", s, depth, at)
		if err != nil {
			return err
		}
		for ; n > 0; n-- {
			if err := w.enter(depth, "[]").check(s.elem, depth+1); err != nil {
				return err
			}
		}
		return nil
	case shapeMap:
		return w.checkMap(s, depth)
	case shapeStruct:
		return w.checkStruct(s, depth)
	}
	return fmt.Errorf("%w: no shape for %s", ErrMalformed, at.String())
}

// checkString reads a definite-length string of major type mt.
func (c *cursor) checkString(mt byte, want string, at pos) error {
	n, ok := c.head(mt)
	if !ok {
		return fmt.Errorf("%w: %s is not %s", ErrMalformed, at.String(), want)
	}
	if _, ok := c.take(n); !ok {
		return fmt.Errorf("%w: truncated at %s", ErrMalformed, at.String())
	}
	return nil
}

// checkText reads an untagged, definite-length text string of valid UTF-8
// (RFC 8949 section 3.1, major type 3) and returns its content.
func (c *cursor) checkText(at pos) ([]byte, error) {
	n, ok := c.head(majorText)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a text string", ErrMalformed, at.String())
	}
	b, ok := c.take(n)
	if !ok {
		return nil, fmt.Errorf("%w: truncated at %s", ErrMalformed, at.String())
	}
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("%w: %s is not valid UTF-8", ErrMalformed, at.String())
	}
	return b, nil
}

// mapKey is a map key as the decoder compares it: major type, argument, and
// for a string its content.
type mapKey struct {
	mt  byte
	arg uint64
	s   string
}

// keyOf reads the key just checked, between before and the cursor now.
func keyOf(before, after cursor) mapKey {
	k := cursor(before[:len(before)-len(after)])
	mt, _ := k.peekMajor()
	arg, _ := k.head(mt)
	if mt == majorText || mt == majorBytes {
		return mapKey{mt: mt, s: string(k)}
	}
	return mapKey{mt: mt, arg: arg}
}

// keySet finds duplicate map keys. Maps of up to 16 keys, the usual case
// (an MSO namespace of an mDL has a dozen or more digests), are compared
// pairwise over the received bytes without allocating; larger ones go into
// a Go map.
type keySet struct {
	small [16]cursor
	n     int
	big   map[mapKey]struct{}
}

// add records the key spanning before..after and reports whether it was
// already there.
func (ks *keySet) add(before, after cursor) bool {
	k := cursor(before[:len(before)-len(after)])
	if ks.big == nil {
		for _, o := range ks.small[:ks.n] {
			if sameKey(o, k) {
				return true
			}
		}
		if ks.n < len(ks.small) {
			ks.small[ks.n] = k
			ks.n++
			return false
		}
		ks.big = make(map[mapKey]struct{}, 2*len(ks.small))
		for _, o := range ks.small[:ks.n] {
			ks.big[keyOf(o, nil)] = struct{}{}
		}
	}
	mk := keyOf(k, nil)
	if _, dup := ks.big[mk]; dup {
		return true
	}
	ks.big[mk] = struct{}{}
	return false
}

// sameKey compares two encoded keys (integers or strings) by value: the
// same major type, argument and content, whatever the head's length.
func sameKey(a, b cursor) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	if a[0] == b[0] {
		// The same major type and the same head length: the bytes decide.
		return string(a) == string(b)
	}
	if a[0]>>5 != b[0]>>5 || (a[0]&0x1f < 24 && b[0]&0x1f < 24) {
		// Another major type, or two different short arguments.
		return false
	}
	ma, na, ha, _ := parseHead(a)
	mb, nb, hb, _ := parseHead(b)
	if ma != mb || na != nb {
		return false
	}
	if ma == majorText || ma == majorBytes {
		return string(a[ha:]) == string(b[hb:])
	}
	return ma == majorUint || ma == majorNint
}

// open reads the head of an array or map (major type mt; "an array" or "a
// map" in errors) at depth and returns its count, enforcing the nesting and
// count limits and, for a [+ ...] or {+ ...} shape, that it is not empty.
func (c *cursor) open(mt byte, kind string, s *shape, depth int, at pos) (uint64, error) {
	n, ok := c.head(mt)
	if !ok {
		return 0, fmt.Errorf("%w: %s is not %s", ErrMalformed, at.String(), kind)
	}
	if err := nest(depth, at); err != nil {
		return 0, err
	}
	if err := count(mt, n, at); err != nil {
		return 0, err
	}
	if n == 0 && s.nonEmpty {
		return 0, fmt.Errorf("%w: %s is an empty %s", ErrMalformed, at.String(), kind[strings.IndexByte(kind, ' ')+1:])
	}
	return n, nil
}

// checkMap reads {* key => elem} or {+ key => elem}.
func (w *walker) checkMap(s *shape, depth int) error {
	c, at := &w.c, w.pos(depth)
	n, err := c.open(majorMap, "a map", s, depth, at)
	if err != nil {
		return err
	}
	var keys keySet
	for ; n > 0; n-- {
		before := *c
		if err := w.enter(depth, " key").check(s.key, depth+1); err != nil {
			return err
		}
		if s.key.kind != shapeAny && keys.add(before, *c) {
			return fmt.Errorf("%w: %s has a duplicate key", ErrMalformed, at.String())
		}
		if err := w.enter(depth, " value").check(s.elem, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// checkStruct reads a map with named text keys.
func (w *walker) checkStruct(s *shape, depth int) error {
	c, at := &w.c, w.pos(depth)
	n, ok := c.head(majorMap)
	if !ok {
		return fmt.Errorf("%w: %s is not a map", ErrMalformed, at.String())
	}
	if err := nest(depth, at); err != nil {
		return err
	}
	if err := count(majorMap, n, at); err != nil {
		return err
	}
	var seen uint64 // bit i: s.fields[i] read
	var unknown keySet
	for i := uint64(0); i < n; i++ {
		before := *c
		k, err := c.checkText(at)
		if err != nil {
			return fmt.Errorf("%w: %s has a key that is not an untagged text string", ErrMalformed, at.String())
		}
		f := s.field(k)
		if f < 0 {
			for _, fd := range s.fields {
				if strings.EqualFold(fd.name, string(k)) {
					return fmt.Errorf("%w: %s has key %.64q where the CDDL has %q (keys are case-sensitive)", ErrMalformed, at.String(), k, fd.name)
				}
			}
			if unknown.add(before, *c) {
				return fmt.Errorf("%w: %s has key %.64q twice", ErrMalformed, at.String(), k)
			}
			if err := w.enter(depth, "").skip(depth + 1); err != nil {
				return err
			}
			continue
		}
		fd := &s.fields[f]
		if seen&(1<<f) != 0 {
			return fmt.Errorf("%w: %s has key %q twice", ErrMalformed, at.String(), fd.name)
		}
		seen |= 1 << f
		if err := w.enter(depth, fd.dotName).check(fd.shape, depth+1); err != nil {
			return err
		}
	}
	for i, fd := range s.fields {
		if fd.required && seen&(1<<i) == 0 {
			return fmt.Errorf("%w: %s without %s", ErrMalformed, at.String(), fd.name)
		}
	}
	return nil
}

// checkTagged reads the positions whose CDDL carries a tag: #6.24(bstr) and
// #6.0(tstr) require theirs; COSE_Sign1 and COSE_Mac0 may carry 18 and 17
// (RFC 9052 section 2) and are then [bstr, header map, bstr / nil, bstr].
func (w *walker) checkTagged(s *shape, depth int) error {
	c, at := &w.c, w.pos(depth)
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
			return fmt.Errorf("%w: tag %d on %s, where the CDDL has tag %d", ErrMalformed, n, at.String(), want)
		}
		if err := nest(depth, at); err != nil {
			return err
		}
		depth++
		w.segs[depth] = ""
	} else if required {
		return fmt.Errorf("%w: %s without its tag %d", ErrMalformed, at.String(), want)
	}
	switch s.kind {
	case shapeTag24:
		return c.checkString(majorBytes, "a byte string", pos{w: w, depth: depth, suffix: " content"})
	case shapeTDate:
		_, err := c.checkText(pos{w: w, depth: depth, suffix: " content"})
		return err
	}
	// COSE_Sign1 / COSE_Mac0 = [Headers, payload: bstr / nil, signature / tag: bstr]
	// Headers = (protected: empty_or_serialized_map, unprotected: header_map)
	n, ok := c.head(majorArray)
	if !ok || n != 4 {
		return fmt.Errorf("%w: %s is not a four-element COSE array", ErrMalformed, at.String())
	}
	if err := nest(depth, at); err != nil {
		return err
	}
	if err := w.enter(depth, " protected header").check(bytesShape, depth+1); err != nil {
		return err
	}
	if err := w.enter(depth, " unprotected header").check(headerMapShape, depth+1); err != nil {
		return err
	}
	if len(*c) > 0 && (*c)[0] == 0xf6 { // null: detached payload
		*c = (*c)[1:]
	} else if err := w.enter(depth, " payload").check(bytesShape, depth+1); err != nil {
		return err
	}
	return w.enter(depth, " signature").check(bytesShape, depth+1)
}

// skip reads one item of any shape, as well-formed as the decode mode
// requires (definite lengths, nesting and size limits).
func (w *walker) skip(depth int) error {
	c, at := &w.c, w.pos(depth)
	if depth > maxNestedLevels {
		return fmt.Errorf("%w: %s nested too deeply", ErrMalformed, at.String())
	}
	mt, ok := c.peekMajor()
	if !ok {
		return fmt.Errorf("%w: truncated at %s", ErrMalformed, at.String())
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
			return fmt.Errorf("%w: bad simple value at %s", ErrMalformed, at.String())
		}
		if size == 2 && (*c)[1] < 32 {
			// RFC 8949 section 3.3: simple values below 32 have only
			// the one-byte form; the two-byte form is not well-formed.
			return fmt.Errorf("%w: simple value %d in two bytes at %s", ErrMalformed, (*c)[1], at.String())
		}
		*c = (*c)[size:]
		return nil
	}
	n, ok := c.head(mt)
	if !ok {
		return fmt.Errorf("%w: truncated or indefinite item at %s", ErrMalformed, at.String())
	}
	switch mt {
	case majorBytes, majorText:
		if _, ok := c.take(n); !ok {
			return fmt.Errorf("%w: truncated at %s", ErrMalformed, at.String())
		}
	case majorArray, majorMap:
		if err := nest(depth, at); err != nil {
			return err
		}
		if err := count(mt, n, at); err != nil {
			return err
		}
		items := n
		if mt == majorMap {
			items = 2 * n
		}
		if items > uint64(len(*c)) {
			return fmt.Errorf("%w: truncated at %s", ErrMalformed, at.String())
		}
		for ; items > 0; items-- {
			if err := w.enter(depth, "").skip(depth + 1); err != nil {
				return err
			}
		}
	case majorTag:
		if err := nest(depth, at); err != nil {
			return err
		}
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
			return fmt.Errorf("%w: tag %d with content of major type %d at %s", ErrMalformed, n, mt, at.String())
		}
		return w.enter(depth, "").skip(depth + 1)
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
