// Package apigee runs YAML bundle tests (docs/apigee-testing.md) against
// the public Apigee corpus (../shared/corpus/apigee beside the repository, or
// $FLOWPROC_APIGEE_CORPUS): each corpus bundle, with the tests and
// deployment settings kept in testdata/<entry>/, runs through `flowproc
// test`'s runner. An entry whose bundle uses a policy type flowproc does
// not register yet is skipped, naming the missing types, so the suite
// starts checking as policy types land.
package apigee

import (
	"github.com/flowproc/flowproc/internal/corpus"

	"slices"

	"bytes"
	"context"
	"github.com/flowproc/flowproc/flowengine/xslt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowtest"
)

// corpusEntry is one corpus bundle under test.
type corpusEntry struct {
	// name is the directory under testdata/.
	name string
	// tree is the project directory in the corpus (apiproxy/ and
	// sharedflows/ in it).
	tree string
	// types are the policy types the bundle and its shared flows use
	// (checked against the bundle, so the list stays true).
	types []string
	// blocked, when set, is an engine feature the bundle needs that
	// flowproc does not run yet: the entry is skipped with it.
	blocked string
}

// entries are the corpus bundles with tests. An entry whose policy types
// are not all registered skips naming them (so the suite states what is
// missing); blocked names what else an entry waits for.
var entries = []corpusEntry{
	{name: "gcs-monolith-to-microservices-based-on-paths", tree: "gcs-monolith-to-microservices-based-on-paths",
		types: []string{"AssignMessage", "CORS", "Javascript", "KeyValueMapOperations", "RaiseFault"}},
	{name: "dino-jwt-verify", tree: "dino-jwt-verify",
		types: []string{"AssignMessage", "ExtractVariables", "Javascript", "KeyValueMapOperations", "RaiseFault", "VerifyJWT"}},
	{name: "aps-condition-pattern-matching", tree: "aps-condition-pattern-matching",
		types: []string{"AssignMessage", "Javascript"}},
	{name: "aps-jira-release-notes", tree: "aps-jira-release-notes",
		types: []string{"JSONToXML", "XSL"}},
	{name: "aps-pagination-restaurant_locator", tree: "aps-pagination/chained-proxies/restaurant_locator",
		types: []string{"AssignMessage"}},
	{name: "aps-regex-protection", tree: "aps-regex-protection",
		types: []string{"RaiseFault", "RegularExpressionProtection"}},
	{name: "gcs-traffic-mirroring-sharedflow", tree: "gcs-traffic-mirroring-sharedflow",
		types: []string{"AssignMessage", "FlowCallout", "ServiceCallout"}},
	{name: "devrel-threat-protect", tree: "devrel-threat-protect",
		types:   []string{"AssignMessage", "JSONThreatProtection", "RaiseFault", "XMLThreatProtection", "XMLToJSON", "XSL"},
		blocked: "an XSLT 2.0 processor: its XSL-GenerateThreats stylesheet uses xsl:namespace, and libxslt runs XSLT 1.0 (the bundle does not load, by design; the threat policies are tested on it in flowengine/apigee/policies TestCorpusThreatProtect)"},
	{name: "devrel-proxy-template", tree: "devrel-proxy-template",
		types: []string{"AssignMessage", "FlowCallout", "Javascript", "OAuthV2", "RaiseFault", "ServiceCallout", "SpikeArrest"}},
	{name: "gcs-oauth-client-credentials", tree: "gcs-oauth-client-credentials",
		types: []string{"AssignMessage", "OAuthV2"}},
	{name: "gcs-apiproduct-operations", tree: "gcs-apiproduct-operations",
		types: []string{"AssignMessage", "OAuthV2", "RaiseFault", "VerifyAPIKey"}},
	{name: "gcs-authorize-idp-access-tokens", tree: "gcs-authorize-idp-access-tokens",
		types: []string{"FlowCallout", "VerifyAPIKey", "VerifyJWT"}},
	{name: "devrel-proxy-endpoint-unifier-test-proxy", tree: "devrel-proxy-endpoint-unifier-test-proxy",
		types: []string{"ExtractVariables", "MessageLogging", "PopulateCache", "Quota", "StatisticsCollector"}},
}

// corpusRoot returns the corpus directory, or "" when it is absent.
func corpusRoot() string {
	root, ok := corpus.ApigeeDir()
	if !ok {
		return ""
	}
	return root
}

func TestCorpusBundles(t *testing.T) {
	root := corpusRoot()
	if root == "" {
		t.Skip("the Apigee corpus is not on this machine (../shared/corpus/apigee beside the repository; or set FLOWPROC_APIGEE_CORPUS)")
	}
	for _, e := range entries {
		t.Run(e.name, func(t *testing.T) {
			src := filepath.Join(root, e.tree)
			if _, err := os.Stat(src); err != nil {
				t.Fatalf("corpus entry %s: %v", e.tree, err)
			}
			if got := bundleTypes(t, src); !equal(got, e.types) {
				t.Fatalf("%s uses policy types %v; the entries table says %v", e.tree, got, e.types)
			}
			if missing := unregistered(e.types); len(missing) > 0 {
				t.Skipf("%s needs policy types not registered yet: %s", e.tree, strings.Join(missing, ", "))
			}
			if e.blocked != "" {
				t.Skipf("%s needs %s", e.tree, e.blocked)
			}
			if slices.Contains(e.types, "XSL") && !xslt.Available() {
				t.Skipf("%s uses the XSL policy: this test binary has no XSLT processor (go test -tags xslt runs it; .ci/run does)", e.tree)
			}
			dir := project(t, src, filepath.Join("testdata", e.name))
			var out bytes.Buffer
			results, err := flowtest.Run(context.Background(), flowtest.Options{Dir: dir, Out: &out, Verbose: true})
			if err != nil {
				t.Fatalf("flowtest.Run: %v\n%s", err, out.String())
			}
			if len(results) == 0 {
				t.Fatalf("no tests ran\n%s", out.String())
			}
			if flowtest.Failed(results) {
				t.Errorf("bundle tests failed:\n%s", out.String())
			}
		})
	}
}

// TestCorpusTestFiles checks every testdata entry without the corpus:
// it is in the entries table, and its YAML tests and settings parse.
func TestCorpusTestFiles(t *testing.T) {
	known := map[string]bool{}
	for _, e := range entries {
		known[e.name] = true
	}
	dirs, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == policiesDir || d.Name() == policiesXSLTDir {
			// testdata/policies and policies-xslt are the project's own
			// bundles (TestPolicyExamples, TestPolicyExamplesXSLT), not
			// corpus entries.
			continue
		}
		seen++
		if !known[d.Name()] {
			t.Errorf("testdata/%s is not in the entries table", d.Name())
		}
		files, _ := filepath.Glob(filepath.Join("testdata", d.Name(), "tests", "*.yaml"))
		if len(files) == 0 {
			t.Errorf("testdata/%s has no tests/*.yaml", d.Name())
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := flowtest.ParseBundleTests(b); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
		if _, err := substitutions(filepath.Join("testdata", d.Name())); err != nil {
			t.Errorf("testdata/%s: %v", d.Name(), err)
		}
		if _, err := engine.LoadDeployment(filepath.Join("testdata", d.Name(), engine.DeploymentFile)); err != nil {
			t.Errorf("testdata/%s: %v", d.Name(), err)
		}
	}
	if seen != len(entries) {
		t.Errorf("%d testdata entries, %d in the table", seen, len(entries))
	}
}

// bundleTypes returns the sorted policy types of the proxy bundle and
// shared flows in dir.
func bundleTypes(t *testing.T, dir string) []string {
	t.Helper()
	set := map[string]bool{}
	add := func(b *bundle.Bundle) {
		if b == nil {
			return
		}
		for _, p := range b.Policies {
			set[p.Type] = true
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "apiproxy")); err == nil && st.IsDir() {
		b, _ := bundle.Load(os.DirFS(filepath.Join(dir, "apiproxy")))
		add(b)
	}
	shared, _ := filepath.Glob(filepath.Join(dir, "sharedflows", "*", "sharedflowbundle"))
	for _, sd := range shared {
		b, _ := bundle.LoadShared(os.DirFS(sd))
		add(b)
	}
	out := make([]string, 0, len(set))
	for typ := range set {
		out = append(out, typ)
	}
	sort.Strings(out)
	return out
}

func unregistered(types []string) []string {
	var out []string
	for _, typ := range types {
		if _, ok := engine.KindOf(typ); !ok {
			out = append(out, typ)
		}
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// substitutions reads testdata/<entry>/substitutions.yaml: literal text
// → replacement, applied to the bundle's XML files (Maven-replacer
// placeholders such as @Basepath@). nil when there is none.
func substitutions(dir string) (map[string]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "substitutions.yaml"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m map[string]string
	if err := yaml.UnmarshalStrict(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// project builds the project the runner loads: the corpus bundle's
// apiproxy/ and sharedflows/ (linked, or copied with the entry's
// substitutions applied) with the entry's tests/ and deployment.yaml.
func project(t *testing.T, src, data string) string {
	t.Helper()
	dir := t.TempDir()
	subs, err := substitutions(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"apiproxy", "sharedflows"} {
		from := filepath.Join(src, name)
		if _, err := os.Stat(from); err != nil {
			continue
		}
		to := filepath.Join(dir, name)
		if subs == nil {
			if err := os.Symlink(from, to); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := copyTree(from, to, subs); err != nil {
			t.Fatal(err)
		}
	}
	tests, err := filepath.Abs(filepath.Join(data, "tests"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(tests, filepath.Join(dir, "tests")); err != nil {
		t.Fatal(err)
	}
	// Other files beside the tests (a products: directory with apps,
	// API products and KVM seeds) are linked into the project as they are.
	extra, _ := os.ReadDir(data)
	for _, e := range extra {
		switch e.Name() {
		case "tests", engine.DeploymentFile, "substitutions.yaml":
			continue
		}
		abs, err := filepath.Abs(filepath.Join(data, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(data, engine.DeploymentFile)); err == nil {
		if err := os.WriteFile(filepath.Join(dir, engine.DeploymentFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// copyTree copies the directory from to to, replacing each key of subs
// by its value in .xml files.
func copyTree(from, to string, subs map[string]string) error {
	keys := make([]string, 0, len(subs))
	for k := range subs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		target := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".xml") {
			s := string(b)
			for _, k := range keys {
				s = strings.ReplaceAll(s, k, subs[k])
			}
			b = []byte(s)
		}
		return os.WriteFile(target, b, 0o644)
	})
}
