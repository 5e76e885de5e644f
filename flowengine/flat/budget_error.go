package flat

import (
	"errors"

	"github.com/flowproc/flowproc/flowengine/budget"
)

// Stable FLAT error codes of exceeded run limits (docs/errors.md).
const (
	codeStepsExceeded   = 5010
	codeRegexExceeded   = 5011
	codeDecodedExceeded = 5012
	codeOutputExceeded  = 5013
)

// budgetError maps a *budget.ExceededError in err's chain to its FLAT
// error: 413 for decoded bytes (the client sent data that expands beyond
// the limit), 500 for steps, regex work and output (the flow does too much
// work). It returns nil for any other error. The info names only the
// limit, never the data.
func budgetError(err error) *flowError {
	var ee *budget.ExceededError
	if !errors.As(err, &ee) {
		return nil
	}
	fe := &flowError{status: 500, message: "Run limit exceeded", info: []string{ee.Error()}, cause: err}
	switch ee.Kind {
	case budget.KindSteps:
		fe.code = codeStepsExceeded
	case budget.KindRegex:
		fe.code = codeRegexExceeded
	case budget.KindDecoded:
		fe.status, fe.code, fe.message = 413, codeDecodedExceeded, "Request Entity Too Large"
	case budget.KindOutput:
		fe.code = codeOutputExceeded
	default:
		fe.code = 5000
	}
	return fe
}
