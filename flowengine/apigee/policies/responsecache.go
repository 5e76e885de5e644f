package policies

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/cond"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/store"
)

// ResponseCache (Apigee docs: the cache policies) caches whole responses. The same policy
// is attached twice: in a request flow it looks the response up, and a
// hit answers the client with the cached status, headers and body
// without calling the target (the proxy response flow still runs on it,
// as on Apigee); in a response flow (normally the target response flow,
// so the copy is taken before the proxy's response flows change it) it
// stores the response as it stands.
//
//	<ResponseCache name="RC">
//	  <CacheResource>cache1</CacheResource>
//	  <Scope>Exclusive</Scope>
//	  <CacheKey><Prefix/><KeyFragment ref="request.uri"/></CacheKey>
//	  <ExpirySettings><TimeoutInSeconds>300</TimeoutInSeconds></ExpirySettings>
//	  <SkipCacheLookup>request.header.cache-control = "no-cache"</SkipCacheLookup>
//	  <SkipCachePopulation>request.verb != "GET"</SkipCachePopulation>
//	  <ExcludeErrorResponse>true</ExcludeErrorResponse>
//	  <UseResponseCacheHeaders>true</UseResponseCacheHeaders>
//	  <UseAcceptHeader>true</UseAcceptHeader>
//	  <CacheLookupTimeoutInSeconds>30</CacheLookupTimeoutInSeconds>
//	</ResponseCache>
//
// What it relies on (Apigee's ResponseCache reference):
//
//   - Keys, scopes, expiry and store outages follow cachecommon.go (a
//     failed lookup is a miss, a failed population is skipped, logged).
//   - Variables: responsecache.<policy>.cachename, .cachekey and .cachehit
//     (true on a hit, false otherwise), set by the request-side lookup.
//     The response side stores under the key the request side computed;
//     without a request-side run it computes the key itself.
//   - <SkipCacheLookup> and <SkipCachePopulation> are conditions (empty:
//     never skip). A skipped lookup still lets the response be stored.
//   - <ExcludeErrorResponse> (default false): false caches responses of
//     any status; true caches only 200 to 205.
//   - <UseAcceptHeader>: the request's Accept, Accept-Encoding,
//     Accept-Language and Accept-Charset values are appended to the key.
//   - <UseResponseCacheHeaders>: the response's Cache-Control s-maxage,
//     else max-age, else Expires, gives the time to live instead of
//     <ExpirySettings>, in that order of precedence.
//   - <CacheLookupTimeoutInSeconds>: a slower lookup is a miss; negative
//     is the deployment error InvalidTimeout.
//   - A response whose body exceeds the body limit (r.MaxBodyBytes) or
//     cannot be read, or whose entry exceeds the cache store's bound, is
//     not cached (traced;
//     Apigee raises no runtime fault for ResponseCache). Connection,
//     Content-Length and Transfer-Encoding are not stored.
//   - On a hit the response side's policy does not store again.
func init() {
	engine.Register(engine.Kind{Type: "ResponseCache", Prefix: "responsecache", New: newResponseCache})
}

type responseCache struct {
	name                string
	key                 cacheKeyDef
	expiry              cacheExpiry
	skipLookup, skipPop *cond.Expr
	excludeErrors       bool
	useCacheHeaders     bool
	useAccept           bool
	timeout             time.Duration
}

func newResponseCache(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("CacheResource", "Scope", "CacheKey", "ExpirySettings", "SkipCacheLookup", "SkipCachePopulation",
		"ExcludeErrorResponse", "UseResponseCacheHeaders", "UseAcceptHeader", "CacheLookupTimeoutInSeconds")...)
	rc := &responseCache{name: p.Name}
	rc.key = cacheCompileKey(c, root, "ResponseCache", p.Name)
	rc.expiry = cacheCompileExpiry(c, root, "ResponseCache", p.Name, true)
	rc.timeout = cacheCompileTimeout(c, root, "ResponseCache", p.Name)
	if n := root.Child("SkipCacheLookup"); n != nil && strings.TrimSpace(n.Text) != "" {
		rc.skipLookup = c.Cond(n, n.Text)
	}
	if n := root.Child("SkipCachePopulation"); n != nil && strings.TrimSpace(n.Text) != "" {
		rc.skipPop = c.Cond(n, n.Text)
	}
	for _, b := range []struct {
		el  string
		dst *bool
	}{{"ExcludeErrorResponse", &rc.excludeErrors}, {"UseResponseCacheHeaders", &rc.useCacheHeaders}, {"UseAcceptHeader", &rc.useAccept}} {
		if n := root.Child(b.el); n != nil {
			*b.dst = c.Bool(n, n.Text, false)
		}
	}
	return rc
}

// cachedResponse is the stored form of a response.
type cachedResponse struct {
	Status  int                 `json:"s"`
	Reason  string              `json:"r,omitempty"`
	Headers []flowengine.Header `json:"h,omitempty"`
	Body    []byte              `json:"b,omitempty"`
}

// Execute looks up (request segments) or stores (response segments).
func (rc *responseCache) Execute(r *engine.Run) error {
	switch r.Segment() {
	case engine.ProxyRequest, engine.TargetRequest:
		return rc.lookup(r)
	case engine.ProxyResponse, engine.TargetResponse:
		return rc.populate(r)
	}
	r.Print(rc.name, "ResponseCache outside request and response flows does nothing")
	return nil
}

func (rc *responseCache) vars(name string) string { return "responsecache." + rc.name + "." + name }

// fullKey is the Apigee cache key with the Accept headers when asked.
func (rc *responseCache) fullKey(r *engine.Run) string {
	k := rc.key.key(r)
	if rc.useAccept && r.Request != nil {
		for _, h := range []string{"Accept", "Accept-Encoding", "Accept-Language", "Accept-Charset"} {
			v, _ := r.Request.Header(h)
			k += "__" + v
		}
	}
	return k
}

func (rc *responseCache) lookup(r *engine.Run) error {
	key := rc.fullKey(r)
	for name, v := range map[string]any{"cachename": rc.key.resource, "cachekey": key, "cachehit": false} {
		if err := r.Set(rc.vars(name), v); err != nil {
			return err
		}
	}
	if rc.skipLookup != nil {
		skip, err := rc.skipLookup.Eval(r)
		if err != nil {
			return err
		}
		if skip {
			r.Print(rc.name, "SkipCacheLookup is true")
			return nil
		}
	}
	ctx, cancel := cacheLookupCtx(r, rc.timeout)
	defer cancel()
	v, ok := cacheGet(ctx, r, "ResponseCache", rc.name, rc.key.storeKey(key))
	if !ok {
		return nil
	}
	var cr cachedResponse
	if err := json.Unmarshal(v, &cr); err != nil || cr.Status < 100 || cr.Status > 999 {
		// An entry not written by ResponseCache (a PopulateCache under the
		// same key): Apigee's responsecache.<policy>.invalidentry.
		r.Print(rc.name, "cache entry is not a cached response; treated as a miss")
		return r.Set(rc.vars("invalidentry"), true)
	}
	m := engine.NewResponse()
	m.Status, m.Reason = cr.Status, cr.Reason
	m.Headers = cr.Headers
	m.SetContent(cr.Body)
	if err := r.Set(rc.vars("cachehit"), true); err != nil {
		return err
	}
	return r.Answer(m)
}

// rcHopHeaders are not stored with a response.
var rcHopHeaders = map[string]bool{"connection": true, "content-length": true, "transfer-encoding": true}

func (rc *responseCache) populate(r *engine.Run) error {
	if hit, _ := r.Lookup(rc.vars("cachehit")); hit == true {
		return nil
	}
	if rc.skipPop != nil {
		skip, err := rc.skipPop.Eval(r)
		if err != nil {
			return err
		}
		if skip {
			r.Print(rc.name, "SkipCachePopulation is true")
			return nil
		}
	}
	m := r.Current()
	if rc.excludeErrors && (m.Status < 200 || m.Status > 205) {
		r.Print(rc.name, "status "+strconv.Itoa(m.Status)+" not cached (ExcludeErrorResponse)")
		return nil
	}
	ttl := rc.expiry.ttl(r)
	if rc.useCacheHeaders {
		if d, ok := rcHeaderTTL(m, cacheNow()); ok {
			ttl = d
		}
	}
	if ttl <= 0 {
		r.Print(rc.name, "time to live is zero or past; not cached")
		return nil
	}
	body, err := m.Content()
	if err != nil {
		// A body that cannot be read (above the budget, or not buffered)
		// cannot be cached; the response itself is not at fault.
		r.Print(rc.name, "response body unreadable; not cached: "+err.Error())
		return nil
	}
	if max := r.MaxBodyBytes(); max > 0 && int64(len(body)) > max {
		r.Print(rc.name, "response body above the body limit; not cached")
		return nil
	}
	cr := cachedResponse{Status: m.Status, Reason: m.Reason, Body: body}
	for _, h := range m.Headers {
		if !rcHopHeaders[strings.ToLower(h.Name)] {
			cr.Headers = append(cr.Headers, h)
		}
	}
	enc, err := json.Marshal(cr)
	if err != nil {
		return err
	}
	key, ok := r.Get(rc.vars("cachekey"))
	if !ok {
		key = rc.fullKey(r)
	}
	cs := cacheStore(r)
	if cs == nil {
		return nil
	}
	err = cs.Set(r.Ctx(), rc.key.storeKey(key), enc, ttl)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrTooLarge):
		r.Print(rc.name, "response larger than the cache bound; not cached")
		return nil
	case errors.Is(err, store.ErrUnavailable):
		cacheFailOpen(r, "ResponseCache", rc.name, "population skipped", err)
		return nil
	}
	return err
}

// rcHeaderTTL reads the time to live from Cache-Control s-maxage, then
// max-age, then Expires.
func rcHeaderTTL(m *engine.Message, now time.Time) (time.Duration, bool) {
	var maxAge, sMaxAge string
	for _, v := range m.HeaderValues("Cache-Control") {
		for _, d := range strings.Split(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(name) {
			case "s-maxage":
				sMaxAge = strings.Trim(val, `"`)
			case "max-age":
				maxAge = strings.Trim(val, `"`)
			}
		}
	}
	for _, s := range []string{sMaxAge, maxAge} {
		if s == "" {
			continue
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && n < 1<<31 {
			return time.Duration(n) * time.Second, true
		}
	}
	if e, ok := m.Header("Expires"); ok {
		if t, err := http.ParseTime(e); err == nil {
			return t.Sub(now), true
		}
		return 0, true // an invalid Expires means already expired (RFC 9111 §5.3)
	}
	return 0, false
}
