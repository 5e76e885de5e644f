package budget_test

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/budget"
)

func TestDecideGCPercent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		gogc    string
		runtime int
		want    budget.GCPercent
		text    string
	}{
		{name: "unset: flowproc's default", runtime: 100,
			want: budget.GCPercent{Percent: budget.DefaultGCPercent, Source: budget.SourceDefault}, text: "200 (flowproc default)"},
		{name: "blank is unset", gogc: "  ", runtime: 100,
			want: budget.GCPercent{Percent: budget.DefaultGCPercent, Source: budget.SourceDefault}, text: "200 (flowproc default)"},
		{name: "GOGC as the runtime parsed it", gogc: "50", runtime: 50,
			want: budget.GCPercent{Percent: 50, Source: budget.SourceGOGC}, text: "50 (GOGC)"},
		{name: "GOGC=100 keeps Go's default", gogc: "100", runtime: 100,
			want: budget.GCPercent{Percent: 100, Source: budget.SourceGOGC}, text: "100 (GOGC)"},
		{name: "GOGC=off", gogc: "off", runtime: -1,
			want: budget.GCPercent{Percent: -1, Source: budget.SourceGOGC}, text: "off (GOGC)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k != "GOGC" {
					t.Errorf("read %s, want only GOGC", k)
				}
				return tc.gogc
			}
			got := budget.DecideGCPercent(getenv, func() int {
				if strings.TrimSpace(tc.gogc) == "" {
					t.Error("read the runtime's percent without GOGC: that switches the collector off for an instant")
				}
				return tc.runtime
			})
			if got != tc.want {
				t.Errorf("DecideGCPercent = %+v, want %+v", got, tc.want)
			}
			if got.String() != tc.text {
				t.Errorf("String() = %q, want %q", got.String(), tc.text)
			}
		})
	}
}

func TestApplyGCPercent(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)

	g := budget.ApplyGCPercent(func(string) string { return "" })
	if g.Percent != budget.DefaultGCPercent || g.Source != budget.SourceDefault {
		t.Fatalf("ApplyGCPercent without GOGC = %+v", g)
	}
	if got := debug.SetGCPercent(100); got != budget.DefaultGCPercent {
		t.Errorf("runtime GC percent %d, want %d", got, budget.DefaultGCPercent)
	}

	// With GOGC set the runtime's value (here 70, as if GOGC=70 had been
	// parsed at startup) is reported and left alone.
	debug.SetGCPercent(70)
	g = budget.ApplyGCPercent(func(string) string { return "70" })
	if g.Percent != 70 || g.Source != budget.SourceGOGC {
		t.Fatalf("ApplyGCPercent with GOGC=70 = %+v", g)
	}
	if got := debug.SetGCPercent(100); got != 70 {
		t.Errorf("runtime GC percent %d, want GOGC's 70 left alone", got)
	}
}
