package expr

import (
	"fmt"

	"github.com/go-ldap/ldap/v3"
)

// ldap-lookup(url, rdn, rdnPassword, base_dn, userSearch, userPassword,
// attributes) authenticates a user: it binds as the system user rdn,
// searches the subtree of base_dn with the filter userSearch, binds as the
// one entry found with userPassword and returns {dn, attributes…} as an
// OXN object (attributes: a comma-separated list; multi-valued attributes
// become arrays). No entry, more than one, a wrong or empty userPassword
// (an empty one would be an unauthenticated bind) give an empty node-set
// and a warning (see Warner). A bad URL, filter or attribute list, an
// unreachable server, a failing system bind or search are evaluation
// errors wrapping ErrLDAP. Only ldap:// and ldaps:// URLs are accepted;
// the timeout and TLS roots come from a Runtime implementing LDAPSettings.
func init() {
	Register(&Func{Name: "ldap-lookup", MinArgs: 7, MaxArgs: 7, Call: ldapLookup})
}

func ldapLookup(c *Context, args []Value) (Value, error) {
	s := make([]string, len(args))
	for i, a := range args {
		s[i] = String(a)
	}
	rawURL, rdn, rdnPassword, base, filter, userPassword := s[0], s[1], s[2], s[3], s[4], s[5]
	attrs, err := ldapAttrs(s[6])
	if err != nil {
		return nil, fmt.Errorf("ldap-lookup: %w", err)
	}
	if userPassword == "" {
		warn(c, "ldap-lookup", "empty user password")
		return NodeSet(nil), nil
	}
	conn, done, err := ldapConnect(c, rawURL)
	if err != nil {
		return nil, fmt.Errorf("ldap-lookup: %w", err)
	}
	defer done()
	entries, err := ldapSearch(conn, rdn, rdnPassword, base, filter, attrs, 2)
	if err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
			warn(c, "ldap-lookup", "user search matches more than one entry")
			return NodeSet(nil), nil
		}
		return nil, fmt.Errorf("ldap-lookup: %w", err)
	}
	if len(entries) != 1 {
		warn(c, "ldap-lookup", fmt.Sprintf("user search matches %d entries, want 1", len(entries)))
		return NodeSet(nil), nil
	}
	e := entries[0]
	if err := conn.Bind(e.DN, userPassword); err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			warn(c, "ldap-lookup", "invalid user credentials")
			return NodeSet(nil), nil
		}
		return nil, fmt.Errorf("ldap-lookup: %w: user bind: %w", ErrLDAP, err)
	}
	obj, err := ldapEntry(c, "json", e, attrs)
	if err != nil {
		return nil, err
	}
	return NodeSet{obj}, nil
}
