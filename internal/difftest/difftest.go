// Package difftest is the scaffolding of the differential tests that hold
// each one-pass reader to the reflective decoder it replaced, kept in the
// tests as its reference: mdoc's DeviceResponse (ISO/IEC 18013-5 clause
// 8.3.2.1.2.2), MobileSecurityObject (clause 9.1.2.4), element value and
// COSE_Key (RFC 9052 section 7) readers, and cose's COSE_Sign1 and COSE_Mac0
// reader (RFC 9052 sections 4.2 and 6.2). The rule they hold is one:
// whatever the direct reader accepts, the reference accepts too, with the
// same result; the direct reader may be stricter, never looser or different.
//
// A differential test is made of a check of one input ([Agree] at its
// core), run over seeds that the direct reader must answer ([Seeds]),
// fuzzed from the same seeds ([Fuzz]), and a table of inputs the reference
// refused while decoding, which the direct reader must refuse too
// ([Refused]).
//
// It is imported by _test.go files only; internal/archtest's
// TestBinariesLinkNoTestCode fails if a binary ever links it.
package difftest

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"testing"
)

// Check is the differential check of one input: it fails t when the direct
// reader and its reference disagree on data.
type Check func(t testing.TB, data []byte)

// ErrNotAnswered is what a reader made by [Answering] reports for an input
// that its fast path leaves to the generic decoder.
var ErrNotAnswered = errors.New("not answered by the direct reader")

// Answering makes a reader of a fast path that answers some inputs (ok) and
// leaves the others to the generic decoder, for [Seeds] and [Agree].
func Answering[T any](direct func([]byte) (T, bool)) func([]byte) (T, error) {
	return func(data []byte) (T, error) {
		v, ok := direct(data)
		if !ok {
			var zero T
			return zero, ErrNotAnswered
		}
		return v, nil
	}
}

// Agree fails t when read accepts data and reference refuses it, or reads
// it otherwise than reference (same(got, want) false). When read refuses
// data there is nothing to compare: the direct reader may be stricter than
// its reference. reader names the direct reader in the messages.
func Agree[T any](t testing.TB, reader string, data []byte, read, reference func([]byte) (T, error), same func(got, want T) bool) {
	t.Helper()
	got, err := read(data)
	if err != nil {
		return
	}
	want, refErr := reference(data)
	if refErr != nil {
		t.Fatalf("%s accepts what the reference refuses (%v): %x", reader, refErr, data)
	}
	if !same(got, want) {
		t.Fatalf("%s and the reference differ on %x:\n%#v\n%#v", reader, data, got, want)
	}
}

// DeepEqual is reflect.DeepEqual for two values of one type: the comparison
// to give [Agree] where a nil and an empty slice or map must not pass for
// one another.
func DeepEqual[T any](got, want T) bool {
	return reflect.DeepEqual(got, want)
}

// Seeds runs check on every seed and fails t unless read (the direct reader)
// answers at least min of them. A differential check compares only what the
// direct reader answers, so seeds it refused would compare nothing; each
// seed it refuses is logged with the reason.
func Seeds[T any](t testing.TB, seeds [][]byte, min int, read func([]byte) (T, error), check Check) {
	t.Helper()
	answered := 0
	for i, data := range seeds {
		if _, err := read(data); err != nil {
			t.Logf("seed %d not answered: %v", i, err)
		} else {
			answered++
		}
		check(t, data)
	}
	if answered < min {
		t.Fatalf("the direct reader answered only %d of %d seeds, want at least %d", answered, len(seeds), min)
	}
}

// Fuzz is the fuzz target of a differential test: it adds the seeds to f's
// corpus (besides those go test finds under testdata/fuzz/<target name>) and
// fuzzes check.
func Fuzz(f *testing.F, seeds [][]byte, check Check) {
	f.Helper()
	for _, data := range seeds {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check(t, data)
	})
}

// Refused holds the direct reader to what the reference's decoder refused
// while decoding (not merely the shape): every case must be refused by the
// reference, else the case tests nothing, and by read, else the direct reader
// is looser than the decoder it replaced. Cases run in the order of their
// names.
func Refused[R, D any](t testing.TB, cases map[string][]byte, reference func([]byte) (R, error), read func([]byte) (D, error)) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(cases)) {
		if _, err := reference(cases[name]); err == nil {
			t.Errorf("%s: the reference accepts it; the case tests nothing", name)
		}
		if _, err := read(cases[name]); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
