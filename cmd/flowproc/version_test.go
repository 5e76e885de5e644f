package main

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestWriteVersion(t *testing.T) {
	tests := []struct {
		name string
		info *debug.BuildInfo
		want []string
	}{
		{name: "modules and revision", info: &debug.BuildInfo{
			Main:     debug.Module{Version: "v1.2.3"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}},
			Deps: []*debug.Module{
				{Path: "google.golang.org/grpc", Version: "v1.85.0"},
				{Path: "github.com/envoyproxy/go-control-plane/envoy", Version: "v1.40.0",
					Replace: &debug.Module{Path: "github.com/envoyproxy/go-control-plane/envoy", Version: "v1.40.1"}},
			}},
			want: []string{"flowproc v1.2.3", "revision abc123+modified", "go " + runtime.Version(),
				"google.golang.org/grpc v1.85.0", "github.com/envoyproxy/go-control-plane/envoy v1.40.1"}},
		{name: "no build info", want: []string{"flowproc devel", "revision unknown", "go " + runtime.Version(),
			"google.golang.org/grpc unknown", "github.com/envoyproxy/go-control-plane/envoy unknown"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			writeVersion(&b, tc.info)
			if got := strings.Split(strings.TrimSpace(b.String()), "\n"); strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("version output\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	var out bytes.Buffer
	if code := dispatch(context.Background(), []string{"version"}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.HasPrefix(out.String(), "flowproc ") || !strings.Contains(out.String(), "\nrevision ") {
		t.Errorf("output %q", out.String())
	}
	if code := dispatch(context.Background(), []string{"version", "extra"}, &out, io.Discard); code != 2 {
		t.Errorf("version with arguments: exit %d, want 2", code)
	}
}

// TestBuildStamp: link-time values (the image build's -X main.version and
// -X main.revision) win over the toolchain's; a module built in a work
// tree reports "devel".
func TestBuildStamp(t *testing.T) {
	info := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "r1"}}}
	if got := buildStamp(info).String(); got != "devel (revision r1)" {
		t.Errorf("toolchain stamp %q", got)
	}
	version, revision = "v9.9.9", "r2"
	t.Cleanup(func() { version, revision = "", "" })
	if got := buildStamp(info).String(); got != "v9.9.9 (revision r2)" {
		t.Errorf("link-time stamp %q", got)
	}
}
