package flat

import (
	"strings"
	"testing"
)

// TestHeaderKeys: a name found at its position gives what was worked out
// at load; any other name is derived on the spot, with the same result.
func TestHeaderKeys(t *testing.T) {
	ks := newHeaderKeys([]string{"X-Request-Id", "Status", "bad name", "\u017ftatus"})
	for _, tt := range []struct {
		i    int
		name string
	}{
		{0, "X-Request-Id"}, {1, "Status"}, {2, "bad name"}, {3, "\u017ftatus"}, // from the table
		{0, "X-Other"}, {1, "X-Request-Id"}, {4, "STATUS"}, {9, "x-late"}, // derived
	} {
		got := ks.at(tt.i, tt.name)
		want := headerKey{name: tt.name, lower: strings.ToLower(tt.name), valid: validHeaderName(tt.name), status: strings.EqualFold(tt.name, "status")}
		if got != want {
			t.Errorf("at(%d, %q) = %+v, want %+v", tt.i, tt.name, got, want)
		}
	}
	if newHeaderKeys(nil) != nil {
		t.Error("no names: want a nil table")
	}
	var none headerKeys
	if got := none.at(0, "X-A"); got.lower != "x-a" || !got.valid || got.status {
		t.Errorf("nil table: at = %+v", got)
	}
}
