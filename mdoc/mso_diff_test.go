package mdoc

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/idreader/idreader/internal/difftest"
)

// refParseMSO is the reference reader of the MobileSecurityObject: the
// generic decoder (the project's decode mode, by reflection) followed by the
// shape check, the way ParseMSO read it before it read the MSO directly.
// FuzzParseMSO holds the direct reader to it: whatever the direct reader
// accepts, the reference accepts too, with the same result.
func refParseMSO(data []byte) (*MSO, error) {
	var w msoWire
	if err := Unmarshal(data, &w); err != nil {
		return nil, err
	}
	if err := checkShape(data, msoShape, "MobileSecurityObject"); err != nil {
		return nil, err
	}
	if w.Version == nil || w.DigestAlgorithm == nil || w.ValueDigests == nil || w.DeviceKeyInfo == nil ||
		w.DeviceKeyInfo.DeviceKey == nil || w.DocType == nil || w.ValidityInfo == nil ||
		w.ValidityInfo.Signed == nil || w.ValidityInfo.ValidFrom == nil || w.ValidityInfo.ValidUntil == nil {
		return nil, fmt.Errorf("%w: incomplete MSO", ErrMalformed)
	}
	key, err := ParseCOSEKey(w.DeviceKeyInfo.DeviceKey)
	if err != nil {
		return nil, err
	}
	digests, err := parseValueDigests(w.ValueDigests)
	if err != nil {
		return nil, err
	}
	return &MSO{
		Version: *w.Version, DigestAlgorithm: *w.DigestAlgorithm, ValueDigests: digests, DocType: *w.DocType,
		DeviceKeyInfo: DeviceKeyInfo{DeviceKey: key, KeyAuthorizations: w.DeviceKeyInfo.KeyAuthorizations, KeyInfo: w.DeviceKeyInfo.KeyInfo},
		ValidityInfo: ValidityInfo{Signed: *w.ValidityInfo.Signed, ValidFrom: *w.ValidityInfo.ValidFrom,
			ValidUntil: *w.ValidityInfo.ValidUntil, Expected: w.ValidityInfo.Expected},
		Status: w.Status,
	}, nil
}

func checkMSOAgainstReference(t testing.TB, data []byte) {
	difftest.Agree(t, "direct MSO reader", data, ParseMSO, refParseMSO, difftest.DeepEqual[*MSO])
}

// msoVariants are MSOs with every optional member: keyAuthorizations with
// both lists, keyInfo with a negative label, expectedUpdate, status, an
// unknown member and fractional, offset dates.
func msoVariants(tb testing.TB) [][]byte {
	mso := annexDHex(tb, "mobile_security_object")
	full := rawMap(tb, mso)
	dki := rawMap(tb, full["deviceKeyInfo"])
	dki["keyAuthorizations"] = mustMarshal(tb, map[string]any{
		"nameSpaces":   []string{"org.example.ns"},
		"dataElements": map[string][]string{NameSpaceMDL: {"family_name", "portrait"}},
	})
	dki["keyInfo"] = mustMarshal(tb, map[int64]any{-7: "x", 1: []int{1, 2}})
	full["deviceKeyInfo"] = mustMarshal(tb, dki)
	vi := rawMap(tb, full["validityInfo"])
	vi["expectedUpdate"] = tagged(tb, 0, mustMarshal(tb, "2021-10-01T13:30:02.25+02:00"))
	full["validityInfo"] = mustMarshal(tb, vi)
	full["status"] = mustMarshal(tb, map[string]any{"status_list": map[string]any{"idx": 412, "uri": "https://example.com/1"}})
	full["x-unknown"] = mustMarshal(tb, []any{1, "two", cbor.Tag{Number: 1, Content: 5}, cbor.SimpleValue(32), 1.5, nil})
	empty := rawMap(tb, mso)
	dki = rawMap(tb, empty["deviceKeyInfo"])
	dki["keyAuthorizations"] = []byte{0xa0}
	empty["deviceKeyInfo"] = mustMarshal(tb, dki)
	return [][]byte{mso, mustMarshal(tb, full), mustMarshal(tb, empty)}
}

func TestParseMSOMatchesReference(t *testing.T) {
	// Every variant is read, by the reference too (checkMSOAgainstReference
	// fails on a variant that only the direct reader accepts).
	variants := msoVariants(t)
	difftest.Seeds(t, variants, len(variants), ParseMSO, checkMSOAgainstReference)
	m, _ := ParseMSO(msoVariants(t)[1])
	if !m.DeviceKeyInfo.KeyAuthorizations.Authorizes(NameSpaceMDL, "portrait") ||
		!m.DeviceKeyInfo.KeyAuthorizations.Authorizes("org.example.ns", "any") ||
		m.DeviceKeyInfo.KeyAuthorizations.Authorizes(NameSpaceMDL, "birth_date") {
		t.Error("keyAuthorizations not read")
	}
	if m.ValidityInfo.Expected == nil || m.Status == nil || len(m.DeviceKeyInfo.KeyInfo) != 2 {
		t.Errorf("optional members not read: %+v", m)
	}
}

// TestParseMSORefusesWhatTheDecoderRefused: what the decode mode refused
// while decoding (not merely the shape) the direct reader refuses too.
func TestParseMSORefusesWhatTheDecoderRefused(t *testing.T) {
	mso := annexDHex(t, "mobile_security_object")
	// splice writes a map whose values are used as they are, well-formed
	// or not (the encoder would check them).
	splice := func(m map[string]cbor.RawMessage) []byte {
		out := AppendHead(nil, 0xa0, uint64(len(m)))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			out = append(append(out, mustMarshal(t, k)...), m[k]...)
		}
		return out
	}
	edit := func(e func(m map[string]cbor.RawMessage)) []byte {
		m := rawMap(t, mso)
		e(m)
		return splice(m)
	}
	editDKI := func(k string, v []byte) []byte {
		return edit(func(m map[string]cbor.RawMessage) {
			dki := rawMap(t, m["deviceKeyInfo"])
			dki[k] = v
			m["deviceKeyInfo"] = splice(dki)
		})
	}
	editVI := func(k string, v []byte) []byte {
		return edit(func(m map[string]cbor.RawMessage) {
			vi := rawMap(t, m["validityInfo"])
			vi[k] = v
			m["validityInfo"] = splice(vi)
		})
	}
	// {"version": .., "version": .., rest}: prepend a duplicate pair.
	dupTop := func(base []byte, k string, v []byte) []byte {
		out := append([]byte{base[0] + 1}, mustMarshal(t, k)...)
		out = append(out, v...)
		return append(out, base[1:]...)
	}
	withStatus := edit(func(m map[string]cbor.RawMessage) { m["status"] = []byte{0} })
	cases := map[string][]byte{
		"duplicate known key":             dupTop(mso, "docType", mustMarshal(t, "x")),
		"duplicate status":                dupTop(withStatus, "status", []byte{0}),
		"keyInfo label over int64":        editDKI("keyInfo", []byte{0xa1, 0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0, 0}),
		"keyInfo label under int64":       editDKI("keyInfo", []byte{0xa1, 0x3b, 0x80, 0, 0, 0, 0, 0, 0, 0, 0}),
		"keyInfo duplicate label":         editDKI("keyInfo", []byte{0xa2, 0x01, 0x00, 0x18, 0x01, 0x00}),
		"keyAuthorizations bad UTF8":      editDKI("keyAuthorizations", append(append([]byte{0xa1}, mustMarshal(t, "nameSpaces")...), 0x81, 0x62, 0xc3, 0x28)),
		"bad tdate":                       editVI("signed", tagged(t, 0, mustMarshal(t, "2020-13-01T00:00:00Z"))),
		"tdate with bad UTF-8":            editVI("validFrom", []byte{0xc0, 0x62, 0xc3, 0x28}),
		"indefinite status":               edit(func(m map[string]cbor.RawMessage) { m["status"] = []byte{0xbf, 0xff} }),
		"two-byte simple value in status": edit(func(m map[string]cbor.RawMessage) { m["status"] = []byte{0xf8, 0x10} }),
		"indefinite keyInfo value":        editDKI("keyInfo", []byte{0xa1, 0x01, 0x5f, 0xff}),
		"deep unknown member": edit(func(m map[string]cbor.RawMessage) {
			m["x"] = append(bytes.Repeat([]byte{0x81}, maxNestedLevels), 0)
		}),
	}
	difftest.Refused(t, cases, refParseMSO, ParseMSO)
}

func FuzzParseMSO(f *testing.F) {
	difftest.Fuzz(f, msoVariants(f), checkMSOAgainstReference)
}

// refValueDigests reads valueDigests with the generic decoder (the project's
// decode mode, by reflection) into the nested maps the CDDL describes.
func refValueDigests(data []byte) (map[string]map[uint64][]byte, error) {
	var m map[string]map[uint64][]byte
	if err := Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("valueDigests is null")
	}
	return m, nil
}

// readValueDigests is parseValueDigests in the form of the CDDL's maps,
// after checking that every namespace's digests are sorted by ID.
func readValueDigests(data []byte) (map[string]map[uint64][]byte, error) {
	v, err := parseValueDigests(data)
	if err != nil {
		return nil, err
	}
	for _, ns := range v {
		if !slices.IsSortedFunc(ns.Digests, func(a, b ValueDigest) int { return cmp.Compare(a.ID, b.ID) }) {
			return nil, fmt.Errorf("namespace %q: digests not sorted by ID", ns.NameSpace)
		}
		for _, d := range ns.Digests {
			if got, ok := v.Find(ns.NameSpace, d.ID); !ok || !bytes.Equal(got, d.Digest) {
				return nil, fmt.Errorf("namespace %q: Find(%d) misses", ns.NameSpace, d.ID)
			}
		}
	}
	return v.Map(), nil
}

func checkValueDigestsAgainstReference(t testing.TB, data []byte) {
	difftest.Agree(t, "direct valueDigests reader", data, readValueDigests, refValueDigests, difftest.DeepEqual[map[string]map[uint64][]byte])
}

// valueDigestsSeeds: the Annex D valueDigests, the same with its digests
// in descending order, and small maps with repeated IDs or namespaces.
func valueDigestsSeeds(tb testing.TB) [][]byte {
	vd := rawMap(tb, annexDHex(tb, "mobile_security_object"))["valueDigests"]
	var nested map[string]map[uint64][]byte
	if err := Unmarshal(vd, &nested); err != nil {
		tb.Fatal(err)
	}
	// Descending IDs: a map written by hand, not by the deterministic encoder.
	desc := AppendHead(nil, 0xa0, uint64(len(nested)))
	for _, ns := range slices.Sorted(maps.Keys(nested)) {
		desc = AppendHead(desc, 0x60, uint64(len(ns)))
		desc = append(desc, ns...)
		desc = AppendHead(desc, 0xa0, uint64(len(nested[ns])))
		for _, id := range slices.Backward(slices.Sorted(maps.Keys(nested[ns]))) {
			desc = AppendHead(desc, 0x00, id)
			desc = AppendHead(desc, 0x40, uint64(len(nested[ns][id])))
			desc = append(desc, nested[ns][id]...)
		}
	}
	return [][]byte{
		vd, desc,
		{0xa1, 0x61, 'a', 0xa2, 0x01, 0x41, 1, 0x00, 0x41, 0},                // one namespace, IDs 1 then 0
		{0xa1, 0x61, 'a', 0xa3, 0x01, 0x41, 1, 0x00, 0x41, 0, 0x01, 0x41, 2}, // ID 1 twice, apart
		{0xa2, 0x61, 'a', 0xa1, 0x00, 0x40, 0x61, 'a', 0xa1, 0x01, 0x40},     // namespace twice
		{0xa1, 0x61, 'a', 0xa1, 0x00, 0xd8, 0x18, 0x40},                      // a tagged digest
	}
}

func TestValueDigestsMatchesReference(t *testing.T) {
	seeds := valueDigestsSeeds(t)
	difftest.Seeds(t, seeds, 3, readValueDigests, checkValueDigestsAgainstReference)
	for i, s := range seeds[3:5] {
		if _, err := parseValueDigests(s); err == nil {
			t.Errorf("seed %d: a repeated key was accepted", i+3)
		}
	}
	v, err := parseValueDigests(seeds[1])
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := v.Find(NameSpaceMDL, 0); !ok || !bytes.Equal(d, annexDHex(t, "value_digest_family_name")) {
		t.Error("digest 0 of the descending map not found")
	}
	if _, ok := v.Find(NameSpaceMDL, 1<<40); ok {
		t.Error("an absent digestID was found")
	}
	if _, ok := v.Find("org.example", 0); ok {
		t.Error("a digest of an absent namespace was found")
	}
}

func FuzzParseValueDigests(f *testing.F) {
	difftest.Fuzz(f, valueDigestsSeeds(f), checkValueDigestsAgainstReference)
}
