package msgtemplate

import (
	"bytes"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

var tv = flowvar.Map{
	"user.name":                     "jdoe",
	"request.header.origin":         "https://a.example",
	"n":                             42,
	"f":                             1.5,
	"b":                             true,
	"nil":                           nil,
	"ratelimit.Quota-1.expiry.time": int64(1700000000000),
}

func TestTemplate(t *testing.T) {
	for _, tc := range []struct {
		src        string
		pre, suf   byte
		want       string
		unresolved string
	}{
		// [doc: message-template page] variables in text, JSON payloads keep braces.
		{src: "Hello {user.name}!", want: "Hello jdoe!"},
		{src: `{"name":"Alert", "message":"You entered an invalid username: {user.name}"}`, want: `{"name":"Alert", "message":"You entered an invalid username: jdoe"}`},
		{src: `{  "organization": "{user.name}", "x": {"y": "{n}" } } `, want: `{  "organization": "jdoe", "x": {"y": "42" } } `},
		{src: `{"a":{}}`, want: `{"a":{}}`},
		{src: "{}", want: "{}"},
		{src: "{3}", want: "{3}"},
		{src: "a{", want: "a{"},
		{src: "}a{", want: "}a{"},
		{src: "{user.name}}", want: "jdoe}"},
		{src: "{ user.name }", want: "{ user.name }"},
		{src: "{user.name", want: "{user.name"},
		{src: "{user name}", want: "{user name}"},
		{src: "{a[0]}", want: "{a[0]}"},
		// apigeelint testTemplateCheck: "dbl curly just means curly".
		{src: "{{user.name}}", want: "{user.name}"},
		{src: "{{a}", want: "{", unresolved: "a"}, // an unmatched {{: literal {, then {a}
		// Types render as Java's String.valueOf.
		{src: "{n}/{f}/{b}", want: "42/1.5/true"},
		{src: "{ratelimit.Quota-1.expiry.time}", want: "1700000000000"},
		// Unresolved: empty string, first name reported.
		{src: "x{missing}y{other}", want: "xy", unresolved: "missing"},
		{src: "[{nil}]", want: "[]", unresolved: "nil"},
		// Defaults (apigeelint fixture CORS.xml).
		{src: "{request.header.origin:*}", want: "https://a.example"},
		{src: "{missing:*}", want: "*"},
		{src: "{missing:}", want: ""},
		{src: "{missing:a b}", want: "a b"},
		{src: "{nil:dflt}", want: "dflt"},
		// variablePrefix/variableSuffix (AssignMessage Payload).
		{src: `{"user":"@user.name#","n":@n#}`, pre: '@', suf: '#', want: `{"user":"jdoe","n":42}`},
		{src: `{user.name} @user.name#`, pre: '@', suf: '#', want: `{user.name} jdoe`},
		{src: `mail me@example.com`, pre: '@', suf: '#', want: `mail me@example.com`},
		{src: `@toUpperCase(user.name)#`, pre: '@', suf: '#', want: `JDOE`},
		{src: `@@x##`, pre: '@', suf: '#', want: `@x#`},
		{src: "", want: ""},
		{src: "plain text", want: "plain text"},
		{src: "{escapeJSON(user.name)}-{toUpperCase( user.name )}", want: "jdoe-JDOE"},
		{src: "{toUpperCase(missing)}", want: "", unresolved: "missing"},
	} {
		tp, err := Parse(tc.src, tc.pre, tc.suf)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.src, err)
			continue
		}
		got, miss, err := tp.String(tv)
		if err != nil || got != tc.want || miss != tc.unresolved {
			t.Errorf("%q = %q, unresolved %q, %v; want %q, unresolved %q", tc.src, got, miss, err, tc.want, tc.unresolved)
		}
		var buf bytes.Buffer
		if err := tp.Execute(&buf, tv); err != nil || buf.String() != tc.want {
			t.Errorf("Execute(%q) = %q, %v", tc.src, buf.String(), err)
		}
		buf.Reset()
		err = tp.ExecuteStrict(&buf, tv)
		var ue *UnresolvedError
		switch {
		case tc.unresolved == "" && (err != nil || buf.String() != tc.want):
			t.Errorf("ExecuteStrict(%q) = %q, %v", tc.src, buf.String(), err)
		case tc.unresolved != "" && (!errors.As(err, &ue) || ue.Name != tc.unresolved || buf.Len() != 0):
			t.Errorf("ExecuteStrict(%q) = %q, %v; want UnresolvedError %s and no output", tc.src, buf.String(), err, tc.unresolved)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		src      string
		pre, suf byte
		code     string
		col      int
	}{
		{src: "x {nope(a)}", code: CodeUnknownFunction, col: 4},
		{src: "{toUpperCase(a}", code: CodeUnterminatedCall, col: 1},
		{src: "{toUpperCase('a)}", code: CodeUnterminatedCall, col: 1},
		{src: "{toUpperCase(a) }", code: CodeMalformedCall, col: 16},
		{src: "{toUpperCase(a)x}", code: CodeMalformedCall},
		{src: "{substring(a,,1)}", code: CodeMalformedCall, col: 14},
		{src: "{toUpperCase('a'b)}", code: CodeMalformedCall},
		{src: "{toUpperCase()}", code: CodeArity},
		{src: "{createUuid( )}", code: ""},
		{src: "{replaceAll(a,'(?<=x)','')}", code: CodeBadArgument},
		{src: "x", pre: '@', suf: '@', code: CodeBadDelimiters},
		{src: "x", pre: 'a', suf: '#', code: CodeBadDelimiters},
	} {
		_, err := Parse(tc.src, tc.pre, tc.suf)
		if tc.code == "" {
			if err != nil {
				t.Errorf("Parse(%q): %v", tc.src, err)
			}
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) || pe.Code != tc.code || tc.col != 0 && pe.Col != tc.col {
			t.Errorf("Parse(%q) = %v, want %s col %d", tc.src, err, tc.code, tc.col)
		}
	}
}

func TestExecErrors(t *testing.T) {
	tp := MustParse("{a}")
	_, _, err := tp.String(flowvar.Map{"a": []string{"x"}})
	var ee *ExecError
	if !errors.As(err, &ee) || ee.Code != CodeUnsupportedValue || ee.Ref != "a" {
		t.Errorf("unsupported value: %v", err)
	}
	tp = MustParse("{toUpperCase(a)}")
	if _, _, err := tp.String(flowvar.Map{"a": map[string]any{}}); !errors.As(err, &ee) || ee.Code != CodeUnsupportedValue {
		t.Errorf("unsupported argument: %v", err)
	}
	var buf bytes.Buffer
	if err := MustParse("{decodeBase64('!')}").Execute(&buf, nil); !errors.As(err, &ee) || ee.Code != CodeFunctionFailed || buf.Len() != 0 {
		t.Errorf("failed function: %v, wrote %q", err, buf.String())
	}
}

func TestVariablesAndLiteral(t *testing.T) {
	tp := MustParse("{a}-{firstnonnull(b,a,'x')}-{c:d}{xPath(/r,doc)}")
	if got, want := tp.Variables(), []string{"a", "b", "c", "doc"}; !slices.Equal(got, want) {
		t.Errorf("Variables() = %v, want %v", got, want)
	}
	if tp.IsLiteral() || !MustParse(`{"a":1}`).IsLiteral() {
		t.Error("IsLiteral wrong")
	}
	if tp.Source() != "{a}-{firstnonnull(b,a,'x')}-{c:d}{xPath(/r,doc)}" {
		t.Error("Source wrong")
	}
}

// TestFunctionList: every function apigeelint's _pluginUtil.js knows
// (Apigee docs: message templates) is implemented, and nothing else.
func TestFunctionList(t *testing.T) {
	want := strings.Fields(`sha1Hex sha1Base64 sha256Hex sha256Base64 sha384Hex sha384Base64 sha512Hex sha512Base64
		md5Hex md5Base64 xPath xpath jsonPath substring firstnonnull replaceAll replaceFirst createUuid randomLong
		hmacMd5 hmacSha1 hmacSha224 hmacSha256 hmacSha384 hmacSha512 timeFormat timeFormatMs timeFormatUTC
		timeFormatUTCMs xeger encodeHTML escapeJSON escapeXML escapeXML11 toUpperCase toLowerCase encodeBase64 decodeBase64`)
	var got []string
	for name := range functions {
		got = append(got, name)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("functions = %v\nwant %v", got, want)
	}
}
