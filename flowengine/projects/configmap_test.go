package projects_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/projects"
)

// kubeletVolume mimics how the kubelet writes a ConfigMap volume (its
// AtomicWriter): every version of the data is a hidden timestamped directory
// ("..2026_12_05_21_59_32.123456789"), "..data" is a symlink to the current
// one, and each key is a symlink "key" → "..data/key". An update writes the
// new timestamped directory, points a fresh "..data_tmp" symlink at it,
// renames that over "..data" (the atomic switch), adds the symlinks of new
// keys, removes those of deleted keys and finally removes the old directory.
type kubeletVolume struct {
	t     *testing.T
	dir   string
	cur   string // current timestamped directory name
	keys  map[string]bool
	clock time.Time
}

func newKubeletVolume(t *testing.T, dir string, data map[string]string) *kubeletVolume {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	v := &kubeletVolume{t: t, dir: dir, keys: map[string]bool{}, clock: time.Date(2026, 12, 5, 21, 59, 32, 123456789, time.UTC)}
	v.update(data)
	return v
}

// update replaces the volume's data the way the kubelet does.
func (v *kubeletVolume) update(data map[string]string) {
	t := v.t
	t.Helper()
	v.clock = v.clock.Add(61 * time.Second)
	ts := v.clock.Format("..2006_01_02_15_04_05.000000000")
	if err := os.Mkdir(filepath.Join(v.dir, ts), 0o755); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := os.WriteFile(filepath.Join(v.dir, ts, k), []byte(data[k]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(v.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(v.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !v.keys[k] {
			if err := os.Symlink(filepath.Join("..data", k), filepath.Join(v.dir, k)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for k := range v.keys {
		if _, ok := data[k]; !ok {
			if err := os.Remove(filepath.Join(v.dir, k)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if v.cur != "" {
		if err := os.RemoveAll(filepath.Join(v.dir, v.cur)); err != nil {
			t.Fatal(err)
		}
	}
	v.cur = ts
	v.keys = map[string]bool{}
	for _, k := range keys {
		v.keys[k] = true
	}
}

// TestWatchKubeletConfigMapSwaps: a project mounted from a ConfigMap, in the
// kubelet's exact layout, reloads on each update: an edited flow, a key
// added (and the old one removed), a broken edit (the last good version
// keeps serving) and its repair. The hidden timestamped directories are
// never loaded as part of the project.
func TestWatchKubeletConfigMapSwaps(t *testing.T) {
	mount := filepath.Join(t.TempDir(), "example")
	swaggerFor := func(flow string) string { return *swagger("/shop", flow) }
	vol := newKubeletVolume(t, mount, map[string]string{"swagger.yaml": swaggerFor("f.xml"), "f.xml": *echo("v1")})
	reg, err := projects.NewRegistry([]string{mount}, projects.RegistryOptions{Load: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, reg, "/shop/x"); body != "v1" {
		t.Fatalf("initially %q, want v1", body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reports := make(chan projects.ReloadReport, 100)
	done, err := reg.Watch(ctx, projects.WatchOptions{Debounce: 20 * time.Millisecond, OnReload: func(r projects.ReloadReport, err error) {
		if err != nil {
			t.Errorf("reload: %v", err)
		}
		reports <- r
	}})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		data    map[string]string
		body    string
		outcome projects.Outcome
	}{
		{"flow edited", map[string]string{"swagger.yaml": swaggerFor("f.xml"), "f.xml": *echo("v2")}, "v2", projects.Reloaded},
		{"key added, old key removed", map[string]string{"swagger.yaml": swaggerFor("g.xml"), "g.xml": *echo("g1")}, "g1", projects.Reloaded},
		{"broken edit keeps the last good version", map[string]string{"swagger.yaml": swaggerFor("g.xml"), "g.xml": *broken}, "g1", projects.KeptLastGood},
		{"repaired", map[string]string{"swagger.yaml": swaggerFor("g.xml"), "g.xml": *echo("g2")}, "g2", projects.Reloaded},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			for len(reports) > 0 {
				<-reports
			}
			vol.update(st.data)
			deadline := time.After(5 * time.Second)
			for {
				select {
				case r := <-reports:
					if got := r.Projects[0].Outcome; got == st.outcome {
						if _, body := get(t, reg, "/shop/x"); body == st.body {
							return
						}
					}
				case <-deadline:
					_, body := get(t, reg, "/shop/x")
					t.Fatalf("no reload with outcome %q answering %q (answers %q)", st.outcome, st.body, body)
				}
			}
		})
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not stop after cancel")
	}
}
