package upstream

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowproc/flowproc/internal/racecheck"
)

// slowTLSListener accepts TCP connections and never answers the TLS
// ClientHello: the connection never becomes ready.
func slowTLSListener(t *testing.T) string {
	return rawListener(t, func(c net.Conn) {
		buf := make([]byte, 512)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	})
}

func TestTimeouts(t *testing.T) {
	hd := newHold(t)
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/headers-late":
			hd.wait(r)
		case "/body-late":
			w.Header().Set("Content-Length", "10")
			w.WriteHeader(200)
			_, _ = w.Write([]byte("12345"))
			w.(http.Flusher).Flush()
			hd.wait(r)
		}
	})
	slowTLS := "https://" + slowTLSListener(t) + "/"

	long := racecheck.Scale(5 * time.Second)
	tests := []struct {
		name     string
		defaults Defaults
		ctxTO    time.Duration
		call     Call
		wantMsg  string
	}{
		{"ttfb", Defaults{}, 0, Call{URL: srv.URL + "/headers-late", Timeout: long, TTFBTimeout: 100 * time.Millisecond}, "time-to-first-byte"},
		{"ttfb from defaults", Defaults{TTFBTimeout: 100 * time.Millisecond}, 0, Call{URL: srv.URL + "/headers-late", Timeout: long}, "time-to-first-byte"},
		{"total while waiting for headers", Defaults{}, 0, Call{URL: srv.URL + "/headers-late", Timeout: 150 * time.Millisecond}, "timeout"},
		{"total while reading the body", Defaults{}, 0, Call{URL: srv.URL + "/body-late", Timeout: 150 * time.Millisecond}, "reading the response body: timeout"},
		{"total from defaults", Defaults{Timeout: 150 * time.Millisecond}, 0, Call{URL: srv.URL + "/headers-late"}, "timeout"},
		{"connect (TLS handshake never ends)", Defaults{}, 0, Call{URL: slowTLS, Timeout: long, ConnectTimeout: 100 * time.Millisecond}, "connect timeout"},
		{"connect from defaults", Defaults{ConnectTimeout: 100 * time.Millisecond}, 0, Call{URL: slowTLS, Timeout: long}, "connect timeout"},
		{"total capped by MaxTimeout", Defaults{MaxTimeout: 150 * time.Millisecond}, 0, Call{URL: srv.URL + "/headers-late", Timeout: long}, "timeout"},
		{"ttfb capped by MaxTimeout", Defaults{MaxTimeout: 150 * time.Millisecond}, 0, Call{URL: srv.URL + "/headers-late", Timeout: 100 * time.Millisecond, TTFBTimeout: long}, "timeout"},
		{"connect capped by MaxTimeout", Defaults{MaxTimeout: 150 * time.Millisecond}, 0, Call{URL: slowTLS, ConnectTimeout: long}, "timeout"},
		{"context deadline beats the call's timeout", Defaults{}, 150 * time.Millisecond, Call{URL: srv.URL + "/headers-late", Timeout: long, TTFBTimeout: long}, "deadline"},
		{"context deadline beats the connect timeout", Defaults{}, 150 * time.Millisecond, Call{URL: slowTLS, Timeout: long, ConnectTimeout: long}, "deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newClient(t, HTTPOptions{Defaults: tt.defaults})
			ctx := t.Context()
			if tt.ctxTO > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTO)
				defer cancel()
			}
			start := time.Now()
			r, err := h.Do(ctx, &tt.call)
			if err != nil {
				t.Fatal(err)
			}
			elapsed := time.Since(start)
			wantKind(t, r, KindTimeout)
			if !strings.Contains(r.Err.Message, tt.wantMsg) {
				t.Errorf("message %q, want it to contain %q", r.Err.Message, tt.wantMsg)
			}
			if elapsed > racecheck.Scale(2*time.Second) {
				t.Errorf("took %v", elapsed)
			}
			if r.Timings.Total <= 0 {
				t.Errorf("no total timing: %+v", r.Timings)
			}
		})
	}
}

func TestResolveTimeouts(t *testing.T) {
	s := time.Second
	tests := []struct {
		name string
		d    Defaults
		c    Call
		want timeouts
	}{
		{"standard", Defaults{}, Call{}, timeouts{total: 3 * s}},
		{"defaults", Defaults{Timeout: 5 * s, ConnectTimeout: s, TTFBTimeout: 2 * s}, Call{}, timeouts{5 * s, s, 2 * s}},
		{"call wins", Defaults{Timeout: 5 * s, ConnectTimeout: s}, Call{Timeout: 7 * s, ConnectTimeout: 3 * s, TTFBTimeout: 4 * s}, timeouts{7 * s, 3 * s, 4 * s}},
		{"phase not below total is dropped", Defaults{}, Call{Timeout: 2 * s, ConnectTimeout: 2 * s, TTFBTimeout: 9 * s}, timeouts{total: 2 * s}},
		{"max caps all", Defaults{MaxTimeout: 4 * s}, Call{Timeout: 9 * s, ConnectTimeout: 6 * s, TTFBTimeout: 3 * s}, timeouts{4 * s, 0, 3 * s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.resolveTimeouts(&tt.c); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCancelMidFlight(t *testing.T) {
	hd := newHold(t)
	started := make(chan struct{}, 1)
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		hd.wait(r)
	})
	h := newClient(t, HTTPOptions{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan *Result, 1)
	go func() {
		r, _ := h.Do(ctx, &Call{URL: srv.URL, Timeout: time.Minute})
		done <- r
	}()
	<-started
	cancel()
	select {
	case r := <-done:
		wantKind(t, r, KindCanceled)
	case <-time.After(racecheck.Scale(2 * time.Second)):
		t.Fatal("Do did not return after its context was cancelled")
	}

	// Cancelled before the call starts: no network at all.
	r, err := h.Do(ctx, &Call{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, r, KindCanceled)
}

func TestBadUpstreams(t *testing.T) {
	garbage := rawListener(t, func(c net.Conn) {
		_, _ = bufio.NewReader(c).ReadString('\n')
		_, _ = c.Write([]byte("SPLAT/9 what\r\n\r\n"))
		c.Close()
	})
	hangup := rawListener(t, func(c net.Conn) {
		_, _ = bufio.NewReader(c).ReadString('\n')
		c.Close()
	})
	shortBody := rawListener(t, func(c net.Conn) {
		rd := bufio.NewReader(c)
		for {
			l, err := rd.ReadString('\n')
			if err != nil || l == "\r\n" {
				break
			}
		}
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b"))
		c.Close()
	})
	plain := server(t, func(w http.ResponseWriter, r *http.Request) {})
	tlsSrv, _ := tlsServer(t, func(w http.ResponseWriter, r *http.Request) {}, nil)
	h := newClient(t, HTTPOptions{})

	tests := []struct {
		name string
		call Call
		want Kind
	}{
		{"connection refused", Call{URL: "http://" + closedAddr(t) + "/"}, KindConnect},
		{"not HTTP", Call{URL: "http://" + garbage + "/"}, KindHTTP},
		{"closed before answering", Call{URL: "http://" + hangup + "/"}, KindHTTP},
		{"body cut short", Call{URL: "http://" + shortBody + "/"}, KindHTTP},
		{"https to a plain server", Call{URL: "https://" + hostPort(plain.URL) + "/"}, KindTLS},
		{"untrusted certificate", Call{URL: tlsSrv.URL}, KindTLS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.call
			c.Timeout = racecheck.Scale(5 * time.Second)
			wantKind(t, do(t, h, &c), tt.want)
		})
	}
}

func TestRedirects(t *testing.T) {
	var hits atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch {
		case r.URL.Path == "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/chain/"):
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/chain/"))
			if n > 0 {
				http.Redirect(w, r, fmt.Sprintf("/chain/%d", n-1), http.StatusMovedPermanently)
				return
			}
			_, _ = w.Write([]byte("end"))
		}
	})
	h := newClient(t, HTTPOptions{Defaults: Defaults{MaxRedirects: 4}})
	tests := []struct {
		name          string
		call          Call
		wantStatus    int
		wantKind      Kind
		wantRedirects int
		wantPath      string
	}{
		{"not followed by default", Call{URL: srv.URL + "/chain/2"}, 301, "", 0, "/chain/2"},
		{"followed", Call{URL: srv.URL + "/chain/2", FollowRedirects: true}, 200, "", 2, "/chain/0"},
		{"exactly the limit", Call{URL: srv.URL + "/chain/3", FollowRedirects: true, MaxRedirects: 3}, 200, "", 3, "/chain/0"},
		{"over the limit", Call{URL: srv.URL + "/chain/3", FollowRedirects: true, MaxRedirects: 2}, 0, KindTooManyRedirects, 2, ""},
		{"default limit", Call{URL: srv.URL + "/chain/5", FollowRedirects: true}, 0, KindTooManyRedirects, 4, ""},
		{"loop", Call{URL: srv.URL + "/loop", FollowRedirects: true}, 0, KindTooManyRedirects, 4, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, h, &tt.call)
			if tt.wantKind != "" {
				wantKind(t, r, tt.wantKind)
			} else {
				wantOK(t, r, tt.wantStatus)
				if !strings.HasSuffix(r.URL, tt.wantPath) {
					t.Errorf("final URL %s, want path %s", r.URL, tt.wantPath)
				}
			}
			if r.Redirects != tt.wantRedirects {
				t.Errorf("redirects %d, want %d", r.Redirects, tt.wantRedirects)
			}
		})
	}
}

func TestMaxBodyBytes(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("chunked") != "" {
			w.(http.Flusher).Flush() // no Content-Length
		}
		_, _ = w.Write([]byte(strings.Repeat("x", n)))
	})
	h := newClient(t, HTTPOptions{Defaults: Defaults{MaxBodyBytes: 64}})
	tests := []struct {
		name  string
		query string
		limit int64
		ok    bool
	}{
		{"under the default", "n=10", 0, true},
		{"at the default", "n=64", 0, true},
		{"over the default (Content-Length)", "n=65", 0, false},
		{"over the default (chunked)", "n=65&chunked=1", 0, false},
		{"at the call's limit, chunked", "n=100&chunked=1", 100, true},
		{"over the call's limit", "n=1000", 100, false},
		{"far over, chunked", "n=100000&chunked=1", 100, false},
		{"empty body", "n=0", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, h, &Call{URL: srv.URL + "/?" + tt.query, MaxBodyBytes: tt.limit})
			if !tt.ok {
				wantKind(t, r, KindBodyTooLarge)
				return
			}
			wantOK(t, r, 200)
			n, _ := strconv.Atoi(strings.TrimPrefix(strings.Split(tt.query, "&")[0], "n="))
			if len(r.Body) != n {
				t.Errorf("body %d bytes, want %d", len(r.Body), n)
			}
		})
	}
}

func TestMaxBodyBytesHead(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		if r.URL.Path == "/304" {
			w.WriteHeader(http.StatusNotModified)
		}
	})
	h := newClient(t, HTTPOptions{Defaults: Defaults{MaxBodyBytes: 64}})
	r := do(t, h, &Call{URL: srv.URL, Method: "HEAD"})
	wantOK(t, r, 200)
	if r.Header.Get("Content-Length") != "1000000" || len(r.Body) != 0 {
		t.Errorf("HEAD: header %v body %d bytes", r.Header, len(r.Body))
	}
	wantOK(t, do(t, h, &Call{URL: srv.URL + "/304"}), 304)
}

func TestConnectionReuse(t *testing.T) {
	var closeSeen atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Close {
			closeSeen.Add(1)
		}
		_, _ = w.Write([]byte("ok"))
	})
	h := newClient(t, HTTPOptions{})
	for _, disable := range []bool{false, true} {
		t.Run(fmt.Sprint("disable=", disable), func(t *testing.T) {
			closeSeen.Store(0)
			var reused []bool
			for range 3 {
				r := do(t, h, &Call{URL: srv.URL, DisableConnectionReuse: disable})
				wantOK(t, r, 200)
				reused = append(reused, r.ConnReused)
			}
			if disable {
				if reused[1] || reused[2] || closeSeen.Load() != 3 {
					t.Errorf("reused %v, Connection: close seen %d times", reused, closeSeen.Load())
				}
			} else if !reused[1] || !reused[2] || closeSeen.Load() != 0 {
				t.Errorf("reused %v, Connection: close seen %d times", reused, closeSeen.Load())
			}
		})
	}
}

func TestTimingsMeasured(t *testing.T) {
	srv, pool := tlsServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }, nil)
	h := newClient(t, HTTPOptions{RootCAs: pool})
	r := do(t, h, &Call{URL: srv.URL})
	wantOK(t, r, 200)
	tm := r.Timings
	if tm.Start.IsZero() || tm.Connect <= 0 || tm.TLS <= 0 || tm.TTFB <= 0 || tm.Total < tm.TTFB || r.ConnReused {
		t.Errorf("timings %+v reused %v", tm, r.ConnReused)
	}
}
