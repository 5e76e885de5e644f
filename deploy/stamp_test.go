package deploy

import (
	"strings"
	"testing"
)

// TestDockerfileStampsVersion: the image's go build links the VERSION and
// REVISION build arguments into main.version and main.revision (the build
// context has no .git for Go to read them from).
func TestDockerfileStampsVersion(t *testing.T) {
	df := string(mustRead(t, dockerfilePath))
	for _, want := range []string{"ARG VERSION", "ARG REVISION"} {
		if !strings.Contains(df, "\n"+want) {
			t.Errorf("Dockerfile does not declare %s", want)
		}
	}
	var build string
	for _, line := range strings.Split(strings.ReplaceAll(df, "\\\n", " "), "\n") {
		if strings.Contains(line, "go build") {
			build = line
		}
	}
	for _, want := range []string{"-X main.version=${VERSION}", "-X main.revision=${REVISION}"} {
		if !strings.Contains(build, want) {
			t.Errorf("the go build line lacks %s: %q", want, build)
		}
	}
}
