package loadgen

import (
	"strings"
	"testing"
)

// hasLine reports whether some line of text starts with prefix.
func hasLine(text, prefix string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSuffix(l, "\r"), prefix) {
			return true
		}
	}
	return false
}

// FuzzParseStatusField: any /proc status text parses or fails without
// panicking, and a value is only found on a line of that field.
func FuzzParseStatusField(f *testing.F) {
	f.Add("VmHWM:\t   20480 kB\nVmRSS:\t 10 kB\n", "VmHWM")
	f.Add("Threads:\t9\n", "Threads")
	f.Add("VmRSS:", "VmRSS")
	f.Fuzz(func(t *testing.T, status, field string) {
		if _, err := parseStatusField(status, field); err == nil && !hasLine(status, field+":") {
			t.Fatalf("found %q in %q without such a line", field, status)
		}
	})
}

// FuzzParseCounter: any exposition text parses or fails without panicking,
// and a value is only found on a line with the bare metric name.
func FuzzParseCounter(f *testing.F) {
	f.Add("# HELP x\n" + AllocMetric + " 1.5e+06\n")
	f.Add(AllocMetric + "{a=\"b\"} 3\n" + AllocMetric + " NaN\n")
	f.Add(AllocMetric + " ")
	f.Fuzz(func(t *testing.T, text string) {
		if _, err := parseCounter(strings.NewReader(text), AllocMetric); err == nil && !hasLine(text, AllocMetric+" ") {
			t.Fatalf("found %s in %q without such a line", AllocMetric, text)
		}
	})
}
