package apidef

import (
	yaml "go.yaml.in/yaml/v4"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// SecurityRequirement is one alternative of a security list: the names of
// security schemes that must all pass, each with the scopes it requires
// (FLAT allows scopes for every scheme type, not only OAuth2).
type SecurityRequirement map[string][]string

// Security is a path-level `security` list, a FLAT extension of Swagger
// (reference/OpenAPI/security.md: the default for all operations of the
// path). kin-openapi drops it, so apidef reads it from the YAML.
type Security struct {
	// Requirements are the alternatives in file order; any one of them
	// must pass. Empty (security: []) means no check for the path.
	Requirements []SecurityRequirement
	// At is the position of the security key.
	At Pos
}

// pathSecurity reads the value of a path-level security key: a list of
// objects mapping a scheme name to a list of scope strings. It returns nil
// after reporting an error.
func (l *loader) pathSecurity(k, v *yaml.Node) *Security {
	s := &Security{At: l.pos(k), Requirements: []SecurityRequirement{}}
	list := deref(v)
	if list == nil || list.Kind != yaml.SequenceNode {
		l.errorf(k, diag.BadDefinition, "path-level security must be a list of requirements like [{JWTAuth: []}], not %s", kindName(list))
		return nil
	}
	ok := true
	for _, item := range list.Content {
		m := deref(item)
		if m == nil || m.Kind != yaml.MappingNode {
			l.errorf(item, diag.BadDefinition, "a security requirement must be an object like {JWTAuth: []}, not %s", kindName(m))
			ok = false
			continue
		}
		req := SecurityRequirement{}
		for _, p := range pairs(m) {
			name := keyText(p.k)
			scopes := deref(p.v)
			if scopes == nil || scopes.Kind != yaml.SequenceNode {
				l.errorf(p.k, diag.BadDefinition, "the scopes of security scheme %q must be a list of strings, not %s", name, kindName(scopes))
				ok = false
				continue
			}
			list := []string{}
			for _, sc := range scopes.Content {
				if !isString(sc) {
					l.errorf(sc, diag.BadDefinition, "a scope of security scheme %q must be a string, not %s", name, kindName(sc))
					ok = false
					continue
				}
				list = append(list, deref(sc).Value)
			}
			req[name] = list
		}
		s.Requirements = append(s.Requirements, req)
	}
	if !ok {
		return nil
	}
	return s
}
