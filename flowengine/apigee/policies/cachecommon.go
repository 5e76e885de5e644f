package policies

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/store"
)

// What the four cache policies (PopulateCache, LookupCache,
// InvalidateCache, ResponseCache; Apigee docs: the cache policies) share, and what it
// relies on (Apigee's policy reference pages for the four policies):
//
//   - <CacheResource> names a cache. Apigee needs the cache declared in the
//     environment (Edge) or uses the shared cache when it is omitted;
//     flowproc keeps every named cache in the project's state store
//     (store.Cache, memory LRU or Redis) and needs no declaration: the name
//     is part of the store key, so two caches never share entries. No
//     <CacheResource> is the shared cache "".
//   - The cache key is <Prefix> when it is not empty, else the <Scope>'s
//     prefix, followed by the <KeyFragment>s, joined with "__". Scopes
//     (default Exclusive): Global = org__env__, Application =
//     org__env__apiproxy__, Proxy = org__env__apiproxy__proxyendpoint__,
//     Target = org__env__apiproxy__targetendpoint__, Exclusive =
//     org__env__apiproxy__endpoint__ where endpoint is the TargetEndpoint
//     when the policy runs in a target flow and the ProxyEndpoint
//     otherwise. Apigee also puts the deployed revision into the Proxy,
//     Target and Exclusive prefixes; flowproc deploys one revision and
//     leaves it out.
//   - A <KeyFragment ref="v"> whose variable is unset contributes an empty
//     fragment (the key keeps its "__" separators). A literal fragment is
//     its text.
//   - <ExpirySettings> holds one of <TimeoutInSeconds> (legacy
//     <TimeoutInSec>), <ExpiryDate> (mm-dd-yyyy: the entry expires at the
//     start of that day) or <TimeOfDay> (HH:mm:ss: the entry expires at
//     the next such time). Each may take ref= (the variable's value wins
//     when set, the text is the fallback). Empty elements are ignored.
//     Dates and times are UTC. An expiry that resolves to a bad value or
//     one in the past stores nothing.
//   - Store outages (store.ErrUnavailable): caches fail open as Apigee's
//     do: a lookup is a miss, a population is skipped, an invalidation is
//     skipped; each is logged (warning) and traced.
const cacheStorePrefix = "apigee.cache:"

// cacheScope is a <Scope> value.
type cacheScope int

const (
	cacheScopeExclusive cacheScope = iota
	cacheScopeGlobal
	cacheScopeApplication
	cacheScopeProxy
	cacheScopeTarget
)

// cacheKeyDef is a compiled <CacheResource>, <Scope> and <CacheKey>.
type cacheKeyDef struct {
	resource string
	scope    cacheScope
	prefix   string
	frags    []cacheFragment
}

// cacheFragment is one <KeyFragment>: a variable (ref) or a literal.
type cacheFragment struct {
	ref, lit string
}

// cacheCompileKey reads <CacheResource>, <Scope> and <CacheKey> of root.
func cacheCompileKey(c *engine.Compiler, root *bundle.Node, typ, name string) cacheKeyDef {
	var k cacheKeyDef
	if n := root.Child("CacheResource"); n != nil {
		k.resource = n.Text
	}
	if n := root.Child("Scope"); n != nil && n.Text != "" {
		switch n.Text {
		case "Exclusive":
		case "Global":
			k.scope = cacheScopeGlobal
		case "Application":
			k.scope = cacheScopeApplication
		case "Proxy":
			k.scope = cacheScopeProxy
		case "Target":
			k.scope = cacheScopeTarget
		default:
			c.Errorf(n, diag.APBadPolicy, "%s %s: <Scope> %q: want Exclusive, Global, Application, Proxy or Target", typ, name, n.Text)
		}
	}
	ck := root.Child("CacheKey")
	if ck == nil {
		c.Errorf(root, diag.APMissingElement, "%s %s has no <CacheKey>", typ, name)
		return k
	}
	c.Unknown(ck, "Prefix", "KeyFragment")
	if p := ck.Child("Prefix"); p != nil {
		k.prefix = p.Text
	}
	for _, f := range ck.Children {
		if f.Name != "KeyFragment" {
			continue
		}
		ref := cacheAttr(f, "ref")
		if ref == "" && f.Text == "" {
			c.Errorf(f, diag.APMissingElement, "%s %s: <KeyFragment> needs ref= or a value", typ, name)
			continue
		}
		if t := cacheAttr(f, "type"); t != "" && t != "string" {
			c.Errorf(f, diag.APBadPolicy, "%s %s: <KeyFragment type=%q>: only string is supported", typ, name, t)
		}
		k.frags = append(k.frags, cacheFragment{ref: ref, lit: f.Text})
	}
	if len(k.frags) == 0 {
		c.Errorf(ck, diag.APMissingElement, "%s %s: <CacheKey> has no <KeyFragment>", typ, name)
	}
	return k
}

// key builds the Apigee cache key (the cachekey variable) for r.
func (k *cacheKeyDef) key(r *engine.Run) string {
	var b strings.Builder
	if k.prefix != "" {
		b.WriteString(k.prefix)
		b.WriteString("__")
	} else {
		dep := r.Deployment()
		b.WriteString(dep.Organization + "__" + dep.Environment + "__")
		if k.scope != cacheScopeGlobal {
			b.WriteString(r.ProxyName() + "__")
		}
		switch k.scope {
		case cacheScopeProxy:
			b.WriteString(cacheVar(r, "proxy.name") + "__")
		case cacheScopeTarget:
			b.WriteString(cacheVar(r, "target.name") + "__")
		case cacheScopeExclusive:
			ep := ""
			if s := r.Segment(); s == engine.TargetRequest || s == engine.TargetResponse {
				ep = cacheVar(r, "target.name")
			}
			if ep == "" {
				ep = cacheVar(r, "proxy.name")
			}
			b.WriteString(ep + "__")
		}
	}
	for i, f := range k.frags {
		if i > 0 {
			b.WriteString("__")
		}
		if f.ref != "" {
			if v, ok := r.Lookup(f.ref); ok && v != nil {
				s, _ := flowvar.String(v)
				b.WriteString(s)
				continue
			}
		}
		b.WriteString(f.lit)
	}
	return b.String()
}

// storeKey is the state-store key of an Apigee cache key: the cache's
// name keeps named caches apart.
func (k *cacheKeyDef) storeKey(apigeeKey string) string {
	return cacheStorePrefix + strconv.Itoa(len(k.resource)) + ":" + k.resource + ":" + apigeeKey
}

// cacheVar reads a variable as a string ("" when unset).
func cacheVar(r *engine.Run, name string) string {
	if v, ok := r.Lookup(name); ok && v != nil {
		s, _ := flowvar.String(v)
		return s
	}
	return ""
}

// cacheAttr is an attribute's trimmed value ("" when absent).
func cacheAttr(n *bundle.Node, name string) string {
	v, _ := n.Attr(name)
	return strings.TrimSpace(v)
}

// cacheExpiryKind is which <ExpirySettings> child applies.
type cacheExpiryKind int

const (
	cacheExpiryNone cacheExpiryKind = iota
	cacheExpiryTimeout
	cacheExpiryDate
	cacheExpiryTimeOfDay
)

// cacheExpiry is a compiled <ExpirySettings>.
type cacheExpiry struct {
	kind     cacheExpiryKind
	ref, lit string
}

// cacheNow is the clock of ExpiryDate and TimeOfDay (tests replace it).
var cacheNow = time.Now

// cacheCompileExpiry reads <ExpirySettings>; a missing one is reported
// when required.
func cacheCompileExpiry(c *engine.Compiler, root *bundle.Node, typ, name string, required bool) cacheExpiry {
	es := root.Child("ExpirySettings")
	if es == nil {
		if required {
			c.Errorf(root, diag.APMissingElement, "%s %s has no <ExpirySettings>", typ, name)
		}
		return cacheExpiry{}
	}
	c.Unknown(es, "TimeoutInSeconds", "TimeoutInSec", "ExpiryDate", "TimeOfDay")
	var e cacheExpiry
	for _, ch := range es.Children {
		ref := cacheAttr(ch, "ref")
		if ref == "" && ch.Text == "" {
			continue
		}
		var kind cacheExpiryKind
		switch ch.Name {
		case "TimeoutInSeconds", "TimeoutInSec":
			kind = cacheExpiryTimeout
		case "ExpiryDate":
			kind = cacheExpiryDate
		case "TimeOfDay":
			kind = cacheExpiryTimeOfDay
		default:
			continue
		}
		if e.kind != cacheExpiryNone {
			c.Errorf(ch, diag.APBadPolicy, "%s %s: <ExpirySettings> has more than one of TimeoutInSeconds, ExpiryDate and TimeOfDay", typ, name)
			continue
		}
		e = cacheExpiry{kind: kind, ref: ref, lit: ch.Text}
		if ch.Text != "" {
			if _, err := e.parse(ch.Text, time.Unix(0, 0).UTC()); err != nil {
				c.Errorf(ch, diag.APBadPolicy, "%s %s: <%s> %q: %v", typ, name, ch.Name, ch.Text, err)
			}
		}
	}
	if e.kind == cacheExpiryNone && required {
		c.Errorf(es, diag.APMissingElement, "%s %s: <ExpirySettings> needs TimeoutInSeconds, ExpiryDate or TimeOfDay", typ, name)
	}
	return e
}

var errCacheExpiry = errors.New("bad expiry")

// parse turns a value into a time to live from now.
func (e cacheExpiry) parse(s string, now time.Time) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch e.kind {
	case cacheExpiryTimeout:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > 1<<31 {
			return 0, errors.Join(errCacheExpiry, errors.New("want a whole number of seconds"))
		}
		return time.Duration(n) * time.Second, nil
	case cacheExpiryDate:
		t, err := time.ParseInLocation("01-02-2006", s, time.UTC)
		if err != nil {
			return 0, errors.Join(errCacheExpiry, errors.New("want mm-dd-yyyy"))
		}
		return t.Sub(now), nil
	case cacheExpiryTimeOfDay:
		t, err := time.ParseInLocation("15:04:05", s, time.UTC)
		if err != nil {
			return 0, errors.Join(errCacheExpiry, errors.New("want HH:mm:ss"))
		}
		day := now.UTC().Truncate(24 * time.Hour)
		at := day.Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second)
		if !at.After(now) {
			at = at.Add(24 * time.Hour)
		}
		return at.Sub(now), nil
	}
	return 0, errCacheExpiry
}

// ttl is the time to live of an entry stored now (0: store nothing).
func (e cacheExpiry) ttl(r *engine.Run) time.Duration {
	if e.kind == cacheExpiryNone {
		return 0
	}
	s := e.lit
	if e.ref != "" {
		if v := cacheVar(r, e.ref); v != "" {
			s = v
		}
	}
	d, err := e.parse(s, cacheNow())
	if err != nil || d < 0 {
		return 0
	}
	return d
}

// cacheStore is the run's cache store (nil: none).
func cacheStore(r *engine.Run) store.Cache {
	if st := r.State(); st != nil {
		return st.Cache
	}
	return nil
}

// cacheFailOpen logs and traces a store failure the policy fails open on.
func cacheFailOpen(r *engine.Run, typ, name, what string, err error) {
	r.Print(name, "cache store unavailable; "+what+": "+err.Error())
	if l := r.Logger(); l != nil {
		l.Warn("apigee cache store unavailable", "policy", name, "type", typ, "action", what, "error", err)
	}
}

// cacheGet reads an entry; a store failure is a logged miss.
func cacheGet(ctx context.Context, r *engine.Run, typ, name, key string) ([]byte, bool) {
	cs := cacheStore(r)
	if cs == nil {
		return nil, false
	}
	v, ok, err := cs.Get(ctx, key)
	if err != nil {
		cacheFailOpen(r, typ, name, "lookup treated as a miss", err)
		return nil, false
	}
	return v, ok
}
