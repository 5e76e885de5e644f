package engine

import (
	"strconv"
)

// Name is the project's name.
func (p *Project) Name() string { return p.name }

// Dir is the project's directory.
func (p *Project) Dir() string { return p.dir }

// BundleName is the proxy's name from its manifest (apiproxy.name).
func (p *Project) BundleName() string { return p.bundleName }

// Version is the bundle's revision from its manifest ("revision 3"), ""
// without one; the status API reports it.
func (p *Project) Version() string {
	if p.revision == "" {
		return ""
	}
	return "revision " + p.revision
}

// BasePaths are the ProxyEndpoints' base paths ("/" for an empty one).
func (p *Project) BasePaths() []string { return p.basePaths }

// Summary is one line for `flowproc validate`.
func (p *Project) Summary() string {
	s := strconv.Itoa(len(p.proxies)) + " proxy endpoint"
	if len(p.proxies) != 1 {
		s += "s"
	}
	s += ", " + strconv.Itoa(len(p.targets)) + " target"
	if len(p.targets) != 1 {
		s += "s"
	}
	s += ", " + strconv.Itoa(p.nPolicies) + " polic"
	if p.nPolicies == 1 {
		s += "y"
	} else {
		s += "ies"
	}
	if n := len(p.shared); n > 0 {
		s += ", " + strconv.Itoa(n) + " shared flow"
		if n != 1 {
			s += "s"
		}
	}
	return s
}
