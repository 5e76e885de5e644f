package upstream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The HTTP cache is a shared cache (RFC 9111) for GET side calls, kept in a
// store.Cache. One variant is stored per URL: a response whose Vary
// selecting headers differ from the new request's is a miss and is
// replaced. Range requests, stale-while-revalidate and stale-if-error are
// not implemented; a stale response is never served without validation
// unless the request's max-stale allows it.

// cacheKeyPrefix versions the stored format.
const cacheKeyPrefix = "upstream/http/v1/"

// maxHeuristic caps heuristic freshness (10% of the time since
// Last-Modified), a choice RFC 9111 §4.2.2 leaves to the cache.
const maxHeuristic = 24 * time.Hour

// entry is one stored response.
type entry struct {
	URL      string              `json:"url"`
	Status   int                 `json:"status"`
	Header   http.Header         `json:"header"`
	Body     []byte              `json:"body"`
	ReqTime  time.Time           `json:"reqTime"`
	RespTime time.Time           `json:"respTime"`
	Vary     map[string][]string `json:"vary,omitempty"`
	// Forced is the force-cache-ttl lifetime; 0 for RFC freshness.
	Forced time.Duration `json:"forced,omitempty"`
}

// cacheKey identifies the stored response for a request: the target URI,
// plus whatever selects a different upstream outside the URL (client
// certificate, connect-to override).
func cacheKey(c *Call, req *http.Request) string {
	h := sha256.New()
	fmt.Fprintf(h, "GET\x00%s\x00%s\x00%s\x00%s\x00%s", req.URL.String(), req.Host,
		c.ConnectTo.Host, c.ConnectTo.Port, keyFor(c).certID)
	return cacheKeyPrefix + hex.EncodeToString(h.Sum(nil))
}

// heuristicStatus are the codes cacheable by default (RFC 9110 §15.1),
// 206 excluded because range requests are not cached here.
var heuristicStatus = map[int]bool{200: true, 203: true, 204: true, 300: true, 301: true, 308: true,
	404: true, 405: true, 410: true, 414: true, 501: true}

// cached answers a GET call through the cache.
func (h *HTTP) cached(ctx context.Context, c *Call, req *http.Request, tr *http.Transport) *Result {
	key := cacheKey(c, req)
	reqCC := requestDirectives(req.Header, "", "")
	if c.Cache.RespectClientCacheHeaders {
		reqCC = requestDirectives(req.Header, c.Cache.ClientCacheControl, c.Cache.ClientPragma)
	}
	ownConditional := req.Header.Get("If-None-Match") != "" || req.Header.Get("If-Modified-Since") != ""
	var cacheErr string

	var stored *entry
	if !c.Cache.ForceRefresh && !ownConditional {
		var err error
		if stored, err = h.load(ctx, key); err != nil {
			cacheErr = err.Error()
		}
		if stored != nil && !varyMatches(stored, req.Header) {
			stored = nil
		}
	}
	now := h.now()
	if stored != nil {
		age := currentAge(stored, now)
		life := lifetime(stored)
		if usable(stored, reqCC, age, life) {
			return hit(c, stored, age, false, cacheErr)
		}
	}
	if reqCC.has("only-if-cached") {
		return &Result{ID: c.ID, URL: req.URL.Redacted(), Status: http.StatusGatewayTimeout,
			Header: http.Header{}, Body: []byte{}, CacheError: cacheErr}
	}
	validating := false
	if stored != nil && stored.Forced == 0 {
		if et := stored.Header.Get("Etag"); et != "" {
			req.Header.Set("If-None-Match", et)
			validating = true
		}
		if lm := stored.Header.Get("Last-Modified"); lm != "" {
			req.Header.Set("If-Modified-Since", lm)
			validating = true
		}
	}
	reqTime := h.now()
	r := h.send(ctx, c, req, tr)
	respTime := h.now()
	r.CacheError = cacheErr
	if r.Failed() {
		return r
	}
	if validating && r.Status == http.StatusNotModified {
		freshen(stored, r.Header)
		stored.ReqTime, stored.RespTime = reqTime, respTime
		var err error
		if cc := parseCacheControl(stored.Header.Values("Cache-Control")); cc.has("no-store") || cc.has("private") || reqCC.has("no-store") {
			if derr := h.cache.Delete(ctx, key); derr != nil { // the 304 withdrew storability
				err = fmt.Errorf("upstream cache: %w", derr)
			}
		} else {
			err = h.save(ctx, key, stored)
		}
		if err != nil {
			cacheErr = err.Error()
		}
		hr := hit(c, stored, currentAge(stored, h.now()), true, cacheErr)
		hr.Timings, hr.ConnReused = r.Timings, r.ConnReused
		return hr
	}
	if ownConditional || r.Redirects > 0 || r.Status == http.StatusNotModified || r.Status == http.StatusPartialContent {
		return r
	}
	e := &entry{URL: r.URL, Status: r.Status, Header: storableHeader(r.Header), Body: r.Body,
		ReqTime: reqTime, RespTime: respTime, Vary: varyValues(r.Header, req.Header)}
	if c.Cache.ForceTTL > 0 {
		if !heuristicStatus[r.Status] || reqCC.has("no-store") {
			return r
		}
		e.Forced = c.Cache.ForceTTL
	} else if !storable(r, req, c, reqCC) {
		return r
	}
	if vs := r.Header.Values("Vary"); hasStar(vs) {
		return r
	}
	if err := h.save(ctx, key, e); err != nil {
		r.CacheError = err.Error()
	}
	return r
}

// storable applies RFC 9111 §3 for a shared cache.
func storable(r *Result, req *http.Request, c *Call, reqCC directives) bool {
	if reqCC.has("no-store") {
		return false
	}
	cc := parseCacheControl(r.Header.Values("Cache-Control"))
	if cc.has("no-store") || cc.has("private") {
		return false
	}
	if req.Header.Get("Authorization") != "" &&
		!cc.has("public") && !cc.has("s-maxage") && !cc.has("must-revalidate") {
		return false // §3.5
	}
	return cc.has("public") || cc.has("max-age") || cc.has("s-maxage") ||
		r.Header.Get("Expires") != "" || heuristicStatus[r.Status] || cc.has("no-cache")
}

// lifetime is the freshness lifetime (RFC 9111 §4.2.1, shared cache).
func lifetime(e *entry) time.Duration {
	if e.Forced > 0 {
		return e.Forced
	}
	cc := parseCacheControl(e.Header.Values("Cache-Control"))
	if s, ok, valid := cc.seconds("s-maxage"); ok {
		if !valid {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if s, ok, valid := cc.seconds("max-age"); ok {
		if !valid {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	date := dateOf(e)
	if exp := e.Header.Get("Expires"); exp != "" {
		t, err := http.ParseTime(exp)
		if err != nil || !t.After(date) {
			return 0 // an invalid Expires means "already expired" (§5.3)
		}
		return t.Sub(date)
	}
	if lm := e.Header.Get("Last-Modified"); lm != "" && heuristicStatus[e.Status] {
		t, err := http.ParseTime(lm)
		if err == nil && date.After(t) {
			return min(date.Sub(t)/10, maxHeuristic)
		}
	}
	return 0
}

// dateOf is the response's Date, or the time it was received.
func dateOf(e *entry) time.Time {
	if d, err := http.ParseTime(e.Header.Get("Date")); err == nil {
		return d
	}
	return e.RespTime
}

// currentAge follows RFC 9111 §4.2.3. A force-cache-ttl entry ignores the
// response's Date and Age: its lifetime runs from when it was received.
func currentAge(e *entry, now time.Time) time.Duration {
	if e.Forced > 0 {
		return max(now.Sub(e.RespTime), 0)
	}
	apparent := max(e.RespTime.Sub(dateOf(e)), 0)
	var ageValue time.Duration
	if a, err := strconv.ParseInt(strings.TrimSpace(e.Header.Get("Age")), 10, 64); err == nil && a > 0 {
		ageValue = time.Duration(a) * time.Second
	}
	corrected := ageValue + e.RespTime.Sub(e.ReqTime)
	initial := max(apparent, corrected)
	return initial + max(now.Sub(e.RespTime), 0)
}

// usable decides whether a stored response answers the request without
// contacting the upstream (RFC 9111 §4, §4.2.4, §5.2.1).
func usable(e *entry, reqCC directives, age, life time.Duration) bool {
	if reqCC.has("no-cache") {
		return false
	}
	if e.Forced == 0 {
		cc := parseCacheControl(e.Header.Values("Cache-Control"))
		if cc.has("no-cache") {
			return false
		}
		if s, ok, valid := reqCC.seconds("max-age"); ok && (!valid || s == 0 || age > time.Duration(s)*time.Second) {
			return false // max-age=0 is a client's "revalidate", however young the entry
		}
		if s, ok, valid := reqCC.seconds("min-fresh"); ok && (!valid || life-age < time.Duration(s)*time.Second) {
			return false
		}
		if life > age {
			return true
		}
		if cc.has("must-revalidate") || cc.has("proxy-revalidate") || cc.has("s-maxage") {
			return false // §5.2.2.2, §5.2.2.8, §5.2.2.10: never served stale by a shared cache
		}
		if v, ok := reqCC["max-stale"]; ok {
			if v == "" {
				return true
			}
			s, _, valid := reqCC.seconds("max-stale")
			return valid && age-life <= time.Duration(s)*time.Second
		}
		return false
	}
	if s, ok, valid := reqCC.seconds("max-age"); ok && (!valid || s == 0 || age > time.Duration(s)*time.Second) {
		return false
	}
	return life > age
}

// hit builds a Result from a stored response, with its Age (§5.1).
func hit(c *Call, e *entry, age time.Duration, revalidated bool, cacheErr string) *Result {
	hdr := e.Header.Clone()
	if hdr == nil {
		hdr = http.Header{}
	}
	hdr.Set("Age", strconv.FormatInt(int64(age/time.Second), 10))
	return &Result{ID: c.ID, URL: e.URL, Status: e.Status, Header: hdr,
		Body: append([]byte(nil), e.Body...), CacheHit: true, Revalidated: revalidated,
		Timings: Timings{Start: time.Now()}, CacheError: cacheErr}
}

// hopByHop are never stored (RFC 9111 §3.1).
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Transfer-Encoding",
	"Upgrade", "Proxy-Authenticate", "Proxy-Authentication-Info", "Trailer"}

// storableHeader copies a header without hop-by-hop fields and the fields
// the Connection header names.
func storableHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, v := range h.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			out.Del(strings.TrimSpace(name))
		}
	}
	for _, name := range hopByHop {
		out.Del(name)
	}
	return out
}

// freshen updates a stored response from a 304 (RFC 9111 §4.3.4, §3.2).
func freshen(e *entry, h http.Header) {
	for name, vals := range storableHeader(h) {
		if name == "Content-Length" || name == "Content-Encoding" {
			continue
		}
		e.Header[name] = vals
	}
}

// varyValues records the request's values of the fields Vary names.
func varyValues(resp, req http.Header) map[string][]string {
	var out map[string][]string
	for _, v := range resp.Values("Vary") {
		for _, name := range strings.Split(v, ",") {
			name = http.CanonicalHeaderKey(strings.TrimSpace(name))
			if name == "" || name == "*" {
				continue
			}
			if out == nil {
				out = map[string][]string{}
			}
			out[name] = req.Values(name)
		}
	}
	return out
}

// varyMatches reports whether the request selects the stored variant
// (RFC 9111 §4.1): the named fields must be equal after whitespace
// normalisation.
func varyMatches(e *entry, req http.Header) bool {
	if hasStar(e.Header.Values("Vary")) {
		return false
	}
	for name, want := range e.Vary {
		if normalize(want) != normalize(req.Values(name)) {
			return false
		}
	}
	return true
}

func normalize(vals []string) string {
	parts := make([]string, 0, len(vals))
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			parts = append(parts, strings.TrimSpace(p))
		}
	}
	return strings.Join(parts, ",")
}

func hasStar(vary []string) bool {
	for _, v := range vary {
		for _, p := range strings.Split(v, ",") {
			if strings.TrimSpace(p) == "*" {
				return true
			}
		}
	}
	return false
}

// save stores an entry for as long as it can be served or revalidated.
func (h *HTTP) save(ctx context.Context, key string, e *entry) error {
	life := lifetime(e)
	ttl := life - currentAge(e, h.now())
	// A stale entry stays for RevalidateGrace: with validators it saves a
	// full transfer, and a request's max-stale may still accept it.
	if e.Forced == 0 && (life > 0 || e.Header.Get("Etag") != "" || e.Header.Get("Last-Modified") != "") {
		ttl = max(ttl, 0) + h.defaults.RevalidateGrace
	}
	if ttl <= 0 {
		return nil
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("upstream cache: encode: %w", err)
	}
	if err := h.cache.Set(ctx, key, b, ttl); err != nil {
		return fmt.Errorf("upstream cache: %w", err)
	}
	return nil
}

// load reads an entry; a corrupt one is deleted and reported.
func (h *HTTP) load(ctx context.Context, key string) (*entry, error) {
	b, ok, err := h.cache.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("upstream cache: %w", err)
	}
	if !ok {
		return nil, nil
	}
	var e entry
	if err := json.Unmarshal(b, &e); err != nil {
		_ = h.cache.Delete(ctx, key)
		return nil, fmt.Errorf("upstream cache: corrupt entry: %w", err)
	}
	return &e, nil
}

// invalidate drops the stored response for a URL after a successful unsafe
// request to it (RFC 9111 §4.4).
func (h *HTTP) invalidate(ctx context.Context, c *Call, req *http.Request, r *Result) {
	if err := h.cache.Delete(ctx, cacheKey(c, req)); err != nil {
		r.CacheError = fmt.Sprintf("upstream cache: %v", err)
	}
}
