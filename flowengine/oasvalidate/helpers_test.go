package oasvalidate

import (
	"context"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apidef"
)

// compileDir loads and compiles the app in dir; any diagnostic fails t.
func compileDir(t testing.TB, dir string) (*apidef.Definition, *Validator) {
	t.Helper()
	d, errs := apidef.Load(dir)
	if len(errs) > 0 {
		t.Fatalf("load %s: %v", dir, errs)
	}
	v, errs := Compile(d)
	if len(errs) > 0 {
		t.Fatalf("compile %s: %v", dir, errs)
	}
	return d, v
}

// req builds a routed RequestInput: target is "METHOD /path?query";
// headers are "name: value" lines; ct and body set the body.
func req(t testing.TB, d *apidef.Definition, target string, headers []string, ct, body string) RequestInput {
	t.Helper()
	method, rest, _ := strings.Cut(target, " ")
	path, query, _ := strings.Cut(rest, "?")
	m := d.Match(method, path)
	if m.Kind != apidef.Matched {
		t.Fatalf("%s: %v %s", target, m.Kind, m.Message)
	}
	in := RequestInput{Path: m.Path, Op: m.Op, Params: m.Params, Method: method, RawPath: path, Query: query,
		ContentType: ct, Body: []byte(body), BodyRead: true}
	for _, h := range headers {
		n, v, _ := strings.Cut(h, ":")
		in.Headers = append(in.Headers, Header{Name: strings.ToLower(strings.TrimSpace(n)), Value: strings.TrimSpace(v)})
	}
	if ct != "" {
		in.Headers = append(in.Headers, Header{Name: "content-type", Value: ct})
	}
	return in
}

// describe renders a Result as "mode" or "mode status code message | info | info".
func describe(r Result) string {
	s := r.Mode.String()
	if r.Error == nil {
		return s
	}
	e := r.Error
	return s + " " + itoa(e.Status) + " " + itoa(e.Code) + " " + e.Message + " | " + strings.Join(e.Info, " | ")
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

var bg = context.Background()
