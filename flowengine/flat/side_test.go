package flat

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// sideRoute is one canned answer of a case's side server.
type sideRoute struct {
	// Path is matched exactly against the request path (no query).
	Path    string            `json:"path"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    *string           `json:"body"`
	JSON    any               `json:"json"`
	// DelayMS delays the answer (timeouts).
	DelayMS int `json:"delay_ms"`
	// Redirect answers 302 to this location (relative to the server).
	Redirect string `json:"redirect"`
}

// sideCall is what the side server received.
type sideCall struct {
	Method string `json:"method"`
	// URI is the path and query.
	URI string `json:"uri"`
	// Headers lists the request headers a case checks (lower-case names);
	// only the listed ones are compared, "" meaning absent.
	Headers map[string]string `json:"headers"`
	Body    *string           `json:"body"`
}

// sideServer serves a case's side routes and records the calls.
type sideServer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []sideCall
}

func newSideServer(t *testing.T, routes []*sideRoute) *sideServer {
	t.Helper()
	s := &sideServer{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body := string(b)
		hs := map[string]string{}
		for k, v := range r.Header {
			hs[strings.ToLower(k)] = strings.Join(v, ", ")
		}
		if r.Host != "" {
			hs["host"] = r.Host
		}
		s.mu.Lock()
		s.calls = append(s.calls, sideCall{Method: r.Method, URI: r.URL.RequestURI(), Headers: hs, Body: &body})
		s.mu.Unlock()
		w.Header()["Date"] = nil // deterministic $upstream/*/headers
		for _, rt := range routes {
			if rt.Path != r.URL.Path {
				continue
			}
			if rt.DelayMS > 0 {
				select {
				case <-time.After(time.Duration(rt.DelayMS) * time.Millisecond):
				case <-r.Context().Done():
					return
				}
			}
			if rt.Redirect != "" {
				http.Redirect(w, r, rt.Redirect, http.StatusFound)
				return
			}
			for k, v := range rt.Headers {
				w.Header().Set(k, v)
			}
			var out []byte
			switch {
			case rt.JSON != nil:
				out, _ = json.Marshal(rt.JSON)
				if w.Header().Get("Content-Type") == "" {
					w.Header().Set("Content-Type", "application/json")
				}
			case rt.Body != nil:
				out = []byte(*rt.Body)
			}
			if w.Header().Get("Content-Type") == "" {
				w.Header().Set("Content-Type", "text/plain")
			}
			st := rt.Status
			if st == 0 {
				st = 200
			}
			w.WriteHeader(st)
			_, _ = w.Write(out)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(404)
		_, _ = io.WriteString(w, "no side route for "+r.URL.Path)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the server's base URL.
func (s *sideServer) URL() string { return s.srv.URL }

// take returns the calls received so far, sorted, and forgets them.
func (s *sideServer) take() []sideCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.calls
	s.calls = nil
	sort.SliceStable(out, func(i, j int) bool { return out[i].Method+" "+out[i].URI < out[j].Method+" "+out[j].URI })
	return out
}

// checkSideCalls compares the received calls with the expected ones.
func checkSideCalls(t *testing.T, want, got []sideCall) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("side server received %d calls, want %d: %+v", len(got), len(want), got)
		return
	}
	for i, w := range want {
		g := got[i]
		if w.Method != "" && g.Method != w.Method {
			t.Errorf("side call %d: method %s, want %s", i, g.Method, w.Method)
		}
		if g.URI != w.URI {
			t.Errorf("side call %d: uri %s, want %s", i, g.URI, w.URI)
		}
		for k, v := range w.Headers {
			if gv := g.Headers[strings.ToLower(k)]; gv != v {
				t.Errorf("side call %d: header %s = %q, want %q", i, k, gv, v)
			}
		}
		if w.Body != nil && *g.Body != *w.Body {
			t.Errorf("side call %d: body %q, want %q", i, *g.Body, *w.Body)
		}
	}
}
