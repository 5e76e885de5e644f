package flowtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	yaml "go.yaml.in/yaml/v4"
)

// BundleTestFile is one YAML test file of an Apigee bundle project
// (<project>/tests/*.yaml); docs/apigee-testing.md documents the format.
type BundleTestFile struct {
	// Tests run in order, each on a fresh exchange.
	Tests []*BundleTest `yaml:"tests"`
}

// BundleTest is one test: a client request, the mocks of the target and
// the side calls, and what the run must produce.
type BundleTest struct {
	// Name identifies the test in reports; unique within its file.
	Name string `yaml:"name"`
	// Request is the client's request.
	Request TestRequest `yaml:"request"`
	// Target answers every forward to a target; Targets answer forwards
	// by URL prefix and method. At most one of them is set; without
	// either, a forward fails the test.
	Target  *MockResponse   `yaml:"target"`
	Targets []*MockResponse `yaml:"targets"`
	// Callouts answer side calls (ServiceCallout, JavaScript …) by URL
	// prefix and method; an unmatched side call fails the test.
	Callouts []*MockResponse `yaml:"callouts"`
	// Expect is what the run must produce.
	Expect Expectations `yaml:"expect"`

	// Line is the test's line in its file.
	Line int `yaml:"-"`
}

// TestRequest is the client request of a test.
type TestRequest struct {
	// Method defaults to GET.
	Method string `yaml:"method"`
	// Path is the request target, path and query ("/v1/hello?name=x").
	Path string `yaml:"path"`
	// Headers are sent as given (one field each).
	Headers map[string]string `yaml:"headers"`
	// Body is the raw body; JSON is a body written as YAML and sent as
	// JSON (content-type application/json unless Headers name one).
	Body *string  `yaml:"body"`
	JSON JSONBody `yaml:"json"`
}

// MockResponse is the answer of a mocked target or side call.
type MockResponse struct {
	// URL is the prefix of the URLs this mock answers (targets and
	// callouts; "" in target answers every URL).
	URL string `yaml:"url"`
	// Method, when set, restricts the mock to that method.
	Method string `yaml:"method"`
	// Status defaults to 200.
	Status int `yaml:"status"`
	// Headers of the response.
	Headers map[string]string `yaml:"headers"`
	// Body is the raw body; JSON a body written as YAML (content-type
	// application/json unless Headers name one).
	Body *string  `yaml:"body"`
	JSON JSONBody `yaml:"json"`
	// Error makes the call fail as if the connection could not be made.
	Error bool `yaml:"error"`
}

// Expectations are a test's checks; each set field is one assertion.
type Expectations struct {
	// Status is the response status the client gets.
	Status int `yaml:"status"`
	// Headers maps a response header name to its value (repeated fields
	// joined with ", "); null means the header must be absent.
	Headers map[string]*string `yaml:"headers"`
	// Body is the exact response body.
	Body *string `yaml:"body"`
	// BodyContains are substrings the response body must contain (for
	// HTML, XML and other bodies compared loosely).
	BodyContains []string `yaml:"body_contains"`
	// JSON is matched against the response body parsed as JSON: objects
	// by subset (every expected member must be there and match), arrays
	// and scalars exactly.
	JSON JSONBody `yaml:"json"`
	// Forwarded: true means the bundle must have called its target,
	// false that it must have answered without one.
	Forwarded *bool `yaml:"forwarded"`
	// TargetRequest is the request the target received.
	TargetRequest *TargetRequestExpect `yaml:"target_request"`
	// Variables maps a flow variable to its string value after the run
	// (PostClientFlow included); null means the variable must be unset.
	Variables map[string]*string `yaml:"variables"`
	// Callouts are the URLs of the side calls made, in order ([] means
	// none).
	Callouts *[]string `yaml:"callouts"`
	// MessageLog are the MessageLogging messages the run delivered (none
	// is sent in a test), in delivery order, PostClientFlow included
	// ([] means none).
	MessageLog *[]*MessageLogExpect `yaml:"messagelog"`
	// Statistics maps a StatisticsCollector statistic to the value the
	// run recorded (the last one when recorded twice); null means not
	// recorded.
	Statistics map[string]*string `yaml:"statistics"`
}

// TargetRequestExpect describes the request a target received.
type TargetRequestExpect struct {
	Method string `yaml:"method"`
	// URL is the whole URL (scheme, host, path and query).
	URL string `yaml:"url"`
	// Path is the path and query.
	Path string `yaml:"path"`
	// Headers as in Expectations.Headers (subset; null: absent).
	Headers map[string]*string `yaml:"headers"`
	Body    *string            `yaml:"body"`
	JSON    JSONBody           `yaml:"json"`
}

// JSONBody is a JSON value written in YAML. Set is false when the key is
// absent (json: null sets it to JSON null).
type JSONBody struct {
	Set   bool
	Value any
}

// UnmarshalYAML implements yaml's node Unmarshaler: the value becomes
// plain JSON data (objects, arrays, strings, float64 numbers, booleans,
// nil).
func (j *JSONBody) UnmarshalYAML(n *yaml.Node) error {
	var v any
	if err := n.Decode(&v); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("line %d: json: %w", n.Line, err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("line %d: json: %w", n.Line, err)
	}
	j.Set, j.Value = true, out
	return nil
}

// bytes returns the body the JSON value stands for.
func (j JSONBody) bytes() []byte {
	b, _ := json.Marshal(j.Value) // plain JSON data always marshals
	return b
}

// ParseBundleTests reads a YAML test file. Every problem is reported,
// with its line: unknown keys, missing names and paths, conflicting
// fields, tests that check nothing.
func ParseBundleTests(data []byte) (*BundleTestFile, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("a test file is a YAML mapping with a \"tests\" list")
	}
	root := doc.Content[0]
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if k.Value != "tests" {
			return nil, fmt.Errorf("line %d: unknown key %q (a test file has only \"tests\")", k.Line, k.Value)
		}
		list = root.Content[i+1]
	}
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		return nil, errors.New("\"tests\" must be a non-empty list")
	}
	f := &BundleTestFile{}
	var errs []error
	names := map[string]int{}
	for _, item := range list.Content {
		if item.Kind != yaml.MappingNode {
			errs = append(errs, fmt.Errorf("line %d: a test is a mapping (name, request, expect …)", item.Line))
			continue
		}
		t := &BundleTest{Line: item.Line}
		if err := item.Load(t, yaml.WithKnownFields()); err != nil {
			errs = append(errs, fmt.Errorf("test at line %d: %w", item.Line, err))
			continue
		}
		t.Line = item.Line
		if err := t.validate(); err != nil {
			errs = append(errs, fmt.Errorf("line %d: test %q: %w", t.Line, t.Name, err))
			continue
		}
		if prev, dup := names[t.Name]; dup {
			errs = append(errs, fmt.Errorf("line %d: test name %q already used at line %d", t.Line, t.Name, prev))
			continue
		}
		names[t.Name] = t.Line
		f.Tests = append(f.Tests, t)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

func (t *BundleTest) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(t.Name) == "" {
		bad("\"name\" is required")
	}
	rq := &t.Request
	if !strings.HasPrefix(rq.Path, "/") {
		bad("request.path is required and starts with \"/\"")
	}
	if rq.Method == "" {
		rq.Method = "GET"
	}
	if !validToken(rq.Method) {
		bad("request.method %q is not an HTTP method", rq.Method)
	}
	if rq.Body != nil && rq.JSON.Set {
		bad("request: give body or json, not both")
	}
	if t.Target != nil && len(t.Targets) > 0 {
		bad("give target or targets, not both")
	}
	if t.Target != nil {
		if err := t.Target.validate("target", false); err != nil {
			errs = append(errs, err)
		}
	}
	for i, m := range t.Targets {
		if err := m.validate(fmt.Sprintf("targets[%d]", i), true); err != nil {
			errs = append(errs, err)
		}
	}
	for i, m := range t.Callouts {
		if err := m.validate(fmt.Sprintf("callouts[%d]", i), true); err != nil {
			errs = append(errs, err)
		}
	}
	e := &t.Expect
	if e.Status != 0 && (e.Status < 100 || e.Status > 599) {
		bad("expect.status %d is not an HTTP status", e.Status)
	}
	if e.Body != nil && e.JSON.Set {
		bad("expect: give body or json, not both")
	}
	if tr := e.TargetRequest; tr != nil {
		if tr.Body != nil && tr.JSON.Set {
			bad("expect.target_request: give body or json, not both")
		}
		if tr.Method == "" && tr.URL == "" && tr.Path == "" && len(tr.Headers) == 0 && tr.Body == nil && !tr.JSON.Set {
			bad("expect.target_request checks nothing")
		}
	}
	if e.MessageLog != nil {
		for i, m := range *e.MessageLog {
			if err := m.validate(fmt.Sprintf("expect.messagelog[%d]", i)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if e.count() == 0 {
		bad("expect checks nothing")
	}
	return errors.Join(errs...)
}

func (m *MockResponse) validate(where string, needURL bool) error {
	if m == nil {
		return fmt.Errorf("%s is empty", where)
	}
	var errs []error
	if needURL && m.URL == "" {
		errs = append(errs, fmt.Errorf("%s: \"url\" (a URL prefix) is required", where))
	}
	if m.Method != "" && !validToken(m.Method) {
		errs = append(errs, fmt.Errorf("%s: method %q is not an HTTP method", where, m.Method))
	}
	if m.Status == 0 {
		m.Status = 200
	}
	if m.Status < 100 || m.Status > 599 {
		errs = append(errs, fmt.Errorf("%s: status %d is not an HTTP status", where, m.Status))
	}
	if m.Body != nil && m.JSON.Set {
		errs = append(errs, fmt.Errorf("%s: give body or json, not both", where))
	}
	if m.Error && (m.Body != nil || m.JSON.Set || len(m.Headers) > 0 || m.Status != 200) {
		errs = append(errs, fmt.Errorf("%s: error: true is a connection failure; it has no status, headers or body", where))
	}
	return errors.Join(errs...)
}

// count is the number of assertions the expectations make.
func (e *Expectations) count() int {
	n := len(e.Headers) + len(e.Variables) + len(e.BodyContains) + len(e.Statistics)
	if e.MessageLog != nil {
		n += 1 + len(*e.MessageLog) // their number, then each message
	}
	if e.Status != 0 {
		n++
	}
	if e.Body != nil || e.JSON.Set {
		n++
	}
	if tr := e.TargetRequest; tr != nil {
		n += len(tr.Headers)
		for _, s := range []string{tr.Method, tr.URL, tr.Path} {
			if s != "" {
				n++
			}
		}
		if tr.Body != nil || tr.JSON.Set {
			n++
		}
	}
	if e.Callouts != nil {
		n++
	}
	if e.Forwarded != nil {
		n++
	}
	return n
}

// validToken reports whether s is an HTTP token (a method name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c > 0x7e || c <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", c) {
			return false
		}
	}
	return true
}

// responseBody is the mock's body and the content type it implies.
func (m *MockResponse) responseBody() ([]byte, string) {
	switch {
	case m.JSON.Set:
		return m.JSON.bytes(), "application/json"
	case m.Body != nil:
		return []byte(*m.Body), ""
	}
	return nil, ""
}

// header returns the mock's headers as an http.Header, with the JSON
// content type added when the body is JSON and none is given.
func (m *MockResponse) header() http.Header {
	h := http.Header{}
	for k, v := range m.Headers {
		h.Add(k, v)
	}
	if _, ct := m.responseBody(); ct != "" && h.Get("Content-Type") == "" {
		h.Set("Content-Type", ct)
	}
	return h
}
