package policies

import (
	"errors"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/store"
)

// PopulateCache (Apigee docs: the cache policies) writes a variable's value into a cache:
//
//	<PopulateCache name="PC">
//	  <CacheResource>mycache</CacheResource>     <!-- optional: the shared cache -->
//	  <Scope>Exclusive</Scope>
//	  <CacheKey><Prefix/><KeyFragment ref="request.queryparam.id"/></CacheKey>
//	  <ExpirySettings><TimeoutInSeconds ref="v">300</TimeoutInSeconds></ExpirySettings>
//	  <Source>flow.var</Source>
//	</PopulateCache>
//
// Keys, scopes, expiry and store outages follow cachecommon.go. <Source>
// is required; a source variable that is unset (or not a string, number
// or boolean) stores nothing. A value larger than the body limit
// (r.MaxBodyBytes) or than the cache store's bound is the 500 fault
// steps.cache.EntryCannotBeCached (Apigee's runtime error for an entry it
// cannot cache). LookupCache reads what this writes under the same key.
func init() {
	engine.Register(engine.Kind{Type: "PopulateCache", Prefix: "populatecache", New: newPopulateCache})
}

type populateCache struct {
	name   string
	key    cacheKeyDef
	expiry cacheExpiry
	source string
}

func newPopulateCache(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("CacheResource", "Scope", "CacheKey", "ExpirySettings", "Source")...)
	pc := &populateCache{name: p.Name}
	pc.key = cacheCompileKey(c, root, "PopulateCache", p.Name)
	pc.expiry = cacheCompileExpiry(c, root, "PopulateCache", p.Name, true)
	s := root.Child("Source")
	if s == nil || s.Text == "" {
		c.Errorf(root, diag.APMissingElement, "PopulateCache %s has no <Source>", p.Name)
		return nil
	}
	pc.source = s.Text
	return pc
}

// Execute stores the source variable's value.
func (pc *populateCache) Execute(r *engine.Run) error {
	v, ok := r.Lookup(pc.source)
	if !ok || v == nil {
		r.Print(pc.name, "source "+pc.source+" is not set; nothing cached")
		return nil
	}
	s, ok := flowvar.String(v)
	if !ok {
		r.Print(pc.name, "source "+pc.source+" is not a string value; nothing cached")
		return nil
	}
	if max := r.MaxBodyBytes(); max > 0 && int64(len(s)) > max {
		return cacheTooLarge(pc.name)
	}
	ttl := pc.expiry.ttl(r)
	if ttl <= 0 {
		r.Print(pc.name, "expiry is past or invalid; nothing cached")
		return nil
	}
	cs := cacheStore(r)
	if cs == nil {
		return nil
	}
	err := cs.Set(r.Ctx(), pc.key.storeKey(pc.key.key(r)), []byte(s), ttl)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrTooLarge):
		return cacheTooLarge(pc.name)
	case errors.Is(err, store.ErrUnavailable):
		cacheFailOpen(r, "PopulateCache", pc.name, "population skipped", err)
		return nil
	}
	return err
}

// cacheTooLarge is the fault for an entry the cache cannot hold.
func cacheTooLarge(policy string) error {
	return engine.NewFault("cache", "EntryCannotBeCached", 500, "Entry for %s cannot be cached: it exceeds the cache size limit", policy)
}
