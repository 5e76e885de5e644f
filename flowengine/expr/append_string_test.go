package expr

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestAppendString checks that AppendString gives exactly Eval's string for
// one-argument string calls, with and without an appending form, and
// declines everything else.
func TestAppendString(t *testing.T) {
	sc, _ := fixture(t)
	sc["mixed"] = "Straße İstanbul ǅ"
	sc["ascii"] = "Hello, World! [az] {AZ} @`~"
	for _, tc := range []struct {
		src string
		ok  bool
	}{
		{"toupper($s)", true},
		{"toupper($ascii)", true},
		{"toupper($mixed)", true},
		{"toupper('')", true},
		{"toupper($empty)", true},
		{"toupper($cfg/stage)", true},
		{"toupper($n)", true},
		{"tolower($ascii)", true},
		{"tolower($mixed)", true},
		{"tolower($body/a/d)", true},
		{"trim('  x  ')", true},
		{"url-encode($mixed)", true},
		{"base64-encode($s)", true},
		{"capitalize-first($s)", true},
		{"md5($s)", true},
		// not a one-argument string call
		{"toupper()", false},
		{"$s", false},
		{"concat($s, 'x')", false},
		{"toupper($s) = 'HELLO'", false},
		{"count($body/list/value)", false},
		{"substring($s, 2)", false},
	} {
		t.Run(tc.src, func(t *testing.T) {
			e := MustCompile(tc.src)
			c := &Context{Scope: sc}
			prefix := []byte("prefix:")
			got, ok, err := e.AppendString(c, prefix)
			if err != nil {
				t.Fatalf("AppendString: %v", err)
			}
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				if string(got) != "prefix:" {
					t.Errorf("declined but changed dst to %q", got)
				}
				return
			}
			v, err := e.Eval(c)
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if want := "prefix:" + String(v); string(got) != want {
				t.Errorf("AppendString = %q, Eval gives %q", got, want)
			}
		})
	}
}

// TestAppendStringErrors checks that a cancelled run and a failing
// argument give Eval's errors.
func TestAppendStringErrors(t *testing.T) {
	sc, _ := fixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e := MustCompile("toupper($s)")
	_, ok, err := e.AppendString(&Context{Ctx: ctx, Scope: sc}, nil)
	_, evalErr := e.Eval(&Context{Ctx: ctx, Scope: sc})
	if !ok || !errors.Is(err, context.Canceled) || err.Error() != evalErr.Error() {
		t.Errorf("cancelled: ok %v, err %v; Eval's error %v", ok, err, evalErr)
	}

	e = MustCompile("toupper(apply-codecs('not deflate', 'inflate'))")
	_, _, err = e.AppendString(&Context{Scope: sc}, nil)
	_, evalErr = e.Eval(&Context{Scope: sc})
	if err == nil || evalErr == nil || err.Error() != evalErr.Error() {
		t.Errorf("failing argument: %v; Eval's error %v", err, evalErr)
	}
}

// TestAppendStringAllocs checks that an ASCII toupper appends into a buffer
// with room without allocating.
func TestAppendStringAllocs(t *testing.T) {
	sc, _ := fixture(t)
	e := MustCompile("toupper($cfg/stage)")
	c := &Context{Scope: sc}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() {
		out, _, err := e.AppendString(c, buf[:0])
		if err != nil || string(out) != "PROD" {
			t.Fatalf("AppendString = %q, %v", out, err)
		}
	}); n != 0 {
		t.Errorf("%.1f allocations per call, want 0", n)
	}
}

// FuzzAppendCase checks the appending forms of toupper and tolower
// against strings.ToUpper and strings.ToLower.
func FuzzAppendCase(f *testing.F) {
	for _, s := range []string{"", "abc", "ABC", "Straße", "İi", "\xff", "a\x00z", "`{@["} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendUpper([]byte("x"), s)), "x"+strings.ToUpper(s); got != want {
			t.Errorf("appendUpper(%q) = %q, want %q", s, got, want)
		}
		if got, want := string(appendLower([]byte("x"), s)), "x"+strings.ToLower(s); got != want {
			t.Errorf("appendLower(%q) = %q, want %q", s, got, want)
		}
	})
}
