package jwtauth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// jwksServer serves body (or hangs while hang is set) and counts hits.
type jwksServer struct {
	srv     *httptest.Server
	hits    atomic.Int32
	mu      sync.Mutex
	body    string
	status  int
	hang    bool
	release chan struct{}
}

func newJWKSServer(t *testing.T, body string) *jwksServer {
	s := &jwksServer{body: body, status: 200, release: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		body, status, hang := s.body, s.status, s.hang
		s.mu.Unlock()
		if hang {
			<-s.release // then answer with the body set meanwhile
			s.mu.Lock()
			body, status = s.body, s.status
			s.mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(s.srv.Close)
	t.Cleanup(func() { close(s.release) })
	return s
}

func (s *jwksServer) set(body string, status int, hang bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.status, s.hang = body, status, hang
}

func jwksJSON(t testing.TB, keys ...jose.JSONWebKey) string {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jwksProject compiles a definition whose scheme takes its keys from url.
func jwksProject(t *testing.T, url, extra string, clk *clock) (Requirements, *Checker) {
	if !strings.Contains(extra, "timeout") {
		extra = ", timeout: 0.3" + extra
	}
	doc := `swagger: "2.0"
securityDefinitions:
  IdP:
    type: apiKey
    in: header
    name: Authorization
    x-flat-jwt:
      alg: RS
      key: {jwks: "` + url + `"` + extra + `}
paths:
  /a: {get: {security: [{IdP: []}]}}
`
	d, ck := compile(t, map[string]string{"swagger.yaml": doc}, Options{Client: upstream.NewHTTP(upstream.HTTPOptions{}), Now: clk.now})
	return reqFor(t, d, ck, "/a", "GET"), ck
}

func TestJWKS(t *testing.T) {
	k := tk(t)
	claims := jwt.MapClaims{"sub": "alice"}
	withKid := sign(t, jwt.SigningMethodRS256, k.rsa, claims, map[string]any{"kid": "k1"})
	noKid := sign(t, jwt.SigningMethodRS256, k.rsa, claims, nil)
	otherKid := sign(t, jwt.SigningMethodRS256, k.rsa2, claims, map[string]any{"kid": "k2"})
	set1 := jwksJSON(t, jose.JSONWebKey{Key: &k.rsa.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"})
	set12 := jwksJSON(t,
		jose.JSONWebKey{Key: &k.rsa.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"},
		jose.JSONWebKey{Key: &k.rsa2.PublicKey, KeyID: "k2"})
	ecOnly := jwksJSON(t, jose.JSONWebKey{Key: &k.ec256.PublicKey, KeyID: "k1"})
	encOnly := jwksJSON(t, jose.JSONWebKey{Key: &k.rsa.PublicKey, KeyID: "k1", Use: "enc"})
	private := jwksJSON(t, jose.JSONWebKey{Key: k.rsa, KeyID: "k1"})
	octet := jwksJSON(t, jose.JSONWebKey{Key: k.hmac, KeyID: "k1"})
	unavailable := []string{"JWT Security (IdP): Key set unavailable"}
	noKey := []string{"JWT Security (IdP): Invalid JWT: No matching key in the key set."}

	type step struct {
		advance  time.Duration // clock before the request
		body     string        // server answer from this step on ("" keeps it)
		status   int
		hang     bool
		token    string
		wantInfo []string // nil: success
		wantHits int32
	}
	tests := []struct {
		name  string
		extra string
		steps []step
	}{
		{name: "cached for max-age", extra: ", max-age: 60", steps: []step{
			{body: set1, token: withKid, wantHits: 1},
			{advance: 59 * time.Second, token: noKid, wantHits: 1},
			{advance: 2 * time.Second, token: withKid, wantHits: 2},
		}},
		{name: "rotation: unknown kid refetches at most every 30 s", steps: []step{
			{body: set1, token: withKid, wantHits: 1},
			{token: otherKid, wantInfo: noKey, wantHits: 1},
			{advance: 31 * time.Second, body: set12, token: otherKid, wantHits: 2},
		}},
		{name: "garbage fails closed and is retried after 5 s", steps: []step{
			{body: "<html>not json</html>", token: withKid, wantInfo: unavailable, wantHits: 1},
			{advance: 4 * time.Second, token: withKid, wantInfo: unavailable, wantHits: 1},
			{advance: 2 * time.Second, body: set1, token: withKid, wantHits: 2},
		}},
		{name: "stale set is not used when the refetch fails", extra: ", max-age: 10", steps: []step{
			{body: set1, token: withKid, wantHits: 1},
			{advance: 11 * time.Second, status: 500, token: withKid, wantInfo: unavailable, wantHits: 2},
		}},
		{name: "hanging server fails closed within the timeout", steps: []step{
			{hang: true, token: withKid, wantInfo: unavailable, wantHits: 1},
		}},
		{name: "HTTP error", steps: []step{{body: set1, status: 404, token: withKid, wantInfo: unavailable, wantHits: 1}}},
		{name: "empty set", steps: []step{{body: `{"keys":[]}`, token: withKid, wantInfo: unavailable, wantHits: 1}}},
		{name: "keys not a list", steps: []step{{body: `{"keys":{}}`, token: withKid, wantInfo: unavailable, wantHits: 1}}},
		{name: "private key material is never used", steps: []step{{body: private, token: withKid, wantInfo: unavailable, wantHits: 1}}},
		{name: "symmetric key is never used", steps: []step{{body: octet, token: withKid, wantInfo: unavailable, wantHits: 1}}},
		{name: "encryption key is not a signing key", steps: []step{{body: encOnly, token: withKid, wantInfo: unavailable, wantHits: 1}}},
		{name: "EC key for an RS scheme", steps: []step{{body: ecOnly, token: withKid, wantInfo: noKey, wantHits: 1}}},
		{name: "HS token against the key set", steps: []step{{body: set1, token: sign(t, jwt.SigningMethodHS256, []byte(set1), claims, map[string]any{"kid": "k1"}),
			wantInfo: []string{"JWT Security (IdP): Invalid JWT: Algorithm HS256 not allowed."}, wantHits: 0}}},
		{name: "kid's key does not verify", steps: []step{{body: set12, token: sign(t, jwt.SigningMethodRS256, k.rsa2, claims, map[string]any{"kid": "k1"}),
			wantInfo: []string{"JWT Security (IdP): Invalid JWT: Signature verification failed."}, wantHits: 1}}},
		{name: "no kid tries every fitting key", steps: []step{{body: set12, token: sign(t, jwt.SigningMethodRS256, k.rsa2, claims, nil), wantHits: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t, "")
			clk := &clock{t: testNow}
			req, ck := jwksProject(t, srv.srv.URL+"/jwks", tt.extra, clk)
			for i, st := range tt.steps {
				clk.add(st.advance)
				if st.body != "" || st.status != 0 || st.hang {
					status := st.status
					if status == 0 {
						status = 200
					}
					body := st.body
					if body == "" {
						srv.mu.Lock()
						body = srv.body
						srv.mu.Unlock()
					}
					srv.set(body, status, st.hang)
				}
				start := time.Now()
				ok, fail := ck.Check(context.Background(), req, bearerH(st.token))
				if el := time.Since(start); el > 2*time.Second {
					t.Fatalf("step %d took %v", i, el)
				}
				if st.wantInfo == nil && fail != nil {
					t.Fatalf("step %d: %v", i, fail)
				}
				if st.wantInfo != nil && (ok != nil || strings.Join(fail.Info, "|") != strings.Join(st.wantInfo, "|")) {
					t.Fatalf("step %d: Check = %+v, %+v; want %q", i, ok, fail, st.wantInfo)
				}
				if h := srv.hits.Load(); h != st.wantHits {
					t.Fatalf("step %d: %d fetches, want %d", i, h, st.wantHits)
				}
			}
		})
	}
}

// TestJWKSConcurrent: many requests arriving while the set is fetched
// share one fetch; a request whose context ends stops waiting.
func TestJWKSConcurrent(t *testing.T) {
	k := tk(t)
	srv := newJWKSServer(t, jwksJSON(t, jose.JSONWebKey{Key: &k.rsa.PublicKey, KeyID: "k1"}))
	srv.set(srv.body, 200, true)
	clk := &clock{t: testNow}
	req, ck := jwksProject(t, srv.srv.URL, ", timeout: 5", clk)
	tok := sign(t, jwt.SigningMethodRS256, k.rsa, jwt.MapClaims{"sub": "a"}, map[string]any{"kid": "k1"})

	// A request that gives up after 50 ms while the fetch hangs.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, fail := ck.Check(ctx, req, bearerH(tok))
	if fail == nil || fail.Info[0] != "JWT Security (IdP): Key set unavailable" || time.Since(start) > time.Second {
		t.Fatalf("cancelled request: %+v after %v", fail, time.Since(start))
	}

	// 20 requests wait for the same fetch, which then answers.
	var wg sync.WaitGroup
	fails := atomic.Int32{}
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, f := ck.Check(context.Background(), req, []flowengine.Header{{Name: "Authorization", Value: "Bearer " + tok}}); f != nil {
				fails.Add(1)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	srv.release <- struct{}{}
	wg.Wait()
	if h, f := srv.hits.Load(), fails.Load(); h != 1 || f != 0 {
		t.Fatalf("%d fetches and %d failed requests, want 1 and 0", h, f)
	}
}

func TestCacheMaxAge(t *testing.T) {
	tests := []struct {
		values []string
		want   time.Duration
		ok     bool
	}{
		{nil, 0, false},
		{[]string{"public"}, 0, false},
		{[]string{"public, max-age=120"}, 120 * time.Second, true},
		{[]string{"Max-Age=\"60\""}, 60 * time.Second, true},
		{[]string{"max-age=60", "no-cache"}, 0, true},
		{[]string{"no-store, max-age=60"}, 0, true},
		{[]string{"max-age=-5"}, 0, false},
		{[]string{"max-age=abc"}, 0, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		for _, v := range tt.values {
			h.Add("Cache-Control", v)
		}
		if got, ok := cacheMaxAge(h); got != tt.want || ok != tt.ok {
			t.Errorf("cacheMaxAge(%q) = %v, %v; want %v, %v", tt.values, got, ok, tt.want, tt.ok)
		}
	}
}

// TestJWKSCacheControl: a shorter Cache-Control max-age of the key set
// response wins over max-age, but not below 30 s.
func TestJWKSCacheControl(t *testing.T) {
	k := tk(t)
	body := jwksJSON(t, jose.JSONWebKey{Key: &k.rsa.PublicKey})
	tok := sign(t, jwt.SigningMethodRS256, k.rsa, jwt.MapClaims{}, nil)
	tests := []struct {
		cc        string
		after     time.Duration
		wantFetch int
	}{
		{"max-age=40", 39 * time.Second, 1},
		{"max-age=40", 41 * time.Second, 2},
		{"no-store", 29 * time.Second, 1},
		{"no-store", 31 * time.Second, 2},
		{"max-age=86400", 601 * time.Second, 2}, // the configured max-age is the upper bound
	}
	for _, tt := range tests {
		t.Run(tt.cc+"/"+tt.after.String(), func(t *testing.T) {
			mock := upstream.NewMock()
			mock.AnswerStatus("jwks", 200, http.Header{"Cache-Control": {tt.cc}}, []byte(body))
			clk := &clock{t: testNow}
			d, ck := compile(t, map[string]string{"swagger.yaml": `swagger: "2.0"
securityDefinitions:
  IdP: {type: apiKey, in: header, name: Authorization, x-flat-jwt: {alg: RS256, key: {jwks: "https://idp.example/jwks", max-age: 600}}}
security: [{IdP: []}]
paths: {/a: {get: {}}}
`}, Options{Client: mock, Now: clk.now})
			req := reqFor(t, d, ck, "/a", "GET")
			for _, adv := range []time.Duration{0, tt.after} {
				clk.add(adv)
				if _, fail := ck.Check(context.Background(), req, bearerH(tok)); fail != nil {
					t.Fatal(fail)
				}
			}
			if n := len(mock.Calls()); n != tt.wantFetch {
				t.Fatalf("%d fetches, want %d", n, tt.wantFetch)
			}
		})
	}
}
