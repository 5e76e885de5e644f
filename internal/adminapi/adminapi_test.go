package adminapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/flowengine"
	_ "github.com/flowproc/flowproc/flowengine/frontends"
	"github.com/flowproc/flowproc/flowengine/projects"
	"github.com/flowproc/flowproc/internal/testpki"
	"github.com/flowproc/flowproc/internal/tracehub"
	flowprocv1 "github.com/flowproc/flowproc/proto/flowproc/v1"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCheck(t *testing.T) {
	p := testpki.New(t)
	token := filepath.Join(t.TempDir(), "token")
	writeFile(t, token, "s3cret\n")
	empty := filepath.Join(t.TempDir(), "empty")
	writeFile(t, empty, " \n")
	tests := []struct {
		name     string
		c        Config
		addr     string // want this bound address
		security string
		wantErr  string
	}{
		{name: "off", c: Config{Addr: "off"}},
		{name: "empty", c: Config{}},
		{name: "port only binds loopback", c: Config{Addr: ":9091"}, addr: "127.0.0.1:9091", security: "loopback, plaintext"},
		{name: "ipv6 loopback", c: Config{Addr: "[::1]:9091"}, addr: "[::1]:9091", security: "loopback, plaintext"},
		{name: "localhost", c: Config{Addr: "localhost:9091"}, addr: "localhost:9091", security: "loopback, plaintext"},
		{name: "exposed plaintext refused", c: Config{Addr: "0.0.0.0:9091"}, wantErr: "not loopback"},
		{name: "exposed token without TLS refused", c: Config{Addr: "0.0.0.0:9091", TokenFile: token}, wantErr: "not loopback"},
		{name: "exposed TLS without client CA or token refused", c: Config{Addr: "0.0.0.0:9091", Cert: p.Cert, Key: p.Key}, wantErr: "not loopback"},
		{name: "exposed mTLS", c: Config{Addr: "0.0.0.0:9091", Cert: p.Cert, Key: p.Key, ClientCA: p.CA}, addr: "0.0.0.0:9091", security: "mTLS"},
		{name: "exposed TLS + token", c: Config{Addr: "10.0.0.1:9091", Cert: p.Cert, Key: p.Key, TokenFile: token}, security: "TLS, bearer token", addr: "10.0.0.1:9091"},
		{name: "ext_proc port refused", c: Config{Addr: ":50051", ExtProcAddr: ":50051"}, wantErr: "never shares"},
		{name: "ext_proc port on any host refused", c: Config{Addr: "127.0.0.1:50051", ExtProcAddr: "0.0.0.0:50051"}, wantErr: "never shares"},
		{name: "other port fine", c: Config{Addr: ":9091", ExtProcAddr: ":50051"}, addr: "127.0.0.1:9091", security: "loopback, plaintext"},
		{name: "no port", c: Config{Addr: "127.0.0.1"}, wantErr: "want host:port"},
		{name: "client CA without cert", c: Config{Addr: ":1", ClientCA: p.CA}, wantErr: "needs a server certificate"},
		{name: "bad cert", c: Config{Addr: ":1", Cert: p.CA, Key: p.Key}, wantErr: "api tls"},
		{name: "missing token file", c: Config{Addr: ":1", TokenFile: filepath.Join(t.TempDir(), "nope")}, wantErr: "api token"},
		{name: "empty token file", c: Config{Addr: ":1", TokenFile: empty}, wantErr: "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := tt.c.Check()
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case tt.addr == "":
				if l != nil {
					t.Fatalf("listener %+v for a disabled API", l)
				}
			case l.Addr != tt.addr || l.Security != tt.security:
				t.Errorf("got %s (%s), want %s (%s)", l.Addr, l.Security, tt.addr, tt.security)
			}
		})
	}
}

// project writes a FLAT project answering GET /NAME/hi.
func project(t *testing.T, root, name, flow string) string {
	dir := filepath.Join(root, name)
	writeFile(t, filepath.Join(dir, "swagger.yaml"), "swagger: \"2.0\"\ninfo:\n  title: "+name+"\n  version: \"2.3\"\nbasePath: /"+name+"\npaths:\n  /hi:\n    x-flat-flow: hi.xml\n")
	writeFile(t, filepath.Join(dir, "hi.xml"), flow)
	return dir
}

func registry(t *testing.T) (*projects.Registry, string) {
	root := t.TempDir()
	dirs := []string{project(t, root, "good", "<flow><echo>hi</echo></flow>"), project(t, root, "broken", "<flow><nosuchaction/></flow>")}
	reg, err := projects.NewRegistry(dirs, projects.RegistryOptions{Load: projects.LoadOptions{Env: []string{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}})
	if err != nil {
		t.Fatal(err)
	}
	return reg, root
}

// serveAPI serves svc on loopback and returns a client.
func serveAPI(t *testing.T, c Config, svc *Service, dial ...grpc.DialOption) flowprocv1.FlowprocAdminClient {
	t.Helper()
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	l, err := c.Check()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := l.Serve(svc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	if len(dial) == 0 {
		dial = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	conn, err := grpc.NewClient(srv.Addr, dial...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return flowprocv1.NewFlowprocAdminClient(conn)
}

func TestStatusAndReload(t *testing.T) {
	reg, root := registry(t)
	hub, _ := tracehub.New(tracehub.Options{})
	var triggers []string
	c := serveAPI(t, Config{}, NewService(hub, reg).OnReload(func(trigger string, _ projects.ReloadReport, _ error) {
		triggers = append(triggers, trigger)
	}))
	ctx := t.Context()
	st, err := c.Status(ctx, &flowprocv1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Projects) != 2 || st.LastReload != nil {
		t.Fatalf("status: %v", st)
	}
	good, broken := st.Projects[0], st.Projects[1]
	if good.Name != "good" || good.Kind != "flat" || good.Version != "2.3" || good.State != "loaded" || len(good.BasePaths) != 1 || good.BasePaths[0] != "/good" {
		t.Errorf("good: %v", good)
	}
	if broken.State != "failing" || len(broken.Errors) != 1 {
		t.Fatalf("broken: %v", broken)
	}
	if e := broken.Errors[0]; !strings.HasSuffix(e.File, "hi.xml") || e.Line != 1 || e.Col != 7 || e.Code != "FP202" || e.Message == "" {
		t.Errorf("diagnostic: %v", e)
	}

	// Break the good project, fix the broken one, reload one project.
	project(t, root, "good", "<flow><nope/></flow>")
	project(t, root, "broken", "<flow><echo>fixed</echo></flow>")
	res, err := c.Reload(ctx, &flowprocv1.ReloadRequest{Project: "good"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ok || res.Trigger != "api" || len(res.Projects) != 1 || res.Projects[0].Outcome != "kept_last_good" || len(res.Projects[0].Errors) != 1 {
		t.Errorf("reload good: %v", res)
	}
	// Only "good" was reloaded: "broken", fixed on disk, still fails.
	st, err = c.Status(ctx, &flowprocv1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Projects[0].State != "kept_last_good" || st.Projects[1].State != "failing" ||
		len(st.LastReload.GetProjects()) != 1 || st.LastReload.Projects[0].Name != "good" {
		t.Errorf("status after reloading good only: %v", st)
	}
	res, err = c.Reload(ctx, &flowprocv1.ReloadRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Projects) != 2 || res.Projects[1].Outcome != "reloaded" || res.Time == nil {
		t.Errorf("reload all: %v", res)
	}
	st, err = c.Status(ctx, &flowprocv1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Projects[0].State != "kept_last_good" || st.Projects[1].State != "loaded" || st.LastReload == nil || st.LastReload.Ok {
		t.Errorf("status after reload: %v", st)
	}
	if _, err := c.Reload(ctx, &flowprocv1.ReloadRequest{Project: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("reload unknown project: %v", err)
	}
	if got := strings.Join(triggers, ","); got != "api project good,api" {
		t.Errorf("reload hook triggers %q, want one per reload (none for the unknown project)", got)
	}

	// Without a registry, Status and Reload say so.
	c2 := serveAPI(t, Config{}, NewService(hub, nil))
	if _, err := c2.Status(ctx, &flowprocv1.StatusRequest{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("status without registry: %v", err)
	}
	if _, err := c2.Reload(ctx, &flowprocv1.ReloadRequest{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("reload without registry: %v", err)
	}
}

type answer struct{}

func (answer) Run(_ context.Context, req *flowengine.Request, _ flowengine.Host) *flowengine.Outcome {
	return &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: 204}}
}

// TestTraceStream: a session streams the traces, refuses bad filters, and
// reports its drops in the trailer.
func TestTraceStream(t *testing.T) {
	hub, _ := tracehub.New(tracehub.Options{Buffer: 1})
	c := serveAPI(t, Config{}, NewService(hub, nil))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stream, err := c.Trace(ctx, &flowprocv1.TraceRequest{PathPrefix: "/x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Header(); err != nil {
		t.Fatal(err)
	}
	run := func(path string) {
		req := &flowengine.Request{Method: "GET", Path: path}
		r := hub.Trace("p", req, answer{})
		r.Run(context.Background(), req, nil)
		if path == "/y" {
			return // not selected: the runner itself
		}
		et, ok := r.(extproc.ExchangeTracer) // the ext_proc server ends each traced exchange so
		if !ok {
			t.Fatalf("the hub's traced runner %T is no extproc.ExchangeTracer", r)
		}
		et.ExchangeDone(0)
	}
	run("/y") // not selected
	run("/x/1")
	got, err := stream.Recv()
	if err != nil || got.Path != "/x/1" || got.Status != 204 {
		t.Fatalf("recv %v %v", got, err)
	}
	// Stop reading: after the buffer (1) and the gRPC stream's own send
	// window fill up, traces are dropped.
	deadline := time.Now().Add(20 * time.Second)
	for n := 0; time.Now().Before(deadline); n++ {
		run("/x/" + strings.Repeat("y", 1000))
		if hub.Dropped() > 0 && n > 10 {
			break
		}
	}
	if hub.Dropped() == 0 {
		t.Fatal("no drops while the client did not read")
	}
	// Reading again, a later trace reports the drops.
	var reported atomic.Bool
	go func() {
		for !reported.Load() && ctx.Err() == nil {
			run("/x/again")
			time.Sleep(time.Millisecond)
		}
	}()
	for !reported.Load() {
		tr, err := stream.Recv()
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		reported.Store(tr.Dropped > 0)
	}
	cancel()

	bad, err := c.Trace(t.Context(), &flowprocv1.TraceRequest{Status: "5x"})
	if err == nil {
		_, err = bad.Recv()
	}
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad filter: %v", err)
	}
}

func TestTokenAndMTLS(t *testing.T) {
	p := testpki.New(t)
	token := filepath.Join(t.TempDir(), "token")
	writeFile(t, token, "s3cret")
	hub, _ := tracehub.New(tracehub.Options{})
	svc := NewService(hub, nil)
	ctx := t.Context()

	c := serveAPI(t, Config{TokenFile: token}, svc)
	if _, err := c.Status(ctx, &flowprocv1.StatusRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("no token: %v", err)
	}
	wrong := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer nope")
	if _, err := c.Status(wrong, &flowprocv1.StatusRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("wrong token: %v", err)
	}
	right := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer s3cret")
	if _, err := c.Status(right, &flowprocv1.StatusRequest{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("right token: %v (want the service's Unimplemented)", err)
	}
	s, err := c.Trace(ctx, &flowprocv1.TraceRequest{})
	if err == nil {
		_, err = s.Recv()
	}
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("trace without token: %v", err)
	}

	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(p.CA)
	pool.AppendCertsFromPEM(pem)
	pair, err := tls.LoadX509KeyPair(p.ClientCert, p.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	mtls := Config{Cert: p.Cert, Key: p.Key, ClientCA: p.CA}
	withCert := serveAPI(t, mtls, svc, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}})))
	if _, err := withCert.Status(ctx, &flowprocv1.StatusRequest{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("mTLS with client certificate: %v", err)
	}
	noCert := serveAPI(t, mtls, svc, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})))
	if _, err := noCert.Status(ctx, &flowprocv1.StatusRequest{}); status.Code(err) != codes.Unavailable {
		t.Errorf("mTLS without client certificate: %v", err)
	}
}
