package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/flowproc/flowproc/flowengine/flat"
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
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	var nerr, nflows, nok int
	for _, dir := range fs.Args() {
		p, errs := flat.Load(dir, flat.Options{})
		for _, e := range errs {
			fmt.Fprintln(stdout, e.Error())
		}
		nerr += len(errs)
		if p != nil {
			nok++
			nflows += len(p.Flows())
		}
	}
	if nerr > 0 {
		fmt.Fprintf(stdout, "%d error(s) in %d of %d project(s)\n", nerr, fs.NArg()-nok, fs.NArg())
		return 1
	}
	fmt.Fprintf(stdout, "ok: %d project(s), %d flow(s) compiled, no errors\n", nok, nflows)
	return 0
}
