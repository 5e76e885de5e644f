package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/flowproc/flowproc/extproc"
	"github.com/flowproc/flowproc/internal/testpki"
)

// hcPKI writes a throw-away CA, a server certificate for 127.0.0.1 and
// flowproc.internal, and a client certificate, and returns their PEM paths.
func hcPKI(t *testing.T) (ca, cert, key, clientCert, clientKey string) {
	p := testpki.New(t, "flowproc.internal")
	return p.CA, p.Cert, p.Key, p.ClientCert, p.ClientKey
}

// hcServe serves flowproc's gRPC health over TLS (mTLS with clientCA).
func hcServe(t *testing.T, cert, key, clientCA string) string {
	t.Helper()
	certs, err := extproc.NewCertReloader(cert, key, clientCA)
	if err != nil {
		t.Fatal(err)
	}
	s := extproc.New(extproc.Options{})
	g := grpc.NewServer(append(s.GRPCOptions(), grpc.Creds(credentials.NewTLS(certs.Config())))...)
	s.Register(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	return lis.Addr().String()
}

func TestHealthcheckTLS(t *testing.T) {
	ca, cert, key, ccert, ckey := hcPKI(t)
	tlsAddr := hcServe(t, cert, key, "")
	mtlsAddr := hcServe(t, cert, key, ca)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"TLS with the CA", []string{"-addr", tlsAddr, "-tls-ca", ca}, 0, "SERVING", ""},
		{"TLS with a server name", []string{"-addr", tlsAddr, "-tls-ca", ca, "-tls-server-name", "flowproc.internal"}, 0, "SERVING", ""},
		{"TLS with the wrong server name", []string{"-addr", tlsAddr, "-tls-ca", ca, "-tls-server-name", "other.internal", "-timeout", "1s"}, 1, "", "other.internal"},
		{"TLS with system roots only", []string{"-addr", tlsAddr, "-tls", "-timeout", "1s"}, 1, "", "certificate"},
		{"plaintext against TLS", []string{"-addr", tlsAddr, "-timeout", "1s"}, 1, "", tlsAddr},
		{"mTLS with a client certificate", []string{"-addr", mtlsAddr, "-tls-ca", ca, "-tls-cert", ccert, "-tls-key", ckey}, 0, "SERVING", ""},
		{"mTLS without a client certificate", []string{"-addr", mtlsAddr, "-tls-ca", ca, "-timeout", "1s"}, 1, "", mtlsAddr},
		{"cert without key", []string{"-addr", mtlsAddr, "-tls-cert", ccert}, 2, "", "both -tls-cert and -tls-key"},
		{"missing CA file", []string{"-addr", tlsAddr, "-tls-ca", filepath.Join(t.TempDir(), "nope.pem")}, 2, "", "tls-ca"},
		{"CA file without PEM", []string{"-addr", tlsAddr, "-tls-ca", ckey}, 2, "", "no PEM certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := dispatch(context.Background(), append([]string{"healthcheck"}, tc.args...), &stdout, &stderr)
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d (stdout %q, stderr %q)", code, tc.wantCode, stdout.String(), stderr.String())
			}
			if got := strings.TrimSpace(stdout.String()); got != tc.wantStdout {
				t.Errorf("stdout %q, want %q", got, tc.wantStdout)
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.wantStderr)
			}
		})
	}
}
