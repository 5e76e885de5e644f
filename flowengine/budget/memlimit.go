package budget

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// CgroupFraction is the share of a container's (cgroup's) memory limit
// given to the Go runtime as its soft memory limit when neither a flag nor
// GOMEMLIMIT sets one: the rest is headroom for what the runtime does not
// count (thread stacks outside the heap accounting, cgo, the kernel's page
// cache charged to the cgroup).
const CgroupFraction = 0.9

// Sources of a MemoryLimit.
const (
	SourceFlag       = "flag"
	SourceGOMEMLIMIT = "GOMEMLIMIT"
	SourceCgroupV2   = "cgroup v2"
	SourceCgroupV1   = "cgroup v1"
	SourceNone       = "none"
)

// MemoryLimit is the process's soft memory limit and where it came from.
type MemoryLimit struct {
	// Bytes is the limit; 0 means none.
	Bytes int64
	// Source is SourceFlag, SourceGOMEMLIMIT, SourceCgroupV2, SourceCgroupV1
	// or SourceNone.
	Source string
	// File is the cgroup file the container limit was read from ("" unless
	// Source is a cgroup).
	File string
	// Container is the cgroup's limit (0 when none was found).
	Container int64
}

// String describes the limit for logs and startup lines, e.g.
// "230.4MiB (90% of cgroup v2 limit 256.0MiB)".
func (m MemoryLimit) String() string {
	switch m.Source {
	case SourceNone, "":
		return "none"
	case SourceCgroupV1, SourceCgroupV2:
		return fmt.Sprintf("%s (%.0f%% of %s limit %s in %s)", FormatSize(m.Bytes), CgroupFraction*100, m.Source, FormatSize(m.Container), m.File)
	}
	return fmt.Sprintf("%s (%s)", FormatSize(m.Bytes), m.Source)
}

// MemoryEnv is what DetectMemoryLimit looks at; tests replace it.
type MemoryEnv struct {
	// Getenv reads an environment variable (os.Getenv).
	Getenv func(string) string
	// RuntimeLimit returns the Go runtime's current memory limit
	// (debug.SetMemoryLimit(-1)); math.MaxInt64 means none.
	RuntimeLimit func() int64
	// FS is the file system the cgroup files are read from, rooted at "/"
	// (os.DirFS("/")).
	FS fs.FS
}

// SystemMemoryEnv is the process's real environment.
func SystemMemoryEnv() MemoryEnv {
	return MemoryEnv{Getenv: os.Getenv, RuntimeLimit: func() int64 { return debug.SetMemoryLimit(-1) }, FS: os.DirFS("/")}
}

// DetectMemoryLimit decides the memory limit: explicit (> 0, from a flag or
// the config file) wins; else GOMEMLIMIT, as the Go runtime parsed it; else
// CgroupFraction of the container's cgroup limit (v2 memory.max of the
// process's cgroup or of /sys/fs/cgroup, then v1 memory.limit_in_bytes);
// else none. It only reads; ApplyMemoryLimit sets the limit.
func DetectMemoryLimit(explicit int64, env MemoryEnv) (MemoryLimit, error) {
	if explicit > 0 {
		return MemoryLimit{Bytes: explicit, Source: SourceFlag}, nil
	}
	if v := strings.TrimSpace(env.Getenv("GOMEMLIMIT")); v != "" {
		l := env.RuntimeLimit()
		if l <= 0 || l == math.MaxInt64 {
			return MemoryLimit{Source: SourceNone}, nil // GOMEMLIMIT=off
		}
		return MemoryLimit{Bytes: l, Source: SourceGOMEMLIMIT}, nil
	}
	limit, file, source, err := cgroupLimit(env.FS)
	if err != nil {
		return MemoryLimit{}, err
	}
	if limit <= 0 {
		return MemoryLimit{Source: SourceNone}, nil
	}
	// at least a byte: a (nonsensical) 1-byte cgroup limit is still a limit
	return MemoryLimit{Bytes: max(int64(float64(limit)*CgroupFraction), 1), Source: source, File: file, Container: limit}, nil
}

// ApplyMemoryLimit detects the limit in the process's environment and, when
// it comes from the flag or a cgroup, hands it to the Go runtime
// (debug.SetMemoryLimit). A GOMEMLIMIT the runtime already applied is left
// alone.
func ApplyMemoryLimit(explicit int64) (MemoryLimit, error) {
	m, err := DetectMemoryLimit(explicit, SystemMemoryEnv())
	if err != nil {
		return m, err
	}
	if m.Bytes > 0 && m.Source != SourceGOMEMLIMIT {
		debug.SetMemoryLimit(m.Bytes)
	}
	return m, nil
}

// cgroupLimit finds the container's memory limit; 0 when there is none
// (no cgroup files, or "max" / v1's "unlimited" huge value).
func cgroupLimit(fsys fs.FS) (limit int64, file, source string, err error) {
	var v2, v1 []string
	if self, err := fs.ReadFile(fsys, "proc/self/cgroup"); err == nil {
		sc := bufio.NewScanner(strings.NewReader(string(self)))
		for sc.Scan() {
			// "hierarchy-ID:controller-list:path"; v2 is "0::/path".
			parts := strings.SplitN(sc.Text(), ":", 3)
			if len(parts) != 3 || parts[2] == "/" || parts[2] == "" {
				continue
			}
			switch {
			case parts[0] == "0" && parts[1] == "":
				v2 = append(v2, filepath.ToSlash(filepath.Join("sys/fs/cgroup", parts[2], "memory.max")))
			case slices.Contains(strings.Split(parts[1], ","), "memory"):
				v1 = append(v1, filepath.ToSlash(filepath.Join("sys/fs/cgroup/memory", parts[2], "memory.limit_in_bytes")))
			}
		}
	}
	v2 = append(v2, "sys/fs/cgroup/memory.max")
	for _, f := range v2 {
		n, found, err := readCgroupValue(fsys, f)
		if err != nil {
			return 0, "", "", err
		}
		if found {
			return n, "/" + f, SourceCgroupV2, nil
		}
	}
	v1 = append(v1, "sys/fs/cgroup/memory/memory.limit_in_bytes", "sys/fs/cgroup/memory.limit_in_bytes")
	for _, f := range v1 {
		n, found, err := readCgroupValue(fsys, f)
		if err != nil {
			return 0, "", "", err
		}
		if found {
			return n, "/" + f, SourceCgroupV1, nil
		}
	}
	return 0, "", "", nil
}

// unlimitedV1 is the smallest value cgroup v1 reports for "no limit"
// (PAGE_COUNTER_MAX rounded to pages: 0x7FFFFFFFFFFFF000 on 64-bit).
const unlimitedV1 = 1 << 62

// readCgroupValue reads one cgroup limit file: found is false when the file
// does not exist; "max" or a v1 "unlimited" value is found with limit 0.
func readCgroupValue(fsys fs.FS, name string) (limit int64, found bool, err error) {
	data, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read memory limit /%s: %w", name, err)
	}
	s := strings.TrimSpace(string(data))
	if s == "max" {
		return 0, true, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("memory limit /%s: %q is not a byte count or \"max\"", name, s)
	}
	if n >= unlimitedV1 {
		return 0, true, nil
	}
	return n, true, nil
}

// FormatSize formats a byte count with a binary unit (B, KiB, MiB, GiB).
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}
