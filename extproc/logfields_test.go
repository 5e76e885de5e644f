package extproc

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// logFieldCases are Outcome.Log values: fast says whether scanLogFields
// takes them (the others go through encoding/json).
var logFieldCases = []struct {
	name, in string
	fast     bool
}{
	{"example init flow", `{"service":"hello","stage":"dev"}`, true},
	{"empty object", `{}`, true},
	{"spaced", " \t{ \"b\" : 1 ,\n\"a\":\"x\" }\r\n", true},
	{"scalars", `{"s":"","n":-0.5e+3,"z":0,"t":true,"f":false,"u":null}`, true},
	{"reserved key", `{"status":"mine","type":"x"}`, true},
	{"utf-8", `{"name":"Zoë €"}`, true},
	{"long value", `{"v":"` + strings.Repeat("v", LogFieldLimit+10) + `"}`, true},
	{"long key", `{"` + strings.Repeat("k", LogKeyLimit+10) + `":1}`, true},
	{"nested object", `{"o":{"a":1}}`, false},
	{"array", `{"a":[1,2]}`, false},
	{"escaped string", `{"s":"a\"b"}`, false},
	{"escaped key", `{"\u0061":1}`, false},
	{"duplicate key", `{"a":1,"a":2}`, false},
	{"invalid utf-8", "{\"s\":\"\xff\"}", false},
	{"control char", "{\"s\":\"a\tb\"}", false},
	{"not an object", `["a"]`, false},
	{"null", `null`, false},
	{"trailing data", `{"a":1} x`, false},
	{"leading zero", `{"n":01}`, false},
	{"bare minus", `{"n":-}`, false},
	{"dot without digits", `{"n":1.}`, false},
	{"exponent without digits", `{"n":1e}`, false},
	{"truncated", `{"a":"b"`, false},
	{"trailing comma", `{"a":1,}`, false},
	{"missing colon", `{"a" 1}`, false},
	{"unquoted key", `{a:1}`, false},
	{"word prefix", `{"a":trueish}`, false},
}

func TestScanLogFields(t *testing.T) {
	for _, tc := range logFieldCases {
		t.Run(tc.name, func(t *testing.T) {
			var buf [maxFastLogFields]logField
			_, ok := scanLogFields([]byte(tc.in), buf[:])
			if ok != tc.fast {
				t.Fatalf("scanLogFields ok = %v, want %v", ok, tc.fast)
			}
			checkLogFieldsSame(t, []byte(tc.in))
		})
	}
}

// TestScanLogFieldsManyFields covers more members than the stack buffer.
func TestScanLogFieldsManyFields(t *testing.T) {
	var b strings.Builder
	b.WriteByte('{')
	for i := range 3 * maxFastLogFields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"f` + strings.Repeat("x", i) + `":` + strings.Repeat("1", i+1))
	}
	b.WriteByte('}')
	var buf [maxFastLogFields]logField
	fs, ok := scanLogFields([]byte(b.String()), buf[:])
	if !ok || len(fs) != 3*maxFastLogFields {
		t.Fatalf("scanLogFields: ok %v, %d fields", ok, len(fs))
	}
	checkLogFieldsSame(t, []byte(b.String()))
}

// checkLogFieldsSame fails when appendLogFields and the encoding/json path
// disagree about fields: same attributes, same kinds, same JSON record.
func checkLogFieldsSame(t *testing.T, fields []byte) {
	t.Helper()
	head := []slog.Attr{slog.String("type", "flat_access")}
	got := appendLogFields(head[:1:1], fields)
	want := head[:1:1]
	if len(bytes.TrimSpace(fields)) > 0 {
		want = appendLogFieldsJSON(want, fields)
	}
	if len(got) != len(want) {
		t.Fatalf("%q: %d attributes, encoding/json gives %d:\n got %v\nwant %v", fields, len(got), len(want), got, want)
	}
	for i := range got {
		if got[i].Key != want[i].Key || got[i].Value.Kind() != want[i].Value.Kind() {
			t.Fatalf("%q: attribute %d = %v (%s), encoding/json gives %v (%s)", fields, i, got[i], got[i].Value.Kind(), want[i], want[i].Value.Kind())
		}
	}
	if g, w := logRecordText(got), logRecordText(want); g != w {
		t.Fatalf("%q: record\n%s\nencoding/json gives\n%s", fields, g, w)
	}
}

// logRecordText is attrs as the server's JSON handler writes them.
func logRecordText(attrs []slog.Attr) string {
	var b strings.Builder
	h := slog.NewJSONHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	slog.New(h).LogAttrs(context.Background(), slog.LevelInfo, "flat_access", attrs...)
	return b.String()
}

// FuzzLogFieldsFastPath checks that the fast path logs exactly what the
// encoding/json path logs, for any input.
func FuzzLogFieldsFastPath(f *testing.F) {
	for _, tc := range logFieldCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, fields []byte) {
		checkLogFieldsSame(t, fields)
	})
}

// TestAppendLogFieldsAllocs keeps the example's <log> fields cheap: one
// copy of the text and the attribute slice's growth, not a JSON decode.
func TestAppendLogFieldsAllocs(t *testing.T) {
	fields := []byte(`{"service":"hello","stage":"dev","n":3,"ok":true}`)
	attrs := make([]slog.Attr, 0, 16)
	n := testing.AllocsPerRun(100, func() {
		attrs = appendLogFields(attrs[:0], fields)
	})
	if n > 2 {
		t.Errorf("appendLogFields: %.0f allocations, want at most 2", n)
	}
	if len(attrs) != 4 {
		t.Errorf("%d attributes, want 4", len(attrs))
	}
}
