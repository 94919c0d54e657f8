// Package smallset is a set of comparable keys that stays off the heap while
// it is small: the duplicate checks of a parser or verifier usually see a
// handful of keys (the labels of a COSE header, the elements of a namespace),
// and a map for each would be most of the allocations of a verification.
package smallset

// inline is how many keys a Set compares one by one before it moves them to
// a map.
const inline = 16

// Set records keys and says whether one was recorded before. The first
// inline keys live in an array; beyond that, in a map, so that input with
// thousands of keys is not checked in quadratic time. The zero Set is empty
// and ready to use.
type Set[K comparable] struct {
	small [inline]K
	n     int
	large map[K]struct{}
}

// Add records k and reports whether it was recorded already.
func (s *Set[K]) Add(k K) (dup bool) {
	if s.large != nil {
		if _, dup = s.large[k]; !dup {
			s.large[k] = struct{}{}
		}
		return dup
	}
	for _, x := range s.small[:s.n] {
		if x == k {
			return true
		}
	}
	if s.n < inline {
		s.small[s.n] = k
		s.n++
		return false
	}
	s.large = make(map[K]struct{}, 2*inline)
	for _, x := range s.small {
		s.large[x] = struct{}{}
	}
	s.large[k] = struct{}{}
	return false
}
