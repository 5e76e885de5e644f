package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc/credentials"
)

// healthTLS are healthcheck's TLS flags.
type healthTLS struct {
	on                        bool
	ca, cert, key, serverName string
}

// credentials returns the transport credentials the flags ask for, or nil
// for plaintext. Any of -tls-ca, -tls-cert, -tls-server-name implies TLS.
func (h healthTLS) credentials() (credentials.TransportCredentials, error) {
	if !h.on && h.ca == "" && h.cert == "" && h.key == "" && h.serverName == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: h.serverName}
	if h.ca != "" {
		pem, err := os.ReadFile(h.ca)
		if err != nil {
			return nil, fmt.Errorf("tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls-ca: no PEM certificate in %s", h.ca)
		}
		cfg.RootCAs = pool
	}
	switch {
	case h.cert != "" && h.key != "":
		pair, err := tls.LoadX509KeyPair(h.cert, h.key)
		if err != nil {
			return nil, fmt.Errorf("tls-cert/tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	case h.cert != "" || h.key != "":
		return nil, errors.New("mTLS needs both -tls-cert and -tls-key")
	}
	return credentials.NewTLS(cfg), nil
}
