package policies

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
)

func tpJTP(limits string) string {
	return `<JSONThreatProtection name="JTP">` + limits + `</JSONThreatProtection>`
}

func tpJSONFault(what string, line int) string {
	return "JSONThreatProtection[JTP]: Execution failed. reason: JSONThreatProtection[JTP]: " + what + " at line " + strconv.Itoa(line)
}

func TestJSONThreatProtection(t *testing.T) {
	ctJSON := []string{"Content-Type", "application/json"}
	failedVars := map[string]string{"jsonattack.JTP.failed": "true", "jsonattack.failed": "true"}
	runCases(t, []pcase{
		{
			name:   "within all limits",
			policy: tpJTP(`<ArrayElementCount>3</ArrayElementCount><ContainerDepth>3</ContainerDepth><ObjectEntryCount>2</ObjectEntryCount><ObjectEntryNameLength>4</ObjectEntryNameLength><StringValueLength>5</StringValueLength>`),
			method: "POST", body: `{"abcd":[1,"hello",{"x":null}],"b":true}`, headers: ctJSON,
			vars: map[string]string{"jsonattack.failed": unset},
		},
		{
			name:   "container depth",
			policy: tpJTP(`<ContainerDepth>3</ContainerDepth>`),
			method: "POST", body: "{\"a\":\n[[{\"b\":1}]]}", headers: ctJSON,
			fault: "steps.jsonthreatprotection.ExecutionFailed", faultMsg: tpJSONFault("Exceeded container depth", 2), vars: failedVars,
		},
		{
			name:   "object entry count",
			policy: tpJTP(`<ObjectEntryCount>2</ObjectEntryCount>`),
			method: "POST", body: `{"a":{"x":1,"y":2},"b":2,"c":3}`, headers: ctJSON,
			fault: "steps.jsonthreatprotection.ExecutionFailed", faultMsg: tpJSONFault("Exceeded object entry count", 1),
		},
		{
			name:   "array element count in a nested array",
			policy: tpJTP(`<ArrayElementCount>2</ArrayElementCount>`),
			method: "POST", body: "[[1,2],\n[3,4,5]]", headers: ctJSON,
			fault: "steps.jsonthreatprotection.ExecutionFailed", faultMsg: tpJSONFault("Exceeded array element count", 2),
		},
		{
			name:   "entry name length in unicode characters",
			policy: tpJTP(`<ObjectEntryNameLength>3</ObjectEntryNameLength>`),
			method: "POST", body: `{"äöü":1,"abcd":2}`, headers: ctJSON,
			fault: "steps.jsonthreatprotection.ExecutionFailed", faultMsg: tpJSONFault("Exceeded object entry name length", 1),
		},
		{
			name:   "string value length, keys not counted as values",
			policy: tpJTP(`<StringValueLength>3</StringValueLength>`),
			method: "POST", body: `{"longkey":"abc","k":["abcd"]}`, headers: ctJSON,
			fault: "steps.jsonthreatprotection.ExecutionFailed", faultMsg: tpJSONFault("Exceeded string value length", 1),
		},
		{
			name:   "negative limit is unlimited",
			policy: tpJTP(`<ArrayElementCount>-1</ArrayElementCount>`),
			method: "POST", body: `[1,2,3,4,5,6,7,8,9]`, headers: ctJSON,
		},
		{
			name:   "malformed JSON is ExecutionFailed",
			policy: tpJTP(`<ContainerDepth>3</ContainerDepth>`),
			method: "POST", body: `{"a":1,}`, headers: ctJSON,
			fault: "steps.jsonthreatprotection.ExecutionFailed",
		},
		{
			name:   "trailing data is ExecutionFailed",
			policy: tpJTP(`<ContainerDepth>3</ContainerDepth>`),
			method: "POST", body: `{"a":1} {"b":2}`, headers: ctJSON,
			fault: "steps.jsonthreatprotection.ExecutionFailed", faultMsg: tpJSONFault("Invalid JSON: data after the top-level value", 1),
		},
		{
			name:   "truncated JSON is ExecutionFailed",
			policy: tpJTP(`<ContainerDepth>3</ContainerDepth>`),
			method: "POST", body: `{"a":[1`, headers: ctJSON,
			fault: "steps.jsonthreatprotection.ExecutionFailed",
		},
		{
			name:   "other content types are not checked",
			policy: tpJTP(`<ContainerDepth>1</ContainerDepth>`),
			method: "POST", body: `[[[[1]]]]`, headers: []string{"Content-Type", "text/plain"},
		},
		{
			name:   "application/*+json is checked",
			policy: tpJTP(`<ContainerDepth>1</ContainerDepth>`),
			method: "POST", body: `[[1]]`, headers: []string{"Content-Type", "application/problem+json; charset=utf-8"},
			fault: "steps.jsonthreatprotection.ExecutionFailed",
		},
		{
			name:   "empty body passes",
			policy: tpJTP(`<ContainerDepth>1</ContainerDepth>`),
			method: "POST", headers: ctJSON,
		},
		{
			name:   "response source",
			policy: tpJTP(`<Source>response</Source><ArrayElementCount>1</ArrayElementCount>`),
			seg:    engine.ProxyResponse, response: xmlResponse("application/json", `[1,2]`),
			fault: "steps.jsonthreatprotection.ExecutionFailed",
		},
		{
			name:   "source not in scope",
			policy: tpJTP(`<Source>response</Source><ArrayElementCount>1</ArrayElementCount>`),
			fault:  "steps.jsonthreatprotection.SourceUnavailable", faultMsg: "JSONThreatProtection[JTP]:: Source response is not available", vars: failedVars,
		},
		{
			name:   "non-message source",
			policy: tpJTP(`<Source>flow.s</Source><ArrayElementCount>1</ArrayElementCount>`),
			setup:  func(r *engine.Run) { _ = r.Set("flow.s", "[1,2]") },
			fault:  "steps.jsonthreatprotection.NonMessageVariable", faultMsg: "JSONThreatProtection[JTP]: Variable flow.s does not resolve to a Message",
		},
		{name: "non-integer limit", policy: tpJTP(`<ContainerDepth>ten</ContainerDepth>`), loadErr: "not an integer"},
		{name: "unknown element", policy: tpJTP(`<MaxDepth>3</MaxDepth>`), loadErr: "MaxDepth"},
	})
}

// TestJSONThreatProtectionDeep: a 10,000-level document is rejected at
// the depth limit without recursion, and scanned without a limit too.
func TestJSONThreatProtectionDeep(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	arr := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	for _, c := range []struct {
		name, limits, body string
		fault              bool
	}{
		{"objects rejected", `<ContainerDepth>20</ContainerDepth>`, deep, true},
		{"arrays rejected", `<ContainerDepth>20</ContainerDepth>`, arr, true},
		{"objects unlimited", `<ObjectEntryCount>5</ObjectEntryCount>`, deep, false},
		{"arrays unlimited truncated", `<ObjectEntryCount>5</ObjectEntryCount>`, arr[:len(arr)-1], true},
	} {
		t.Run(c.name, func(t *testing.T) {
			pol := compile(t, tpJTP(c.limits))
			r := newRun(engine.ProxyRequest, "POST", "/", c.body, nil, "Content-Type", "application/json")
			start := time.Now()
			err := pol.Execute(r)
			took := time.Since(start)
			if took > 2*time.Second {
				t.Errorf("took %v", took)
			}
			t.Logf("%d bytes in %v", len(c.body), took)
			if got := err != nil; got != c.fault {
				t.Fatalf("error %v, want fault %v", err, c.fault)
			}
			if c.fault && c.limits == `<ContainerDepth>20</ContainerDepth>` && !strings.Contains(faultOf(err), "Exceeded container depth at line 1") {
				t.Errorf("fault %s", faultOf(err))
			}
		})
	}
}

func FuzzJSONThreatScan(f *testing.F) {
	for _, s := range []string{`{"a":[1,"x",{"b":null}]}`, `[[[[]]]]`, `{"a":1,}`, `"\u00e4"`, `{} {}`, `[1,2,3`, `{"k":{"k":{"k":"vvvvvv"}}}`} {
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, doc []byte, n int) {
		unl := jtpScan(doc, jtpLimits{-1, -1, -1, -1, -1})
		if valid := json.Valid(doc); valid != (unl == nil) {
			t.Fatalf("json.Valid %v but unlimited scan %+v for %q", valid, unl, doc)
		}
		n &= 0xff
		v := jtpScan(doc, jtpLimits{depth: n % 8, objectEntries: n % 5, arrayElements: n % 6, nameLength: n % 4, stringLength: n % 7})
		if v != nil && v.line < 1 {
			t.Fatalf("line %d", v.line)
		}
		if unl == nil && v != nil && strings.HasPrefix(v.what, "Invalid JSON") {
			t.Fatalf("valid document reported invalid under limits: %q %+v", doc, v)
		}
		if ref := tpDecoderScan(doc, jtpLimits{-1, -1, -1, -1, -1}); (ref == nil) != (unl == nil) {
			t.Fatalf("decoder %+v, scanner %+v for %q", ref, unl, doc)
		}
		if unl == nil { // on a valid document both find the same first violation
			ref := tpDecoderScan(doc, jtpLimits{depth: n % 8, objectEntries: n % 5, arrayElements: n % 6, nameLength: n % 4, stringLength: n % 7})
			if (ref == nil) != (v == nil) || ref != nil && (ref.what != v.what || ref.line != v.line) {
				t.Fatalf("decoder %+v, scanner %+v for %q", ref, v, doc)
			}
		}
	})
}

// tpDecoderScan is the reference for jtpScan: the same limits applied
// to an encoding/json Decoder token walk.
func tpDecoderScan(doc []byte, lim jtpLimits) *jtpViolation {
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
