package cors

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// ConfigCORS is conf/config.xml's <cors allowed-origins="…"
// allow-credentials="…"/> as written: AllowedOrigins is one origin or
// several separated by spaces or commas; AllowCredentials is "true",
// "false" or "" (absent).
type ConfigCORS struct {
	AllowedOrigins   string
	AllowCredentials string
}

// Compile builds the policy from the x-flat-cors value of the definition
// (Doc.Extensions["x-flat-cors"] as kin-openapi decodes it: nil when
// absent) and config.xml's <cors> (nil when absent); the latter wins. It
// returns nil (CORS disabled) when neither is set or x-flat-cors is false.
// A malformed x-flat-cors is a *diag.Error with code FP102, a malformed
// <cors> FP107; neither carries a position (the caller knows the file).
func Compile(ext any, fromConfig *ConfigCORS) (*Policy, error) {
	if fromConfig != nil {
		return compileConfig(fromConfig)
	}
	return compileExt(ext)
}

func compileExt(ext any) (*Policy, error) {
	bad := func(format string, args ...any) error {
		return diag.Errorf("", 0, 0, diag.BadExtension, "x-flat-cors: "+format, args...)
	}
	switch v := ext.(type) {
	case nil:
		return nil, nil
	case bool:
		if !v {
			return nil, nil
		}
		return nil, bad("must be an object with allowed-origins (or false), not true")
	case map[string]any:
		p := &Policy{}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			switch k {
			case "allowed-origins", "allow-credentials":
			default:
				return nil, bad("unknown property %q (known: allowed-origins, allow-credentials)", k)
			}
		}
		var origins []string
		switch o := v["allowed-origins"].(type) {
		case nil:
			return nil, bad("allowed-origins is mandatory")
		case string:
			origins = []string{o}
		case []any:
			for i, e := range o {
				s, ok := e.(string)
				if !ok {
					return nil, bad("allowed-origins[%d] must be a string, not %T", i, e)
				}
				origins = append(origins, s)
			}
		default:
			return nil, bad("allowed-origins must be a string or a list of strings, not %T", o)
		}
		if err := p.setOrigins(origins); err != nil {
			return nil, bad("allowed-origins: %w", err)
		}
		switch c := v["allow-credentials"].(type) {
		case nil:
		case bool:
			p.credentials = c
		default:
			return nil, bad("allow-credentials must be true or false, not %T", c)
		}
		return p, nil
	}
	return nil, bad("must be an object with allowed-origins (or false), not %T", ext)
}

func compileConfig(c *ConfigCORS) (*Policy, error) {
	bad := func(format string, args ...any) error {
		return diag.Errorf("", 0, 0, diag.BadConfig, "<cors>: "+format, args...)
	}
	p := &Policy{}
	origins := strings.FieldsFunc(c.AllowedOrigins, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	if len(origins) == 0 {
		return nil, bad("allowed-origins is mandatory")
	}
	if err := p.setOrigins(origins); err != nil {
		return nil, bad("allowed-origins: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(c.AllowCredentials)) {
	case "", "false":
	case "true":
		p.credentials = true
	default:
		return nil, bad("allow-credentials must be true or false, not %q", c.AllowCredentials)
	}
	return p, nil
}

// setOrigins checks and stores the allowed origins: "*", "null" or
// scheme://host[:port] (a trailing "/" is dropped).
func (p *Policy) setOrigins(origins []string) error {
	if len(origins) == 0 {
		return fmt.Errorf("no origin given")
	}
	for _, o := range origins {
		norm, err := normalizeOrigin(o)
		if err != nil {
			return err
		}
		if norm == "*" {
			p.anyOrigin = true
			continue
		}
		if !slices.Contains(p.origins, norm) {
			p.origins = append(p.origins, norm)
		}
	}
	return nil
}

func normalizeOrigin(o string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(o))
	switch s {
	case "":
		return "", fmt.Errorf("empty origin")
	case "*", "null":
		return s, nil
	}
	s = strings.TrimSuffix(s, "/")
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" {
		return "", fmt.Errorf("%q is not an origin (scheme://host[:port], \"*\" or \"null\")", o)
	}
	return s, nil
}

// Origins returns the allowed origins as compiled ("*" first when all are
// allowed) and whether credentials are allowed.
func (p *Policy) Origins() (origins []string, credentials bool) {
	if p == nil {
		return nil, false
	}
	if p.anyOrigin {
		origins = append(origins, "*")
	}
	return append(origins, p.origins...), p.credentials
}
