package expr

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ldapData is the directory the LDAP tests run against.
const ldapData = `dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=People,dc=example,dc=com
objectClass: organizationalUnit
ou: People

dn: cn=John Doe,ou=People,dc=example,dc=com
objectClass: inetOrgPerson
cn: John Doe
sn: Doe
uid: john.doe
mail: john.doe@example.com
displayName: John Doe
userPassword: johnpw

dn: cn=Joseph Adoell,ou=People,dc=example,dc=com
objectClass: inetOrgPerson
cn: Joseph Adoell
sn: Adoell
uid: joseph.adoell
mail: joseph.adoell@example.com
mail: jo@example.com
userPassword: josephpw

dn: cn=Nopass,ou=People,dc=example,dc=com
objectClass: inetOrgPerson
cn: Nopass
sn: Nopass
uid: nopass
`

// startSlapd runs a slapd for one test on a free loopback port, loaded
// with ldapData, and returns its URL. The test is skipped when slapd is
// not installed (CI installs it: .ci/run).
func startSlapd(t *testing.T) string {
	t.Helper()
	slapd, err := exec.LookPath("slapd")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/slapd"); err2 != nil {
			t.Skip("slapd is not installed (apt-get install slapd ldap-utils); skipping the LDAP server tests")
		}
		slapd = "/usr/sbin/slapd"
	}
	slapadd := filepath.Join(filepath.Dir(slapd), "slapadd")
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile %[1]s/slapd.pid
database mdb
maxsize 10485760
suffix "dc=example,dc=com"
rootdn "cn=admin,dc=example,dc=com"
rootpw adminpw
directory %[1]s/db
access to attrs=userPassword by self read by anonymous auth by * none
access to * by * read
`, dir)
	confPath := filepath.Join(dir, "slapd.conf")
	write(t, confPath, conf)
	write(t, filepath.Join(dir, "data.ldif"), ldapData)
	if out, err := exec.Command(slapadd, "-f", confPath, "-l", filepath.Join(dir, "data.ldif")).CombinedOutput(); err != nil {
		t.Fatalf("slapadd: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	url := "ldap://" + addr
	cmd := exec.Command(slapd, "-f", confPath, "-h", url+"/", "-d", "0")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("slapd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("slapd did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
