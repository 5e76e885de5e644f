package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/expr"
	"github.com/flowproc/flowproc/flowengine/oxn"
	"github.com/flowproc/flowproc/flowengine/template"
)

func init() {
	register(&command{
		name:    "eval",
		summary: "evaluate an XPath expression (or a template with -t) against a JSON or XML input file",
		run:     runEval,
	})
	register(&command{
		name:    "check-template",
		summary: "check a JSON template file's syntax; errors as file:line:col: CODE: message",
		run:     runCheckTemplate,
	})
}

// runEval is `flowproc eval [-in FILE] EXPR` or `flowproc eval -t [-in
// FILE] TEMPLATE_FILE`: the input (JSON as OXN, or XML) is the context
// node and $input; the result is printed as a flow would render it.
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "JSON or XML input `FILE` (the context node and $input)")
	tmpl := fs.Bool("t", false, "the argument is a template file, not an expression")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: flowproc eval [-in FILE] EXPRESSION\n       flowproc eval -t [-in FILE] TEMPLATE_FILE")
		fs.PrintDefaults()
	}
	if err := parseInterspersed(fs, args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	var node *dom.Node
	dir, _ := os.Getwd()
	if *in != "" {
		data, err := os.ReadFile(*in)
		if err != nil {
			fmt.Fprintln(stderr, "flowproc eval:", err)
			return 1
		}
		doc, err := oxn.Parse(data, 512)
		if err != nil {
			if doc, err = dom.ParseXML(data, 0); err != nil {
				fmt.Fprintf(stderr, "flowproc eval: %s is neither JSON nor XML\n", *in)
				return 1
			}
		}
		node = doc.FirstElement()
		dir = filepath.Dir(*in)
	}
	var b budget.Budget
	b.Reset(ctx, budget.Limits{})
	ec := &expr.Context{Ctx: ctx, Node: node, Dir: dir, Budget: &b, Scope: inputScope{node}}
	if *tmpl {
		src, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			fmt.Fprintln(stderr, "flowproc eval:", err)
			return 1
		}
		t, err := template.Parse(string(src))
		if err != nil {
			fmt.Fprintln(stderr, posDiag(fs.Arg(0), err, diag.TemplateSyntax))
			return 1
		}
		var out bytes.Buffer
		if err := t.Execute(ec, &out); err != nil {
			fmt.Fprintln(stderr, "flowproc eval:", err)
			return 1
		}
		fmt.Fprintln(stdout, string(bytes.TrimSpace(out.Bytes())))
		return 0
	}
	x, err := expr.Compile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, posDiag("expression", err, diag.XPathSyntax))
		return 1
	}
	v, err := x.Eval(ec)
	if err != nil {
		fmt.Fprintln(stderr, "flowproc eval:", err)
		return 1
	}
	fmt.Fprintln(stdout, render(v))
	return 0
}

// inputScope makes the input file $input.
type inputScope struct{ n *dom.Node }

func (s inputScope) Var(name string) (expr.Value, bool) {
	if name == "input" && s.n != nil {
		return expr.NodeSet{s.n}, true
	}
	return nil, false
}

// render prints a value: JSON nodes as JSON, XML as XML, scalars as text.
func render(v expr.Value) string {
	ns, ok := v.(expr.NodeSet)
	if !ok {
		return expr.String(v)
	}
	var b bytes.Buffer
	for i, n := range ns {
		if i > 0 {
			b.WriteByte('\n')
		}
		if n.Type == dom.DocumentNode {
			n = n.FirstElement()
		}
		if n == nil {
			continue
		}
		if oxn.TypeOf(n) != oxn.Untyped && oxn.Write(&b, n) == nil {
			continue
		}
		if n.Type == dom.ElementNode {
			dom.WriteXML(&b, n)
		} else {
			b.WriteString(n.StringValue())
		}
	}
	return b.String()
}

// runCheckTemplate is FLAT's check-template: it parses a template file.
func runCheckTemplate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-template", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "Usage: flowproc check-template FILE...") }
	if err := parseInterspersed(fs, args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	bad := 0
	for _, file := range fs.Args() {
		src, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(stdout, file+":", err)
			bad++
			continue
		}
		if _, err := template.Parse(string(src)); err != nil {
			fmt.Fprintln(stdout, posDiag(file, err, diag.TemplateSyntax))
			bad++
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", file)
	}
	if bad > 0 {
		return 1
	}
	return 0
}

// posDiag formats a positioned parse error as file:line:col: CODE: message.
func posDiag(file string, err error, code diag.Code) string {
	var pe *diag.PosError
	if errors.As(err, &pe) {
		if pe.Code != "" {
			code = pe.Code
		}
		line := max(pe.Line, 1)
		return diag.Errorf(file, line, pe.Col, code, "%s", pe.Msg).Error()
	}
	return diag.Errorf(file, 0, 0, code, "%v", err).Error()
}
