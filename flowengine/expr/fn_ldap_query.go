package expr

import (
	"fmt"

	"github.com/go-ldap/ldap/v3"

	"github.com/flowproc/flowproc/flowengine/oxn"
)

// ldap-query(url, rdn, rdnPassword, base_dn, search, attributes) binds as
// rdn (anonymously when it is ""), searches the subtree of base_dn with
// the filter search and returns an OXN array of {dn, attributes…} objects
// (as ldap-lookup builds them), or an empty node-set when nothing matches
// (also when base_dn does not exist). More than 1000 entries, a bad URL,
// filter or attribute list, an unreachable server, a failing bind or
// search are evaluation errors wrapping ErrLDAP.
func init() {
	Register(&Func{Name: "ldap-query", MinArgs: 6, MaxArgs: 6, Call: ldapQuery})
}

func ldapQuery(c *Context, args []Value) (Value, error) {
	s := make([]string, len(args))
	for i, a := range args {
		s[i] = String(a)
	}
	attrs, err := ldapAttrs(s[5])
	if err != nil {
		return nil, fmt.Errorf("ldap-query: %w", err)
	}
	conn, done, err := ldapConnect(c, s[0])
	if err != nil {
		return nil, fmt.Errorf("ldap-query: %w", err)
	}
	defer done()
	entries, err := ldapSearch(conn, s[1], s[2], s[3], s[4], attrs, ldapMaxEntries)
	if err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
			return nil, fmt.Errorf("ldap-query: more than %d entries: %w", ldapMaxEntries, err)
		}
		return nil, fmt.Errorf("ldap-query: %w", err)
	}
	if len(entries) == 0 {
		return NodeSet(nil), nil
	}
	arr := oxn.NewArray("json")
	for _, e := range entries {
		obj, err := ldapEntry(c, oxn.ValueName, e, attrs)
		if err != nil {
			return nil, err
		}
		oxn.AddValue(arr, obj)
	}
	return NodeSet{arr}, nil
}
