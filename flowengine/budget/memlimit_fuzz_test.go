package budget_test

import (
	"testing"
	"testing/fstest"

	"github.com/flowproc/flowproc/flowengine/budget"
)

// FuzzDetectMemoryLimit: any content of the cgroup files yields a limit or
// an error, never a panic; a found limit is positive and at most the
// container's.
func FuzzDetectMemoryLimit(f *testing.F) {
	f.Add("0::/a\n4:memory:/b\n", "268435456\n", "max\n")
	f.Add("", "max", "9223372036854771712")
	f.Add("0::/../../x\n", "-1", "12abc")
	f.Fuzz(func(t *testing.T, self, v2, v1 string) {
		fsys := fstest.MapFS{
			"proc/self/cgroup":                           {Data: []byte(self)},
			"sys/fs/cgroup/memory.max":                   {Data: []byte(v2)},
			"sys/fs/cgroup/memory/memory.limit_in_bytes": {Data: []byte(v1)},
		}
		env := budget.MemoryEnv{Getenv: func(string) string { return "" }, RuntimeLimit: func() int64 { return 0 }, FS: fsys}
		m, err := budget.DetectMemoryLimit(0, env)
		if err != nil {
			return
		}
		if m.Bytes < 0 || m.Bytes > m.Container || (m.Bytes == 0) != (m.Source == budget.SourceNone) {
			t.Fatalf("limit %+v", m)
		}
	})
}
