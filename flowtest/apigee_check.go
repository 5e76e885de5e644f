package flowtest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/flowproc/flowproc/flowengine"
)

// checker evaluates a bundle test's expectations into its Result.
type checker struct {
	res *Result
	at  string // file:line of the test
}

func (c *checker) fail(format string, args ...any) {
	c.res.Failures = append(c.res.Failures, c.at+": "+fmt.Sprintf(format, args...))
}

// problems records what went wrong outside the expectations (an
// unmocked target or side call).
func (c *checker) problems(ps []string) {
	for _, p := range ps {
		c.fail("%s", p)
	}
}

// assert counts one assertion and records its failure when ok is false.
func (c *checker) assert(ok bool, format string, args ...any) {
	c.res.Assertions++
	if !ok {
		c.fail(format, args...)
	}
}

func (c *checker) check(e *Expectations, resp *clientResponse, target *sentRequest, get func(string) (string, bool), callouts []string) {
	if e.Status != 0 {
		c.assert(resp.status == e.Status, "status: got %d, want %d", resp.status, e.Status)
	}
	c.headers("response header", e.Headers, resp.headers)
	c.body("response body", e.Body, e.JSON, resp.body)
	for _, sub := range e.BodyContains {
		c.assert(strings.Contains(string(resp.body), sub), "response body: %q not found in %s", sub, quoteBody(resp.body))
	}
	if e.Forwarded != nil {
		if *e.Forwarded {
			c.assert(target != nil, "forwarded: the bundle did not call its target")
		} else if target != nil {
			c.assert(false, "forwarded: the bundle called its target (%s %s), want an answer without one", target.Method, target.URL)
		} else {
			c.assert(true, "")
		}
	}
	if tr := e.TargetRequest; tr != nil {
		if target == nil {
			c.res.Assertions += tr.count()
			c.fail("target_request: the bundle did not call its target")
		} else {
			if tr.Method != "" {
				c.assert(strings.EqualFold(target.Method, tr.Method), "target_request.method: got %s, want %s", target.Method, tr.Method)
			}
			if tr.URL != "" {
				c.assert(target.URL == tr.URL, "target_request.url: got %s, want %s", target.URL, tr.URL)
			}
			if tr.Path != "" {
				c.assert(target.path() == tr.Path, "target_request.path: got %s, want %s", target.path(), tr.Path)
			}
			c.headers("target_request header", tr.Headers, target.Headers)
			c.body("target_request body", tr.Body, tr.JSON, target.Body)
		}
	}
	names := make([]string, 0, len(e.Variables))
	for n := range e.Variables {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		want := e.Variables[n]
		got, ok := get(n)
		switch {
		case want == nil:
			c.assert(!ok, "variable %s: got %q, want it unset", n, got)
		case !ok:
			c.assert(false, "variable %s: unset, want %q", n, *want)
		default:
			c.assert(got == *want, "variable %s: got %q, want %q", n, got, *want)
		}
	}
	if e.Callouts != nil {
		want := *e.Callouts
		c.assert(slicesEqual(callouts, want), "callouts: got %s, want %s", listOf(callouts), listOf(want))
	}
}

func (tr *TargetRequestExpect) count() int {
	n := len(tr.Headers)
	for _, s := range []string{tr.Method, tr.URL, tr.Path} {
		if s != "" {
			n++
		}
	}
	if tr.Body != nil || tr.JSON.Set {
		n++
	}
	return n
}

func (c *checker) headers(what string, want map[string]*string, got []flowengine.Header) {
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w := want[n]
		v, ok := headerValue(got, n)
		switch {
		case w == nil:
			c.assert(!ok, "%s %s: got %q, want it absent", what, strings.ToLower(n), v)
		case !ok:
			c.assert(false, "%s %s: absent, want %q", what, strings.ToLower(n), *w)
		default:
			c.assert(v == *w, "%s %s: got %q, want %q", what, strings.ToLower(n), v, *w)
		}
	}
}

func (c *checker) body(what string, want *string, wantJSON JSONBody, got []byte) {
	switch {
	case want != nil:
		c.assert(string(got) == *want, "%s: got %s, want %s", what, quoteBody(got), quoteBody([]byte(*want)))
	case wantJSON.Set:
		var v any
		if err := json.Unmarshal(got, &v); err != nil {
			c.assert(false, "%s: not JSON (%v): %s", what, err, quoteBody(got))
			return
		}
		if path, ok := jsonMatch(wantJSON.Value, v, "$"); !ok {
			c.assert(false, "%s: %s does not match: got %s, want %s", what, path, quoteBody(got), quoteBody(wantJSON.bytes()))
			return
		}
		c.assert(true, "")
	}
}

// jsonMatch reports whether got matches want: objects by subset (each
// member of want must match got's), arrays and scalars exactly. path
// names the first mismatch.
func jsonMatch(want, got any, path string) (string, bool) {
	if wo, ok := want.(map[string]any); ok {
		gobj, ok := got.(map[string]any)
		if !ok {
			return path, false
		}
		keys := make([]string, 0, len(wo))
		for k := range wo {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, ok := gobj[k]
			if !ok {
				return path + "." + k, false
			}
			if p, ok := jsonMatch(wo[k], gv, path+"."+k); !ok {
				return p, false
			}
		}
		return "", true
	}
	return path, reflect.DeepEqual(want, got)
}

// quoteBody shows a body in a failure message, cut at 300 bytes.
func quoteBody(b []byte) string {
	const max = 300
	if len(b) > max {
		return fmt.Sprintf("%q… (%d bytes)", b[:max], len(b))
	}
	return fmt.Sprintf("%q", b)
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func listOf(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return "[" + strings.Join(ss, ", ") + "]"
}
