// Package tracetree collects the trace events of one run and prints them as
// a compact tree of steps with their conditions, timings, variables and
// errors: what `flowproc dev -trace` shows under each request line and what
// the case suite's golden traces hold.
package tracetree

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowproc/flowproc/flowengine"
)

// Collector is a flowengine.Tracer that keeps every event of a run. It is
// safe for one run (one goroutine) plus readers after the run ended.
type Collector struct {
	mu     sync.Mutex
	events []flowengine.Event
}

// TraceEvent implements flowengine.Tracer, copying what the event points to.
func (c *Collector) TraceEvent(e flowengine.Event) {
	if len(e.Vars) > 0 {
		e.Vars = append([]flowengine.Var(nil), e.Vars...)
	}
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
}

// Events returns the events in the order their steps started.
func (c *Collector) Events() []flowengine.Event {
	c.mu.Lock()
	out := append([]flowengine.Event(nil), c.events...)
	c.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// Options says what Write prints.
type Options struct {
	// Durations prints each step's duration (off for golden files).
	Durations bool
	// Indent prefixes every line.
	Indent string
	// MaxValue truncates variable values and messages (0 = 120 bytes).
	MaxValue int
}

// Write prints events (as Collector.Events returns them) as a tree: a line
// per flow entered, a line per step indented by its depth, then the
// forward, the upstream response and the outcome.
func Write(w io.Writer, events []flowengine.Event, opts Options) error {
	p := printer{w: w, o: opts}
	if p.o.MaxValue <= 0 {
		p.o.MaxValue = 120
	}
	flow := ""
	for i := range events {
		e := &events[i]
		if (e.Kind == flowengine.StepEvent || e.Kind == flowengine.MessageEvent) && e.Flow != flow {
			flow = e.Flow
			p.line(e.Depth, "%s", flow)
		}
		switch e.Kind {
		case flowengine.StepEvent:
			p.step(e)
		case flowengine.MessageEvent:
			p.line(e.Depth+1, "%s %s: %s", loc(e.At), e.Step, p.short(e.Message))
		case flowengine.ForwardEvent:
			p.line(0, "→ forward%s", mutation(e.Mutation))
		case flowengine.UpstreamEvent:
			if e.Response != nil {
				p.line(0, "← upstream %d", e.Response.Status)
			}
		case flowengine.OutcomeEvent:
			if o := e.Outcome; o != nil {
				s := fmt.Sprintf("= %s %d", o.Kind, o.Status)
				if o.Kind == flowengine.Forwarded && o.Status == 0 {
					s = "= forwarded (upstream status)"
				}
				if o.Error != "" {
					s += " error " + o.Error
				}
				p.line(0, "%s", s)
			}
		}
	}
	return p.err
}

type printer struct {
	w   io.Writer
	o   Options
	err error
}

func (p *printer) line(depth int, format string, args ...any) {
	if p.err != nil {
		return
	}
	_, p.err = fmt.Fprintf(p.w, "%s%s"+format+"\n", append([]any{p.o.Indent, strings.Repeat("  ", depth)}, args...)...)
}

func (p *printer) step(e *flowengine.Event) {
	var b strings.Builder
	b.WriteString(loc(e.At))
	b.WriteByte(' ')
	b.WriteString(e.Step)
	if e.Cond != "" {
		fmt.Fprintf(&b, " [%s → %t]", p.short(e.Cond), e.CondResult)
	}
	if p.o.Durations {
		b.WriteString(" " + duration(e.Duration))
	}
	for _, v := range e.Vars {
		fmt.Fprintf(&b, " $%s=%s", v.Name, p.short(v.Value))
	}
	if e.Err != nil {
		b.WriteString(" ERROR " + p.short(e.Err.Error()))
	}
	p.line(e.Depth+1, "%s", b.String())
}

func (p *printer) short(s string) string {
	s = strings.ReplaceAll(s, "\n", "⏎")
	if len(s) > p.o.MaxValue {
		return s[:p.o.MaxValue] + "…"
	}
	return s
}

// loc drops the file from "file:line:col": the flow line above names it.
func loc(at string) string {
	parts := strings.Split(at, ":")
	if len(parts) >= 3 {
		return parts[len(parts)-2] + ":" + parts[len(parts)-1]
	}
	if len(parts) == 2 {
		return parts[1]
	}
	return at
}

func duration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	default:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
	}
}

func mutation(m *flowengine.Mutation) string {
	if m == nil {
		return ""
	}
	var b strings.Builder
	if m.Path != "" {
		b.WriteString(" :path=" + m.Path)
	}
	if m.Authority != "" {
		b.WriteString(" :authority=" + m.Authority)
	}
	for _, h := range m.SetHeaders {
		b.WriteString(" set " + h.Name + "=" + h.Value)
	}
	for _, h := range m.AddHeaders {
		b.WriteString(" add " + h.Name + "=" + h.Value)
	}
	for _, n := range m.RemoveHeaders {
		b.WriteString(" remove " + n)
	}
	if m.BodySet {
		fmt.Fprintf(&b, " body=%d bytes", len(m.Body))
	}
	return b.String()
}
