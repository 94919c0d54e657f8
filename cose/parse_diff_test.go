package cose

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/internal/difftest"
	"github.com/idreader/idreader/mdoc"
)

// refParse is the reference reader of COSE_Sign1 and COSE_Mac0: the generic
// decoder (the project's decode mode, by reflection) after the shape check,
// the way parse read messages before mdoc.ReadCOSEStructure read them
// directly. FuzzParseMatchesReference holds the direct reader to it:
// whatever the direct reader accepts, the reference accepts too, with the
// same result.
func refParse(data []byte, tag uint64) (*Message, error) {
	body := data
	if len(data) > 0 && data[0]>>5 == 6 {
		var rt cbor.RawTag
		if err := mdoc.Unmarshal(data, &rt); err != nil {
			return nil, errorf(ErrMalformed, "%v", err)
		}
		if rt.Number != tag {
			return nil, errorf(ErrMalformed, "COSE tag %d, want %d", rt.Number, tag)
		}
		body = rt.Content
	}
	if err := mdoc.Unmarshal(data, new(cbor.RawMessage)); err != nil {
		return nil, errorf(ErrMalformed, "%v", err)
	}
	if err := mdoc.CheckCOSEStructure(data, tag); err != nil {
		return nil, errorf(ErrMalformed, "%v", err)
	}
	var w wireMessage
	if err := mdoc.Unmarshal(body, &w); err != nil {
		return nil, errorf(ErrMalformed, "COSE structure: %v", err)
	}
	if w.Protected == nil || w.Sig == nil || w.Payload == nil {
		return nil, errorf(ErrMalformed, "COSE structure with missing members")
	}
	m := &Message{Protected: w.Protected, Unprotected: w.Unprotected, Signature: w.Sig}
	if len(w.Payload) == 1 && w.Payload[0] == 0xf6 {
		m.Detached = true
	} else if err := mdoc.Unmarshal(w.Payload, &m.Payload); err != nil {
		return nil, errorf(ErrMalformed, "COSE payload is neither bstr nor null")
	}
	var prot map[int64]cbor.RawMessage
	if len(w.Protected) > 0 {
		if err := mdoc.Unmarshal(w.Protected, &prot); err != nil {
			return nil, errorf(ErrMalformed, "COSE protected header: %v", err)
		}
	}
	if _, ok := prot[HeaderCrit]; ok {
		return nil, errorf(ErrUnsupported, "COSE crit header")
	}
	alg, ok := prot[HeaderAlg]
	if !ok {
		return nil, errorf(ErrMalformed, "COSE protected header without alg")
	}
	var a int64
	if err := mdoc.Unmarshal(alg, &a); err != nil {
		return nil, errorf(ErrUnsupported, "COSE alg is not an integer")
	}
	m.Alg = Algorithm(a)
	if _, dup := m.Unprotected[HeaderAlg]; dup {
		return nil, errorf(ErrMalformed, "COSE alg in both header buckets")
	}
	m.x5chain = m.Unprotected[HeaderX5Chain]
	if x, ok := prot[HeaderX5Chain]; ok {
		if m.x5chain != nil {
			return nil, errorf(ErrMalformed, "x5chain in both header buckets")
		}
		m.x5chain = x
	}
	return m, nil
}

// wireMessage is the reference's wire form.
type wireMessage struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected map[int64]cbor.RawMessage
	Payload     cbor.RawMessage
	Sig         []byte
}

// sameMessage compares two messages, a nil and an empty slice or map alike.
func sameMessage(a, b *Message) bool {
	norm := func(m *Message) string {
		return fmt.Sprintf("%x|%d|%v|%x|%v|%x|%x", m.Protected, m.Alg, m.Unprotected, m.Payload, m.Detached, m.Signature, m.x5chain)
	}
	return norm(a) == norm(b)
}

// checkCOSEAgainstReference holds parse to refParse under both tags.
func checkCOSEAgainstReference(t testing.TB, data []byte) {
	for _, tag := range []uint64{TagSign1, TagMac0} {
		read := func(data []byte) (*Message, error) { return parse(data, tag) }
		reference := func(data []byte) (*Message, error) { return refParse(data, tag) }
		difftest.Agree(t, fmt.Sprintf("tag %d: direct reader", tag), data, read, reference, sameMessage)
	}
}

// parseEither reads data as a COSE_Sign1 or, failing that, a COSE_Mac0.
func parseEither(data []byte) (*Message, error) {
	m, err := parse(data, TagSign1)
	if err == nil {
		return m, nil
	}
	m, errMac0 := parse(data, TagMac0)
	if errMac0 == nil {
		return m, nil
	}
	return nil, errors.Join(err, errMac0)
}

func coseSeeds(tb testing.TB) [][]byte {
	prot := enc(tb, map[int]int{1: -7})
	return [][]byte{
		vec(tb, "issuer_auth"), vec(tb, "device_mac"), vec(tb, "reader_auth"),
		{0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0xf6, 0x40},
		enc(tb, []any{prot, map[int]any{33: []any{}}, nil, make([]byte, 64)}),
		enc(tb, []any{prot, map[int]any{-70000: "x", 4: []byte("kid"), 7: []any{cbor.SimpleValue(32), 2.5, nil}}, []byte{}, []byte{}}),
		enc(tb, []any{enc(tb, map[int]any{1: 5, 33: []byte("c")}), map[int]any{}, nil, make([]byte, 32)}),
	}
}

func TestParseMatchesReference(t *testing.T) {
	// Every seed is read under one tag or the other.
	seeds := coseSeeds(t)
	difftest.Seeds(t, seeds, len(seeds), parseEither, checkCOSEAgainstReference)
	// The result does not alias the caller's buffer.
	data := vec(t, "issuer_auth")
	m, err := ParseSign1(data)
	if err != nil {
		t.Fatal(err)
	}
	keep := bytes.Clone(m.Payload)
	clear(data)
	if !bytes.Equal(keep, m.Payload) {
		t.Fatal("parsed message aliases the input")
	}
}

// TestParseRefusesWhatTheDecoderRefused: what the decode mode refused while
// decoding (not merely the shape) the direct reader refuses too.
func TestParseRefusesWhatTheDecoderRefused(t *testing.T) {
	prot := enc(t, map[int]int{1: -7})
	msg := func(protected, unprotected []byte) []byte {
		out := append([]byte{0x84}, mdoc.AppendHead(nil, 0x40, uint64(len(protected)))...)
		out = append(append(out, protected...), unprotected...)
		return append(out, 0x41, 'p', 0x40)
	}
	big := []byte{0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0}
	cases := map[string][]byte{
		"text label in unprotected":       msg(prot, []byte{0xa1, 0x61, 'x', 0x00}),
		"label over int64 in unprotected": msg(prot, append(append([]byte{0xa1}, big...), 0x00)),
		"duplicate unprotected label":     msg(prot, []byte{0xa2, 0x04, 0x40, 0x04, 0x40}),
		"duplicate unprotected by value":  msg(prot, []byte{0xa2, 0x04, 0x40, 0x18, 0x04, 0x40}),
		"duplicate protected label":       msg([]byte{0xa2, 0x01, 0x26, 0x01, 0x26}, []byte{0xa0}),
		"text label in protected":         msg([]byte{0xa2, 0x01, 0x26, 0x61, 'x', 0x00}, []byte{0xa0}),
		"protected not a map":             msg([]byte{0x81, 0x01}, []byte{0xa0}),
		"protected trailing bytes":        msg([]byte{0xa1, 0x01, 0x26, 0x00}, []byte{0xa0}),
		"protected indefinite map":        msg([]byte{0xbf, 0x01, 0x26, 0xff}, []byte{0xa0}),
		"protected truncated":             msg([]byte{0xa2, 0x01, 0x26}, []byte{0xa0}),
		"alg over int64":                  msg(append([]byte{0xa1, 0x01}, big...), []byte{0xa0}),
		"alg text":                        msg([]byte{0xa1, 0x01, 0x62, 'E', 'S'}, []byte{0xa0}),
		"indefinite unprotected value":    msg(prot, []byte{0xa1, 0x04, 0x5f, 0xff}),
		"two-byte simple value below 32":  msg(prot, []byte{0xa1, 0x04, 0xf8, 0x1f}),
		"deep unprotected value":          msg(prot, append(append([]byte{0xa1, 0x04}, bytes.Repeat([]byte{0x81}, 30)...), 0)),
	}
	refSign1 := func(data []byte) (*Message, error) { return refParse(data, TagSign1) }
	difftest.Refused(t, cases, refSign1, ParseSign1)
}

func FuzzParseMatchesReference(f *testing.F) {
	difftest.Fuzz(f, coseSeeds(f), checkCOSEAgainstReference)
}

// TestParseNoCopy: ParseSign1NoCopy and ParseMac0NoCopy read what the
// copying parsers read, and their result aliases the input.
func TestParseNoCopy(t *testing.T) {
	for _, tc := range []struct {
		name         string
		copied, none func([]byte) (*Message, error)
	}{{"issuer_auth", ParseSign1, ParseSign1NoCopy}, {"device_mac", ParseMac0, ParseMac0NoCopy}} {
		data := vec(t, tc.name)
		want, err := tc.copied(data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tc.none(data)
		if err != nil {
			t.Fatal(err)
		}
		if !sameMessage(got, want) {
			t.Errorf("%s: NoCopy read another message than the copying parser", tc.name)
		}
		if len(got.Signature) == 0 || &got.Signature[0] != &data[len(data)-len(got.Signature)] {
			t.Errorf("%s: the NoCopy result does not alias its input", tc.name)
		}
	}
}
