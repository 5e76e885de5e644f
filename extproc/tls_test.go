package extproc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
)

// pki is a throw-away CA with a server and a client certificate, as PEM files.
type pki struct {
	dir                           string
	caFile, certFile, keyFile     string
	clientCertFile, clientKeyFile string
	caPool                        *x509.CertPool
	clientPair                    tls.Certificate
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	writePEM := func(name, typ string, der []byte) string {
		path := filepath.Join(p.dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "flowproc test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p.caFile = writePEM("ca.pem", "CERTIFICATE", der)
	p.caPool = x509.NewCertPool()
	p.caPool.AddCert(caCert)

	issue := func(name string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		k := newKey()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return writePEM(name+".pem", "CERTIFICATE", der), writePEM(name+"-key.pem", "EC PRIVATE KEY", kder)
	}
	p.certFile, p.keyFile = issue("server", 2, x509.ExtKeyUsageServerAuth)
	p.clientCertFile, p.clientKeyFile = issue("client", 3, x509.ExtKeyUsageClientAuth)
	if p.clientPair, err = tls.LoadX509KeyPair(p.clientCertFile, p.clientKeyFile); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTLSConfigErrors(t *testing.T) {
	p := newPKI(t)
	notPEM := filepath.Join(p.dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, cert, key, ca string
		wantErr             string
	}{
		{name: "no key", cert: p.certFile, wantErr: "both a certificate and a key"},
		{name: "missing cert file", cert: filepath.Join(p.dir, "nope.pem"), key: p.keyFile, wantErr: "load key pair"},
		{name: "key does not match", cert: p.certFile, key: p.clientKeyFile, wantErr: "load key pair"},
		{name: "missing CA file", cert: p.certFile, key: p.keyFile, ca: filepath.Join(p.dir, "nope.pem"), wantErr: "read client CA"},
		{name: "CA file without PEM", cert: p.certFile, key: p.keyFile, ca: notPEM, wantErr: "no PEM certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := TLSConfig(tc.cert, tc.key, tc.ca)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("TLSConfig error = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

// TestTLSListener serves gRPC health over TLS and mTLS on loopback.
func TestTLSListener(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name       string
		clientCA   string
		clientCert bool
		wantOK     bool
	}{
		{name: "TLS without client auth", wantOK: true},
		{name: "mTLS with a client certificate", clientCA: p.caFile, clientCert: true, wantOK: true},
		{name: "mTLS without a client certificate is refused", clientCA: p.caFile, wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := TLSConfig(p.certFile, p.keyFile, tc.clientCA)
			if err != nil {
				t.Fatal(err)
			}
			s := New(Options{})
			g := grpc.NewServer(append(s.GRPCOptions(), grpc.Creds(credentials.NewTLS(cfg)))...)
			s.Register(g)
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = g.Serve(lis) }()
			defer g.Stop()

			ccfg := &tls.Config{RootCAs: p.caPool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
			if tc.clientCert {
				ccfg.Certificates = []tls.Certificate{p.clientPair}
			}
			conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(ccfg)))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			r, err := healthgrpc.NewHealthClient(conn).Check(ctx, &healthgrpc.HealthCheckRequest{Service: ServiceName})
			if tc.wantOK {
				if err != nil || r.GetStatus() != healthgrpc.HealthCheckResponse_SERVING {
					t.Fatalf("health over TLS = %v, %v; want SERVING", r, err)
				}
				return
			}
			if err == nil {
				t.Fatal("health check without a client certificate succeeded, want a handshake failure")
			}
		})
	}
}
