package policies

import (
	"errors"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/store"
)

// InvalidateCache (Apigee docs: the cache policies) removes a cache entry:
//
//	<InvalidateCache name="IC">
//	  <CacheResource>mycache</CacheResource>
//	  <Scope>Exclusive</Scope>
//	  <CacheKey><Prefix/><KeyFragment ref="request.queryparam.id"/></CacheKey>
//	  <PurgeChildEntries>false</PurgeChildEntries>
//	</InvalidateCache>
//
// Keys follow cachecommon.go. <PurgeChildEntries>true</PurgeChildEntries>
// (drop every entry sharing the key's prefix) needs a prefix scan the
// state stores do not offer: it is a load error (AP401) rather than a
// purge that silently removes one entry. <CacheContext> (naming another
// proxy's scope) is not supported either (AP103). A store outage skips
// the invalidation (logged).
func init() {
	engine.Register(engine.Kind{Type: "InvalidateCache", Prefix: "invalidatecache", New: newInvalidateCache})
}

type invalidateCache struct {
	name string
	key  cacheKeyDef
}

func newInvalidateCache(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("CacheResource", "Scope", "CacheKey", "PurgeChildEntries")...)
	ic := &invalidateCache{name: p.Name}
	ic.key = cacheCompileKey(c, root, "InvalidateCache", p.Name)
	if n := root.Child("PurgeChildEntries"); n != nil && c.Bool(n, n.Text, false) {
		c.Errorf(n, diag.APBadPolicy, "InvalidateCache %s: <PurgeChildEntries>true is not supported (the cache store cannot remove entries by prefix)", p.Name)
		return nil
	}
	return ic
}

// Execute deletes the entry.
func (ic *invalidateCache) Execute(r *engine.Run) error {
	cs := cacheStore(r)
	if cs == nil {
		return nil
	}
	err := cs.Delete(r.Ctx(), ic.key.storeKey(ic.key.key(r)))
	if errors.Is(err, store.ErrUnavailable) {
		cacheFailOpen(r, "InvalidateCache", ic.name, "invalidation skipped", err)
		return nil
	}
	return err
}
