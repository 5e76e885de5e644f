package flat

import (
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/expr"
)

// conf/config.xml's <ldap cacert-src timeout/> (FLAT docs: conf/config.xml)
// configures ldap-lookup() and ldap-query(): the CA certificate that
// verifies ldaps:// servers (relative to config.xml) and the timeout in
// seconds. Both are read at load; a bad value is a load error (FP107).

type ldapSettings struct {
	timeout time.Duration
	tls     *tls.Config
}

func (p *Project) compileLDAP(c *compiler) {
	cfg := p.def.Config.LDAP
	if cfg == nil {
		return
	}
	bad := func(format string, args ...any) {
		c.errs.Addf(cfg.At.File, cfg.At.Line, cfg.At.Col, diag.BadConfig, "<ldap>: "+format, args...)
	}
	s := &ldapSettings{}
	if cfg.Timeout != "" {
		f, err := strconv.ParseFloat(strings.TrimSpace(cfg.Timeout), 64)
		if err != nil || f <= 0 || f > 300 {
			bad("timeout=%q: want seconds between 0 and 300", cfg.Timeout)
		} else {
			s.timeout = time.Duration(f * float64(time.Second))
		}
	}
	if cfg.CACertSrc != "" {
		path := filepath.Join(filepath.Dir(cfg.At.File), cfg.CACertSrc)
		pem, err := p.readFile(path)
		if err != nil {
			bad("cacert-src=%q: %v", cfg.CACertSrc, unwrapPathErr(err))
		} else {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				bad("cacert-src=%q holds no PEM certificate", cfg.CACertSrc)
			} else {
				s.tls = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
			}
		}
	}
	p.ldap = s
}

// LDAPSettings implements expr.LDAPSettings.
func (r *run) LDAPSettings() (time.Duration, *tls.Config) {
	if r.p.ldap == nil {
		return 0, nil
	}
	return r.p.ldap.timeout, r.p.ldap.tls
}

var _ expr.LDAPSettings = (*run)(nil)
