package oasvalidate

import (
	"fmt"
	"strings"
)

// Mode is how one direction (request or response) is validated.
type Mode uint8

// Modes. The zero value is Off, FLAT's default (FLAT docs: request validation).
const (
	// Off: no schema checks (paths must still exist; routing checks that).
	Off Mode = iota
	// On: a violation ends the request with FLAT's system error document.
	On
	// ReportOnly: a violation is reported (flat_alert) but the request goes on.
	ReportOnly
)

// String returns the mode as written in x-flat-validate.
func (m Mode) String() string {
	switch m {
	case Off:
		return "false"
	case On:
		return "true"
	case ReportOnly:
		return "report-only"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// setting is one level's x-flat-validate: each direction is set or
// inherited from the less specific level.
type setting struct {
	req, resp       Mode
	hasReq, hasResp bool
}

// over returns s applied over the less specific setting base.
func (s setting) over(base setting) setting {
	out := base
	if s.hasReq {
		out.req, out.hasReq = s.req, true
	}
	if s.hasResp {
		out.resp, out.hasResp = s.resp, true
	}
	return out
}

// parseSetting reads an x-flat-validate value as kin-openapi decoded it
// (JSON types): true, false or "report-only" set both directions; an
// object {request, response} sets the directions it names. Anything else
// is an error (fail closed: an unknown key could be a misspelt switch).
func parseSetting(v any) (setting, error) {
	if m, ok := v.(map[string]any); ok {
		var s setting
		for k, x := range m {
			mode, err := ParseMode(x)
			if err != nil {
				return setting{}, fmt.Errorf("%s: %w", k, err)
			}
			switch k {
			case "request":
				s.req, s.hasReq = mode, true
			case "response":
				s.resp, s.hasResp = mode, true
			default:
				return setting{}, fmt.Errorf("unknown key %q (known: request, response)", k)
			}
		}
		return s, nil
	}
	mode, err := ParseMode(v)
	if err != nil {
		return setting{}, err
	}
	return setting{req: mode, resp: mode, hasReq: true, hasResp: true}, nil
}

// ParseMode reads one switch: a boolean, "true", "false" or "report-only"
// (case-insensitive). FLAT uses the same switch for x-flat-validate and for
// the validate-* options of side calls.
func ParseMode(v any) (Mode, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return On, nil
		}
		return Off, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			return On, nil
		case "false":
			return Off, nil
		case "report-only":
			return ReportOnly, nil
		}
		return Off, fmt.Errorf("invalid value %q (want true, false or report-only)", x)
	case nil:
		return Off, fmt.Errorf("missing value (want true, false or report-only)")
	}
	return Off, fmt.Errorf("invalid value of type %T (want true, false or report-only)", v)
}
