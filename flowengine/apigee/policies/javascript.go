package policies

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// The JavaScript policy (<Javascript>) runs a script against the exchange
// through Apigee's JavaScript object model (javascript_model.go).
//
// Every script (IncludeURL files in order, then ResourceURL or the inline
// Source) is compiled once at load; a syntax error is a load error naming
// file:line:col. Each execution gets a fresh goja.Runtime: a reused
// runtime would carry globals and changes to built-in prototypes from one
// request into the next, and deleting new globals cannot undo the latter
// (BenchmarkJavascript measures both ways; see the report in the commit
// log). The per-run Go state is pooled.
//
// Sources: Apigee JavaScript policy and JavaScript object model reference
// pages (docs.apigee.com / cloud.google.com api-platform/reference), and the
// JavaScript runtime error playbook for the fault string
// `Execution of <policy> failed with error: Javascript runtime error:
// "<Type>Error: <message>. (<file>:<line>)"` (steps.javascript.ScriptExecutionFailed, 500).

func init() {
	engine.Register(engine.Kind{Type: "Javascript", Prefix: "javascript", New: newJavascript, Recyclable: true})
}

// defaultJSTimeLimit applies when the policy has no timeLimit attribute.
// Apigee's reference lists the attribute as required with no default, yet
// Edge deploys policies without it; 200 ms is the value Apigee's proxy
// editor writes into new JavaScript policies.
const defaultJSTimeLimit = 200 * time.Millisecond

// maxJSTimeLimit bounds timeLimit: a script never holds a run longer than
// this (the run's own time budget may cut it further).
const maxJSTimeLimit = 60 * time.Second

// jsMaxCallStack bounds recursion depth so a runaway recursion ends in a
// RangeError rather than exhausting the goroutine stack.
const jsMaxCallStack = 4096

// reuseJSRuntimes switches executions to pooled runtimes whose new globals
// are deleted after each run. It stays false in production (built-in
// prototypes modified by one request would leak into the next); the
// benchmark flips it to measure what reuse would save.
var reuseJSRuntimes = false

type jsScript struct {
	file string
	prog *goja.Program
}

type javascript struct {
	name      string
	scripts   []jsScript // includes in order, then the main script
	timeLimit time.Duration
	props     [][2]string
	vms       sync.Pool // *goja.Runtime, only when reuseJSRuntimes
}

func newJavascript(c *engine.Compiler, p *bundle.Policy) engine.Policy {
	n := p.Root
	c.Unknown(n, "DisplayName", "Description", "ResourceURL", "IncludeURL", "Source", "Properties")
	j := &javascript{name: p.Name, timeLimit: defaultJSTimeLimit}
	ok := true
	if s, has := n.Attr("timeLimit"); has {
		ms, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || ms <= 0 {
			c.Errorf(n, diag.APBadPolicy, "timeLimit %q: want a positive number of milliseconds", s)
			ok = false
		} else {
			j.timeLimit = min(time.Duration(ms)*time.Millisecond, maxJSTimeLimit)
		}
	}
	for _, ch := range n.Children {
		if ch.Name != "IncludeURL" {
			continue
		}
		if s, good := compileJSResource(c, ch); good {
			j.scripts = append(j.scripts, s)
		} else {
			ok = false
		}
	}
	res, src := n.Child("ResourceURL"), n.Child("Source")
	switch {
	case res != nil && src != nil:
		c.Errorf(src, diag.APBadPolicy, "Javascript has both <ResourceURL> and <Source>; use one")
		ok = false
	case res != nil:
		if s, good := compileJSResource(c, res); good {
			j.scripts = append(j.scripts, s)
		} else {
			ok = false
		}
	case src != nil:
		file := p.Name + ".js"
		if s, good := compileJS(c, src, file, src.Text); good {
			j.scripts = append(j.scripts, s)
		} else {
			ok = false
		}
	default:
		c.Errorf(n, diag.APMissingElement, "Javascript needs <ResourceURL> or <Source>")
		ok = false
	}
	if props := n.Child("Properties"); props != nil {
		c.Unknown(props, "Property")
		for _, pr := range props.Children {
			if pr.Name != "Property" {
				continue
			}
			name, has := pr.Attr("name")
			if !has || name == "" {
				c.Errorf(pr, diag.APMissingElement, "<Property> needs a name attribute")
				ok = false
				continue
			}
			j.props = append(j.props, [2]string{name, pr.Text})
		}
	}
	if !ok {
		return nil
	}
	return j
}

// compileJSResource reads a jsc:// resource named in n and compiles it.
func compileJSResource(c *engine.Compiler, n *bundle.Node) (jsScript, bool) {
	ref := strings.TrimSpace(n.Text)
	if !strings.HasPrefix(ref, "jsc://") {
		c.Errorf(n, diag.APBadPolicy, "<%s> %q: want jsc://<file>.js", n.Name, ref)
		return jsScript{}, false
	}
	b, ok := c.Resource(n, ref)
	if !ok {
		return jsScript{}, false
	}
	return compileJS(c, n, strings.TrimPrefix(ref, "jsc://"), string(b))
}

// compileJS compiles one script; a syntax error is reported with the
// script's file:line:col.
func compileJS(c *engine.Compiler, n *bundle.Node, file, src string) (jsScript, bool) {
	ast, err := parser.ParseFile(nil, file, src, 0)
	var prog *goja.Program
	if err == nil {
		prog, err = goja.CompileAST(ast, false)
	}
	if err != nil {
		c.Errorf(n, diag.APBadPolicy, "JavaScript %s", jsSyntaxError(file, err))
		return jsScript{}, false
	}
	return jsScript{file: file, prog: prog}, true
}

// jsSyntaxError renders a compile error as "file:line:col: message".
func jsSyntaxError(file string, err error) string {
	var list parser.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		e := list[0]
		return fmt.Sprintf("%s:%d:%d: syntax error: %s", file, e.Position.Line, e.Position.Column, e.Message)
	}
	var pe *parser.Error
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s:%d:%d: syntax error: %s", file, pe.Position.Line, pe.Position.Column, pe.Message)
	}
	var se *goja.CompilerSyntaxError
	if errors.As(err, &se) && se.File != nil {
		pos := se.File.Position(se.Offset)
		return fmt.Sprintf("%s:%d:%d: syntax error: %s", file, pos.Line, pos.Column, se.Message)
	}
	return fmt.Sprintf("%s: %v", file, err)
}

// errJSTimeLimit interrupts a script that ran past its timeLimit.
var errJSTimeLimit = errors.New("script exceeded its timeLimit")

// jsCancelled carries the run context's error into an interrupt.
type jsCancelled struct{ err error }

// Execute runs the scripts in order in one runtime.
func (j *javascript) Execute(r *engine.Run) (err error) {
	defer func() {
		if v := recover(); v != nil {
			// A bug in the object model: the panic is logged with the fault
			// (Err), never sent to the client.
			f := engine.NewFault("javascript", "ScriptExecutionFailed", 500,
				"Execution of %s failed with error: Javascript runtime error: \"InternalError: internal error\"", j.name)
			f.Err = fmt.Errorf("panic: %v", v)
			err = f
		}
	}()
	if reuseJSRuntimes {
		// A pooled runtime keeps closures over this execution's objects.
		r.Keep()
	}
	if err := r.Ctx().Err(); err != nil {
		return err
	}
	vm := j.runtime()
	jr := newJSRun(j, r, vm)
	defer jr.release()
	if err := jr.install(); err != nil {
		return err
	}

	limit := j.timeLimit
	if left, ok := r.Budget().Remaining(); ok && left < limit {
		limit = left
	}
	deadline := time.Now().Add(limit)
	jr.deadline, jr.limit = deadline, limit
	failedIn, runErr := j.run(vm, r, limit)
	if runErr == nil && jr.err == nil {
		j.recycle(vm, jr)
		return nil
	}
	// A runtime that failed is never reused.
	if jr.err != nil {
		// A Go-side failure (budget, cancellation) recorded by the object
		// model wins over the JavaScript error it was turned into.
		return jr.err
	}
	return j.fault(runErr, failedIn, limit)
}

// run runs the scripts in order under the time limit, the run's context
// and the memory watchdog; it returns the file of the first error and the
// error.
func (j *javascript) run(vm *goja.Runtime, r *engine.Run, limit time.Duration) (string, error) {
	timer := time.AfterFunc(limit, func() { vm.Interrupt(errJSTimeLimit) })
	defer timer.Stop()
	// The callback may still run after Execute returned (stopCtx does not
	// wait for one that started): it reads the context, never the run,
	// which may serve another exchange by then.
	ctx := r.Ctx()
	stopCtx := context.AfterFunc(ctx, func() { vm.Interrupt(jsCancelled{ctx.Err()}) })
	defer stopCtx()
	defer watchMemory(vm)()
	for _, s := range j.scripts {
		if _, err := vm.RunProgram(s.prog); err != nil {
			return s.file, err
		}
	}
	return "", nil
}

// runtime returns a runtime for one execution.
func (j *javascript) runtime() *goja.Runtime {
	if reuseJSRuntimes {
		if vm, ok := j.vms.Get().(*goja.Runtime); ok {
			return vm
		}
	}
	vm := goja.New()
	vm.SetMaxCallStackSize(jsMaxCallStack)
	return vm
}

// recycle returns a runtime that ran cleanly to the pool (reuse mode only),
// after deleting the globals the run added.
func (j *javascript) recycle(vm *goja.Runtime, jr *jsRun) {
	if !reuseJSRuntimes {
		return
	}
	g := vm.GlobalObject()
	for _, k := range g.Keys() {
		if _, base := jsBaseGlobals[k]; !base {
			if g.Delete(k) != nil {
				// Declared with var: not deletable.
				_ = g.Set(k, goja.Undefined())
			}
		}
	}
	vm.ClearInterrupt()
	j.vms.Put(vm)
}

// jsBaseGlobals are the enumerable globals the object model installs;
// reuse mode deletes every other enumerable global after a run.
var jsBaseGlobals = map[string]struct{}{
	"context": {}, "request": {}, "response": {}, "properties": {}, "crypto": {},
	"print": {}, "console": {}, "httpClient": {}, "Request": {},
}

// fault turns a script failure into Apigee's ScriptExecutionFailed fault,
// or returns the run's cancellation.
func (j *javascript) fault(err error, file string, limit time.Duration) error {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		switch v := ie.Value().(type) {
		case jsCancelled:
			return fmt.Errorf("javascript %s: %w", j.name, v.err)
		case error:
			if errors.Is(v, errJSTimeLimit) {
				// Apigee's exact timeout string is not documented; the
				// fault name and prefix are the playbook's. limit is below
				// timeLimit when the run's own time was nearly up.
				return engine.NewFault("javascript", "ScriptExecutionFailed", 500,
					"Execution of %s failed with error: Javascript runtime error: \"Script execution exceeded timeLimit of %d ms. (%s)\"",
					j.name, limit.Milliseconds(), jsWhere(ie.Stack(), file))
			}
			if errors.Is(v, errJSMemory) {
				return engine.NewFault("javascript", "ScriptExecutionFailed", 500,
					"Execution of %s failed with error: Javascript runtime error: \"InternalError: script memory limit exceeded. (%s)\"",
					j.name, jsWhere(ie.Stack(), file))
			}
		}
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return engine.NewFault("javascript", "ScriptExecutionFailed", 500,
			"Execution of %s failed with error: Javascript runtime error: \"%s. (%s)\"",
			j.name, jsErrorText(ex), jsWhere(ex.Stack(), file))
	}
	var se *goja.StackOverflowError
	if errors.As(err, &se) {
		return engine.NewFault("javascript", "ScriptExecutionFailed", 500,
			"Execution of %s failed with error: Javascript runtime error: \"InternalError: too much recursion. (%s)\"", j.name, file)
	}
	return engine.NewFault("javascript", "ScriptExecutionFailed", 500,
		"Execution of %s failed with error: Javascript runtime error: \"%v. (%s)\"", j.name, err, file)
}

// jsErrorText is "<Type>Error: <message>" for Error objects and the
// thrown value's string form otherwise.
func jsErrorText(ex *goja.Exception) string {
	v := ex.Value()
	if o, ok := v.(*goja.Object); ok {
		name, msg := o.Get("name"), o.Get("message")
		if name != nil && !goja.IsUndefined(name) && msg != nil && !goja.IsUndefined(msg) {
			return strings.TrimSuffix(name.String()+": "+msg.String(), ".")
		}
	}
	if v == nil {
		return "undefined"
	}
	return strings.TrimSuffix(v.String(), ".")
}

// jsWhere is "<file>:<line>" of the innermost script frame.
func jsWhere(stack []goja.StackFrame, file string) string {
	for i := range stack {
		pos := stack[i].Position()
		if pos.Filename != "" && pos.Line > 0 {
			return pos.Filename + ":" + strconv.Itoa(pos.Line)
		}
	}
	return file
}
