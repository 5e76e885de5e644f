package expr

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFnLDAPLookup(t *testing.T) {
	url := startSlapd(t)
	sc := mapScope{"url": url, "admin": "cn=admin,dc=example,dc=com", "base": "dc=example,dc=com"}
	call := func(filter, pw, attrs string) string {
		return "ldap-lookup($url, $admin, 'adminpw', $base, '" + filter + "', '" + pw + "', '" + attrs + "')"
	}
	for _, tc := range []struct {
		src, want string
		warns     int
	}{
		{call("(mail=john.doe@example.com)", "johnpw", "uid,mail") + "/uid", "[uid=john.doe]", 0},
		{call("(mail=john.doe@example.com)", "johnpw", "uid,mail") + "/dn", "[dn=cn=John Doe,ou=People,dc=example,dc=com]", 0},
		{"json-stringify(" + call("(uid=john.doe)", "johnpw", " UID , displayName, missingAttr") + ")",
			`"{\"dn\":\"cn=John Doe,ou=People,dc=example,dc=com\",\"UID\":\"john.doe\",\"displayName\":\"John Doe\"}"`, 0},
		{"json-stringify(" + call("(uid=joseph.adoell)", "josephpw", "mail") + "/mail)", `"[\"joseph.adoell@example.com\",\"jo@example.com\"]"`, 0},
		{"json-stringify(" + call("(uid=joseph.adoell)", "josephpw", "") + ")", `"{\"dn\":\"cn=Joseph Adoell,ou=People,dc=example,dc=com\"}"`, 0},
		// Authentication fails: empty node-set and a warning.
		{call("(uid=john.doe)", "wrong", "uid"), "[]", 1},
		{call("(uid=john.doe)", "", "uid"), "[]", 1},             // no unauthenticated bind
		{call("(uid=nopass)", "x", "uid"), "[]", 1},              // entry without password
		{call("(uid=nobody)", "johnpw", "uid"), "[]", 1},         // not found
		{call("(objectClass=person)", "johnpw", "uid"), "[]", 1}, // ambiguous
		{"ldap-lookup($url, $admin, 'adminpw', 'ou=Nothing,dc=example,dc=com', '(uid=john.doe)', 'johnpw', 'uid')", "[]", 1},
	} {
		t.Run(tc.src, func(t *testing.T) {
			v, warns := evalWarn(t, tc.src, sc)
			if got := show(v); got != tc.want || len(warns) != tc.warns {
				t.Errorf("got %s with warnings %q, want %s with %d", got, warns, tc.want, tc.warns)
			}
		})
	}
	for _, src := range []string{
		"ldap-lookup($url, $admin, 'wrong', $base, '(uid=john.doe)', 'johnpw', 'uid')",      // system bind fails
		"ldap-lookup($url, $admin, '', $base, '(uid=john.doe)', 'johnpw', 'uid')",           // system bind without password
		"ldap-lookup($url, $admin, 'adminpw', $base, '(uid=john.doe', 'johnpw', 'uid')",     // bad filter
		"ldap-lookup($url, $admin, 'adminpw', $base, '(uid=john.doe)', 'johnpw', 'u(id')",   // bad attribute
		"ldap-lookup('http://x', $admin, 'adminpw', $base, '(uid=john.doe)', 'johnpw', '')", // not ldap://
		"ldap-lookup('ldapi:///tmp/s', $admin, 'adminpw', $base, '(uid=a)', 'johnpw', '')",  // not ldap://
		"ldap-lookup('ldap://127.0.0.1:1', $admin, 'adminpw', $base, '(uid=a)', 'pw', '')",  // nothing listening
		"ldap-lookup($url, $admin, 'adminpw', 'not a dn', '(uid=john.doe)', 'johnpw', '')",  // bad base
	} {
		t.Run(src, func(t *testing.T) {
			if err := evalErr(t, src, sc); !errors.Is(err, ErrLDAP) {
				t.Errorf("error %v, want ErrLDAP", err)
			}
		})
	}
	// A cancelled run does not reach the server.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := MustCompile(call("(uid=john.doe)", "johnpw", "uid")).Eval(&Context{Ctx: ctx, Scope: sc})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// A server that accepts but never answers is bounded by the deadline.
	ln := silentServer(t)
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = MustCompile("ldap-lookup($u, $admin, 'adminpw', $base, '(uid=a)', 'pw', '')").Eval(&Context{Ctx: ctx, Scope: mapScope{"u": "ldap://" + ln, "admin": "cn=a", "base": "dc=x"}})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("silent server: %v after %v", err, time.Since(start))
	}
}
