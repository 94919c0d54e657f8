package smallset

import (
	"math/rand/v2"
	"testing"
)

// TestSetMatchesMap holds Set to a plain map, on sequences short
// enough to stay in the array and long enough to move to the map, with
// repeats on both sides of the move.
func TestSetMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, inline - 1, inline, inline + 1, 3 * inline, 500} {
		for _, span := range []uint64{4, uint64(inline), uint64(n) + 1, 1 << 40} {
			var s Set[uint64]
			ref := map[uint64]bool{}
			for i := range n {
				k := rng.Uint64N(span)
				if got, want := s.Add(k), ref[k]; got != want {
					t.Fatalf("n=%d span=%d: add #%d of %d says %v, want %v", n, span, i, k, got, want)
				}
				ref[k] = true
			}
		}
	}
}

// TestSetFirstRepeatAfterMove repeats each of the first keys once the
// set has moved them to its map.
func TestSetFirstRepeatAfterMove(t *testing.T) {
	var s Set[string]
	keys := make([]string, inline+3)
	for i := range keys {
		keys[i] = string(rune('a' + i))
		if s.Add(keys[i]) {
			t.Fatalf("%q reported as seen on its first add", keys[i])
		}
	}
	if s.large == nil {
		t.Fatal("the set did not move to a map")
	}
	for _, k := range keys {
		if !s.Add(k) {
			t.Fatalf("%q not reported as seen on its second add", k)
		}
	}
}
