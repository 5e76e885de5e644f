// Package traceweb serves flowproc's trace web page: a live list of traced
// exchanges and, for one exchange, a timeline of its steps with conditions,
// results, durations and the variables they changed, the request and
// response at each phase, and the forward. The page is plain HTML and
// JavaScript embedded in the binary (no build step, no external network);
// it reads traces as Server-Sent Events from the same handler, one
// flowproc.v1.ExchangeTrace in its protojson form per event, which is also
// the format `flowproc trace --json` prints and saved sessions hold, so a
// session exported from the page can be shown by `flowproc trace -show` and
// the other way round.
package traceweb

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// Filter selects the exchanges a page session traces. Its fields mirror the
// trace API's TraceRequest.
type Filter struct {
	// Project is the project name ("" = every project).
	Project string
	// PathPrefix selects paths that start with it ("" = every path).
	PathPrefix string
	// HeaderName and HeaderValue select requests carrying that header value.
	HeaderName, HeaderValue string
	// Status is an exact status ("404") or a class ("5xx"); "" = any.
	Status string
	// Sample is the fraction of matching exchanges traced, in (0, 1].
	Sample float64
}

// Source starts trace sessions. Subscribe returns the selected exchanges'
// traces as JSON documents until ctx ends or the source closes the channel.
// An error whose type is *FilterError is the client's fault (HTTP 400); any
// other error is answered with 503 (too many sessions, tracing disabled).
type Source interface {
	Subscribe(ctx context.Context, f Filter) (<-chan []byte, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context, f Filter) (<-chan []byte, error)

// Subscribe calls f.
func (f SourceFunc) Subscribe(ctx context.Context, flt Filter) (<-chan []byte, error) {
	return f(ctx, flt)
}

// FilterError reports a malformed filter.
type FilterError struct{ Msg string }

func (e *FilterError) Error() string { return e.Msg }

// Heartbeat is how often an idle stream sends an SSE comment, so proxies and
// the browser keep the connection open and a gone client is noticed.
const Heartbeat = 15 * time.Second

// Handler serves the page under prefix (e.g. "/trace/"): prefix itself is
// the page, prefix+"stream" the event stream, and the page's script and
// style sheet beside it.
func Handler(prefix string, src Source) http.Handler {
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded directory exists at compile time
	}
	files := http.StripPrefix(prefix, http.FileServer(http.FS(sub)))
	mux := http.NewServeMux()
	mux.HandleFunc(prefix+"stream", func(w http.ResponseWriter, r *http.Request) { stream(w, r, src) })
	mux.HandleFunc(prefix, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		secure(w)
		files.ServeHTTP(w, r)
	})
	return mux
}

// secure sets the headers that keep the page to its own origin: no inline
// script, no frames, no external fetches.
func secure(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// ParseFilter reads a Filter from the stream's query parameters: project,
// path, header (name:value or name=value), status (404 or 5xx) and sample
// (a fraction, default 1).
func ParseFilter(q map[string][]string) (Filter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	f := Filter{Project: get("project"), PathPrefix: get("path"), Status: get("status"), Sample: 1}
	if f.PathPrefix != "" && !strings.HasPrefix(f.PathPrefix, "/") {
		return Filter{}, &FilterError{"path must start with /"}
	}
	if h := get("header"); h != "" {
		i := strings.IndexAny(h, ":=")
		if i <= 0 {
			return Filter{}, &FilterError{"header must be name:value"}
		}
		f.HeaderName = strings.ToLower(strings.TrimSpace(h[:i]))
		f.HeaderValue = strings.TrimSpace(h[i+1:])
	}
	if s := f.Status; s != "" {
		if !validStatus(s) {
			return Filter{}, &FilterError{"status must be a code like 404 or a class like 5xx"}
		}
	}
	if s := get("sample"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !(v > 0 && v <= 1) {
			return Filter{}, &FilterError{"sample must be a fraction in (0, 1]"}
		}
		f.Sample = v
	}
	return f, nil
}

func validStatus(s string) bool {
	if len(s) != 3 || s[0] < '1' || s[0] > '5' {
		return false
	}
	if s[1:] == "xx" {
		return true
	}
	_, err := strconv.Atoi(s)
	return err == nil
}

// stream answers one page session with Server-Sent Events: "trace" events
// carrying one exchange each, and comments as heartbeats.
func stream(w http.ResponseWriter, r *http.Request, src Source) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f, err := ParseFilter(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.URL.Query().Has("check") {
		// The page checks its filter before opening the EventSource, which
		// cannot show why a request was refused.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	traces, err := src.Subscribe(ctx, f)
	if err != nil {
		var fe *FilterError
		if errors.As(err, &fe) {
			http.Error(w, fe.Msg, http.StatusBadRequest)
			return
		}
		http.Error(w, "tracing unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	secure(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": flowproc trace stream\n\n")
	flusher.Flush()
	tick := time.NewTicker(Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			flusher.Flush()
		case doc, ok := <-traces:
			if !ok {
				fmt.Fprint(w, "event: end\ndata: {}\n\n")
				flusher.Flush()
				return
			}
			if _, err := writeEvent(w, "trace", doc); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}

// writeEvent writes one SSE event; a document with line breaks becomes
// several data lines, which the browser joins with "\n".
func writeEvent(w http.ResponseWriter, event string, doc []byte) (int, error) {
	var b strings.Builder
	b.Grow(len(doc) + 32)
	b.WriteString("event: ")
	b.WriteString(event)
	b.WriteByte('\n')
	for _, line := range strings.Split(strings.TrimRight(string(doc), "\n"), "\n") {
		b.WriteString("data: ")
		b.WriteString(strings.TrimSuffix(line, "\r"))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return fmt.Fprint(w, b.String())
}
