package policies

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	corpusdir "github.com/flowproc/flowproc/internal/corpus"
)

const tpSQLPattern = `[\s]*(?i)((delete)|(exec)|(drop\s*table)|(insert)|(shutdown)|(update)|(\bor\b))`

func TestRegularExpressionProtection(t *testing.T) {
	jsonBody := `{"a":{"b":"hello <script>x</script>","n":[1,2]},"url":"http://x/y"}`
	xmlBody := `<r xmlns:p="urn:p"><p:q>fine</p:q><p:q>drop table users</p:q><s>ok</s></r>`
	runCases(t, []pcase{
		{
			name:   "query param found anywhere in the value",
			policy: `<RegularExpressionProtection name="REP"><Source>request</Source><QueryParam name="query"><Pattern>` + tpSQLPattern + `</Pattern></QueryParam></RegularExpressionProtection>`,
			path:   "/x?query=please%20DELETE%20it",
			fault:  "steps.regularexpressionprotection.ThreatDetected", faultMsg: "Regular Expression Threat Detected in REP: regex: " + tpSQLPattern + " input: please DELETE it",
		},
		{
			name:   "clean query param passes",
			policy: `<RegularExpressionProtection name="REP"><QueryParam name="query"><Pattern>` + tpSQLPattern + `</Pattern></QueryParam></RegularExpressionProtection>`,
			path:   "/x?query=select",
		},
		{
			name:   "absent query param has nothing to search",
			policy: `<RegularExpressionProtection name="REP"><IgnoreUnresolvedVariables>false</IgnoreUnresolvedVariables><QueryParam name="query"><Pattern>a</Pattern></QueryParam></RegularExpressionProtection>`,
			path:   "/x",
		},
		{
			name:   "second value of a repeated parameter is searched",
			policy: `<RegularExpressionProtection name="REP"><QueryParam name="q"><Pattern>evil</Pattern></QueryParam></RegularExpressionProtection>`,
			path:   "/x?q=good&q=evil",
			fault:  "steps.regularexpressionprotection.ThreatDetected",
		},
		{
			name:    "header with several patterns",
			policy:  `<RegularExpressionProtection name="REP"><Header name="X-In"><Pattern>^abc$</Pattern><Pattern>&lt;script</Pattern></Header></RegularExpressionProtection>`,
			headers: []string{"X-In", "a <script> b"},
			fault:   "steps.regularexpressionprotection.ThreatDetected", faultMsg: "Regular Expression Threat Detected in REP: regex: <script input: a <script> b",
		},
		{
			name:   "uri path",
			policy: `<RegularExpressionProtection name="REP"><URIPath><Pattern>\.\./</Pattern></URIPath></RegularExpressionProtection>`,
			path:   "/a/../etc/passwd",
			fault:  "steps.regularexpressionprotection.ThreatDetected",
		},
		{
			name:    "form param",
			policy:  `<RegularExpressionProtection name="REP"><FormParam name="f"><Pattern>(?i)exec</Pattern></FormParam></RegularExpressionProtection>`,
			method:  "POST",
			body:    "f=xp_ExEc%20cmd&g=1",
			headers: []string{"Content-Type", "application/x-www-form-urlencoded"},
			fault:   "steps.regularexpressionprotection.ThreatDetected",
		},
		{
			name:   "variable",
			policy: `<RegularExpressionProtection name="REP"><Variable name="flow.v"><Pattern>bad</Pattern></Variable></RegularExpressionProtection>`,
			setup:  func(r *engine.Run) { _ = r.Set("flow.v", "so bad") },
			fault:  "steps.regularexpressionprotection.ThreatDetected",
		},
		{
			name:   "unresolved variable is VariableResolutionFailed",
			policy: `<RegularExpressionProtection name="REP"><Variable name="flow.none"><Pattern>bad</Pattern></Variable></RegularExpressionProtection>`,
			fault:  "steps.regularexpressionprotection.VariableResolutionFailed", faultMsg: "Failed to resolve variable flow.none",
		},
		{
			name:   "unresolved variable ignored",
			policy: `<RegularExpressionProtection name="REP"><IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables><Variable name="flow.none"><Pattern>bad</Pattern></Variable></RegularExpressionProtection>`,
		},
		{
			name:   "json payload string value",
			policy: `<RegularExpressionProtection name="REP"><Source>request</Source><JSONPayload><JSONPath><Expression>$.a.b</Expression><Pattern>&lt;\s*script\b</Pattern></JSONPath></JSONPayload></RegularExpressionProtection>`,
			method: "POST", body: jsonBody, headers: []string{"Content-Type", "application/json"},
			fault: "steps.regularexpressionprotection.ThreatDetected", faultMsg: `Regular Expression Threat Detected in REP: regex: <\s*script\b input: hello <script>x</script>`,
		},
		{
			name:   "json payload whole document with escaped slashes",
			policy: `<RegularExpressionProtection name="REP"><JSONPayload escapeSlashCharacter="true"><JSONPath><Expression>$</Expression><Pattern>http:\\/\\/</Pattern></JSONPath></JSONPayload></RegularExpressionProtection>`,
			method: "POST", body: jsonBody, headers: []string{"Content-Type", "application/json"},
			fault: "steps.regularexpressionprotection.ThreatDetected",
		},
		{
			name:   "json payload skipped for another content type",
			policy: `<RegularExpressionProtection name="REP"><JSONPayload><JSONPath><Expression>$.a.b</Expression><Pattern>script</Pattern></JSONPath></JSONPayload></RegularExpressionProtection>`,
			method: "POST", body: jsonBody, headers: []string{"Content-Type", "text/plain"},
		},
		{
			name:   "malformed json is ExecutionFailed",
			policy: `<RegularExpressionProtection name="REP"><JSONPayload><JSONPath><Expression>$.a</Expression><Pattern>x</Pattern></JSONPath></JSONPayload></RegularExpressionProtection>`,
			method: "POST", body: `{"a":`, headers: []string{"Content-Type", "application/json"},
			fault: "steps.regularexpressionprotection.ExecutionFailed", faultMsg: "Failed to execute the RegularExpressionProtection StepDefinition REP. Reason: the JSON payload does not parse",
		},
		{
			name: "xml payload nodeset with namespaces",
			policy: `<RegularExpressionProtection name="REP"><XMLPayload><Namespaces><Namespace prefix="n">urn:p</Namespace></Namespaces>
				<XPath><Expression>/r/n:q</Expression><Type>nodeset</Type><Pattern>(?i)drop\s+table</Pattern></XPath></XMLPayload></RegularExpressionProtection>`,
			method: "POST", body: xmlBody, headers: []string{"Content-Type", "text/xml"},
			fault: "steps.regularexpressionprotection.ThreatDetected", faultMsg: `Regular Expression Threat Detected in REP: regex: (?i)drop\s+table input: drop table users`,
		},
		{
			name: "xml payload string type takes the first node",
			policy: `<RegularExpressionProtection name="REP"><XMLPayload><Namespaces><Namespace prefix="n">urn:p</Namespace></Namespaces>
				<XPath><Expression>/r/n:q</Expression><Type>string</Type><Pattern>drop</Pattern></XPath></XMLPayload></RegularExpressionProtection>`,
			method: "POST", body: xmlBody, headers: []string{"Content-Type", "application/xml"},
		},
		{
			name:   "billion laughs in an XML payload is refused, not expanded",
			policy: `<RegularExpressionProtection name="REP"><XMLPayload><XPath><Expression>/lolz</Expression><Pattern>lol</Pattern></XPath></XMLPayload></RegularExpressionProtection>`,
			method: "POST", headers: []string{"Content-Type", "application/xml"},
			body:  `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`,
			fault: "steps.regularexpressionprotection.ExecutionFailed",
		},
		{
			name:   "response source",
			policy: `<RegularExpressionProtection name="REP"><Source>response</Source><Header name="Server"><Pattern>Apache/1</Pattern></Header></RegularExpressionProtection>`,
			seg:    engine.ProxyResponse,
			response: func() *engine.Message {
				m := engine.NewResponse()
				m.SetHeader("Server", "Apache/1.3")
				return m
			}(),
			fault: "steps.regularexpressionprotection.ThreatDetected",
		},
		{
			name:   "response not in scope",
			policy: `<RegularExpressionProtection name="REP"><Source>response</Source><Header name="h"><Pattern>x</Pattern></Header></RegularExpressionProtection>`,
			fault:  "steps.regularexpressionprotection.SourceMessageNotAvailable", faultMsg: "response message is not available for RegularExpressionProtection StepDefinition REP",
		},
		{
			name:   "non-message source",
			policy: `<RegularExpressionProtection name="REP"><Source>flow.s</Source><Header name="h"><Pattern>x</Pattern></Header></RegularExpressionProtection>`,
			setup:  func(r *engine.Run) { _ = r.Set("flow.s", "text") },
			fault:  "steps.regularexpressionprotection.NonMessageVariable", faultMsg: "Variable flow.s does not resolve to a Message",
		},
		{name: "backreference refused at load", policy: `<RegularExpressionProtection name="REP"><Header name="h"><Pattern>(a)\1</Pattern></Header></RegularExpressionProtection>`, loadErr: "RE2"},
		{name: "lookahead refused at load", policy: `<RegularExpressionProtection name="REP"><Header name="h"><Pattern>a(?=b)</Pattern></Header></RegularExpressionProtection>`, loadErr: "Pattern"},
		{name: "invalid pattern", policy: `<RegularExpressionProtection name="REP"><Header name="h"><Pattern>a(</Pattern></Header></RegularExpressionProtection>`, loadErr: "does not compile"},
		{name: "nothing to check", policy: `<RegularExpressionProtection name="REP"><Source>request</Source></RegularExpressionProtection>`, loadErr: "nothing to check"},
		{name: "header without name", policy: `<RegularExpressionProtection name="REP"><Header><Pattern>x</Pattern></Header></RegularExpressionProtection>`, loadErr: "name attribute"},
		{name: "header without pattern", policy: `<RegularExpressionProtection name="REP"><Header name="h"/></RegularExpressionProtection>`, loadErr: "at least one <Pattern>"},
		{name: "unknown element", policy: `<RegularExpressionProtection name="REP"><Header name="h"><Pattern>x</Pattern></Header><Bogus/></RegularExpressionProtection>`, loadErr: "Bogus"},
		{name: "bad JSONPath", policy: `<RegularExpressionProtection name="REP"><JSONPayload><JSONPath><Expression>$[?(@.a)]</Expression><Pattern>x</Pattern></JSONPath></JSONPayload></RegularExpressionProtection>`, loadErr: "JSONPath"},
		{name: "undeclared XPath prefix", policy: `<RegularExpressionProtection name="REP"><XMLPayload><XPath><Expression>/p:a</Expression><Pattern>x</Pattern></XPath></XMLPayload></RegularExpressionProtection>`, loadErr: "does not compile"},
		{name: "bad XPath type", policy: `<RegularExpressionProtection name="REP"><XMLPayload><XPath><Expression>/a</Expression><Type>blob</Type><Pattern>x</Pattern></XPath></XMLPayload></RegularExpressionProtection>`, loadErr: "blob"},
	})
}

// TestRegularExpressionProtectionLinear shows a pattern that backtracks
// exponentially in Java stays linear here and is charged to the budget.
func TestRegularExpressionProtectionLinear(t *testing.T) {
	pol := compile(t, `<RegularExpressionProtection name="REP"><Header name="h"><Pattern>^(a+)+$</Pattern></Header></RegularExpressionProtection>`)
	r := newRun(engine.ProxyRequest, "GET", "/", "", nil, "h", strings.Repeat("a", 50000)+"!")
	if err := pol.Execute(r); err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if _, regex, _, _ := r.Budget().Used(); regex < 50000 {
		t.Errorf("regex budget charged %d units, want >= 50000", regex)
	}
}

// tpForwardHost answers the target call with an empty 200.
type tpForwardHost struct{}

func (tpForwardHost) RequestBody(context.Context) ([]byte, error) { return nil, nil }
func (tpForwardHost) Forward(context.Context, *flowengine.Mutation) (*flowengine.Response, error) {
	return &flowengine.Response{Status: 200, BodyKnownEmpty: true}, nil
}
func (tpForwardHost) ResponseBody(context.Context) ([]byte, error) { return nil, nil }

// TestCorpusRegexProtection runs the public aps-regex-protection bundle:
// an SQL-injection-like query parameter trips ThreatDetected, whose
// FaultRule answers 400 through a RaiseFault; a clean one is forwarded.
func TestCorpusRegexProtection(t *testing.T) {
	corpus, ok := corpusdir.ApigeeDir()
	if !ok {
		t.Skip("Apigee corpus not present (../shared/corpus/apigee beside the repository, or $FLOWPROC_APIGEE_CORPUS)")
	}
	p, errs := engine.Load(filepath.Join(corpus, "aps-regex-protection"), engine.Options{Logger: slog.New(slog.DiscardHandler)})
	if len(errs) > 0 {
		t.Fatalf("load: %v", errs)
	}
	for _, c := range []struct {
		query  string
		status int
	}{
		{"delete", 400},
		{"1%20OR%201=1", 400},
		{"x;DROP%20TABLE%20users", 400},
		{"select", 0},
		{"order", 0},
	} {
		req := &flowengine.Request{Method: "GET", Scheme: "https", Authority: "api.example.com", Path: "/regex-protection?query=" + c.query, ID: "r1"}
		out := p.Run(context.Background(), req, tpForwardHost{})
		got := out.Status
		if got == 200 {
			got = 0
		}
		if got != c.status {
			t.Errorf("query=%s: status %d (error %q, body %s), want %d", c.query, out.Status, out.Error, out.Body, c.status)
		}
		if c.status == 400 && out.Error != "ThreatDetected" {
			t.Errorf("query=%s: error %q, want ThreatDetected", c.query, out.Error)
		}
	}
}

// TestCorpusThreatPolicies compiles every RegularExpressionProtection,
// JSONThreatProtection and XMLThreatProtection policy of the public
// corpus (bundles and apigeelint's samples).
func TestCorpusThreatPolicies(t *testing.T) {
	corpus, ok := corpusdir.ApigeeDir()
	if !ok {
		t.Skip("Apigee corpus not present (../shared/corpus/apigee beside the repository, or $FLOWPROC_APIGEE_CORPUS)")
	}
	root := regexp.MustCompile(`<(RegularExpressionProtection|JSONThreatProtection|XMLThreatProtection)[\s>]`)
	n := 0
	err := filepath.WalkDir(corpus, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".xml") || filepath.Base(filepath.Dir(path)) != "policies" {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !root.Match(src) {
			return nil
		}
		n++
		if _, errs := engine.TestPolicy(string(src), nil, nil); len(errs) > 0 {
			t.Errorf("%s:\n%v", path, errs)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no threat-protection policies found in the corpus")
	}
	t.Logf("%d corpus policies compiled", n)
}
