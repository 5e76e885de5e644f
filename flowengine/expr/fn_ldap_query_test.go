package expr

import (
	"errors"
	"net"
	"testing"
)

// silentServer accepts connections and never answers; it returns its
// address.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

func TestFnLDAPQuery(t *testing.T) {
	url := startSlapd(t)
	sc := mapScope{"url": url, "admin": "cn=admin,dc=example,dc=com", "base": "dc=example,dc=com"}
	runIn(t, sc, []fnCase{
		{"count(ldap-query($url, $admin, 'adminpw', $base, '(objectClass=person)', 'uid')/value)", "3"},
		{"ldap-query($url, $admin, 'adminpw', $base, '(uid=*doe*)', 'uid,displayName')/value/displayName", "[displayName=John Doe]"},
		{"json-stringify(ldap-query($url, $admin, 'adminpw', $base, '(uid=john.doe)', 'mail'))",
			`"[{\"dn\":\"cn=John Doe,ou=People,dc=example,dc=com\",\"mail\":\"john.doe@example.com\"}]"`},
		{"ldap-query($url, '', '', $base, '(uid=john.doe)', 'uid')/value/uid", "[uid=john.doe]"}, // anonymous
		{"ldap-query($url, $admin, 'adminpw', $base, '(uid=john.doe)', 'userPassword')/value/userPassword", "[userPassword=johnpw]"},
		{"ldap-query($url, '', '', $base, '(uid=john.doe)', 'userPassword')/value/userPassword", "[]"}, // ACL
		{"ldap-query($url, $admin, 'adminpw', $base, '(uid=nobody)', 'uid')", "[]"},
		{"ldap-query($url, $admin, 'adminpw', 'ou=Nothing,dc=example,dc=com', '(uid=*)', 'uid')", "[]"},
		{"name(ldap-query($url, $admin, 'adminpw', $base, '(uid=john.doe)', ''))", `"json"`},
	})
	for _, src := range []string{
		"ldap-query($url, $admin, 'wrong', $base, '(uid=*)', 'uid')",
		"ldap-query($url, $admin, 'adminpw', $base, 'uid=*)', 'uid')",
		"ldap-query($url, $admin, 'adminpw', $base, '(uid=*)', 'a b')",
		"ldap-query('ldap://', $admin, 'adminpw', $base, '(uid=*)', '')",
		"ldap-query('ldap://127.0.0.1:1', $admin, 'adminpw', $base, '(uid=*)', '')",
	} {
		t.Run(src, func(t *testing.T) {
			if err := evalErr(t, src, sc); !errors.Is(err, ErrLDAP) {
				t.Errorf("error %v, want ErrLDAP", err)
			}
		})
	}
}
