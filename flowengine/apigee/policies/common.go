package policies

import "strings"

// commonChildren are the elements every policy may have besides its own
// (<FaultRules/> is what the old Edge UI wrote into every policy; real
// bundles carry it, empty).
var commonChildren = []string{"DisplayName", "Description", "Properties", "FaultRules"}

func allowed(own ...string) []string { return append(own, commonChildren...) }

// contentTypeIs reports whether a Content-Type is one Apigee parses as
// JSON or XML. Apigee's runtime-error pages say payload extraction and
// conversion run only for application/json (kind "json") and for
// application/xml, text/xml or application/*+xml (kind "xml"); flowproc
// also takes application/*+json as JSON.
func contentTypeIs(ct, kind string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok {
		return false
	}
	switch {
	case typ == "application":
		return sub == kind || strings.HasSuffix(sub, "+"+kind)
	case typ == "text":
		return kind == "xml" && sub == "xml"
	}
	return false
}
