package upstream

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// seen is what the echo server received.
type seen struct {
	Method string
	Host   string
	Query  string
	Header http.Header
	Body   []byte
}

// recorder is an echo server that keeps the last request it saw.
type recorder struct {
	mu   sync.Mutex
	last seen
	n    int
}

func (rec *recorder) handler(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.last = seen{Method: r.Method, Host: r.Host, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
	rec.n++
	rec.mu.Unlock()
	w.Header().Set("X-Echo", "1")
	_, _ = w.Write([]byte("ok"))
}

func (rec *recorder) get() seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.last
}

func TestRequestShape(t *testing.T) {
	rec := &recorder{}
	srv := server(t, rec.handler)
	h := newClient(t, HTTPOptions{})
	u := srv.URL + "/p?x=1"

	tests := []struct {
		name  string
		call  Call
		check func(t *testing.T, s seen)
	}{
		{"GET by default", Call{URL: u}, func(t *testing.T, s seen) {
			if s.Method != "GET" || len(s.Body) != 0 {
				t.Errorf("method %s body %q", s.Method, s.Body)
			}
		}},
		{"POST when a body is set", Call{URL: u, Body: []byte("hi")}, func(t *testing.T, s seen) {
			if s.Method != "POST" || string(s.Body) != "hi" {
				t.Errorf("method %s body %q", s.Method, s.Body)
			}
		}},
		{"POST when uploads are set", Call{URL: u, Uploads: []Upload{{Name: "f", Data: []byte("x")}}}, func(t *testing.T, s seen) {
			if s.Method != "POST" {
				t.Errorf("method %s", s.Method)
			}
		}},
		{"explicit method lower case", Call{URL: u, Method: "delete"}, func(t *testing.T, s seen) {
			if s.Method != "DELETE" {
				t.Errorf("method %s", s.Method)
			}
		}},
		{"PUT without body sends Content-Length 0", Call{URL: u, Method: "PUT"}, func(t *testing.T, s seen) {
			if s.Method != "PUT" || s.Header.Get("Content-Length") != "0" {
				t.Errorf("method %s content-length %q", s.Method, s.Header.Get("Content-Length"))
			}
		}},
		{"User-Agent defaults to FLAT", Call{URL: u}, func(t *testing.T, s seen) {
			if got := s.Header.Values("User-Agent"); !reflect.DeepEqual(got, []string{"FLAT"}) {
				t.Errorf("User-Agent %q", got)
			}
		}},
		{"own User-Agent wins", Call{URL: u, Headers: []Field{{"user-agent", "me/1"}}}, func(t *testing.T, s seen) {
			if got := s.Header.Values("User-Agent"); !reflect.DeepEqual(got, []string{"me/1"}) {
				t.Errorf("User-Agent %q", got)
			}
		}},
		{"repeated headers keep their order", Call{URL: u, Headers: []Field{{"X-A", "1"}, {"x-b", "b"}, {"x-a", "2"}, {"X-A", "3"}}}, func(t *testing.T, s seen) {
			if got := s.Header.Values("X-A"); !reflect.DeepEqual(got, []string{"1", "2", "3"}) {
				t.Errorf("X-A %q", got)
			}
			if s.Header.Get("X-B") != "b" {
				t.Errorf("X-B %q", s.Header.Get("X-B"))
			}
		}},
		{"Host header field sets Host", Call{URL: u, Headers: []Field{{"host", "api.example"}}}, func(t *testing.T, s seen) {
			if s.Host != "api.example" {
				t.Errorf("Host %q", s.Host)
			}
		}},
		{"connection headers of the caller are dropped", Call{URL: u, Headers: []Field{{"Connection", "upgrade"}, {"Content-Length", "99"}, {"Transfer-Encoding", "chunked"}, {"Upgrade", "h2c"}}}, func(t *testing.T, s seen) {
			for _, n := range []string{"Upgrade", "Transfer-Encoding"} {
				if s.Header.Get(n) != "" {
					t.Errorf("%s forwarded: %q", n, s.Header.Get(n))
				}
			}
			if s.Header.Get("Content-Length") == "99" {
				t.Error("Content-Length forwarded")
			}
		}},
		{"cookies replace a Cookie header", Call{URL: u, Headers: []Field{{"Cookie", "old=1"}}, Cookies: []Field{{"a", "1"}, {"b", "x y"}, {"a", "2"}}}, func(t *testing.T, s seen) {
			if got := s.Header.Values("Cookie"); !reflect.DeepEqual(got, []string{"a=1; b=x y; a=2"}) {
				t.Errorf("Cookie %q", got)
			}
		}},
		{"query pairs are appended and encoded", Call{URL: u, Query: []Field{{"a b", "c&d"}, {"x", "2"}, {"e", ""}}}, func(t *testing.T, s seen) {
			if s.Query != "x=1&a+b=c%26d&x=2&e=" {
				t.Errorf("query %q", s.Query)
			}
		}},
		{"query on a URL without one", Call{URL: srv.URL, Query: []Field{{"k", "ü"}}}, func(t *testing.T, s seen) {
			if s.Query != "k=%C3%BC" {
				t.Errorf("query %q", s.Query)
			}
		}},
		{"body content type from ContentType", Call{URL: u, Body: []byte(`{}`), ContentType: "application/json"}, func(t *testing.T, s seen) {
			if s.Header.Get("Content-Type") != "application/json" || string(s.Body) != "{}" {
				t.Errorf("content type %q body %q", s.Header.Get("Content-Type"), s.Body)
			}
		}},
		{"a Content-Type header beats ContentType", Call{URL: u, Body: []byte(`x`), ContentType: "application/json", Headers: []Field{{"content-type", "text/x"}}}, func(t *testing.T, s seen) {
			if got := s.Header.Values("Content-Type"); !reflect.DeepEqual(got, []string{"text/x"}) {
				t.Errorf("content type %q", got)
			}
		}},
		{"basic auth", Call{URL: u, BasicAuth: &Credentials{User: "u", Password: "p:w"}}, func(t *testing.T, s seen) {
			r := &http.Request{Header: s.Header}
			user, pass, ok := r.BasicAuth()
			if !ok || user != "u" || pass != "p:w" {
				t.Errorf("basic auth %q %q %v", user, pass, ok)
			}
		}},
		{"X-Forwarded-For from the client IP", Call{URL: u, SendXForwardedFor: true, ClientIP: "10.0.0.9"}, func(t *testing.T, s seen) {
			if got := s.Header.Values("X-Forwarded-For"); !reflect.DeepEqual(got, []string{"10.0.0.9"}) {
				t.Errorf("XFF %q", got)
			}
		}},
		{"X-Forwarded-For appended to the incoming chain", Call{URL: u, SendXForwardedFor: true, ClientIP: "10.0.0.9", ForwardedFor: "1.2.3.4, 5.6.7.8"}, func(t *testing.T, s seen) {
			if got := s.Header.Get("X-Forwarded-For"); got != "1.2.3.4, 5.6.7.8, 10.0.0.9" {
				t.Errorf("XFF %q", got)
			}
		}},
		{"no X-Forwarded-For unless asked", Call{URL: u, ClientIP: "10.0.0.9"}, func(t *testing.T, s seen) {
			if got := s.Header.Get("X-Forwarded-For"); got != "" {
				t.Errorf("XFF %q", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.call
			c.ID = "r"
			r := do(t, h, &c)
			wantOK(t, r, 200)
			if r.ID != "r" || string(r.Body) != "ok" || r.Header.Get("X-Echo") != "1" {
				t.Errorf("result id %q body %q header %v", r.ID, r.Body, r.Header)
			}
			tt.check(t, rec.get())
		})
	}
}

func TestRequestMultipart(t *testing.T) {
	rec := &recorder{}
	srv := server(t, rec.handler)
	h := newClient(t, HTTPOptions{})
	r := do(t, h, &Call{URL: srv.URL, ContentType: "text/ignored", Uploads: []Upload{
		{Name: "plain", Data: []byte("v1")},
		{Name: "file", Filename: `a "q".bin`, Data: []byte{0, 1, 2}},
		{Name: "json", Filename: "d.json", ContentType: "application/json", Data: []byte(`{"a":1}`)},
	}})
	wantOK(t, r, 200)
	s := rec.get()
	mt, params, err := mime.ParseMediaType(s.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("content type %q: %v", s.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(bytes.NewReader(s.Body), params["boundary"])
	type part struct{ name, file, ct, data string }
	var got []part
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		got = append(got, part{p.FormName(), p.FileName(), p.Header.Get("Content-Type"), string(b)})
	}
	want := []part{
		{"plain", "", "", "v1"},
		{"file", `a "q".bin`, "application/octet-stream", "\x00\x01\x02"},
		{"json", "d.json", "application/json", `{"a":1}`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parts\n got %q\nwant %q", got, want)
	}
}

func TestRequestInvalid(t *testing.T) {
	rec := &recorder{}
	srv := server(t, rec.handler)
	h := newClient(t, HTTPOptions{})
	tests := []struct {
		name string
		call Call
	}{
		{"unparsable URL", Call{URL: "http://[::1"}},
		{"relative URL", Call{URL: "/just/a/path"}},
		{"ftp scheme", Call{URL: "ftp://example.com/"}},
		{"no host", Call{URL: "http:///x"}},
		{"bad method", Call{URL: srv.URL, Method: "GE T"}},
		{"bad header name", Call{URL: srv.URL, Headers: []Field{{"X A", "1"}}}},
		{"header value with newline", Call{URL: srv.URL, Headers: []Field{{"X-A", "1\r\nX-B: 2"}}}},
		{"bad Host header", Call{URL: srv.URL, Headers: []Field{{"Host", "a b"}}}},
		{"cookie with semicolon", Call{URL: srv.URL, Cookies: []Field{{"a", "1; b=2"}}}},
		{"cookie with control byte", Call{URL: srv.URL, Cookies: []Field{{"a", "\x00"}}}},
		{"cookie without name", Call{URL: srv.URL, Cookies: []Field{{"", "1"}}}},
		{"body and uploads", Call{URL: srv.URL, Body: []byte("x"), Uploads: []Upload{{Name: "a"}}}},
		{"upload without name", Call{URL: srv.URL, Uploads: []Upload{{Data: []byte("a")}}}},
		{"bad content type", Call{URL: srv.URL, Body: []byte("x"), ContentType: "a\nb"}},
		{"xff without client IP", Call{URL: srv.URL, SendXForwardedFor: true}},
		{"cache and force ttl", Call{URL: srv.URL, Cache: CacheOptions{UseHTTPCache: true, ForceTTL: 1}}},
		{"negative force ttl", Call{URL: srv.URL, Cache: CacheOptions{ForceTTL: -1}}},
		{"proxy with connect-to", Call{URL: srv.URL, Proxy: ProxyOptions{Server: "127.0.0.1:1"}, ConnectTo: ConnectTo{Host: "127.0.0.1"}}},
		{"connect-to scheme", Call{URL: srv.URL, ConnectTo: ConnectTo{Scheme: "gopher"}}},
		{"proxy scheme", Call{URL: srv.URL, Proxy: ProxyOptions{Server: "ftp://p:1"}}},
		{"proxy port", Call{URL: srv.URL, Proxy: ProxyOptions{Server: "p:http"}}},
		{"proxy without host", Call{URL: srv.URL, Proxy: ProxyOptions{Server: "http://"}}},
		{"unknown cipher", Call{URL: srv.URL, TLS: TLSOptions{Ciphers: []string{"TLS_NOPE"}}}},
		{"tls min above max", Call{URL: srv.URL, TLS: TLSOptions{MinVersion: 0x0304, MaxVersion: 0x0303}}},
		{"client cert garbage", Call{URL: srv.URL, TLS: TLSOptions{ClientCertPEM: []byte("nope")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.call
			c.ID = "bad"
			r := do(t, h, &c)
			wantKind(t, r, KindInvalid)
			if r.ID != "bad" {
				t.Errorf("ID %q", r.ID)
			}
		})
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.n != 0 {
		t.Errorf("an invalid call reached the server %d times", rec.n)
	}
}

func TestResultURLRedacted(t *testing.T) {
	rec := &recorder{}
	srv := server(t, rec.handler)
	h := newClient(t, HTTPOptions{})
	u := "http://user:secret@" + hostPort(srv.URL) + "/p"
	r := do(t, h, &Call{URL: u})
	wantOK(t, r, 200)
	if strings.Contains(r.URL, "secret") {
		t.Errorf("result URL %q shows the password", r.URL)
	}
	if user, pass, ok := (&http.Request{Header: rec.get().Header}).BasicAuth(); !ok || user != "user" || pass != "secret" {
		t.Errorf("URL credentials not sent: %q %q", user, pass)
	}
	bad := do(t, h, &Call{URL: "gopher://user:secret@x/"})
	wantKind(t, bad, KindInvalid)
	if strings.Contains(bad.URL+bad.Err.Message, "secret") {
		t.Errorf("failed result URL %q shows the password", bad.URL)
	}
}

func TestDoNilCall(t *testing.T) {
	h := newClient(t, HTTPOptions{})
	if _, err := h.Do(t.Context(), nil); err != ErrNilCall {
		t.Fatalf("want ErrNilCall, got %v", err)
	}
}
