package deploy

import (
	"os/exec"
	"testing"
)

// TestKustomizeBuilds renders deploy/kubernetes with `kubectl kustomize`
// (offline) when kubectl is installed, and checks that the result holds the
// same objects as the files this package's tests read.
func TestKustomizeBuilds(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed; the kustomization is checked by TestKubernetesKustomizationListsEveryManifest only")
	}
	out, err := exec.Command(kubectl, "kustomize", k8sDir).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", k8sDir, err, out)
	}
	built := map[string]bool{}
	for _, o := range splitManifests(t, "kustomize output", out) {
		built[o.Kind+"/"+o.Metadata.Name] = true
	}
	want := 0
	for _, o := range loadManifests(t, k8sDir) {
		if o.Kind == "Kustomization" {
			continue
		}
		want++
		if !built[o.Kind+"/"+o.Metadata.Name] {
			t.Errorf("%s/%s (%s) is missing from the kustomize output", o.Kind, o.Metadata.Name, o.file)
		}
	}
	if len(built) != want {
		t.Errorf("kustomize built %d objects, the files hold %d", len(built), want)
	}
}
