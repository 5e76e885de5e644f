package policies

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// JSONThreatProtection (reference/apigee.md §4.9) rejects a JSON payload
// whose structure exceeds the configured limits: container depth, entries
// per object, elements per array, entry name length and string value
// length.
//
// What flowproc relies on (Apigee's JSONThreatProtection policy reference
// and its runtime-error page, docs.cloud.google.com/apigee/docs/
// api-platform/troubleshoot/policies/runtime/jsonthreatprotection-errors):
//   - Source defaults to "request"; the policy runs only when the source
//     message's Content-Type is JSON (application/json; flowproc also
//     takes application/*+json) and the body is not empty.
//   - A limit that is absent or negative is not enforced; limits are
//     compared with ">" (ContainerDepth 3 accepts depth 3, rejects 4).
//     Lengths count Unicode characters of the decoded string.
//   - A violation, or a payload that is not JSON, is ExecutionFailed
//     (500), "JSONThreatProtection[<p>]: Execution failed. reason:
//     JSONThreatProtection[<p>]: <what> at line <n>", <what> one of
//     "Exceeded container depth", "Exceeded object entry count",
//     "Exceeded array element count", "Exceeded object entry name
//     length", "Exceeded string value length" (the documented wording),
//     or "Invalid JSON: <detail>" for a malformed payload (flowproc's
//     wording; Apigee's parser message differs).
//   - A Source variable that is not a message is NonMessageVariable,
//     "JSONThreatProtection[<p>]: Variable <v> does not resolve to a
//     Message"; a message that is not in scope is SourceUnavailable,
//     "JSONThreatProtection[<p>]:: Source <s> is not available". Both 500.
//   - On failure Apigee's documented jsonattack.<p>.failed and the
//     jsonattack.failed that bundles test (devrel threat-protect) are set
//     to true; the engine also sets jsonthreatprotection.<p>.failed.
//
// The payload is checked by streaming encoding/json tokens with an
// explicit stack (no tree, no recursion): a 10,000-deep document is
// rejected at depth ContainerDepth+1 and an unlimited one costs one stack
// entry per level, bounded by the body size.
func init() {
	engine.Register(engine.Kind{Type: "JSONThreatProtection", Prefix: jtpPrefix, New: newJSONThreat})
}

const jtpPrefix = "jsonthreatprotection"

// jtpLimits are the structural limits; -1 is unlimited.
type jtpLimits struct {
	depth, objectEntries, arrayElements, nameLength, stringLength int
}

type jsonThreat struct {
	name   string
	source string
	lim    jtpLimits
}

// threatLimit parses a limit element's text: absent or negative is -1
// (unlimited).
func threatLimit(c *engine.Compiler, n *bundle.Node) int {
	if n == nil {
		return -1
	}
	s := strings.TrimSpace(n.Text)
	v, err := strconv.Atoi(s)
	if err != nil {
		c.Errorf(n, diag.APBadPolicy, "<%s> %q is not an integer", n.Name, s)
		return -1
	}
	if v < 0 {
		return -1
	}
	return v
}

func newJSONThreat(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	root := p.Root
	c.Unknown(root, allowed("Source", "ArrayElementCount", "ContainerDepth", "ObjectEntryCount", "ObjectEntryNameLength", "StringValueLength")...)
	jt := &jsonThreat{name: p.Name, source: "request", lim: jtpLimits{
		depth:         threatLimit(c, root.Child("ContainerDepth")),
		objectEntries: threatLimit(c, root.Child("ObjectEntryCount")),
		arrayElements: threatLimit(c, root.Child("ArrayElementCount")),
		nameLength:    threatLimit(c, root.Child("ObjectEntryNameLength")),
		stringLength:  threatLimit(c, root.Child("StringValueLength")),
	}}
	if s := strings.TrimSpace(repChildText(root, "Source")); s != "" {
		jt.source = s
	}
	return jt
}

// jtpViolation is what the scanner found: the documented description and
// the 1-based line where it was detected.
type jtpViolation struct {
	what string
	line int
}

type jtpFrame struct {
	object  bool
	n       int
	wantKey bool
}

// jtpScan checks doc against lim. It returns nil when doc is one JSON
// value within the limits.
func jtpScan(doc []byte, lim jtpLimits) *jtpViolation {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	line := func() int { return 1 + bytes.Count(doc[:min(int(dec.InputOffset()), len(doc))], []byte{'\n'}) }
	fail := func(what string) *jtpViolation { return &jtpViolation{what: what, line: line()} }
	var stack []jtpFrame
	started := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if !started || len(stack) > 0 {
				return fail("Invalid JSON: unexpected end of input")
			}
			return nil
		}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return &jtpViolation{what: "Invalid JSON: " + se.Error(), line: 1 + bytes.Count(doc[:min(int(se.Offset), len(doc))], []byte{'\n'})}
			}
			return fail("Invalid JSON: " + err.Error())
		}
		if started && len(stack) == 0 {
			return fail("Invalid JSON: data after the top-level value")
		}
		started = true
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			if top.object && top.wantKey {
				key, _ := tok.(string) // the decoder only yields string keys
				top.n++
				if lim.objectEntries >= 0 && top.n > lim.objectEntries {
					return fail("Exceeded object entry count")
				}
				if lim.nameLength >= 0 && utf8.RuneCountInString(key) > lim.nameLength {
					return fail("Exceeded object entry name length")
				}
				top.wantKey = false
				continue
			}
			if top.object {
				top.wantKey = true
			} else {
				top.n++
				if lim.arrayElements >= 0 && top.n > lim.arrayElements {
					return fail("Exceeded array element count")
				}
			}
		}
		switch v := tok.(type) {
		case json.Delim: // '{' or '['
			stack = append(stack, jtpFrame{object: v == '{', wantKey: v == '{'})
			if lim.depth >= 0 && len(stack) > lim.depth {
				return fail("Exceeded container depth")
			}
		case string:
			if lim.stringLength >= 0 && utf8.RuneCountInString(v) > lim.stringLength {
				return fail("Exceeded string value length")
			}
		}
	}
}

func (jt *jsonThreat) fail(r *engine.Run, f *engine.Fault) *engine.Fault {
	_ = r.Set("jsonattack."+jt.name+".failed", true)
	_ = r.Set("jsonattack.failed", true)
	return f
}

// Execute implements engine.Policy.
func (jt *jsonThreat) Execute(r *engine.Run) error {
	m, ok := r.Message(jt.source)
	if !ok || m == nil {
		if v, found := r.Lookup(jt.source); found && v != nil {
			return jt.fail(r, engine.NewFault(jtpPrefix, "NonMessageVariable", 500, "JSONThreatProtection[%s]: Variable %s does not resolve to a Message", jt.name, jt.source))
		}
		return jt.fail(r, engine.NewFault(jtpPrefix, "SourceUnavailable", 500, "JSONThreatProtection[%s]:: Source %s is not available", jt.name, jt.source))
	}
	ct, _ := m.Header("content-type")
	if !contentTypeIs(ct, "json") {
		return nil
	}
	body, err := m.Content()
	if err != nil {
		return fmt.Errorf("JSONThreatProtection %s: reading the payload: %w", jt.name, err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if v := jtpScan(body, jt.lim); v != nil {
		return jt.fail(r, engine.NewFault(jtpPrefix, "ExecutionFailed", 500, "JSONThreatProtection[%s]: Execution failed. reason: JSONThreatProtection[%s]: %s at line %d", jt.name, jt.name, v.what, v.line))
	}
	return nil
}
