package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
)

// errTooManyRedirects is returned by CheckRedirect past the limit.
var errTooManyRedirects = errors.New("too many redirects")

// classify names the failure of one call. parent is the caller's context,
// own the call's derived one (whose cause tells which own timeout fired).
func classify(err error, parent, own context.Context) (Kind, string) {
	switch {
	case errors.Is(err, errTooManyRedirects):
		return KindTooManyRedirects, "stopped after too many redirects"
	case errors.Is(parent.Err(), context.Canceled):
		return KindCanceled, "the caller cancelled the call"
	case errors.Is(parent.Err(), context.DeadlineExceeded):
		return KindTimeout, "the run's deadline expired"
	}
	if cause := context.Cause(own); cause != nil {
		switch {
		case errors.Is(cause, errTotalTimeout):
			return KindTimeout, "timeout"
		case errors.Is(cause, errConnectTimeout):
			return KindTimeout, "connect timeout"
		case errors.Is(cause, errTTFBTimeout):
			return KindTimeout, "time-to-first-byte timeout"
		}
	}
	var (
		verr  *tls.CertificateVerificationError
		uaerr x509.UnknownAuthorityError
		herr  x509.HostnameError
		cierr x509.CertificateInvalidError
		rherr tls.RecordHeaderError
		alert tls.AlertError
		dns   *net.DNSError
		op    *net.OpError
		nerr  net.Error
		perr  *proxyConnectError
	)
	switch {
	case errors.As(err, &verr), errors.As(err, &uaerr), errors.As(err, &herr),
		errors.As(err, &cierr), errors.As(err, &rherr), errors.As(err, &alert):
		return KindTLS, err.Error()
	case errors.As(err, &perr):
		return KindConnect, err.Error()
	case errors.As(err, &dns):
		return KindConnect, err.Error()
	case errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect"):
		return KindConnect, err.Error()
	case errors.As(err, &nerr) && nerr.Timeout():
		return KindTimeout, err.Error()
	case strings.Contains(err.Error(), "tls: "),
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return KindTLS, err.Error()
	}
	return KindHTTP, err.Error()
}
