package budget_test

import (
	"math"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flowproc/flowproc/flowengine/budget"
)

func TestDetectMemoryLimit(t *testing.T) {
	const mib = 1 << 20
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, tc := range []struct {
		name      string
		explicit  int64
		gomem     string
		runtime   int64
		files     fstest.MapFS
		want      int64
		source    string
		container int64
		err       string
	}{
		{name: "flag wins over everything", explicit: 300 * mib, gomem: "100MiB", runtime: 100 * mib,
			files: fstest.MapFS{"sys/fs/cgroup/memory.max": file("268435456\n")}, want: 300 * mib, source: budget.SourceFlag},
		{name: "GOMEMLIMIT as the runtime parsed it", gomem: "100MiB", runtime: 100 * mib,
			files: fstest.MapFS{"sys/fs/cgroup/memory.max": file("268435456\n")}, want: 100 * mib, source: budget.SourceGOMEMLIMIT},
		{name: "GOMEMLIMIT=off means none", gomem: "off", runtime: math.MaxInt64, source: budget.SourceNone},
		{name: "cgroup v2 root", files: fstest.MapFS{"sys/fs/cgroup/memory.max": file("268435456\n")},
			want: 268435456 * 9 / 10, source: budget.SourceCgroupV2, container: 268435456},
		{name: "cgroup v2 of the process's own cgroup", files: fstest.MapFS{
			"proc/self/cgroup":                       file("0::/kubepods/pod1\n"),
			"sys/fs/cgroup/kubepods/pod1/memory.max": file("104857600"),
			"sys/fs/cgroup/memory.max":               file("max"),
		}, want: 104857600 * 9 / 10, source: budget.SourceCgroupV2, container: 104857600},
		{name: "cgroup v2 max is none", files: fstest.MapFS{"sys/fs/cgroup/memory.max": file("max\n")}, source: budget.SourceNone},
		{name: "cgroup v1", files: fstest.MapFS{"sys/fs/cgroup/memory/memory.limit_in_bytes": file("536870912\n")},
			want: 536870912 * 9 / 10, source: budget.SourceCgroupV1, container: 536870912},
		{name: "cgroup v1 of the process's memory controller", files: fstest.MapFS{
			"proc/self/cgroup": file("4:memory:/box\n0::/\n"),
			"sys/fs/cgroup/memory/box/memory.limit_in_bytes": file("209715200\n"),
			"sys/fs/cgroup/memory/memory.limit_in_bytes":     file("9223372036854771712\n"),
		}, want: 209715200 * 9 / 10, source: budget.SourceCgroupV1, container: 209715200},
		{name: "cgroup v1 unlimited", files: fstest.MapFS{"sys/fs/cgroup/memory/memory.limit_in_bytes": file("9223372036854771712\n")}, source: budget.SourceNone},
		{name: "no cgroup files", files: fstest.MapFS{}, source: budget.SourceNone},
		{name: "garbage is an error", files: fstest.MapFS{"sys/fs/cgroup/memory.max": file("lots\n")}, err: "not a byte count"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := budget.MemoryEnv{
				Getenv: func(k string) string {
					if k == "GOMEMLIMIT" {
						return tc.gomem
					}
					return ""
				},
				RuntimeLimit: func() int64 { return tc.runtime },
				FS:           tc.files,
			}
			m, err := budget.DetectMemoryLimit(tc.explicit, env)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Bytes != tc.want || m.Source != tc.source || m.Container != tc.container {
				t.Fatalf("got %+v, want %d from %s (container %d)", m, tc.want, tc.source, tc.container)
			}
			if s := m.String(); s == "" || (m.Bytes == 0) != (s == "none") {
				t.Errorf("String() = %q", s)
			}
		})
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{512: "512B", 2048: "2.0KiB", 3 << 20: "3.0MiB", 5 << 30: "5.0GiB"} {
		if got := budget.FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
