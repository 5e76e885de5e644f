// Package lowername lower-cases header names without allocating for the
// names a server sees again and again.
//
// A flow's header names are few and fixed (the keys of its templates, such
// as X-Request-Id), but strings.ToLower allocates a new string for each
// mixed-case name every time. Lower returns names that are already lower
// case as they are and remembers the lower-case form of the others in a
// small direct-mapped table of immutable entries swapped atomically: a
// lookup is a hash and a compare, a collision just replaces the slot, and
// the memory is bounded whatever names requests bring.
package lowername

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

const (
	slots   = 256
	maxName = 64 // longer names are lowered each time, not cached
)

type entry struct{ name, lower string }

type cache struct {
	seed  maphash.Seed
	slots [slots]atomic.Pointer[entry]
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
	slot := &c.slots[maphash.String(c.seed, name)%slots]
	if e := slot.Load(); e != nil && e.name == name {
		return e.lower
	}
	l := strings.ToLower(name)
	// The name may be a substring of a larger buffer (a decoded message):
	// the entry keeps a copy of its own.
	slot.Store(&entry{name: strings.Clone(name), lower: l})
	return l
}
