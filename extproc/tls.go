package extproc

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSConfig returns the TLS configuration for the gRPC listener: the server
// certificate and key (PEM files), and when clientCA is non-empty, mutual
// TLS requiring client certificates signed by a CA in that PEM bundle.
// TLS 1.2 is the minimum and h2 is the only ALPN protocol (gRPC).
func TLSConfig(cert, key, clientCA string) (*tls.Config, error) {
	if cert == "" || key == "" {
		return nil, errors.New("tls: both a certificate and a key file are needed")
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("tls: load key pair: %w", err)
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{pair},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2"},
	}
	if clientCA != "" {
		pem, err := os.ReadFile(clientCA)
		if err != nil {
			return nil, fmt.Errorf("tls: read client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: no PEM certificate in client CA file %s", clientCA)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}
