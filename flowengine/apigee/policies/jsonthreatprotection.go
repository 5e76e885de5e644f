package policies

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// JSONThreatProtection (Apigee docs: threat protection) rejects a JSON payload
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
// The payload is checked in one pass over its bytes with an explicit
// container stack (no tree, no recursion, no allocation per token): a
// 10,000-deep document is rejected at depth ContainerDepth+1 and an
// unlimited one costs one stack entry per level, bounded by the body size.
// The scanner is fuzzed against encoding/json (json.Valid and a Decoder
// token walk applying the same limits).
func init() {
	engine.Register(engine.Kind{Type: "JSONThreatProtection", Prefix: jtpPrefix, New: newJSONThreat, Recyclable: true})
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

// jtpScanner is a single-pass JSON syntax and limit check over a byte
// slice with an explicit container stack: no tree, no recursion, no
// allocation per token.
type jtpScanner struct {
	doc   []byte
	i     int
	lim   jtpLimits
	stack []jtpFrame
}

func (s *jtpScanner) line() int { return 1 + bytes.Count(s.doc[:s.i], []byte{'\n'}) }

func (s *jtpScanner) fail(what string) *jtpViolation {
	return &jtpViolation{what: what, line: s.line()}
}

func (s *jtpScanner) invalid(what string) *jtpViolation {
	if s.i >= len(s.doc) {
		return s.fail("Invalid JSON: unexpected end of input")
	}
	return s.fail("Invalid JSON: " + what)
}

func (s *jtpScanner) ws() {
	for s.i < len(s.doc) {
		switch s.doc[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// str reads a string starting at its opening quote and returns its
// length in characters (runes, as encoding/json would decode it).
func (s *jtpScanner) str() (int, bool) {
	s.i++ // the opening quote
	n := 0
	for s.i < len(s.doc) {
		c := s.doc[s.i]
		switch {
		case c == '"':
			s.i++
			return n, true
		case c < 0x20:
			return 0, false
		case c == '\\':
			if s.i+1 >= len(s.doc) {
				return 0, false
			}
			switch s.doc[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				r, ok := s.hex4(s.i + 2)
				if !ok {
					return 0, false
				}
				s.i += 6
				// A surrogate pair decodes to one character.
				if utf16.IsSurrogate(r) && s.i+1 < len(s.doc) && s.doc[s.i] == '\\' && s.doc[s.i+1] == 'u' {
					if r2, ok := s.hex4(s.i + 2); ok && utf16.DecodeRune(r, r2) != utf8.RuneError {
						s.i += 6
					}
				}
			default:
				return 0, false
			}
			n++
		case c < utf8.RuneSelf:
			s.i++
			n++
		default:
			_, size := utf8.DecodeRune(s.doc[s.i:])
			s.i += size
			n++
		}
	}
	return 0, false
}

func (s *jtpScanner) hex4(at int) (rune, bool) {
	if at+4 > len(s.doc) {
		return 0, false
	}
	var r rune
	for _, c := range s.doc[at : at+4] {
		if !isHexDigit(c) {
			return 0, false
		}
		v := rune(c - '0')
		switch {
		case c >= 'a':
			v = rune(c-'a') + 10
		case c >= 'A':
			v = rune(c-'A') + 10
		}
		r = r<<4 | v
	}
	return r, true
}

func (s *jtpScanner) digits() int {
	start := s.i
	for s.i < len(s.doc) && s.doc[s.i] >= '0' && s.doc[s.i] <= '9' {
		s.i++
	}
	return s.i - start
}

// number reads -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?.
func (s *jtpScanner) number() bool {
	if s.doc[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.doc) && s.doc[s.i] == '0' {
		s.i++
	} else if s.digits() == 0 {
		return false
	}
	if s.i < len(s.doc) && s.doc[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return false
		}
	}
	if s.i < len(s.doc) && (s.doc[s.i] == 'e' || s.doc[s.i] == 'E') {
		s.i++
		if s.i < len(s.doc) && (s.doc[s.i] == '+' || s.doc[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}

// value reads the value starting at s.i (after whitespace): a scalar
// whole, a container's opening bracket (pushed on the stack).
func (s *jtpScanner) value() *jtpViolation {
	if s.i >= len(s.doc) {
		return s.invalid("")
	}
	if n := len(s.stack); n > 0 && !s.stack[n-1].object {
		top := &s.stack[n-1]
		top.n++
		if s.lim.arrayElements >= 0 && top.n > s.lim.arrayElements {
			s.i++ // report after the element's first byte, as the decoder does
			return s.fail("Exceeded array element count")
		}
	}
	switch c := s.doc[s.i]; {
	case c == '{' || c == '[':
		s.i++
		s.stack = append(s.stack, jtpFrame{object: c == '{', wantKey: c == '{'})
		if s.lim.depth >= 0 && len(s.stack) > s.lim.depth {
			return s.fail("Exceeded container depth")
		}
	case c == '"':
		n, ok := s.str()
		if !ok {
			return s.invalid("malformed string")
		}
		if s.lim.stringLength >= 0 && n > s.lim.stringLength {
			return s.fail("Exceeded string value length")
		}
	case c == '-' || c >= '0' && c <= '9':
		if !s.number() {
			return s.invalid("malformed number")
		}
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(s.doc[s.i:], []byte(lit)) {
				s.i += len(lit)
				return nil
			}
		}
		return s.invalid(fmt.Sprintf("unexpected character %q", c))
	}
	return nil
}

// jtpScan checks doc against lim. It returns nil when doc is one JSON
// value within the limits.
func jtpScan(doc []byte, lim jtpLimits) *jtpViolation {
	s := &jtpScanner{doc: doc, lim: lim}
	s.ws()
	if v := s.value(); v != nil {
		return v
	}
	for len(s.stack) > 0 {
		top := &s.stack[len(s.stack)-1]
		s.ws()
		if s.i >= len(s.doc) {
			return s.invalid("")
		}
		c := s.doc[s.i]
		switch {
		case top.object && top.wantKey:
			if c == '}' && top.n == 0 {
				s.i++
				s.stack = s.stack[:len(s.stack)-1]
				continue
			}
			if c != '"' {
				return s.invalid("object key expected")
			}
			n, ok := s.str()
			if !ok {
				return s.invalid("malformed string")
			}
			top.n++
			if lim.objectEntries >= 0 && top.n > lim.objectEntries {
				return s.fail("Exceeded object entry count")
			}
			if lim.nameLength >= 0 && n > lim.nameLength {
				return s.fail("Exceeded object entry name length")
			}
			top.wantKey = false
			s.ws()
			if s.i >= len(s.doc) || s.doc[s.i] != ':' {
				return s.invalid("':' expected after an object key")
			}
			s.i++
			s.ws()
			if v := s.value(); v != nil {
				return v
			}
		case !top.object && top.n == 0 && c == ']':
			s.i++
			s.stack = s.stack[:len(s.stack)-1]
		case !top.object && top.n == 0:
			if v := s.value(); v != nil {
				return v
			}
		default: // after a value: ',' or the closing bracket
			closing := byte(']')
			if top.object {
				closing = '}'
			}
			switch c {
			case closing:
				s.i++
				s.stack = s.stack[:len(s.stack)-1]
			case ',':
				s.i++
				if top.object {
					top.wantKey = true
					s.ws()
					if s.i >= len(s.doc) || s.doc[s.i] != '"' {
						return s.invalid("object key expected after ','")
					}
					continue
				}
				s.ws()
				if v := s.value(); v != nil {
					return v
				}
			default:
				return s.invalid(fmt.Sprintf("',' or '%c' expected", closing))
			}
		}
	}
	s.ws()
	if s.i < len(s.doc) {
		return s.fail("Invalid JSON: data after the top-level value")
	}
	return nil
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
