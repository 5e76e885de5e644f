package adminapi

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/flowproc/flowproc/extproc"
)

// Config is the API listener's configuration.
type Config struct {
	// Addr is the listen address; "" or "off" disables the API. A port
	// alone (":9091") binds loopback (127.0.0.1).
	Addr string
	// TLS files: certificate and key serve TLS; ClientCA requires client
	// certificates (mTLS).
	Cert, Key, ClientCA string
	// TokenFile holds a bearer token every call must carry
	// ("authorization: Bearer TOKEN").
	TokenFile string
	// ExtProcAddr is the ext_proc listener's address: the API never shares
	// its port.
	ExtProcAddr string
}

// Listener is a checked Config.
type Listener struct {
	// Addr is the address to bind (loopback filled in).
	Addr string
	// Security describes the protection: "loopback, plaintext", "mTLS",
	// "TLS + token", …
	Security string
	tls      *tls.Config
	token    []byte
}

// Check validates c. It returns nil (and no error) when the API is off.
// A non-loopback address needs mTLS, or TLS and a bearer token (a token
// sent in plaintext could be read off the network); an address on the
// ext_proc port is refused.
func (c Config) Check() (*Listener, error) {
	if c.Addr == "" || c.Addr == "off" {
		return nil, nil
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return nil, fmt.Errorf("api address %q: want host:port or :port: %w", c.Addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	l := &Listener{Addr: net.JoinHostPort(host, port)}
	if c.ExtProcAddr != "" && port != "0" {
		if eh, ep, err := net.SplitHostPort(c.ExtProcAddr); err == nil && ep == port && (eh == "" || eh == host || isAny(eh) || isAny(host)) {
			return nil, fmt.Errorf("api address %s: the API never shares the ext_proc listener's port (%s)", c.Addr, c.ExtProcAddr)
		}
	}
	switch {
	case c.Cert != "" || c.Key != "":
		if l.tls, err = extproc.TLSConfig(c.Cert, c.Key, c.ClientCA); err != nil {
			return nil, fmt.Errorf("api tls: %w", err)
		}
	case c.ClientCA != "":
		return nil, errors.New("api tls: a client CA needs a server certificate and key")
	}
	if c.TokenFile != "" {
		b, err := os.ReadFile(c.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("api token: %w", err)
		}
		if l.token = []byte(strings.TrimSpace(string(b))); len(l.token) == 0 {
			return nil, fmt.Errorf("api token file %s is empty", c.TokenFile)
		}
	}
	mtls := l.tls != nil && c.ClientCA != ""
	if !isLoopback(host) && !mtls && (l.token == nil || l.tls == nil) {
		return nil, fmt.Errorf("api address %s is not loopback: require clients to authenticate with mTLS (-api-tls-cert, -api-tls-key, -api-tls-client-ca) or with TLS and a bearer token (-api-tls-cert, -api-tls-key, -api-token-file)", c.Addr)
	}
	var parts []string
	switch {
	case mtls:
		parts = append(parts, "mTLS")
	case l.tls != nil:
		parts = append(parts, "TLS")
	default:
		parts = append(parts, "plaintext")
	}
	if l.token != nil {
		parts = append(parts, "bearer token")
	}
	if isLoopback(host) {
		parts = append([]string{"loopback"}, parts...)
	}
	l.Security = strings.Join(parts, ", ")
	return l, nil
}

func isAny(host string) bool { return host == "0.0.0.0" || host == "::" || host == "[::]" }

// isLoopback reports whether host only accepts local connections.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ServerOptions are the grpc.Server options of the API: its TLS credentials
// and, with a token, the interceptors that check it.
func (l *Listener) ServerOptions() []grpc.ServerOption {
	var opts []grpc.ServerOption
	if l.tls != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(l.tls)))
	}
	if l.token != nil {
		opts = append(opts,
			grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
				if err := l.authorize(ctx); err != nil {
					return nil, err
				}
				return h(ctx, req)
			}),
			grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
				if err := l.authorize(ss.Context()); err != nil {
					return err
				}
				return h(srv, ss)
			}))
	}
	return opts
}

// authorize checks the call's bearer token.
func (l *Listener) authorize(ctx context.Context) error {
	for _, v := range metadata.ValueFromIncomingContext(ctx, "authorization") {
		tok, ok := strings.CutPrefix(v, "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), l.token) == 1 {
			return nil
		}
	}
	return status.Error(codes.Unauthenticated, "flowproc API: missing or wrong bearer token")
}

// Server is a running API listener.
type Server struct {
	// Addr is the bound address.
	Addr string
	g    *grpc.Server
	done chan error
}

// Serve binds l and serves svc on it until Stop.
func (l *Listener) Serve(svc *Service) (*Server, error) {
	lis, err := net.Listen("tcp", l.Addr)
	if err != nil {
		return nil, fmt.Errorf("api listen: %w", err)
	}
	s := &Server{Addr: lis.Addr().String(), g: grpc.NewServer(l.ServerOptions()...), done: make(chan error, 1)}
	svc.Register(s.g)
	go func() { s.done <- s.g.Serve(lis) }()
	return s, nil
}

// Stop ends every call (trace streams are long-lived) and closes the
// listener.
func (s *Server) Stop() {
	s.g.Stop()
	<-s.done
}
