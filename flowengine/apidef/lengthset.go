package apidef

// lengthSet is a set of string lengths, for skipping map lookups of strings
// no key has the length of (router.exactLens, router.wildLens). Lengths
// from maxSetLength up share one member, so has never misses a length that
// was added.
type lengthSet [maxSetLength / 64]uint64

const maxSetLength = 1024

// add puts n in the set.
func (s *lengthSet) add(n int) {
	n = min(n, maxSetLength-1)
	s[n/64] |= 1 << (n % 64)
}

// has reports whether n, or for n ≥ maxSetLength any length from
// maxSetLength up, was added.
func (s *lengthSet) has(n int) bool {
	n = min(n, maxSetLength-1)
	return s[n/64]&(1<<(n%64)) != 0
}
