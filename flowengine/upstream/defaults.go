package upstream

import (
	"fmt"
	"strconv"
	"time"
)

// Defaults are the process-wide values a Call falls back to. The caller
// fills them (usually from DefaultsFromEnv) and passes them to NewHTTP.
type Defaults struct {
	// Timeout is the total timeout of a call that sets none (FLAT: 3 s).
	Timeout time.Duration
	// ConnectTimeout and TTFBTimeout apply when a call sets none; 0 means
	// "only the total timeout".
	ConnectTimeout time.Duration
	TTFBTimeout    time.Duration
	// MaxTimeout caps every timeout, a call's own included; 0 means no cap.
	MaxTimeout time.Duration
	// MaxBodyBytes bounds response bodies of calls that set no bound.
	MaxBodyBytes int64
	// MaxRedirects applies to calls that follow redirects without a limit.
	MaxRedirects int
	// UserAgent is sent when a call names no User-Agent.
	UserAgent string
	// RevalidateGrace is how long a stale cache entry with validators
	// (ETag, Last-Modified) is kept for conditional requests.
	RevalidateGrace time.Duration
}

// StandardDefaults returns FLAT's documented defaults plus flowproc's bounds.
func StandardDefaults() Defaults {
	return Defaults{
		Timeout:         3 * time.Second,
		MaxBodyBytes:    16 << 20,
		MaxRedirects:    10,
		UserAgent:       "FLAT",
		RevalidateGrace: 10 * time.Minute,
	}
}

// envSeconds lists the FLAT timeout variables; the second name of each pair
// is the spelling the FLAT request page uses (a documented doc bug), read
// when the first is unset.
var envSeconds = []struct {
	names []string
	dst   func(*Defaults) *time.Duration
}{
	{[]string{"FLAT_DEFAULT_TIMEOUT", "FLAT_FETCH_DEFAULT_TIMEOUT"}, func(d *Defaults) *time.Duration { return &d.Timeout }},
	{[]string{"FLAT_DEFAULT_CONNECT_TIMEOUT", "FLAT_FETCH_DEFAULT_CONNECT_TIMEOUT"}, func(d *Defaults) *time.Duration { return &d.ConnectTimeout }},
	{[]string{"FLAT_DEFAULT_TTFB_TIMEOUT", "FLAT_FETCH_DEFAULT_TTFB_TIMEOUT"}, func(d *Defaults) *time.Duration { return &d.TTFBTimeout }},
	{[]string{"FLAT_MAX_TIMEOUT"}, func(d *Defaults) *time.Duration { return &d.MaxTimeout }},
}

// DefaultsFromEnv starts from StandardDefaults and applies the FLAT_*
// timeout variables (seconds, fractions allowed; 0 for the connect and
// time-to-first-byte timeouts means "use the total timeout"). A malformed
// or negative value is an error, never ignored.
func DefaultsFromEnv(getenv func(string) string) (Defaults, error) {
	d := StandardDefaults()
	for _, v := range envSeconds {
		for _, name := range v.names {
			s := getenv(name)
			if s == "" {
				continue
			}
			dur, err := parseSeconds(s)
			if err != nil {
				return Defaults{}, fmt.Errorf("upstream: %s: %w", name, err)
			}
			if name == "FLAT_DEFAULT_TIMEOUT" || name == "FLAT_FETCH_DEFAULT_TIMEOUT" {
				if dur == 0 {
					return Defaults{}, fmt.Errorf("upstream: %s: must be > 0", name)
				}
			}
			*v.dst(&d) = dur
			break
		}
	}
	return d, nil
}

// parseSeconds reads a non-negative number of seconds.
func parseSeconds(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("want seconds: %w", err)
	}
	if !(f >= 0 && f <= 1e6) { // also rejects NaN
		return 0, fmt.Errorf("seconds %q out of range", s)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// timeouts are the resolved per-call limits; connect and ttfb are 0 when
// they would not fire before total.
type timeouts struct {
	total, connect, ttfb time.Duration
}

// resolveTimeouts applies Defaults and the MaxTimeout cap to a call.
func (d Defaults) resolveTimeouts(c *Call) timeouts {
	capped := func(v time.Duration) time.Duration {
		if d.MaxTimeout > 0 && v > d.MaxTimeout {
			return d.MaxTimeout
		}
		return v
	}
	t := timeouts{total: c.Timeout}
	if t.total <= 0 {
		t.total = d.Timeout
	}
	if t.total <= 0 {
		t.total = StandardDefaults().Timeout
	}
	t.total = capped(t.total)
	pick := func(own, def time.Duration) time.Duration {
		v := own
		if v <= 0 {
			v = def
		}
		if v <= 0 {
			return 0
		}
		v = capped(v)
		if v >= t.total {
			return 0
		}
		return v
	}
	t.connect = pick(c.ConnectTimeout, d.ConnectTimeout)
	t.ttfb = pick(c.TTFBTimeout, d.TTFBTimeout)
	return t
}
