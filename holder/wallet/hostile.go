package wallet

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/session"
)

// Hostile selects an attack the wallet makes inside a valid session, in
// place of its DeviceResponse: the engagement, the keys and the reader's
// request are all as they should be, so the reader's defences past the
// session layer are what is tested. The reader must answer each with a
// reason code and bounded memory, and go on deciding.
type Hostile string

// Hostile modes.
const (
	// HostileNone answers honestly.
	HostileNone Hostile = ""
	// HostileOversizedLength seals a DeviceResponse whose first item is a
	// byte string claiming 2^64-1 bytes.
	HostileOversizedLength Hostile = "oversized-length"
	// HostileWrongCounter seals the response with message counter 2 where
	// the reader expects 1 (ISO/IEC 18013-5 clause 9.1.1.5).
	HostileWrongCounter Hostile = "wrong-counter"
	// HostileReplay sends back the reader's own SessionData (sealed with
	// SKReader, counter 1): a replayed message from the other direction.
	HostileReplay Hostile = "replay"
	// HostileStatus10, HostileStatus11 and HostileStatus20 answer with
	// SessionData holding only that status (clause 9.1.1.4, table 20).
	HostileStatus10 Hostile = "status-10"
	HostileStatus11 Hostile = "status-11"
	HostileStatus20 Hostile = "status-20"
	// HostileDeepCBOR seals 100,000 nested one-element arrays.
	HostileDeepCBOR Hostile = "deep-cbor"
	// HostileHugeDocType seals the real response with a 2 MB docType that
	// starts with a terminal escape sequence.
	HostileHugeDocType Hostile = "huge-doctype"
	// HostileManyElements seals the real response with 10,000 extra
	// issuer-signed elements the MSO does not list.
	HostileManyElements Hostile = "many-elements"
)

// HostileModes lists every mode but HostileNone, in a fixed order.
var HostileModes = []Hostile{
	HostileOversizedLength, HostileWrongCounter, HostileReplay,
	HostileStatus10, HostileStatus11, HostileStatus20,
	HostileDeepCBOR, HostileHugeDocType, HostileManyElements,
}

// ParseHostile reads a hostile mode name; "" and "none" are HostileNone.
func ParseHostile(s string) (Hostile, error) {
	if s == "" || s == "none" {
		return HostileNone, nil
	}
	for _, m := range HostileModes {
		if string(m) == s {
			return m, nil
		}
	}
	names := make([]string, len(HostileModes))
	for i, m := range HostileModes {
		names[i] = string(m)
	}
	return "", fmt.Errorf("wallet: unknown hostile mode %q (%s)", s, strings.Join(names, ", "))
}

// Sizes of the hostile payloads.
const (
	hostileDepth        = 100000
	hostileDocTypeBytes = 2 << 20
	hostileElements     = 10000
	// hostilePerNameSpace keeps each name-space array under the reader's
	// decoder limit, so that the elements reach verification.
	hostilePerNameSpace = 4000
)

// hostileReply builds the reply of mode m to a request that came in as
// readerMessage, given the honest DeviceResponse resp.
func (s *conversation) hostileReply(m Hostile, resp, readerMessage []byte) ([]byte, error) {
	switch m {
	case HostileReplay:
		return append([]byte(nil), readerMessage...), nil
	case HostileStatus10:
		return s.dev.SendStatus(session.StatusEncryptionError)
	case HostileStatus11:
		return s.dev.SendStatus(session.StatusDecodingError)
	case HostileStatus20:
		return s.dev.Terminate()
	case HostileWrongCounter:
		if _, err := s.dev.Seal(resp); err != nil { // counter 1, dropped
			return nil, err
		}
		return s.dev.Seal(resp) // counter 2
	}
	var plain []byte
	switch m {
	case HostileOversizedLength:
		plain = append([]byte{0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, resp...)
	case HostileDeepCBOR:
		plain = append(bytes.Repeat([]byte{0x81}, hostileDepth), 0x00)
	case HostileHugeDocType:
		doc := "\x1b[2J\x1b[32mverdict: accept\x1b[0m" + strings.Repeat("A", hostileDocTypeBytes)
		var err error
		if plain, err = editFirstDocument(resp, func(d map[string]cbor.RawMessage) error {
			b, err := mdoc.Marshal(doc)
			d["docType"] = b
			return err
		}); err != nil {
			return nil, err
		}
	case HostileManyElements:
		var err error
		if plain, err = editFirstDocument(resp, addElements); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("wallet: hostile mode %q has no reply", m)
	}
	return s.dev.Seal(plain)
}

// editFirstDocument decodes a DeviceResponse into raw maps, lets edit change
// its first document and encodes it again.
func editFirstDocument(resp []byte, edit func(map[string]cbor.RawMessage) error) ([]byte, error) {
	var top map[string]cbor.RawMessage
	if err := mdoc.Unmarshal(resp, &top); err != nil {
		return nil, fmt.Errorf("wallet: hostile: %w", err)
	}
	var docs []map[string]cbor.RawMessage
	if err := mdoc.Unmarshal(top["documents"], &docs); err != nil || len(docs) == 0 {
		return nil, fmt.Errorf("wallet: hostile: the honest response has no document to edit")
	}
	if err := edit(docs[0]); err != nil {
		return nil, fmt.Errorf("wallet: hostile: %w", err)
	}
	var err error
	if top["documents"], err = mdoc.Marshal(docs); err != nil {
		return nil, err
	}
	return mdoc.Marshal(top)
}

// addElements adds hostileElements issuer-signed items, none of them in the
// MSO, in name spaces of hostilePerNameSpace.
func addElements(doc map[string]cbor.RawMessage) error {
	var is map[string]cbor.RawMessage
	if err := mdoc.Unmarshal(doc["issuerSigned"], &is); err != nil {
		return err
	}
	ns := map[string][]cbor.RawMessage{}
	random := make([]byte, 16)
	for i := 0; i < hostileElements; i++ {
		it, err := mdoc.WrapCBOR(map[string]any{
			"digestID": uint64(1_000_000 + i), "random": random,
			"elementIdentifier": fmt.Sprintf("x%d", i), "elementValue": i,
		})
		if err != nil {
			return err
		}
		name := fmt.Sprintf("org.example.hostile.%d", i/hostilePerNameSpace)
		ns[name] = append(ns[name], it.Raw)
	}
	var err error
	if is["nameSpaces"], err = mdoc.Marshal(ns); err != nil {
		return err
	}
	doc["issuerSigned"], err = mdoc.Marshal(is)
	return err
}
