package extproc

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
)

// lowerSlots is the size of the lower-case name cache: a flow's header
// names are few and fixed (the keys of its templates), so a small table
// keeps them all.
const (
	lowerSlots   = 256
	lowerMaxName = 64 // longer names are lowered each time, not cached
)

// lowerCache remembers the lower-case form of header names with upper-case
// letters (X-Request-Id, set by a flow), so a reply does not allocate a new
// lower-case string for the same name in every exchange. It is a
// direct-mapped table of immutable entries swapped atomically: a lookup is
// a hash and a compare, a collision just replaces the slot, and the memory
// is bounded whatever names requests bring.
type lowerCache struct {
	seed  maphash.Seed
	slots [lowerSlots]atomic.Pointer[lowerEntry]
}

type lowerEntry struct{ name, lower string }

var lowered = &lowerCache{seed: maphash.MakeSeed()}

// get returns strings.ToLower(name).
func (c *lowerCache) get(name string) string {
	if len(name) > lowerMaxName {
		return strings.ToLower(name)
	}
	slot := &c.slots[maphash.String(c.seed, name)%lowerSlots]
	if e := slot.Load(); e != nil && e.name == name {
		return e.lower
	}
	l := strings.ToLower(name)
	slot.Store(&lowerEntry{name: strings.Clone(name), lower: l})
	return l
}
