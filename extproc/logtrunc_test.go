package extproc

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTruncate(t *testing.T) {
	long := strings.Repeat("a", 3000)
	for _, tc := range []struct {
		name, in string
		limit    int
		want     string
	}{
		{"short", "abc", 10, "abc"},
		{"exact", "abcde", 5, "abcde"},
		{"cut", "abcdef", 3, "abc…[truncated 6 bytes]"},
		{"rune boundary", "aé€", 4, "aé…[truncated 6 bytes]"},
		{"long", long, LogFieldLimit, long[:LogFieldLimit] + "…[truncated 3000 bytes]"},
	} {
		if got := truncate(tc.in, tc.limit); got != tc.want {
			t.Errorf("%s: truncate = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestCustomFieldsBounded(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	fields := map[string]any{
		"small":                   "ok",
		"big":                     big,
		"obj":                     map[string]any{"k": big},
		strings.Repeat("k", 1000): 1,
		"n":                       json.Number("42"),
	}
	for i := range 200 {
		fields["f"+strings.Repeat("0", 3)+string(rune('a'+i%26))+strings.Repeat("z", i)] = strings.Repeat("v", 1000)
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	attrs := appendLogFields(nil, raw)
	size, dropped := 0, false
	for _, a := range attrs {
		size += len(a.Key) + len(a.Value.String())
		if len(a.Key) > LogKeyLimit+len("…[truncated 1000 bytes]") {
			t.Errorf("key of %d bytes", len(a.Key))
		}
		if a.Key == "log_dropped_fields" {
			dropped = true
		}
		if a.Key == "big" && !strings.HasSuffix(a.Value.String(), "…[truncated 102400 bytes]") {
			t.Errorf("big = …%q, want the truncation marker", a.Value.String()[len(a.Value.String())-40:])
		}
	}
	if size > LogCustomLimit+4096 {
		t.Errorf("custom fields take %d bytes, want about %d at most", size, LogCustomLimit)
	}
	if !dropped {
		t.Error("fields over LogCustomLimit were not counted in log_dropped_fields")
	}
}
