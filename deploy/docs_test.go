package deploy

import (
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/flowproc/flowproc/envoy"
)

const deployDocPath = "../docs/deploy.md"

var yamlFence = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// docYAMLBlocks returns the ```yaml blocks of section (from its "## "
// heading to the next) of docs/deploy.md, unindented.
func docYAMLBlocks(t *testing.T, section string) []string {
	t.Helper()
	doc := string(mustRead(t, deployDocPath))
	_, rest, ok := strings.Cut(doc, "\n## "+section+"\n")
	if !ok {
		t.Fatalf("%s: no section %q", deployDocPath, section)
	}
	rest, _, _ = strings.Cut(rest, "\n## ")
	var out []string
	for _, m := range yamlFence.FindAllStringSubmatch(rest, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestDeployDocMTLSExamples: the mTLS examples of docs/deploy.md are what
// they claim: cert-manager Certificates, flowproc flags serve knows, and an
// Envoy transport socket that, put on the sidecar's flowproc cluster,
// passes the bootstrap validation.
func TestDeployDocMTLSExamples(t *testing.T) {
	blocks := docYAMLBlocks(t, "Production: mTLS between Envoy and flowproc")
	if len(blocks) != 3 {
		t.Fatalf("want 3 yaml blocks (certificates, flowproc container, Envoy cluster), got %d", len(blocks))
	}
	certs := splitManifests(t, deployDocPath, []byte(blocks[0]))
	if len(certs) != 2 {
		t.Fatalf("want two Certificates, got %d", len(certs))
	}
	for _, c := range certs {
		if c.Kind != "Certificate" || c.APIVersion != "cert-manager.io/v1" {
			t.Errorf("%s %s: want cert-manager.io/v1 Certificate", c.APIVersion, c.Kind)
		}
	}

	var container struct {
		Args []string `json:"args"`
	}
	mustYAML(t, "flowproc container example", []byte(strings.ReplaceAll(blocks[1], "\n        ", "\n")), &container)
	args := container.Args
	for _, f := range []string{"-tls-cert", "-tls-key", "-tls-client-ca"} {
		if flagValue(args, f) == "" {
			t.Errorf("the flowproc example lacks %s: %q", f, args)
		}
	}
	parseServeArgs(t, stripTLSFlags(args))

	var socket map[string]any
	mustYAML(t, "transport socket example", []byte(blocks[2]), &socket)
	var boot map[string]any
	mustYAML(t, sidecarConfigPath, mustRead(t, sidecarConfigPath), &boot)
	found := false
	for _, c := range boot["static_resources"].(map[string]any)["clusters"].([]any) {
		if cl := c.(map[string]any); cl["name"] == "flowproc" {
			cl["transport_socket"] = socket["transport_socket"]
			found = true
		}
	}
	if !found {
		t.Fatalf("%s: no flowproc cluster", sidecarConfigPath)
	}
	data, err := yaml.Marshal(boot)
	if err != nil {
		t.Fatal(err)
	}
	if err := envoy.ValidateBootstrapYAML(data); err != nil {
		t.Errorf("the sidecar config with the documented transport socket:\n%v", err)
	}
}

// stripTLSFlags drops the -tls-* flags and their values (the test's serve
// flag parser knows only the addresses and the reload flags).
func stripTLSFlags(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if strings.HasPrefix(args[i], "-tls-") {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}
