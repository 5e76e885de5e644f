package msgtemplate

import "strings"

// toUpperCase(s), toLowerCase(s): Java String.toUpperCase/toLowerCase
// (Unicode case mapping; Go's mapping has no locale rules). Null is "".
func init() {
	register("toUpperCase", &function{min: 1, max: 1, call: func(_ any, a []value) (string, error) {
		return strings.ToUpper(a[0].str()), nil
	}})
	register("toLowerCase", &function{min: 1, max: 1, call: func(_ any, a []value) (string, error) {
		return strings.ToLower(a[0].str()), nil
	}})
}
