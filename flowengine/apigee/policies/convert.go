package policies

import (
	"errors"
	"fmt"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/jsonxml"
	"github.com/flowproc/flowproc/flowengine/budget"
)

// conversion is what XMLToJSON and JSONToXML share: Source and
// OutputVariable handling, content-type gating, faults and output bounds
// (reference/apigee.md §4.8).
//
// Relied on [Apigee's XMLToJSON/JSONToXML references and runtime-error
// pages; InCompatibleType(s) spelling and faultstrings from memory of
// those pages]:
//   - Source defaults to "message"; a message source is converted only
//     when its Content-Type is XML (XMLToJSON) or JSON (JSONToXML),
//     otherwise the policy does nothing. A string variable is converted
//     whatever it holds.
//   - An unresolvable Source is SourceUnavailable ("<Type>[<policy>]:
//     Source <src> is not available"); a Source of another type is
//     InvalidSourceType.
//   - OutputVariable defaults to the Source when that is a message (the
//     message's content and Content-Type are replaced); a string Source
//     needs one (OutputVariableIsNotAvailable). A message converted into
//     an existing string variable, or a string into a message, is
//     InCompatibleType(s). A new name gets a new message (message source)
//     or a string (string source).
//   - Empty or malformed input is ExecutionFailed, status 500.
type conversion struct {
	typ, prefix    string // "XMLToJSON", "xmltojson"
	policy         string
	source, output string
	inKind         string // "xml" or "json": the Content-Type the input needs
	outCT          string
	incompatible   string // fault name for mismatched Source/Output types
	failedFmt      string // ExecutionFailed faultstring after "<Type>[<policy>]: "
	convert        func(in []byte, limit int64) ([]byte, error)
}

func (cv *conversion) fault(name, format string, args ...any) *engine.Fault {
	return engine.NewFault(cv.prefix, name, 500, "%s[%s]: %s", cv.typ, cv.policy, fmt.Sprintf(format, args...))
}

func (cv *conversion) run(r *engine.Run) error {
	src := cv.source
	if m, ok := r.Message(src); ok && m != nil {
		ct, _ := m.Header("content-type")
		if !contentTypeIs(ct, cv.inKind) {
			return nil // Apigee skips a message of another type
		}
		in, err := m.Content()
		if err != nil {
			return fmt.Errorf("%s %s: reading %s: %w", cv.typ, cv.policy, src, err)
		}
		out, err := cv.do(r, in)
		if err != nil {
			return err
		}
		name := cv.output
		if name == "" {
			name = src
		}
		if dst, ok := r.Message(name); ok && dst != nil {
			dst.SetContent(out)
			dst.SetHeader("Content-Type", cv.outCT)
			return nil
		}
		if v, ok := r.Lookup(name); ok && v != nil {
			return cv.fault(cv.incompatible, "String can not be assigned to message type.")
		}
		nm, err := m.Clone()
		if err != nil {
			return fmt.Errorf("%s %s: %w", cv.typ, cv.policy, err)
		}
		nm.SetContent(out)
		nm.SetHeader("Content-Type", cv.outCT)
		r.SetMessage(name, nm)
		return nil
	}
	v, ok := r.Lookup(src)
	if !ok || v == nil {
		return cv.fault("SourceUnavailable", "Source %s is not available", src)
	}
	s, isString := v.(string)
	if !isString {
		return cv.fault("InvalidSourceType", "Invalid source type %T. Valid source types are [message, string].", v)
	}
	if cv.output == "" {
		return cv.fault("OutputVariableIsNotAvailable", "Output variable is not available.")
	}
	if m, ok := r.Message(cv.output); ok && m != nil {
		return cv.fault(cv.incompatible, "String can not be assigned to message type.")
	}
	out, err := cv.do(r, []byte(s))
	if err != nil {
		return err
	}
	return r.Set(cv.output, string(out))
}

// do converts in, bounded by the body limit and charged to the budget.
func (cv *conversion) do(r *engine.Run, in []byte) ([]byte, error) {
	if strings.TrimSpace(string(in)) == "" {
		return nil, cv.fault("ExecutionFailed", cv.failedFmt, "empty input")
	}
	limit := r.MaxBodyBytes()
	if limit <= 0 {
		limit = budget.DefaultOutputBytes
	}
	out, err := cv.convert(in, limit)
	if err != nil {
		f := cv.fault("ExecutionFailed", cv.failedFmt, err)
		if errors.Is(err, jsonxml.ErrTooLarge) {
			f = cv.fault("ExecutionFailed", cv.failedFmt, fmt.Sprintf("output larger than %d bytes", limit))
		}
		f.Err = err
		return nil, f
	}
	if err := r.Budget().Output(int64(len(out))); err != nil {
		return nil, err
	}
	return out, nil
}

// compileConversionCommon reads Source and OutputVariable.
func compileSourceOutput(cv *conversion, srcText, outText string) {
	cv.source = strings.TrimSpace(srcText)
	if cv.source == "" {
		cv.source = "message"
	}
	cv.output = strings.TrimSpace(outText)
}
