package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(live)
	cancel()
	expired, cancel2 := context.WithDeadline(live, time.Unix(1, 0))
	defer cancel2()
	withCause := func(cause error) context.Context {
		ctx, c := context.WithCancelCause(live)
		c(cause)
		return ctx
	}
	wrap := func(err error) error { return &url.Error{Op: "Get", URL: "http://x", Err: err} }
	tests := []struct {
		name        string
		err         error
		parent, own context.Context
		want        Kind
	}{
		{"too many redirects", wrap(errTooManyRedirects), live, live, KindTooManyRedirects},
		{"caller cancelled", wrap(context.Canceled), cancelled, cancelled, KindCanceled},
		{"caller deadline", wrap(context.DeadlineExceeded), expired, expired, KindTimeout},
		{"own total timeout", wrap(context.DeadlineExceeded), live, withCause(errTotalTimeout), KindTimeout},
		{"own connect timeout", wrap(context.Canceled), live, withCause(errConnectTimeout), KindTimeout},
		{"own ttfb timeout", wrap(context.Canceled), live, withCause(errTTFBTimeout), KindTimeout},
		{"certificate", wrap(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), live, live, KindTLS},
		{"hostname", wrap(x509.HostnameError{Host: "h", Certificate: &x509.Certificate{}}), live, live, KindTLS},
		{"alert", wrap(tls.AlertError(40)), live, live, KindTLS},
		{"record header", wrap(tls.RecordHeaderError{Msg: "m"}), live, live, KindTLS},
		{"http to https", wrap(errors.New("http: server gave HTTP response to HTTPS client")), live, live, KindTLS},
		{"dns", wrap(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "x"}}), live, live, KindConnect},
		{"refused", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errors.New("refused"))}), live, live, KindConnect},
		{"proxy connect", wrap(&net.OpError{Op: "proxyconnect", Err: io.EOF}), live, live, KindConnect},
		{"proxy refused CONNECT", wrap(&proxyConnectError{status: "403 Forbidden"}), live, live, KindConnect},
		{"net timeout", wrap(&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}), live, live, KindTimeout},
		{"eof", wrap(io.ErrUnexpectedEOF), live, live, KindHTTP},
		{"malformed", wrap(fmt.Errorf("net/http: malformed HTTP response %q", "x")), live, live, KindHTTP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, msg := classify(tt.err, tt.parent, tt.own)
			if kind != tt.want || msg == "" {
				t.Errorf("classify = %s %q, want %s", kind, msg, tt.want)
			}
		})
	}
}
