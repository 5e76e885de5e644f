package flat

import (
	"bytes"
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/runtime"
)

// FLAT's debug output (FLAT docs: debug configuration). A debug spec is
// "topic:level:sink": topics are "*" or a comma-separated list of action
// names, system topics or debug="tag" values of actions; the level is a
// threshold (verbose, debug, info, warn/warning, error, alert); the sink is
// log (the server log), or inline/append (the lines are appended to the
// answered body; flowproc does not mix them into the body, so inline acts
// as append). FLAT_DEBUG sets it for every request; the Debug request
// header sets it per request when FLAT_DEBUG_ALLOW_HEADER=true, or when
// FLAT_DEBUG_AUTH is set and the header carries "; auth=<that password>".
// A request being debugged is traced; the lines are made from its trace.

// debugSpec is a parsed debug spec.
type debugSpec struct {
	topics []string // empty: all
	level  slog.Level
	sink   string // log, inline, append
}

// parseDebugSpec reads "topic:level:sink"; empty parts take the defaults
// (*, debug, log).
func parseDebugSpec(s string) (*debugSpec, error) {
	s = strings.TrimSpace(s)
	parts := strings.SplitN(s, ":", 3)
	spec := &debugSpec{level: slog.LevelDebug, sink: "log"}
	if t := strings.TrimSpace(parts[0]); t != "" && t != "*" {
		for _, topic := range strings.Split(t, ",") {
			if topic = strings.TrimSpace(topic); topic != "" {
				spec.topics = append(spec.topics, topic)
			}
		}
	}
	if len(parts) > 1 && strings.TrimSpace(parts[1]) != "" {
		lv, ok := debugLevels[strings.ToLower(strings.TrimSpace(parts[1]))]
		if !ok {
			return nil, fmt.Errorf("debug level %q: want verbose, debug, info, warn, error or alert", parts[1])
		}
		spec.level = lv
	}
	if len(parts) > 2 && strings.TrimSpace(parts[2]) != "" {
		switch sink := strings.TrimSpace(parts[2]); sink {
		case "log", "inline", "append":
			spec.sink = sink
		default:
			return nil, fmt.Errorf("debug sink %q: want log, inline or append", sink)
		}
	}
	return spec, nil
}

// wants reports whether a step named name (with debug tags) is shown.
func (s *debugSpec) wants(name string, tags []string) bool {
	if len(s.topics) == 0 {
		return true
	}
	for _, t := range s.topics {
		if t == name || slices.Contains(tags, t) {
			return true
		}
	}
	return false
}

// debugConfig is a project's debug settings, read from its environment at
// load.
type debugConfig struct {
	global      *debugSpec // FLAT_DEBUG
	allowHeader bool       // FLAT_DEBUG_ALLOW_HEADER=true
	auth        string     // FLAT_DEBUG_AUTH
	// tags are the debug="…" attributes of steps by "file:line:col".
	tags map[string][]string
}

func (p *Project) loadDebugConfig(getenv func(string) string) error {
	d := &p.debug
	if s := getenv("FLAT_DEBUG"); s != "" {
		spec, err := parseDebugSpec(s)
		if err != nil {
			return fmt.Errorf("FLAT_DEBUG: %w", err)
		}
		d.global = spec
	}
	d.allowHeader = getenv("FLAT_DEBUG_ALLOW_HEADER") == "true"
	d.auth = getenv("FLAT_DEBUG_AUTH")
	return nil
}

// requestSpec is the debug spec for a request: its Debug header when
// allowed, else FLAT_DEBUG; nil when the request is not debugged.
func (p *Project) requestSpec(req *flowengine.Request) *debugSpec {
	d := &p.debug
	if d.allowHeader || d.auth != "" {
		for _, h := range req.Headers {
			if h.Name != "debug" {
				continue
			}
			spec, auth, _ := strings.Cut(h.Value, ";")
			if d.auth != "" {
				pw, ok := strings.CutPrefix(strings.TrimSpace(auth), "auth=")
				if !ok || subtle.ConstantTimeCompare([]byte(pw), []byte(d.auth)) != 1 {
					break
				}
			}
			if s, err := parseDebugSpec(spec); err == nil {
				return s
			}
		}
	}
	return d.global
}

// debugTracer collects a debugged request's events and passes them on to
// the host's tracer, if any.
type debugTracer struct {
	mu     sync.Mutex
	events []flowengine.Event
	next   flowengine.Tracer
}

func (t *debugTracer) TraceEvent(e flowengine.Event) {
	t.mu.Lock()
	t.events = append(t.events, e)
	t.mu.Unlock()
	if t.next != nil {
		t.next.TraceEvent(e)
	}
}

// runDebugged runs a request whose debug spec is set: traced, with the
// debug lines written to the spec's sink.
func (p *Project) runDebugged(ctx context.Context, req *flowengine.Request, host flowengine.Host, spec *debugSpec) *flowengine.Outcome {
	tr := &debugTracer{next: req.Trace}
	dreq := *req
	dreq.Trace = tr
	r := p.newRun(ctx, &dreq, host)
	o := runtime.Guard(r.run, r.panicked)
	lines := p.debugLines(spec, tr.events)
	if len(lines) == 0 {
		return o
	}
	if spec.sink == "log" {
		for _, l := range lines {
			p.logger().LogAttrs(context.WithoutCancel(ctx), slog.LevelInfo, "flat_debug",
				slog.String("type", "flat_debug"), slog.String("requestID", o.RequestID), slog.String("message", l))
		}
		return o
	}
	if o.Kind == flowengine.Answered {
		var b bytes.Buffer
		b.Write(o.Body)
		if len(o.Body) > 0 && !bytes.HasSuffix(o.Body, []byte("\n")) {
			b.WriteByte('\n')
		}
		for _, l := range lines {
			b.WriteString("[debug] ")
			b.WriteString(l)
			b.WriteByte('\n')
		}
		o.Body, o.BodySet = b.Bytes(), true
	}
	return o
}

// debugLines renders the events the spec selects.
func (p *Project) debugLines(spec *debugSpec, events []flowengine.Event) []string {
	var out []string
	for _, e := range events {
		switch e.Kind {
		case flowengine.StepEvent:
			if spec.level > slog.LevelDebug || !spec.wants(e.Step, p.debug.tags[e.At]) {
				continue
			}
			var b strings.Builder
			fmt.Fprintf(&b, "%s %s", e.At, e.Step)
			if e.Cond != "" {
				fmt.Fprintf(&b, " if=%q → %v", e.Cond, e.CondResult)
			}
			for _, v := range e.Vars {
				fmt.Fprintf(&b, " $%s=%s", v.Name, truncate(v.Value, 200))
			}
			if e.Err != nil {
				fmt.Fprintf(&b, " error: %v", e.Err)
			}
			out = append(out, b.String())
		case flowengine.MessageEvent:
			if spec.wants(e.Step, p.debug.tags[e.At]) || spec.wants("debug", nil) {
				out = append(out, fmt.Sprintf("%s %s: %s", e.At, e.Step, truncate(e.Message, 2000)))
			}
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
