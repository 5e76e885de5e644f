package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/flowproc/flowproc/flowtest"
)

func init() {
	register(&command{
		name:    "test",
		summary: "run a project's tests: a FLAT app's <flat-test> files or an Apigee bundle's tests/*.yaml (TAP output, --junit FILE); exit 1 on any failure",
		run:     runTest,
	})
}

// runTest is `flowproc test [-v] [--junit FILE] [TESTFILE...] [DIR]`,
// FLAT's `flat test`: the project directory is the last argument when it
// is a directory, else the working directory; without test files every
// <flat-test> file under it runs (for an Apigee bundle project, every
// tests/*.yaml file: docs/apigee-testing.md).
func runTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	junit := fs.String("junit", "", "also write a JUnit XML report to `FILE`")
	verbose := fs.Bool("v", false, "print the trace of every failing test")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: flowproc test [-v] [--junit FILE] [TESTFILE...] [DIR]\n\n"+
			"Runs the app's FLAT tests through the engine. Side calls go to the tests' backend\n"+
			"flows (real requests only when a test registers none). For an Apigee bundle project\n"+
			"(apiproxy/, sharedflows/) it runs the YAML tests in tests/*.yaml, with the target and\n"+
			"side calls mocked by the tests. Prints TAP; exit 1 on failure.")
		fs.PrintDefaults()
	}
	if err := parseInterspersed(fs, args); err != nil {
		return parseExit(err)
	}
	files := fs.Args()
	dir := "."
	if n := len(files); n > 0 {
		if st, err := os.Stat(files[n-1]); err == nil && st.IsDir() {
			dir, files = files[n-1], files[:n-1]
		} else if missingDir(files[n-1], err) {
			fmt.Fprintf(stderr, "flowproc test: %s: no such directory\n", files[n-1])
			return 1
		}
	}
	results, err := flowtest.Run(ctx, flowtest.Options{Dir: dir, Files: files, Out: stdout, JUnit: *junit, Verbose: *verbose})
	if err != nil {
		fmt.Fprintln(stderr, "flowproc test:", err)
		return 1
	}
	if len(results) == 0 {
		fmt.Fprintf(stderr, "flowproc test: no tests found in %s (<flat-test> files, or tests/*.yaml for an Apigee bundle)\n", dir)
		return 1
	}
	if flowtest.Failed(results) {
		return 1
	}
	return 0
}
