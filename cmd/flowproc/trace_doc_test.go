package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	flowprocv1 "github.com/flowproc/flowproc/proto/flowproc/v1"
)

// TestTraceDocExample: the trace document example in docs/trace.md parses
// strictly as an ExchangeTrace, carries every field of the contract, and
// renders with -show.
func TestTraceDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/trace.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```json trace-document\n(.*?)\n```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/trace.md has no ```json trace-document block")
	}
	tr := &flowprocv1.ExchangeTrace{}
	if err := protojson.Unmarshal(m[1], tr); err != nil {
		t.Fatalf("example does not parse: %v", err)
	}
	for _, f := range []string{"id", "project", "kind", "start", "durationUs", "method", "authority", "path", "status", "outcome", "error",
		"phases", "forward", "steps", "phase", "headers", "body", "bodyTruncated", "bodySize", "setHeaders", "removeHeaders",
		"seq", "depth", "flow", "step", "type", "at", "condition", "conditionResult", "ran", "vars", "message", "startOffsetUs"} {
		if !strings.Contains(string(m[1]), `"`+f+`":`) {
			t.Errorf("example lacks contract field %q", f)
		}
	}
	file := t.TempDir() + "/session.jsonl"
	if err := os.WriteFile(file, append(m[1], '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startTrace(context.Background(), "-show", file)
	if code := r.wait(t); code != 0 || !strings.Contains(r.stdout.String(), "GET /api/status/404 project=hello (flat) flow=x-flat-proxy forward 404") {
		t.Errorf("show: exit %d\n%s%s", code, r.stdout.String(), r.stderr.String())
	}
}

// TestTraceDocFlags: every flag docs/trace.md shows for flowproc trace
// exists.
func TestTraceDocFlags(t *testing.T) {
	doc, err := os.ReadFile("../../docs/trace.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```\nflowproc trace \\[(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("no flowproc trace synopsis in docs/trace.md")
	}
	r := startTrace(context.Background(), "-h")
	r.wait(t)
	usage := r.stderr.String()
	flags := regexp.MustCompile(`-([a-z][a-z-]*)`).FindAllStringSubmatch(string(m[1]), -1)
	if len(flags) < 12 {
		t.Fatalf("only %d flags found in the synopsis", len(flags))
	}
	for _, f := range flags {
		if !strings.Contains(usage, "  -"+f[1]+" ") && !strings.Contains(usage, "  -"+f[1]+"\n") {
			t.Errorf("docs/trace.md shows -%s, which flowproc trace does not have", f[1])
		}
	}
}
