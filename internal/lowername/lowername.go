// Package lowername lower-cases header names without allocating for the
// names a server sees again and again.
//
// A flow's header names are few and fixed (the keys of its templates, such
// as X-Request-Id), but strings.ToLower allocates a new string for each
// mixed-case name every time. Lower returns names that are already lower
// case as they are and remembers the lower-case form of the others in a
// small set-associative table of immutable entries swapped atomically: a
// lookup is a hash and up to four compares, and the memory is bounded
// whatever names requests bring.
//
// The table has four ways per set, not one slot per hash: with a random
// seed per process, a direct-mapped table put two of a flow's few names in
// the same slot in some processes (a few percent of them with a handful
// of names), and those two then evicted each other on every request, an
// allocation each time for the life of the process. Four ways make that
// take five hot names in one of 64 sets.
package lowername

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

const (
	sets    = 64
	ways    = 4
	maxName = 64 // longer names are lowered each time, not cached
)

type entry struct{ name, lower string }

// set is one set of the table: its ways, and the way the next miss
// replaces when none is empty (round robin).
type set struct {
	ways   [ways]atomic.Pointer[entry]
	victim atomic.Uint32
}

type cache struct {
	seed maphash.Seed
	sets [sets]set
}

var lowered = &cache{seed: maphash.MakeSeed()}

// Lower returns strings.ToLower(name), without allocating when name has no
// upper-case or non-ASCII letter or was lowered recently. Safe for
// concurrent use.
func Lower(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf {
			return lowered.get(name)
		}
	}
	return name
}

// get returns strings.ToLower(name) through the table.
func (c *cache) get(name string) string {
	if len(name) > maxName {
		return strings.ToLower(name)
	}
	s := &c.sets[maphash.String(c.seed, name)%sets]
	free := -1
	for i := range s.ways {
		e := s.ways[i].Load()
		if e == nil {
			if free < 0 {
				free = i
			}
			continue
		}
		if e.name == name {
			return e.lower
		}
	}
	l := strings.ToLower(name)
	if free < 0 {
		free = int(s.victim.Add(1) % ways)
	}
	// The name may be a substring of a larger buffer (a decoded message):
	// the entry keeps a copy of its own.
	s.ways[free].Store(&entry{name: strings.Clone(name), lower: l})
	return l
}
