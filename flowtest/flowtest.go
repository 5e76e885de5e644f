// Package flowtest is flowproc's test runner host: it finds
// a project's FLAT tests (<flat-test> files), runs each through the engine
// with the side calls mocked by the tests' backend flows, and reports the
// results as TAP (as `flat test` prints them) and JUnit XML. An Apigee
// bundle project (apiproxy/, sharedflows/) runs its YAML tests instead
// (tests/*.yaml, docs/apigee-testing.md), with the target and side calls
// mocked by the tests.
package flowtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/flat"
	"github.com/flowproc/flowproc/flowengine/tracetree"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// Options configure a test run.
type Options struct {
	// Dir is the project directory: a FLAT app, or an Apigee bundle
	// project (apiproxy/ and/or sharedflows/, tests in tests/*.yaml).
	Dir string
	// Files are the test files to run (relative to the working
	// directory, or to Dir when they do not exist there); empty means
	// every test under Dir.
	Files []string
	// Out receives the TAP report.
	Out io.Writer
	// JUnit, when set, also writes a JUnit XML report to this file.
	JUnit string
	// Verbose prints the trace of every failing test.
	Verbose bool
	// Env is the environment tests see as $env (nil: the process's).
	Env []string
	// Upstream makes the side calls of FLAT tests that register no
	// backend flow (nil: the real network). Bundle tests never use it:
	// their side calls go to their callouts: mocks only.
	Upstream upstream.Client
	// Logger receives the engine's records (nil: discarded).
	Logger *slog.Logger
}

// Result is one test file's outcome.
type Result struct {
	flat.TestResult
	// Name is the test's name within its file (Apigee bundle tests,
	// several per YAML file); "" for FLAT tests, one per file.
	Name string
	// Duration is how long the test took.
	Duration time.Duration
	// Trace is the test's trace when Verbose is set and the test failed.
	Trace string
}

// Run runs the tests and writes the reports. It returns the results and
// an error when the project or a test file cannot be loaded (the TAP
// report then lists it as a failed test too).
func Run(ctx context.Context, o Options) ([]*Result, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if isBundleProject(o.Dir) {
		return runBundle(ctx, o, logger)
	}
	p, errs := flat.Load(o.Dir, flat.Options{Env: o.Env, Logger: logger})
	if p == nil {
		fmt.Fprintf(o.Out, "1..1\nnot ok 1 %s: the project does not load\n", o.Dir)
		for _, e := range errs {
			fmt.Fprintf(o.Out, "# %v\n", e)
		}
		fmt.Fprintln(o.Out, "passed: 0, failed: 1")
		return nil, fmt.Errorf("project %s does not load: %w", o.Dir, errs)
	}
	files, err := resolveFiles(o.Dir, o.Files)
	if err != nil {
		return nil, err
	}
	var results []*Result
	var loadErr error
	for _, file := range files {
		res := &Result{}
		res.File = rel(p.Dir(), file)
		test, errs := p.LoadTest(file)
		for _, e := range errs {
			e.File = rel(p.Dir(), e.File) // reports are the same on every machine
		}
		if test == nil {
			res.Err = fmt.Errorf("the test does not load: %w", errs)
			loadErr = errors.Join(loadErr, fmt.Errorf("%s: %w", res.File, errs))
			results = append(results, res)
			continue
		}
		var col *tracetree.Collector
		opts := flat.TestOptions{Upstream: o.Upstream, NewHost: NewHost}
		if o.Verbose {
			col = &tracetree.Collector{}
			opts.Trace = col
		}
		start := time.Now()
		res.TestResult = *test.Run(ctx, opts)
		res.Duration = time.Since(start)
		if col != nil && !res.OK() {
			var b strings.Builder
			tracetree.Write(&b, col.Events(), tracetree.Options{})
			res.Trace = b.String()
		}
		results = append(results, res)
	}
	writeTAP(o.Out, results)
	if o.JUnit != "" {
		if err := writeJUnitFile(o.JUnit, results); err != nil {
			return results, err
		}
	}
	return results, loadErr
}

// Failed reports whether any result failed.
func Failed(results []*Result) bool {
	for _, r := range results {
		if !r.OK() {
			return true
		}
	}
	return false
}

// resolveFiles returns the test files to run: the given ones, or every
// <flat-test> file under dir (recursively, skipping hidden directories).
func resolveFiles(dir string, files []string) ([]string, error) {
	if len(files) > 0 {
		out := make([]string, 0, len(files))
		for _, f := range files {
			if _, err := os.Stat(f); err != nil {
				if alt := filepath.Join(dir, f); fileExists(alt) {
					f = alt
				} else {
					return nil, fmt.Errorf("test file %s: %w", f, err)
				}
			}
			out = append(out, f)
		}
		return out, nil
	}
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(d.Name(), ".xml") || d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if flat.IsTestFile(path, data) {
			out = append(out, path)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func rel(dir, path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if r, err := filepath.Rel(dir, abs); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return path
}
