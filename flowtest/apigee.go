package flowtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/store"
	"github.com/flowproc/flowproc/flowengine/tracetree"

	// The Apigee policy types a bundle under test may use.
	_ "github.com/flowproc/flowproc/flowengine/apigee/policies"
)

// BundleTestDir is where an Apigee bundle project keeps its YAML tests.
const BundleTestDir = "tests"

// testTimeout bounds one bundle test (the run and its PostClientFlow).
const testTimeout = 30 * time.Second

// isBundleProject reports whether dir holds an Apigee bundle project
// (the layout engine.Load reads) rather than a FLAT app.
func isBundleProject(dir string) bool {
	if st, err := os.Stat(filepath.Join(dir, "apiproxy")); err == nil && st.IsDir() {
		return true
	}
	sf, _ := filepath.Glob(filepath.Join(dir, "sharedflows", "*", "sharedflowbundle"))
	return len(sf) > 0
}

// runBundle runs the YAML tests of the Apigee bundle project o.Dir.
func runBundle(ctx context.Context, o Options, logger *slog.Logger) ([]*Result, error) {
	calls := &switchClient{}
	// Each run gets its own memory state (quotas, KVMs, caches, tokens),
	// as a fresh `flowproc test` process has: tests within a run share it,
	// runs do not.
	state, err := store.OpenConfig(ctx, store.Config{})
	if err != nil {
		return nil, fmt.Errorf("test state store: %w", err)
	}
	defer state.Close()
	// Encrypted KVMs are sealed with a key of this run ($FLOWPROC_KVM_KEY
	// when set): their values need not outlive it (docs/state.md).
	key, err := testKVMKey()
	if err != nil {
		return nil, err
	}
	if err := store.SetKVMKey(state, key); err != nil {
		return nil, fmt.Errorf("test state store: %w", err)
	}
	p, errs := engine.Load(o.Dir, engine.Options{Logger: logger, Upstream: calls, State: state, NoHealthProbes: true})
	if p == nil {
		fmt.Fprintf(o.Out, "1..1\nnot ok 1 %s: the bundle does not load\n", o.Dir)
		for _, e := range errs {
			fmt.Fprintf(o.Out, "# %v\n", e)
		}
		fmt.Fprintln(o.Out, "passed: 0, failed: 1")
		return nil, fmt.Errorf("bundle project %s does not load: %w", o.Dir, errs)
	}
	files, err := bundleTestFiles(o.Dir, o.Files)
	if err != nil {
		return nil, err
	}
	var results []*Result
	var loadErr error
	for _, file := range files {
		name := rel(absDir(o.Dir), file)
		data, err := os.ReadFile(file)
		if err == nil {
			var tf *BundleTestFile
			if tf, err = ParseBundleTests(data); err == nil {
				for _, t := range tf.Tests {
					results = append(results, runBundleTest(ctx, p, calls, name, t, o.Verbose))
				}
				continue
			}
		}
		res := &Result{}
		res.File = name
		res.Err = fmt.Errorf("the test file does not load: %w", err)
		loadErr = errors.Join(loadErr, fmt.Errorf("%s: %w", name, err))
		results = append(results, res)
	}
	writeTAP(o.Out, results)
	if o.JUnit != "" {
		if err := writeJUnitFile(o.JUnit, results); err != nil {
			return results, err
		}
	}
	return results, loadErr
}

func absDir(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}

// bundleTestFiles returns the given test files, or every *.yaml / *.yml
// file in <dir>/tests, sorted.
func bundleTestFiles(dir string, files []string) ([]string, error) {
	if len(files) > 0 {
		return resolveFiles(dir, files)
	}
	var out []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, BundleTestDir, pat))
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	sort.Strings(out)
	return out, nil
}

// runBundleTest runs one test on a fresh exchange and checks it.
func runBundleTest(ctx context.Context, p *engine.Project, calls *switchClient, file string, t *BundleTest, verbose bool) *Result {
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	res := &Result{Name: t.Name}
	res.File = file
	rq := &t.Request
	req := &flowengine.Request{Method: strings.ToUpper(rq.Method), Scheme: "http", Authority: "localhost", Path: rq.Path, ID: "test-" + t.Name}
	var body []byte
	hasCT := false
	names := make([]string, 0, len(rq.Headers))
	for n := range rq.Headers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ln := strings.ToLower(n)
		hasCT = hasCT || ln == "content-type"
		if ln == "host" {
			req.Authority = rq.Headers[n]
		}
		req.Headers = append(req.Headers, flowengine.Header{Name: ln, Value: rq.Headers[n]})
	}
	switch {
	case rq.JSON.Set:
		body = rq.JSON.bytes()
		if !hasCT {
			req.Headers = append(req.Headers, flowengine.Header{Name: "content-type", Value: "application/json"})
		}
	case rq.Body != nil:
		body = []byte(*rq.Body)
	}
	if len(body) > 0 {
		req.Headers = append(req.Headers, flowengine.Header{Name: "content-length", Value: fmt.Sprint(len(body))})
	}
	req.BodyKnownEmpty = len(body) == 0
	res.Requests = []string{req.Method + " " + req.Path}
	var col *tracetree.Collector
	if verbose {
		col = &tracetree.Collector{}
		req.Trace = col
	}
	host := &bundleHost{req: req, body: body, test: t}
	callouts := &calloutMock{mocks: t.Callouts}
	calls.set(callouts)
	defer calls.set(nil)

	start := time.Now()
	obs := &observed{}
	out, get := p.RunObserved(ctx, req, host, obs)
	if out.After != nil {
		// Synchronous: the PostClientFlow, and the delivery of messages
		// logged before the answer, are over when it returns.
		out.After(ctx) // PostClientFlow: its variables, side calls and messages count
	}
	res.Duration = time.Since(start)

	c := &checker{res: res, at: fmt.Sprintf("%s:%d", file, t.Line)}
	c.problems(host.problems)
	c.problems(callouts.problems)
	if out.Panicked {
		c.fail("the run panicked (see the log)")
	}
	c.check(&t.Expect, finalResponse(out, host), host.target, get, callouts.urls())
	c.checkObserved(&t.Expect, obs)
	if col != nil && !res.OK() {
		var b strings.Builder
		tracetree.Write(&b, col.Events(), tracetree.Options{})
		res.Trace = b.String()
	}
	return res
}

// clientResponse is the response the client gets.
type clientResponse struct {
	status  int
	headers []flowengine.Header // lower-case names, in order
	body    []byte
}

// header returns the header's value as the client sees it (repeated
// fields joined with ", ").
func headerValue(hs []flowengine.Header, name string) (string, bool) {
	var vals []string
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			vals = append(vals, h.Value)
		}
	}
	return strings.Join(vals, ", "), len(vals) > 0
}

// finalResponse applies the outcome to the target's response, as Envoy
// does.
func finalResponse(out *flowengine.Outcome, h *bundleHost) *clientResponse {
	cr := &clientResponse{status: out.Status, body: out.Body}
	up := h.resp
	if out.Kind == flowengine.Forwarded && up != nil {
		if cr.status == 0 {
			cr.status = up.Status
		}
		if !out.BodySet {
			cr.body = h.respBody
		}
		removed := map[string]bool{}
		for _, n := range out.RemoveHeaders {
			removed[strings.ToLower(n)] = true
		}
		for _, hd := range out.SetHeaders {
			removed[strings.ToLower(hd.Name)] = true
		}
		for _, hd := range up.Headers {
			if !removed[strings.ToLower(hd.Name)] {
				cr.headers = append(cr.headers, hd)
			}
		}
	}
	if cr.status == 0 {
		cr.status = 200
	}
	for _, hd := range append(append([]flowengine.Header(nil), out.SetHeaders...), out.AddHeaders...) {
		cr.headers = append(cr.headers, flowengine.Header{Name: strings.ToLower(hd.Name), Value: hd.Value})
	}
	return cr
}

// testKVMKey is the key in $FLOWPROC_KVM_KEY, or a random key when it is
// unset.
func testKVMKey() ([]byte, error) {
	s := os.Getenv(store.KVMKeyEnv)
	if s == "" {
		return store.RandomKVMKey(), nil
	}
	k, err := store.ParseKVMKey([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("$%s: %w", store.KVMKeyEnv, err)
	}
	return k, nil
}
