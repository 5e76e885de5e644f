package e2e

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/internal/devstack"
)

// clientRecorder is a project that answers 204 and records Request.ClientInfo.
type clientRecorder struct {
	mu  sync.Mutex
	got []flowengine.Client
}

func (c *clientRecorder) Resolve(string, string) (flowengine.Runner, string, bool) {
	return c, "rec", true
}

func (c *clientRecorder) Run(_ context.Context, req *flowengine.Request, _ flowengine.Host) *flowengine.Outcome {
	c.mu.Lock()
	c.got = append(c.got, *req.ClientInfo())
	c.mu.Unlock()
	return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 204}}
}

// TestClientAddressReachesTheRun: the shipped envoy.yaml asks for the
// connection attributes, the Envoy-faithful client sends them from the real
// TCP connection, and the run reads them through Request.ClientInfo.
func TestClientAddressReachesTheRun(t *testing.T) {
	rec := &clientRecorder{}
	stack, err := devstack.Start(context.Background(), devstack.Config{Projects: rec, HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	resp, err := http.Get("http://" + stack.HTTPAddr + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.got) != 1 {
		t.Fatalf("%d runs", len(rec.got))
	}
	c := rec.got[0]
	if c.Address != "127.0.0.1" || c.Port == 0 || c.TLS || c.MTLS {
		t.Errorf("client = %+v, want 127.0.0.1 with its port, plaintext", c)
	}
}

// TestShippedConfigsAskForAttributes: every Envoy configuration in the
// repository requests the attributes the server reads, request and
// response ones.
func TestShippedConfigsAskForAttributes(t *testing.T) {
	for _, f := range []string{"../envoy/envoy.yaml", "../envoy/sidecar.yaml", "../deploy/envoy-compose.yaml",
		"../deploy/kubernetes/envoy-configmap.yaml", "../deploy/istio/envoyfilter.yaml"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []struct {
			field string
			names []string
		}{{"request_attributes", extproc.AttributeNames}, {"response_attributes", extproc.ResponseAttributeNames}} {
			list, ok := yamlList(string(data), want.field)
			if !ok {
				t.Errorf("%s: no %s", f, want.field)
				continue
			}
			for _, a := range want.names {
				if !slices.Contains(list, a) {
					t.Errorf("%s: %s lacks %s (has %v)", f, want.field, a, list)
				}
			}
		}
	}
}

// yamlList returns the items of the block sequence under the first
// "field:" key of a YAML text ("- item" lines right below it).
func yamlList(text, field string) ([]string, bool) {
	_, after, ok := strings.Cut(text, field+":\n")
	if !ok {
		return nil, false
	}
	var items []string
	for _, line := range strings.Split(after, "\n") {
		item, ok := strings.CutPrefix(strings.TrimSpace(line), "- ")
		if !ok {
			break
		}
		items = append(items, item)
	}
	return items, true
}
