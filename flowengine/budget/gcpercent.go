package budget

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// DefaultGCPercent is the collector's target (GOGC) flowproc runs with when
// the GOGC environment variable is not set: collect when the heap has grown
// by 200 % of the live heap since the last collection, where Go's default is
// 100 %.
//
// A proxied exchange leaves about 20 KiB of short-lived garbage while the
// live heap of a header-only server is a few MiB, so at 100 % collection
// was a large part of what flowproc cost over a no-op ext_proc server
// (docs/bench.md, "GOGC default"): 200 cut flowproc's CPU per proxied
// exchange by about a sixth, and the no-op's by less, for about 11 MiB more
// peak RSS. The memory limit (DetectMemoryLimit), when there is one, still
// caps the heap: near it the runtime collects as often as it must, whatever
// GOGC says.
const DefaultGCPercent = 200

// Sources of a GCPercent.
const (
	SourceGOGC    = "GOGC"
	SourceDefault = "flowproc default"
)

// GCPercent is the collector's target and where it came from.
type GCPercent struct {
	// Percent is the target; -1 means the collector is off (GOGC=off) and
	// only the memory limit triggers collections.
	Percent int
	// Source is SourceGOGC or SourceDefault.
	Source string
}

// String describes the target for startup lines, e.g. "200 (flowproc
// default)" or "off (GOGC)".
func (g GCPercent) String() string {
	if g.Percent < 0 {
		return fmt.Sprintf("off (%s)", g.Source)
	}
	return fmt.Sprintf("%d (%s)", g.Percent, g.Source)
}

// DecideGCPercent decides the collector's target: GOGC, when set, as the Go
// runtime parsed it (runtimePercent returns the runtime's current value;
// it is called only then, the runtime having applied GOGC); else
// DefaultGCPercent. It only reads; ApplyGCPercent sets the target.
func DecideGCPercent(getenv func(string) string, runtimePercent func() int) GCPercent {
	if v := strings.TrimSpace(getenv("GOGC")); v != "" {
		return GCPercent{Percent: runtimePercent(), Source: SourceGOGC}
	}
	return GCPercent{Percent: DefaultGCPercent, Source: SourceDefault}
}

// ApplyGCPercent decides the target in the process's environment and, when
// GOGC does not set it, hands DefaultGCPercent to the Go runtime
// (debug.SetGCPercent). A GOGC the runtime already applied is left alone.
func ApplyGCPercent(getenv func(string) string) GCPercent {
	g := DecideGCPercent(getenv, readGCPercent)
	if g.Source == SourceDefault {
		debug.SetGCPercent(g.Percent)
	}
	return g
}

// readGCPercent returns the runtime's GC percent. The runtime has no
// getter: debug.SetGCPercent returns the previous value, so it is set to
// itself (briefly -1: the collector is off for that instant).
func readGCPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}
