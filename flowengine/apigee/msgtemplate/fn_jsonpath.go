package msgtemplate

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/jsonpath"
)

// jsonPath(path, json [, want-array]): evaluates a JSONPath (Jayway
// flavour, as Apigee uses) against the JSON text in the second argument.
//
// Supported: $, .name, ['name'] / ["name"] (several, comma-separated),
// .* and [*], [n] (negative from the end) and [n,m,…], [start:end] slices,
// and deep scan ..name / ..*. Filters [?(…)] and script expressions [(…)]
// are refused: at load (MT005) when the path is literal, at run time
// (MT101) when it comes from a variable.
//
// Rendering [inferred from Jayway's result types]: a definite path (only
// single names and indexes) renders its value — strings without quotes,
// numbers as written, objects and arrays as compact JSON, null or no match
// as "" — while an indefinite path, or want-array 'true', renders a JSON
// array of all matches. Object members keep their document order.
// Malformed JSON fails (MT101).
func init() {
	register("jsonPath", &function{min: 2, max: 3, prepare: func(args []arg) (any, error) {
		if args[0].isVar || args[0].null {
			return nil, nil
		}
		return jsonpath.Parse(args[0].lit)
	}, call: func(st any, a []value) (string, error) {
		jp, _ := st.(*jsonpath.Path)
		if jp == nil && a[0].null {
			return "", nil // unresolved path variable, reported by the caller
		}
		if jp == nil {
			var err error
			if jp, err = jsonpath.Parse(a[0].str()); err != nil {
				return "", err
			}
		}
		if a[1].null {
			return "", nil
		}
		doc := []byte(a[1].s)
		if !json.Valid(doc) {
			return "", errors.New("JSON source does not parse")
		}
		wantArray := len(a) > 2 && strings.EqualFold(a[2].str(), "true")
		return jp.Render(doc, wantArray), nil
	}})
}
