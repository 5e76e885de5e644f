package policies

import (
	"context"
	"strconv"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// LookupCache (Apigee docs: the cache policies) reads a cache entry PopulateCache wrote
// into a variable:
//
//	<LookupCache name="LC">
//	  <CacheResource>mycache</CacheResource>
//	  <Scope>Exclusive</Scope>
//	  <CacheKey><Prefix/><KeyFragment ref="request.queryparam.id"/></CacheKey>
//	  <CacheLookupTimeoutInSeconds>30</CacheLookupTimeoutInSeconds>
//	  <AssignTo>flow.var</AssignTo>
//	</LookupCache>
//
// Keys follow cachecommon.go. lookupcache.<policy>.cachehit is true on a
// hit (AssignTo then holds the value) and false on a miss (AssignTo is
// left as it was). A store outage, or a lookup slower than
// <CacheLookupTimeoutInSeconds>, is a miss (logged). <ExpirySettings> is
// accepted for compatibility (Apigee's sample carries it) and unused.
// A negative timeout is Apigee's deployment error InvalidTimeout.
func init() {
	engine.Register(engine.Kind{Type: "LookupCache", Prefix: "lookupcache", New: newLookupCache})
}

type lookupCache struct {
	name     string
	key      cacheKeyDef
	assignTo string
	timeout  time.Duration
}

func newLookupCache(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("CacheResource", "Scope", "CacheKey", "ExpirySettings", "CacheLookupTimeoutInSeconds", "AssignTo")...)
	lc := &lookupCache{name: p.Name}
	lc.key = cacheCompileKey(c, root, "LookupCache", p.Name)
	cacheCompileExpiry(c, root, "LookupCache", p.Name, false)
	lc.timeout = cacheCompileTimeout(c, root, "LookupCache", p.Name)
	a := root.Child("AssignTo")
	if a == nil || a.Text == "" {
		c.Errorf(root, diag.APMissingElement, "LookupCache %s has no <AssignTo>", p.Name)
		return nil
	}
	lc.assignTo = a.Text
	return lc
}

// cacheCompileTimeout reads <CacheLookupTimeoutInSeconds> (0: none).
func cacheCompileTimeout(c *engine.Compiler, root *bundle.Node, typ, name string) time.Duration {
	n := root.Child("CacheLookupTimeoutInSeconds")
	if n == nil || n.Text == "" {
		return 0
	}
	s, err := strconv.Atoi(n.Text)
	if err != nil || s < 0 {
		c.Errorf(n, diag.APBadPolicy, "%s %s: Invalid Timeout %q in <CacheLookupTimeoutInSeconds> (InvalidTimeout: a whole number of seconds, 0 or more)", typ, name, n.Text)
		return 0
	}
	return time.Duration(s) * time.Second
}

// cacheLookupCtx bounds a lookup by timeout when one is set.
func cacheLookupCtx(r *engine.Run, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout > 0 {
		return context.WithTimeout(r.Ctx(), timeout)
	}
	return r.Ctx(), func() {}
}

// Execute looks the entry up.
func (lc *lookupCache) Execute(r *engine.Run) error {
	ctx, cancel := cacheLookupCtx(r, lc.timeout)
	defer cancel()
	v, ok := cacheGet(ctx, r, "LookupCache", lc.name, lc.key.storeKey(lc.key.key(r)))
	if !ok {
		return r.Set("lookupcache."+lc.name+".cachehit", false)
	}
	if err := r.Set(lc.assignTo, string(v)); err != nil {
		return err
	}
	return r.Set("lookupcache."+lc.name+".cachehit", true)
}
