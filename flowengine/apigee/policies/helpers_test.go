package policies

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

// compile compiles one policy from XML or fails the test.
func compile(t *testing.T, src string) engine.Policy {
	t.Helper()
	p, errs := engine.TestPolicy(src, nil, nil)
	if len(errs) > 0 || p == nil {
		t.Fatalf("compile: %v", errs)
	}
	return p
}

// loadErrors compiles src and returns its diagnostics, one a line.
func loadErrors(src string) string {
	_, errs := engine.TestPolicy(src, nil, nil)
	return errs.Error()
}

// dump renders a message for exact comparison: the start line, the
// header lines in order, an empty line and the body.
func dump(m *engine.Message) string {
	if m == nil {
		return "<nil>"
	}
	var b strings.Builder
	if m.IsRequest {
		fmt.Fprintf(&b, "%s %s\n", m.Verb, m.URI())
	} else {
		fmt.Fprintf(&b, "%d %s\n", m.Status, m.Reason)
	}
	for _, h := range m.Headers {
		fmt.Fprintf(&b, "%s: %s\n", h.Name, h.Value)
	}
	body, err := m.Content()
	if err != nil {
		fmt.Fprintf(&b, "\n<content error %v>", err)
		return b.String()
	}
	b.WriteString("\n")
	b.Write(body)
	return b.String()
}

// faultOf renders a fault as name|code|status|message ("" for nil, the
// error text for other errors).
func faultOf(err error) string {
	if err == nil {
		return ""
	}
	var f *engine.Fault
	if errors.As(err, &f) {
		return fmt.Sprintf("%s|%s|%d|%s", f.Name, f.Code, f.Status, f.Message)
	}
	return "error: " + err.Error()
}

// newRun is a TestRun in seg: a POST to path with the given body and
// header pairs.
func newRun(seg engine.Segment, method, path, body string, resp *engine.Message, headers ...string) *engine.Run {
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	return engine.TestRun(context.Background(), seg, method, path, b, resp, headers...)
}

// get reads a variable's string form ("<null>" when absent).
func get(r *engine.Run, name string) string {
	v, ok := r.Get(name)
	if !ok {
		return "<null>"
	}
	return v
}
