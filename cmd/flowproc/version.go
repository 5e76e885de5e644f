package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is flowproc's release, set at build time with
// -ldflags "-X main.version=v1.2.3".
var version = "dev"

// versionModules are the dependencies whose versions "flowproc version"
// reports: they decide how flowproc talks to Envoy.
var versionModules = []string{"google.golang.org/grpc", "github.com/envoyproxy/go-control-plane/envoy"}

func init() {
	register(&command{
		name:    "version",
		summary: "print flowproc's version, the Go version and the gRPC/go-control-plane module versions",
		run:     runVersion,
	})
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "Usage: flowproc version")
		return 2
	}
	info, _ := debug.ReadBuildInfo()
	writeVersion(stdout, info)
	return 0
}

// writeVersion prints one "name version" line each for flowproc, Go, the
// VCS revision when known, and versionModules ("unknown" when the build
// carries no module information).
func writeVersion(w io.Writer, info *debug.BuildInfo) {
	fmt.Fprintf(w, "flowproc %s\n", version)
	fmt.Fprintf(w, "go %s\n", runtime.Version())
	deps := map[string]string{}
	if info != nil {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				fmt.Fprintf(w, "revision %s\n", s.Value)
			}
		}
		for _, d := range info.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			deps[d.Path] = d.Version
		}
	}
	for _, m := range versionModules {
		v := deps[m]
		if v == "" {
			v = "unknown"
		}
		fmt.Fprintf(w, "%s %s\n", m, v)
	}
}
