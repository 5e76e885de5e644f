package flat

import (
	"fmt"
	"github.com/flowproc/flowproc/internal/racecheck"
	"strings"
	"testing"
	"time"
)

// bigFlowFile returns a valid flow file of about n bytes: half of it many
// small actions (whitespace text accumulates in <flow>), half templates
// whose bodies are split in many CDATA sections (the shapes that were
// quadratic).
func bigFlowFile(n int) string {
	var b strings.Builder
	b.WriteString("<flow>\n")
	for b.Len() < n/2 {
		b.WriteString("  <set-status code=\"200\"/>\n")
	}
	for b.Len() < n/2+n/4 {
		b.WriteString("  <template out=\"$c\">{\"a\": \"")
		for j := 0; j < 500; j++ {
			b.WriteString("x<![CDATA[y]]>")
		}
		b.WriteString("\"}</template>\n")
	}
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "  <template out=\"$v%d\">{\n", i%50)
		for j := 0; j < 20; j++ {
			fmt.Fprintf(&b, "    \"k%d\": \"value value value value &amp; more\",\n", j)
		}
		b.WriteString("    \"end\": true\n  }</template>\n")
	}
	b.WriteString("</flow>\n")
	return b.String()
}

// TestLoadBigFlow loads a 1 MB and a 10 MB flow file: compiling must stay
// roughly linear (it was quadratic: 18.9 s for 10 MB). The bound is loose,
// it only catches a return of quadratic behaviour.
func TestLoadBigFlow(t *testing.T) {
	if testing.Short() || racecheck.Enabled {
		t.Skip("compiles 11 MB of flow to time it; skipped in -short and under the race detector, which distorts the timing")
	}
	load := func(n int) time.Duration {
		dir := writeProject(t, map[string]string{"swagger.yaml": budgetSwagger, "a.xml": bigFlowFile(n)})
		start := time.Now()
		if p, errs := Load(dir, Options{Logger: quietLogger}); p == nil {
			t.Fatalf("load: %v", errs[:min(len(errs), 3)])
		}
		return time.Since(start)
	}
	// The best of two loads each, and a bound between linear (10×) and
	// quadratic (100×), so a busy machine does not fail it.
	small, big := min(load(1<<20), load(1<<20)), min(load(10<<20), load(10<<20))
	t.Logf("1 MB: %v, 10 MB: %v (ratio %.1f)", small, big, float64(big)/float64(small))
	if big > 40*small && big > 4*time.Second {
		t.Fatalf("10 MB took %v, 1 MB %v: not linear", big, small)
	}
}
