package flat

import (
	"strings"

	"github.com/flowproc/flowproc/internal/lowername"
)

// headerKeys is what a header-setting action derives from the header
// names its template always writes (template.ObjectKeys), worked out at
// load. A run looks a member up by its position, with the name compared,
// so any member the table does not describe (a template without a shape, a
// duplicate key) is derived on the spot as before. On a loaded server the
// lookups in lowername's shared table and the validity scan of the same
// few constant names cost a cache miss each per exchange.
type headerKeys []headerKey

type headerKey struct {
	name, lower string
	valid       bool // an RFC 7230 token (validHeaderName)
	status      bool // FLAT's pseudo-header Status (any case)
}

// newHeaderKeys describes names; nil when there are none.
func newHeaderKeys(names []string) headerKeys {
	if len(names) == 0 {
		return nil
	}
	ks := make(headerKeys, len(names))
	for i, n := range names {
		ks[i] = headerKey{name: n, lower: strings.ToLower(n), valid: validHeaderName(n), status: strings.EqualFold(n, "status")}
	}
	return ks
}

// at returns the description of name, the i-th member its action reads.
func (ks headerKeys) at(i int, name string) headerKey {
	if i < len(ks) && ks[i].name == name {
		return ks[i]
	}
	return headerKey{name: name, lower: lowername.Lower(name), valid: validHeaderName(name), status: strings.EqualFold(name, "status")}
}
