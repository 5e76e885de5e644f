package traceweb

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		query   string
		want    Filter
		wantErr string
	}{
		{"", Filter{Sample: 1}, ""},
		{"project=shop&path=/v1&status=5xx&sample=0.25", Filter{Project: "shop", PathPrefix: "/v1", Status: "5xx", Sample: 0.25}, ""},
		{"header=X-User:%20ada", Filter{HeaderName: "x-user", HeaderValue: "ada", Sample: 1}, ""},
		{"header=x-user=ada", Filter{HeaderName: "x-user", HeaderValue: "ada", Sample: 1}, ""},
		{"status=404", Filter{Status: "404", Sample: 1}, ""},
		{"path=v1", Filter{}, "path must start with /"},
		{"header=novalue", Filter{}, "header must be name:value"},
		{"header=:v", Filter{}, "header must be name:value"},
		{"status=6xx", Filter{}, "status must be"},
		{"status=20", Filter{}, "status must be"},
		{"status=2x0", Filter{}, "status must be"},
		{"sample=0", Filter{}, "sample must be"},
		{"sample=1.5", Filter{}, "sample must be"},
		{"sample=NaN", Filter{}, "sample must be"},
		{"sample=abc", Filter{}, "sample must be"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseFilter(q)
			if tt.wantErr != "" {
				var fe *FilterError
				if !errors.As(err, &fe) || !strings.Contains(fe.Msg, tt.wantErr) {
					t.Fatalf("err = %v, want a FilterError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// chanSource is a Source whose sessions receive what the test sends.
type chanSource struct {
	filters chan Filter
	docs    chan []byte
	err     error
}

func (s *chanSource) Subscribe(ctx context.Context, f Filter) (<-chan []byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	s.filters <- f
	return s.docs, nil
}

func TestPageIsServedWithItsOwnOriginOnly(t *testing.T) {
	srv := httptest.NewServer(Handler("/trace/", &chanSource{}))
	defer srv.Close()
	for _, p := range []string{"/trace/", "/trace/app.js", "/trace/style.css"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(body) == 0 {
			t.Fatalf("%s: %d, %d bytes", p, resp.StatusCode, len(body))
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: CSP %q", p, csp)
		}
	}
	resp, err := http.Get(srv.URL + "/trace/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "http://") || strings.Contains(string(body), "https://") {
		t.Error("the page references another origin")
	}
	resp, err = http.Post(srv.URL+"/trace/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
}

func TestStreamRefusals(t *testing.T) {
	tests := []struct {
		name, query string
		src         Source
		want        int
		wantBody    string
	}{
		{"bad filter", "?sample=2", &chanSource{}, 400, "sample must be"},
		{"check ok", "?project=x&check=1", &chanSource{}, 204, ""},
		{"check bad", "?status=abc&check=1", &chanSource{}, 400, "status must be"},
		{"source refuses filter", "", &chanSource{err: &FilterError{"no such project"}}, 400, "no such project"},
		{"source unavailable", "", &chanSource{err: errors.New("too many trace sessions")}, 503, "too many trace sessions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(Handler("/trace", tt.src))
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/trace/stream" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want || !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.want, tt.wantBody)
			}
		})
	}
}

func TestStreamSendsTracesAsEvents(t *testing.T) {
	src := &chanSource{filters: make(chan Filter, 1), docs: make(chan []byte, 4)}
	srv := httptest.NewServer(Handler("/trace/", src))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/trace/stream?project=shop&path=/v1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	if f := <-src.filters; f.Project != "shop" || f.PathPrefix != "/v1" {
		t.Fatalf("filter %+v", f)
	}
	src.docs <- []byte(`{"id":"a","path":"/v1/x"}`)
	src.docs <- []byte("{\"id\":\"b\",\n\"path\":\"/v1/y\"}\n")
	close(src.docs)
	var events []string
	var data []string
	sc := bufio.NewScanner(resp.Body)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		case line == "" && event != "":
			events = append(events, event+" "+strings.Join(data, "\n"))
			event, data = "", nil
		}
	}
	want := []string{`trace {"id":"a","path":"/v1/x"}`, "trace {\"id\":\"b\",\n\"path\":\"/v1/y\"}", "end {}"}
	if strings.Join(events, "|") != strings.Join(want, "|") {
		t.Errorf("events\n%q\nwant\n%q", events, want)
	}
}

func TestStreamEndsWithTheClient(t *testing.T) {
	done := make(chan struct{})
	src := SourceFunc(func(ctx context.Context, f Filter) (<-chan []byte, error) {
		go func() { <-ctx.Done(); close(done) }()
		return make(chan []byte), nil
	})
	srv := httptest.NewServer(Handler("/trace/", src))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/trace/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	if line, _ := br.ReadString('\n'); !strings.HasPrefix(line, ":") {
		t.Fatalf("first line %q", line)
	}
	cancel()
	resp.Body.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the session's context was not cancelled when the client left")
	}
}
