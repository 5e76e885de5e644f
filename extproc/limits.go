package extproc

import (
	"math"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Serving limit defaults (docs/server.md, "Serving limits"). They bound what
// one Envoy connection, or a client that opens streams and abandons them, can
// hold on the server.
const (
	// DefaultMaxConcurrentStreams is the HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS
	// the server announces: streams past it wait in the client (Envoy queues
	// them or opens another connection) instead of piling up on the server.
	DefaultMaxConcurrentStreams = 1000
	// DefaultMaxConnectionIdle closes a connection without streams after this
	// long (GOAWAY; Envoy reconnects on its next request).
	DefaultMaxConnectionIdle = 15 * time.Minute
	// DefaultMaxConnectionAge sends GOAWAY to a connection this old, so load
	// spreads over new replicas and a connection cannot live forever.
	DefaultMaxConnectionAge = 30 * time.Minute
	// DefaultMaxConnectionAgeGrace is how long streams on an aged connection
	// may finish before the connection is closed, cancelling them.
	DefaultMaxConnectionAgeGrace = 5 * time.Minute
	// DefaultKeepaliveTime is how long a connection may be silent before the
	// server pings it.
	DefaultKeepaliveTime = 2 * time.Minute
	// DefaultKeepaliveTimeout is how long the server waits for the ping's
	// answer before it closes the connection.
	DefaultKeepaliveTimeout = 20 * time.Second
	// DefaultWaitFactor × Options.MessageTimeout is the default
	// Options.StreamWaitTimeout, clamped to [MinStreamWaitTimeout,
	// MaxStreamWaitTimeout].
	DefaultWaitFactor = 60
	// MinStreamWaitTimeout is the smallest derived stream wait timeout: above
	// the shipped Envoy configs' 30 s route timeout, so a forwarded request
	// whose upstream is slow is ended by Envoy (504), not by flowproc.
	MinStreamWaitTimeout = 60 * time.Second
	// MaxStreamWaitTimeout is the largest derived stream wait timeout:
	// Envoy's default HTTP stream_idle_timeout, after which Envoy itself
	// gives up on a silent client.
	MaxStreamWaitTimeout = 5 * time.Minute
	// keepaliveMinTime is the enforcement policy's smallest ping interval a
	// client may use (Envoy's HTTP/2 connection_keepalive is usually 30 s
	// or more); faster pings get GOAWAY "too_many_pings".
	keepaliveMinTime = 5 * time.Second
)

// Limits are the gRPC serving limits (Options.Limits). A zero field takes
// its default; a negative duration disables that limit.
type Limits struct {
	// MaxConcurrentStreams per connection (default DefaultMaxConcurrentStreams).
	MaxConcurrentStreams uint32
	// MaxConnectionIdle, MaxConnectionAge and MaxConnectionAgeGrace are
	// grpc-go's keepalive.ServerParameters of the same names.
	MaxConnectionIdle     time.Duration
	MaxConnectionAge      time.Duration
	MaxConnectionAgeGrace time.Duration
	// KeepaliveTime and KeepaliveTimeout are keepalive.ServerParameters'
	// Time and Timeout: ping a silent connection, close it when the ping is
	// not answered.
	KeepaliveTime    time.Duration
	KeepaliveTimeout time.Duration
}

// withDefaults fills the zero fields of l with the defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxConcurrentStreams == 0 {
		l.MaxConcurrentStreams = DefaultMaxConcurrentStreams
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&l.MaxConnectionIdle, DefaultMaxConnectionIdle)
	def(&l.MaxConnectionAge, DefaultMaxConnectionAge)
	def(&l.MaxConnectionAgeGrace, DefaultMaxConnectionAgeGrace)
	def(&l.KeepaliveTime, DefaultKeepaliveTime)
	def(&l.KeepaliveTimeout, DefaultKeepaliveTimeout)
	return l
}

// infinite maps a disabled (negative) duration to grpc-go's "infinity".
func infinite(d time.Duration) time.Duration {
	if d < 0 {
		return time.Duration(math.MaxInt64)
	}
	return d
}

// limitOptions are the grpc.Server options for the serving limits: the
// concurrent stream cap, the connection idle/age limits and keepalive pings,
// and an enforcement policy that tolerates Envoy's HTTP/2 keepalive pings on
// idle connections instead of closing them with "too_many_pings".
func (s *Server) limitOptions() []grpc.ServerOption {
	l := s.limits
	return []grpc.ServerOption{
		grpc.MaxConcurrentStreams(l.MaxConcurrentStreams),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle:     infinite(l.MaxConnectionIdle),
			MaxConnectionAge:      infinite(l.MaxConnectionAge),
			MaxConnectionAgeGrace: infinite(l.MaxConnectionAgeGrace),
			Time:                  infinite(l.KeepaliveTime),
			Timeout:               infinite(l.KeepaliveTimeout),
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: keepaliveMinTime, PermitWithoutStream: true}),
	}
}

// StreamWaitTimeout returns the wait timeout derived from Envoy's
// message_timeout mt (DefaultMessageTimeout when ≤ 0): DefaultWaitFactor ×
// mt, clamped to [MinStreamWaitTimeout, MaxStreamWaitTimeout].
func StreamWaitTimeout(mt time.Duration) time.Duration {
	if mt <= 0 {
		mt = DefaultMessageTimeout
	}
	return min(max(mt*DefaultWaitFactor, MinStreamWaitTimeout), MaxStreamWaitTimeout)
}
