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
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}},
			Deps: []*debug.Module{
				{Path: "google.golang.org/grpc", Version: "v1.85.0"},
				{Path: "github.com/envoyproxy/go-control-plane/envoy", Version: "v1.40.0",
					Replace: &debug.Module{Path: "github.com/envoyproxy/go-control-plane/envoy", Version: "v1.40.1"}},
			}},
			want: []string{"flowproc dev", "go " + runtime.Version(), "revision abc123",
				"google.golang.org/grpc v1.85.0", "github.com/envoyproxy/go-control-plane/envoy v1.40.1"}},
		{name: "no build info", want: []string{"flowproc dev", "go " + runtime.Version(),
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
	if !strings.HasPrefix(out.String(), "flowproc dev\ngo go") {
		t.Errorf("output %q", out.String())
	}
	if code := dispatch(context.Background(), []string{"version", "extra"}, &out, io.Discard); code != 2 {
		t.Errorf("version with arguments: exit %d, want 2", code)
	}
}
