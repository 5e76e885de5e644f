package extproc

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
)

// copyFile replaces dst's contents with src's.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCertReload: the server certificate, key and client CA are swapped on
// disk; the watcher picks them up, a new connection sees the new
// certificate (and needs a client certificate of the new CA), and a
// connection opened before keeps working. Broken files keep the last good
// configuration.
func TestCertReload(t *testing.T) {
	old, next := newPKI(t), newPKI(t)
	r, err := NewCertReloader(old.certFile, old.keyFile, old.caFile)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{})
	g := grpc.NewServer(append(s.GRPCOptions(), grpc.Creds(credentials.NewTLS(r.Config())))...)
	s.Register(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.Serve(lis) }()
	defer g.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	dial := func(p *pki) *grpc.ClientConn {
		t.Helper()
		cfg := &tls.Config{RootCAs: p.caPool, ServerName: "localhost", MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{p.clientPair}}
		conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return conn
	}
	check := func(conn *grpc.ClientConn) error {
		cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
		defer ccancel()
		_, err := healthgrpc.NewHealthClient(conn).Check(cctx, &healthgrpc.HealthCheckRequest{})
		return err
	}

	before := dial(old)
	if err := check(before); err != nil {
		t.Fatalf("old certificate before the swap: %v", err)
	}
	if err := check(dial(next)); err == nil {
		t.Fatal("a client trusting only the new CA connected before the swap")
	}

	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	reloaded := make(chan error, 10)
	go r.Watch(watchCtx, 20*time.Millisecond, func(changed bool, err error) { reloaded <- err })

	// A half-written key: the watcher reports it, the old config stays.
	if err := os.WriteFile(old.keyFile, []byte("-----BEGIN EC PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := <-reloaded; err == nil {
		t.Fatal("a broken key file was accepted")
	}
	if err := check(dial(old)); err != nil {
		t.Fatalf("a broken reload must keep the last good certificate: %v", err)
	}

	copyFile(t, next.certFile, old.certFile)
	copyFile(t, next.keyFile, old.keyFile)
	copyFile(t, next.caFile, old.caFile)
	select {
	case err := <-reloaded:
		if err != nil {
			t.Fatalf("reload of the new files: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the watcher did not pick up the new files")
	}

	if err := check(dial(next)); err != nil {
		t.Fatalf("new connection after the swap: %v", err)
	}
	if err := check(dial(old)); err == nil {
		t.Fatal("a new connection trusting only the old CA still connected after the swap")
	}
	if err := check(before); err != nil {
		t.Fatalf("the connection opened before the swap broke: %v", err)
	}
	if changed, err := r.Reload(); changed || err != nil {
		t.Errorf("Reload of unchanged files = %v, %v; want false, nil", changed, err)
	}
}
