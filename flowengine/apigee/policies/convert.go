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
// (Apigee docs: JSONToXML, XMLToJSON and XSL).
//
// Relied on: Apigee's runtime-error pages for both policies
// (docs.apigee.com/api-platform/troubleshoot/policies/runtime/
// jsontoxml-runtime-errors and xmltojson-runtime-errors), which give the
// fault codes as steps.json2xml.* and steps.xml2json.* (the failed flag
// stays jsontoxml.<policy>.failed / xmltojson.<policy>.failed) and the
// fault strings quoted below:
//   - Source defaults to "message"; a message source is converted only
//     when its Content-Type is XML (XMLToJSON) or JSON (JSONToXML),
//     otherwise the policy is skipped. A string variable is converted
//     whatever it holds.
//   - An unresolvable Source is SourceUnavailable ("<Type>[<policy>]:
//     Source <src> is not available"); a Source of another type is
//     InvalidSourceType ("<Type>[class java.lang.Integer]: Invalid source
//     type class java.lang.Integer. Valid source types are [message,
//     string]." — Apigee puts the class where the policy name goes).
//   - OutputVariable defaults to the Source when that is a message (the
//     message's content and Content-Type are replaced); a string Source
//     needs one (OutputVariableIsNotAvailable). A message converted into
//     an existing string variable, or a string into a message, is
//     InCompatibleTypes ("String can not be assigned to message type."). A
//     new name gets a new message (message source) or a string (string
//     source).
//   - Empty or malformed input is ExecutionFailed ("JSONToXML[<policy>]:
//     Execution failed due to reason: Expecting { or [ at line 1",
//     "XMLToJSON[<policy>]: Execution failed. reason: Premature end of
//     document while parsing at line 1(possibly  around char 0)"). All
//     faults have status 500.
type conversion struct {
	typ, prefix    string // "XMLToJSON", "xml2json" (the fault code prefix)
	policy         string
	source, output string
	inKind         string // "xml" or "json": the Content-Type the input needs
	outCT          string
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
			return cv.fault("InCompatibleTypes", "String can not be assigned to message type.")
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
		class := javaClass(v)
		return engine.NewFault(cv.prefix, "InvalidSourceType", 500, "%s[%s]: Invalid source type %s. Valid source types are [message, string].", cv.typ, class, class)
	}
	if cv.output == "" {
		return cv.fault("OutputVariableIsNotAvailable", "Output variable is not available.")
	}
	if m, ok := r.Message(cv.output); ok && m != nil {
		return cv.fault("InCompatibleTypes", "String can not be assigned to message type.")
	}
	out, err := cv.do(r, []byte(s))
	if err != nil {
		return err
	}
	return r.Set(cv.output, string(out))
}

// do converts in, bounded by the body limit and charged to the budget.
func (cv *conversion) do(r *engine.Run, in []byte) ([]byte, error) {
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

// javaClass names v's type as Apigee's Java runtime would ("class
// java.lang.Integer").
func javaClass(v any) string {
	switch v.(type) {
	case bool:
		return "class java.lang.Boolean"
	case int, int32, int16, int8, uint8, uint16:
		return "class java.lang.Integer"
	case int64, uint32, uint64, uint:
		return "class java.lang.Long"
	case float32:
		return "class java.lang.Float"
	case float64:
		return "class java.lang.Double"
	}
	return fmt.Sprintf("class %T", v)
}
