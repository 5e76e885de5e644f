package policies

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// maxIdleSyslogConns bounds the idle TCP connections kept per syslog
// destination.
const maxIdleSyslogConns = 4

// syslogSink is one syslog destination. Sinks are shared process-wide by
// destination (network, address, TLS), so every MessageLogging policy
// naming it — and the policies of a reloaded project — use one pool:
// UDP has one socket (writes on it are safe concurrently), TCP a pool of
// up to maxIdleSyslogConns idle connections.
type syslogSink struct {
	network, addr string
	tls           *tls.Config

	mu   sync.Mutex
	udp  net.Conn
	idle []net.Conn
}

var (
	syslogSinksMu sync.Mutex
	syslogSinks   = map[string]*syslogSink{}
)

func syslogSinkFor(network, host string, port int, tlsConf *tls.Config) *syslogSink {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	key := network + " " + addr
	if tlsConf != nil {
		key += fmt.Sprintf(" tls insecure=%v", tlsConf.InsecureSkipVerify)
	}
	syslogSinksMu.Lock()
	defer syslogSinksMu.Unlock()
	s := syslogSinks[key]
	if s == nil {
		s = &syslogSink{network: network, addr: addr, tls: tlsConf}
		syslogSinks[key] = s
	}
	return s
}

func (s *syslogSink) String() string {
	if s.tls != nil {
		return "syslog+tls://" + s.addr
	}
	return "syslog+" + s.network + "://" + s.addr
}

func (s *syslogSink) dial(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{}
	if s.tls != nil {
		td := &tls.Dialer{NetDialer: d, Config: s.tls}
		return td.DialContext(ctx, "tcp", s.addr)
	}
	return d.DialContext(ctx, s.network, s.addr)
}

func (s *syslogSink) send(ctx context.Context, msg []byte, _ *rotation) error {
	if s.network == "udp" {
		return s.sendUDP(ctx, msg)
	}
	return s.sendTCP(ctx, msg)
}

func (s *syslogSink) sendUDP(ctx context.Context, msg []byte) error {
	s.mu.Lock()
	c := s.udp
	if c == nil {
		var err error
		if c, err = s.dial(ctx); err != nil {
			s.mu.Unlock()
			return err
		}
		s.udp = c
	}
	s.mu.Unlock()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetWriteDeadline(dl)
	}
	if _, err := c.Write(msg); err != nil {
		// A connected UDP socket reports an earlier ICMP refusal on a
		// later write; start afresh next time.
		s.mu.Lock()
		if s.udp == c {
			s.udp = nil
		}
		s.mu.Unlock()
		_ = c.Close()
		return err
	}
	return nil
}

func (s *syslogSink) sendTCP(ctx context.Context, msg []byte) error {
	// A pooled connection may have been closed by the server; one retry
	// on a fresh connection covers that.
	for attempt := 0; ; attempt++ {
		c, reused, err := s.get(ctx)
		if err != nil {
			return err
		}
		dl, ok := ctx.Deadline()
		if !ok {
			dl = time.Now().Add(MessageLogTimeout)
		}
		_ = c.SetWriteDeadline(dl)
		_, err = c.Write(msg)
		if err == nil {
			s.put(c)
			return nil
		}
		_ = c.Close()
		if !reused || attempt > 0 || ctx.Err() != nil {
			return err
		}
	}
}

// get returns an idle connection (reused true) or a new one.
func (s *syslogSink) get(ctx context.Context) (net.Conn, bool, error) {
	for {
		s.mu.Lock()
		n := len(s.idle)
		if n == 0 {
			s.mu.Unlock()
			break
		}
		c := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		if alive(c) {
			return c, true, nil
		}
		_ = c.Close()
	}
	c, err := s.dial(ctx)
	if err != nil {
		return nil, false, err
	}
	return c, false, nil
}

// alive reports whether an idle connection still looks open: a syslog
// server sends nothing, so a read that does not time out at once means
// the peer closed it (a write would succeed into the void).
func alive(c net.Conn) bool {
	var b [1]byte
	_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := c.Read(b[:])
	_ = c.SetReadDeadline(time.Time{})
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (s *syslogSink) put(c net.Conn) {
	s.mu.Lock()
	if len(s.idle) < maxIdleSyslogConns {
		s.idle = append(s.idle, c)
		c = nil
	}
	s.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
}

// closeIdle closes the sink's pooled connections (tests).
func (s *syslogSink) closeIdle() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, c := range s.idle {
		errs = append(errs, c.Close())
	}
	s.idle = nil
	if s.udp != nil {
		errs = append(errs, s.udp.Close())
		s.udp = nil
	}
	return errors.Join(errs...)
}
