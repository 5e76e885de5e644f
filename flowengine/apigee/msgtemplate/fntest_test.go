package msgtemplate

import (
	"errors"
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

// fnCase is one row of a template-function table test: the template, the
// variables, and the wanted output, or the wanted load (MT0xx) or
// execution (MT1xx) error code.
type fnCase struct {
	tmpl string
	vars flowvar.Map
	want string
	err  string
}

func runFnCases(t *testing.T, cases []fnCase) {
	t.Helper()
	for _, tc := range cases {
		tp, err := Parse(tc.tmpl, 0, 0)
		if err != nil {
			var pe *Error
			if tc.err == "" || !errors.As(err, &pe) || pe.Code != tc.err {
				t.Errorf("Parse(%q) = %v, want error %q", tc.tmpl, err, tc.err)
			}
			continue
		}
		got, _, err := tp.String(tc.vars)
		if err != nil {
			var ee *ExecError
			if tc.err == "" || !errors.As(err, &ee) || ee.Code != tc.err {
				t.Errorf("%q: error %v, want %q", tc.tmpl, err, tc.err)
			}
			continue
		}
		if tc.err != "" {
			t.Errorf("%q = %q, want error %s", tc.tmpl, got, tc.err)
			continue
		}
		if got != tc.want {
			t.Errorf("%q = %q, want %q", tc.tmpl, got, tc.want)
		}
	}
}
