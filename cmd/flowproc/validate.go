package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	_ "github.com/flowproc/flowproc/flowengine/frontends"
	"github.com/flowproc/flowproc/flowengine/projects"
	"github.com/flowproc/flowproc/flowengine/store"
)

func init() {
	register(&command{
		name:    "validate",
		summary: "load and compile projects; print every error as file:line:col: CODE: message",
		run:     runValidate,
	})
}

func runValidate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: flowproc validate DIR...\n\nLoads and compiles every project; exit 1 if any has an error.")
	}
	if err := parseInterspersed(fs, args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	// Validation checks the projects, not the deployment: encrypted KVMs
	// get a key of this process, as in flowproc dev.
	if err := devKVMKey(store.MemoryStores()); err != nil {
		fmt.Fprintf(stderr, "flowproc validate: %v\n", err)
		return 2
	}
	var nerr, nok int
	// The same set serve would build: duplicate names are refused with
	// serve's message.
	if _, err := projects.Load(fs.Args(), "", projects.LoadOptions{Logger: slog.New(slog.DiscardHandler)}); err != nil {
		fmt.Fprintln(stdout, err.Error())
		nerr++
	}
	for _, dir := range fs.Args() {
		kind, p, errs := projects.LoadProject(dir, projects.LoadOptions{})
		for _, e := range errs {
			fmt.Fprintln(stdout, e.Error())
		}
		nerr += len(errs)
		if p != nil {
			nok++
			fmt.Fprintf(stdout, "%s: %s project %s, %s\n", dir, kind, p.Name(), p.Summary())
		}
	}
	if nerr > 0 {
		fmt.Fprintf(stdout, "%d error(s) in %d of %d project(s)\n", nerr, max(fs.NArg()-nok, 1), fs.NArg())
		return 1
	}
	fmt.Fprintf(stdout, "ok: %d project(s) compiled, no errors\n", nok)
	return 0
}
