package projects

import (
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine"
)

// codeCaseMismatch is the FLAT error code of a request whose path matches
// a project's base path only when letter case is ignored.
const codeCaseMismatch = 3213

// underBaseFold is underBase ignoring ASCII and Unicode simple case
// folding, and false when underBase is true.
func underBaseFold(path, base string) bool {
	if len(path) < len(base) || !strings.EqualFold(path[:len(base)], base) || strings.HasPrefix(path, base) {
		return false
	}
	rest := path[len(base):]
	return rest == "" || rest[0] == '/' || rest[0] == '?'
}

// caseOnly reports whether path lies under none of bases but under one of
// them when case is ignored.
func caseOnly(bases []string, path string) bool {
	fold := false
	for _, b := range bases {
		if b == "" || underBase(path, b) {
			return false
		}
		fold = fold || underBaseFold(path, b)
	}
	return fold
}

// caseMismatch answers 400 for a path that matches a base path of project
// name only when letter case is ignored.
type caseMismatch struct {
	name string
}

func (c caseMismatch) Run(_ context.Context, req *flowengine.Request, _ flowengine.Host) *flowengine.Outcome {
	var b bytes.Buffer
	b.WriteString(`{"error":{"message":"Path differs from the API base path in letter case","status":400,"requestID":`)
	writeJSONString(&b, req.ID)
	b.WriteString(`,"info":["Request paths are case-sensitive."],"code":3213}}`)
	return &flowengine.Outcome{
		Kind: flowengine.Answered,
		Mutation: flowengine.Mutation{
			Status:     400,
			SetHeaders: []flowengine.Header{{Name: "content-type", Value: "application/json"}},
			Body:       b.Bytes(),
			BodySet:    true,
		},
		Project:   c.name,
		Error:     strconv.Itoa(codeCaseMismatch),
		RequestID: req.ID,
	}
}
