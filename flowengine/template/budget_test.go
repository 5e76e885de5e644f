package template

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

type varScope map[string]expr.Value

func (s varScope) Var(name string) (expr.Value, bool) { v, ok := s[name]; return v, ok }

func TestBudget(t *testing.T) {
	doc, err := oxn.Parse([]byte("["+strings.TrimSuffix(strings.Repeat(`"0123456789",`, 5000), ",")+"]"), 64)
	if err != nil {
		t.Fatal(err)
	}
	items := expr.NodeSet{doc.FirstElement()}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		src    string
		ctx    context.Context
		limits budget.Limits
		check  func(error) bool
	}{
		{"loop over output budget", `[{{loop $items}}{{.}}{{end}}]`, context.Background(), budget.Limits{OutputBytes: 1000},
			func(err error) bool {
				var ee *budget.ExceededError
				return errors.As(err, &ee) && ee.Kind == budget.KindOutput
			}},
		{"final output over budget", `{"a": {{ $s }} }`, context.Background(), budget.Limits{OutputBytes: 10},
			func(err error) bool {
				var ee *budget.ExceededError
				return errors.As(err, &ee) && ee.Kind == budget.KindOutput
			}},
		{"cancelled budget stops a loop", `[{{loop $items}}{{.}}{{end}}]`, cancelled, budget.Limits{},
			func(err error) bool { return errors.Is(err, context.Canceled) }},
		{"within budget", `[{{loop $items}}{{.}}{{end}}]`, context.Background(), budget.Limits{},
			func(err error) bool { return err == nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			var b budget.Budget
			b.Reset(tt.ctx, tt.limits)
			var w bytes.Buffer
			err = tp.Execute(&expr.Context{Scope: varScope{"items": items, "s": strings.Repeat("x", 50)}, Budget: &b}, &w)
			if !tt.check(err) {
				t.Fatalf("err = %v", err)
			}
			if err != nil && w.Len() != 0 {
				t.Fatalf("output not truncated on error: %d bytes", w.Len())
			}
			if err == nil {
				if _, _, _, out := b.Used(); out != int64(w.Len()) {
					t.Fatalf("charged %d bytes, wrote %d", out, w.Len())
				}
			}
		})
	}
}
