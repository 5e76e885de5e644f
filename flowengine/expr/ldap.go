package expr

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// This file holds what ldap-lookup and ldap-query share: connecting
// (ldap:// and ldaps:// only, bounded by a timeout and the run's context),
// parsing the attribute list and turning entries into OXN objects.

// ErrLDAP is wrapped by evaluation errors of the LDAP functions: a bad
// URL, filter or attribute list, a server that cannot be reached, a
// failing system bind or search.
var ErrLDAP = errors.New("LDAP request failed")

// LDAPSettings is implemented by a Context.Runtime that configures the
// LDAP functions (FLAT's <ldap timeout="…" cacert-src="…"/>).
type LDAPSettings interface {
	// LDAPSettings returns the timeout of a connection and of each
	// operation (0: the default, 10 s) and the TLS configuration for
	// ldaps:// (nil: system roots).
	LDAPSettings() (timeout time.Duration, tlsConfig *tls.Config)
}

const (
	ldapDefaultTimeout = 10 * time.Second
	// ldapMaxEntries bounds the entries ldap-query returns; more is an
	// error rather than a silently cut list.
	ldapMaxEntries = 1000
)

// ldapConnect dials rawURL; done closes the connection.
func ldapConnect(c *Context, rawURL string) (conn *ldap.Conn, done func(), err error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return nil, nil, fmt.Errorf("%w: URL must be ldap://host[:port] or ldaps://host[:port]", ErrLDAP)
	}
	timeout := ldapDefaultTimeout
	var tlsConf *tls.Config
	if s, ok := c.Runtime.(LDAPSettings); ok {
		if t, tc := s.LDAPSettings(); t > 0 {
			timeout, tlsConf = t, tc
		} else {
			tlsConf = tc
		}
	}
	ctx := c.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	opts := []ldap.DialOpt{ldap.DialWithDialer(&net.Dialer{Timeout: timeout})}
	if tlsConf != nil {
		opts = append(opts, ldap.DialWithTLSConfig(tlsConf))
	}
	conn, err = ldap.DialURL(rawURL, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: connect: %w", ErrLDAP, err)
	}
	conn.SetTimeout(timeout)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	return conn, func() { stop(); conn.Close() }, nil
}

// ldapAttrs parses a comma-separated attribute list ("" is none; "dn" is
// always returned and skipped here).
func ldapAttrs(s string) ([]string, error) {
	var attrs []string
	for _, a := range strings.Split(s, ",") {
		a = strings.TrimSpace(a)
		if a == "" || strings.EqualFold(a, "dn") {
			continue
		}
		for _, r := range a {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == ';' || r == '.') {
				return nil, fmt.Errorf("%w: bad attribute name %q", ErrLDAP, a)
			}
		}
		attrs = append(attrs, a)
	}
	return attrs, nil
}

// ldapSearch binds as rdn (anonymously when rdn is "") and searches the
// subtree of base with filter, returning at most limit entries (more is
// ldap.LDAPResultSizeLimitExceeded).
func ldapSearch(conn *ldap.Conn, rdn, password, base, filter string, attrs []string, limit int) ([]*ldap.Entry, error) {
	if rdn != "" {
		if password == "" {
			return nil, fmt.Errorf("%w: system bind needs a password", ErrLDAP)
		}
		if err := conn.Bind(rdn, password); err != nil {
			return nil, fmt.Errorf("%w: bind: %w", ErrLDAP, err)
		}
	}
	if _, err := ldap.CompileFilter(filter); err != nil {
		return nil, fmt.Errorf("%w: filter: %w", ErrLDAP, err)
	}
	req := attrs
	if len(req) == 0 {
		req = []string{"1.1"} // no attributes
	}
	res, err := conn.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		limit, 0, false, filter, req, nil))
	if err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: search: %w", ErrLDAP, err)
	}
	return res.Entries, nil
}

// ldapEntry returns e as an OXN object named name: dn, then each of attrs
// the entry has (one value as a string, several as an array of strings),
// named as attrs spells them.
func ldapEntry(c *Context, name string, e *ldap.Entry, attrs []string) (*dom.Node, error) {
	obj := oxn.NewObject(name)
	oxn.AddMember(obj, "dn", oxn.NewString(oxn.ValueName, e.DN))
	size := len(e.DN)
	for _, a := range attrs {
		vals := e.GetEqualFoldAttributeValues(a)
		switch len(vals) {
		case 0:
			continue
		case 1:
			oxn.AddMember(obj, a, oxn.NewString(oxn.ValueName, vals[0]))
			size += len(vals[0])
		default:
			arr := oxn.NewArray(oxn.ValueName)
			for _, v := range vals {
				oxn.AddValue(arr, oxn.NewString(oxn.ValueName, v))
				size += len(v)
			}
			oxn.AddMember(obj, a, arr)
		}
	}
	return obj, c.Budget.Decoded(int64(size))
}
