package policies

import "strings"

// commonChildren are the elements every policy may have besides its own.
var commonChildren = []string{"DisplayName", "Description", "Properties"}

func allowed(own ...string) []string { return append(own, commonChildren...) }

// contentTypeIs reports whether a Content-Type names a JSON or XML media
// type: kind "json" matches application/json, text/json and any
// "+json" suffix; "xml" matches text/xml, application/xml and "+xml".
func contentTypeIs(ct, kind string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok {
		return false
	}
	if sub == kind || strings.HasSuffix(sub, "+"+kind) {
		return typ == "application" || typ == "text" || strings.HasSuffix(sub, "+"+kind)
	}
	return false
}
