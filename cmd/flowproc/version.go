package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// version and revision are flowproc's release and VCS revision when set at
// build time, e.g. -ldflags "-X main.version=v1.2.3 -X main.revision=abc123"
// (deploy/Dockerfile does, because its build context has no .git). Empty
// values fall back to what the Go toolchain recorded (buildStamp).
var version, revision string

// versionModules are the dependencies whose versions "flowproc version"
// reports: they decide how flowproc talks to Envoy.
var versionModules = []string{"google.golang.org/grpc", "github.com/envoyproxy/go-control-plane/envoy"}

func init() {
	register(&command{
		name:    "version",
		summary: "print flowproc's version and VCS revision, the Go version and the gRPC/go-control-plane module versions",
		run:     runVersion,
	})
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: flowproc version\n\nPrints flowproc's version and VCS revision, the Go version and the versions\nof the modules that decide how flowproc talks to Envoy.")
	}
	if err := parseInterspersed(fs, args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	info, _ := debug.ReadBuildInfo()
	writeVersion(stdout, info)
	return 0
}

// stamp is the version and revision a binary carries.
type stamp struct {
	// Version is the -X main.version value, else the module version ("go
	// install …@v1.2.3"), else "devel".
	Version string
	// Revision is the -X main.revision value, else vcs.revision, with
	// "+modified" when vcs.modified is true; "unknown" when neither is
	// known.
	Revision string
}

// String is "v1.2.3 (revision abc123)", the form the startup banner uses.
func (s stamp) String() string { return s.Version + " (revision " + s.Revision + ")" }

// buildStamp reads the version and revision from the link-time variables
// and info (nil when the binary has no build information).
func buildStamp(info *debug.BuildInfo) stamp {
	s := stamp{Version: version, Revision: revision}
	var rev string
	var modified bool
	if info != nil {
		if s.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			s.Version = info.Main.Version
		}
		for _, set := range info.Settings {
			switch set.Key {
			case "vcs.revision":
				rev = set.Value
			case "vcs.modified":
				modified = set.Value == "true"
			}
		}
	}
	if s.Version == "" {
		s.Version = "devel"
	}
	if s.Revision == "" {
		s.Revision = rev
		if rev != "" && modified {
			s.Revision += "+modified"
		}
	}
	if s.Revision == "" {
		s.Revision = "unknown"
	}
	return s
}

// currentStamp is buildStamp of the running binary.
func currentStamp() stamp {
	info, _ := debug.ReadBuildInfo()
	return buildStamp(info)
}

// writeVersion prints one "name version" line each for flowproc, the VCS
// revision, Go and versionModules ("unknown" when the build carries no
// module information).
func writeVersion(w io.Writer, info *debug.BuildInfo) {
	st := buildStamp(info)
	fmt.Fprintf(w, "flowproc %s\n", st.Version)
	fmt.Fprintf(w, "revision %s\n", st.Revision)
	fmt.Fprintf(w, "go %s\n", runtime.Version())
	deps := map[string]string{}
	if info != nil {
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
		fmt.Fprintf(w, "%s %s\n", m, strings.TrimSpace(v))
	}
}
