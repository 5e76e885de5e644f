package jwtauth

import (
	"encoding/json"
	"strconv"
	"strings"
)

// claimRule is one configured claims entry: the claim must have (or, for
// an array claim, contain) the value.
type claimRule struct {
	name string
	want any // string, float64 or bool
}

// check returns "" when claims satisfy the rule, else the info text.
func (r claimRule) check(claims map[string]any) string {
	got, ok := claims[r.name]
	if !ok {
		return "Claim " + r.name + " missing"
	}
	if list, isList := got.([]any); isList {
		for _, g := range list {
			if scalarEqual(r.want, g) {
				return ""
			}
		}
		return "Claim " + r.name + " does not contain the expected value"
	}
	if !scalarEqual(r.want, got) {
		return "Claim " + r.name + " does not match"
	}
	return ""
}

// scalarEqual compares an expected value with a claim value decoded with
// json.Number.
func scalarEqual(want, got any) bool {
	switch g := got.(type) {
	case string:
		w, ok := want.(string)
		return ok && w == g
	case bool:
		switch w := want.(type) {
		case bool:
			return w == g
		case string:
			return w == strconv.FormatBool(g)
		}
	case json.Number:
		gf, err := g.Float64()
		switch w := want.(type) {
		case float64:
			return err == nil && gf == w
		case string:
			if w == g.String() {
				return true
			}
			wf, werr := strconv.ParseFloat(w, 64)
			return err == nil && werr == nil && wf == gf
		}
	}
	return false
}

// missingScopes returns the info text when the scope claim lacks one of
// the required scopes, else "". The claim is a white-space separated
// string or an array of strings.
func missingScopes(claims map[string]any, claim string, required []string) string {
	if len(required) == 0 {
		return ""
	}
	var have []string
	switch v := claims[claim].(type) {
	case nil:
		return "Scope claim " + claim + " missing"
	case string:
		have = strings.Fields(v)
	case []any:
		for _, s := range v {
			str, ok := s.(string)
			if !ok {
				return "Scope claim " + claim + " must be a string or a list of strings"
			}
			have = append(have, str)
		}
	default:
		return "Scope claim " + claim + " must be a string or a list of strings"
	}
	var missing []string
	for _, r := range required {
		found := false
		for _, h := range have {
			if h == r {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, r)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return "Missing scope " + strings.Join(missing, ", ")
}
