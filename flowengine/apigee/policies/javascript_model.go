package policies

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
	"github.com/flowproc/flowproc/flowengine/budget"
)

// This file is Apigee's JavaScript object model on goja: context (flow
// variables, the four flow messages, flow, session), the request and
// response shortcuts, properties, print, crypto (javascript_crypto.go) and
// httpClient with Request (javascript_http.go). Scripts get no other host
// access: goja has no require, load, file or network builtins and none are
// added.

// jsSessionVar holds context.session for the rest of the exchange (it is
// shared by every JavaScript policy of one run, as in Apigee).
const jsSessionVar = "flowproc.javascript.session"

// jsSession is the Go side of context.session; values are exported
// JavaScript values so they survive from one runtime to the next.
type jsSession struct{ m map[string]any }

// String keeps the session out of templates and traces.
func (s *jsSession) String() string { return "[object Session]" }

// jsRun is the state of one execution.
type jsRun struct {
	j        *javascript
	r        *engine.Run
	vm       *goja.Runtime
	wrapped  map[*engine.Message]*goja.Object
	msgOf    map[*goja.Object]*engine.Message
	err      error // a Go-side failure that must end the run
	deadline time.Time
	limit    time.Duration // the execution's time limit
}

var jsRunPool = sync.Pool{New: func() any {
	return &jsRun{wrapped: map[*engine.Message]*goja.Object{}, msgOf: map[*goja.Object]*engine.Message{}}
}}

func newJSRun(j *javascript, r *engine.Run, vm *goja.Runtime) *jsRun {
	jr := jsRunPool.Get().(*jsRun)
	jr.j, jr.r, jr.vm = j, r, vm
	return jr
}

func (jr *jsRun) release() {
	clear(jr.wrapped)
	clear(jr.msgOf)
	jr.j, jr.r, jr.vm, jr.err, jr.deadline, jr.limit = nil, nil, nil, nil, time.Time{}, 0
	jsRunPool.Put(jr)
}

// throw raises a JavaScript TypeError from Go.
func (jr *jsRun) throw(format string, args ...any) {
	panic(jr.vm.NewTypeError(fmt.Sprintf(format, args...)))
}

// fail records a Go-side failure (budget exceeded) and aborts the script;
// a script that catches the exception still fails.
func (jr *jsRun) fail(err error) {
	if jr.err == nil {
		jr.err = err
	}
	panic(jr.vm.NewGoError(err))
}

// charge counts n bytes a script produced against the run's output budget.
func (jr *jsRun) charge(n int) {
	if err := jr.r.Budget().Output(int64(n)); err != nil {
		jr.fail(err)
	}
}

func (jr *jsRun) fn(f func(goja.FunctionCall) goja.Value) goja.Value { return jr.vm.ToValue(f) }

// accessor defines a getter (and setter, when set is non-nil) on o.
func (jr *jsRun) accessor(o *goja.Object, name string, get func() goja.Value, set func(goja.Value)) {
	g := jr.fn(func(goja.FunctionCall) goja.Value { return get() })
	var s goja.Value
	if set != nil {
		s = jr.fn(func(c goja.FunctionCall) goja.Value { set(c.Argument(0)); return goja.Undefined() })
	}
	_ = o.DefineAccessorProperty(name, g, s, goja.FLAG_FALSE, goja.FLAG_TRUE)
}

// jsLazy is a host object whose members are built on first access, so an
// execution pays only for the parts of the object model it uses. Scripts
// may add, replace and delete members.
type jsLazy struct {
	names []string
	build func(name string) goja.Value
	vals  map[string]goja.Value
	gone  map[string]bool
}

func (l *jsLazy) member(k string) bool {
	for _, n := range l.names {
		if n == k {
			return !l.gone[k]
		}
	}
	return false
}

func (l *jsLazy) Get(k string) goja.Value {
	if v, ok := l.vals[k]; ok {
		return v
	}
	if !l.member(k) {
		return nil
	}
	v := l.build(k)
	l.Set(k, v)
	return v
}

func (l *jsLazy) Set(k string, v goja.Value) bool {
	if l.vals == nil {
		l.vals = make(map[string]goja.Value, 4)
	}
	l.vals[k] = v
	return true
}

func (l *jsLazy) Has(k string) bool {
	_, ok := l.vals[k]
	return ok || l.member(k)
}

func (l *jsLazy) Delete(k string) bool {
	delete(l.vals, k)
	if l.member(k) {
		if l.gone == nil {
			l.gone = map[string]bool{}
		}
		l.gone[k] = true
	}
	return true
}

func (l *jsLazy) Keys() []string {
	out := make([]string, 0, len(l.names)+len(l.vals))
	for _, n := range l.names {
		if !l.gone[n] {
			out = append(out, n)
		}
	}
	for k := range l.vals {
		if !l.member(k) {
			out = append(out, k)
		}
	}
	return out
}

func (jr *jsRun) lazy(build func(string) goja.Value, names ...string) *goja.Object {
	return jr.vm.NewDynamicObject(&jsLazy{names: names, build: build})
}

var jsContextMembers = []string{"getVariable", "setVariable", "removeVariable", "flow",
	"proxyRequest", "targetRequest", "targetResponse", "proxyResponse", "session"}

// contextMember builds one member of the context object.
func (jr *jsRun) contextMember(name string) goja.Value {
	r := jr.r
	msg := func(name string, ok bool) goja.Value {
		if !ok {
			return goja.Undefined()
		}
		m, has := r.Message(name)
		if !has || m == nil {
			return goja.Undefined()
		}
		return jr.message(m)
	}
	seg := r.Segment()
	switch name {
	case "getVariable":
		return jr.fn(jr.getVariable)
	case "setVariable":
		return jr.fn(jr.setVariable)
	case "removeVariable":
		return jr.fn(func(c goja.FunctionCall) goja.Value {
			r.Remove(c.Argument(0).String())
			return goja.Undefined()
		})
	case "flow":
		return jr.vm.ToValue(string(seg))
	case "proxyRequest":
		// One request object serves proxy and target flows in flowproc:
		// the target request is the proxy request as the flows changed it.
		return msg("request", true)
	case "targetRequest":
		return msg("request", seg == engine.TargetRequest || seg == engine.TargetResponse)
	case "targetResponse":
		return msg("response", seg == engine.TargetResponse)
	case "proxyResponse":
		return msg("response", seg == engine.ProxyResponse || seg == engine.ErrorFlow || seg == engine.PostClient)
	case "session":
		return jr.session()
	}
	return goja.Undefined()
}

// install sets the object model's globals.
func (jr *jsRun) install() error {
	vm, r := jr.vm, jr.r
	_ = vm.Set("context", jr.lazy(jr.contextMember, jsContextMembers...))
	if m, ok := r.Message("request"); ok && m != nil {
		_ = vm.Set("request", jr.message(m))
	} else {
		_ = vm.Set("request", goja.Undefined())
	}
	if s := r.Segment(); s != engine.ProxyRequest && s != engine.TargetRequest {
		if m, ok := r.Message("response"); ok && m != nil {
			_ = vm.Set("response", jr.message(m))
		}
	} else {
		_ = vm.Set("response", goja.Undefined())
	}

	props := vm.NewObject()
	for _, p := range jr.j.props {
		_ = props.Set(p[0], p[1])
	}
	_ = vm.Set("properties", props)

	print := jr.fn(jr.print)
	_ = vm.Set("print", print)
	_ = vm.Set("console", jr.lazy(func(string) goja.Value { return print }, "log", "info", "warn", "error", "debug"))
	_ = vm.Set("crypto", jr.crypto())
	_ = vm.Set("httpClient", jr.httpClient())
	_ = vm.Set("Request", jr.requestConstructor())
	return nil
}

// print writes its arguments, space-separated, to the trace.
func (jr *jsRun) print(c goja.FunctionCall) goja.Value {
	var b strings.Builder
	for i, a := range c.Arguments {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a.String())
	}
	jr.r.Print(jr.j.name, b.String())
	return goja.Undefined()
}

// getVariable returns a flow variable: strings as strings, numbers as
// numbers, booleans as booleans, messages as message objects; null when
// it is unset.
func (jr *jsRun) getVariable(c goja.FunctionCall) goja.Value {
	v, ok := jr.r.Lookup(c.Argument(0).String())
	if !ok || v == nil {
		return goja.Null()
	}
	return jr.toJS(v)
}

func (jr *jsRun) toJS(v any) goja.Value {
	switch x := v.(type) {
	case string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return jr.vm.ToValue(x)
	case []byte:
		return jr.vm.ToValue(string(x))
	case *engine.Message:
		return jr.message(x)
	case fmt.Stringer:
		return jr.vm.ToValue(x.String())
	}
	if s, ok := flowvar.String(v); ok {
		return jr.vm.ToValue(s)
	}
	return jr.vm.ToValue(fmt.Sprint(v))
}

// setVariable writes a flow variable. Integral numbers are stored as
// integers, so context.setVariable("response.status.code", 404) sets the
// status and {n} renders "5" (Rhino may hand Apigee a java.lang.Double,
// rendering "5.0"; bundles commonly rely on integral numbers working as
// status codes, which decides it); other numbers are doubles; objects other
// than messages are stored as their string form.
func (jr *jsRun) setVariable(c goja.FunctionCall) goja.Value {
	name := c.Argument(0).String()
	val := c.Argument(1)
	var gv any
	switch {
	case goja.IsUndefined(val) || goja.IsNull(val):
		gv = nil
	default:
		if o, ok := val.(*goja.Object); ok {
			if m := jr.msgOf[o]; m != nil {
				gv = m
				break
			}
		}
		switch x := val.Export().(type) {
		case bool:
			gv = x
		case int64:
			gv = x
		case float64:
			gv = x
		default:
			s := val.String()
			jr.charge(len(s))
			gv = s
		}
	}
	if err := jr.r.Set(name, gv); err != nil {
		var be *budget.ExceededError
		if errors.As(err, &be) {
			jr.fail(err)
		}
		jr.throw("setVariable(%q): %v", name, err)
	}
	return goja.Undefined()
}

// session returns context.session, backed by a map kept in the run.
func (jr *jsRun) session() *goja.Object {
	var s *jsSession
	if v, ok := jr.r.Lookup(jsSessionVar); ok {
		s, _ = v.(*jsSession)
	}
	if s == nil {
		s = &jsSession{m: map[string]any{}}
		_ = jr.r.Set(jsSessionVar, s)
	}
	return jr.vm.NewDynamicObject(&jsSessionObj{jr: jr, s: s})
}

type jsSessionObj struct {
	jr *jsRun
	s  *jsSession
}

func (o *jsSessionObj) Get(k string) goja.Value {
	v, ok := o.s.m[k]
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case *engine.Message:
		return o.jr.message(x)
	case *jsExchangeState:
		return o.jr.exchangeObject(x)
	}
	return o.jr.vm.ToValue(v)
}

// Set stores messages, httpClient exchanges and plain data (primitives,
// arrays and objects of them) by their Go values: functions and other
// objects belong to one runtime and must not reach the next policy's, so
// they are stored as their string form.
func (o *jsSessionObj) Set(k string, v goja.Value) bool {
	switch h := v.Export().(type) {
	case *jsMessage:
		o.s.m[k] = h.m
		return true
	case *jsExchange:
		// An httpClient exchange kept for a later policy (the documented
		// "send in one policy, wait in another" pattern).
		o.s.m[k] = h.st
		return true
	}
	x, n := jsPlain(v.Export(), 0)
	o.jr.charge(n)
	o.s.m[k] = x
	return true
}

// jsPlain returns v if it is plain data (and its approximate size), else
// its string form.
func jsPlain(v any, depth int) (any, int) {
	switch x := v.(type) {
	case nil, bool, int64, float64:
		return x, 8
	case string:
		return x, len(x)
	case []any:
		if depth < 32 {
			out, n := make([]any, len(x)), 0
			for i, e := range x {
				var k int
				out[i], k = jsPlain(e, depth+1)
				n += k
			}
			return out, n
		}
	case map[string]any:
		if depth < 32 {
			out, n := make(map[string]any, len(x)), 0
			for key, e := range x {
				var k int
				out[key], k = jsPlain(e, depth+1)
				n += k + len(key)
			}
			return out, n
		}
	}
	switch x := v.(type) {
	case func(goja.FunctionCall) goja.Value:
		return "[function]", 10
	case time.Time:
		s := x.UTC().Format(time.RFC3339Nano)
		return s, len(s)
	}
	return "[object Object]", 15
}
func (o *jsSessionObj) Has(k string) bool    { _, ok := o.s.m[k]; return ok }
func (o *jsSessionObj) Delete(k string) bool { delete(o.s.m, k); return true }
func (o *jsSessionObj) Keys() []string {
	out := make([]string, 0, len(o.s.m))
	for k := range o.s.m {
		out = append(out, k)
	}
	return out
}

// message returns the script object of m, the same object for the same
// message within one execution.
func (jr *jsRun) message(m *engine.Message) *goja.Object {
	if o := jr.wrapped[m]; o != nil {
		return o
	}
	o := jr.vm.NewDynamicObject(&jsMessage{jr: jr, m: m})
	jr.wrapped[m] = o
	jr.msgOf[o] = m
	return o
}

// jsMessage is a message object: headers, queryParams, formParams,
// content, body; method and url for requests; status for responses.
type jsMessage struct {
	jr    *jsRun
	m     *engine.Message
	cache map[string]goja.Value // headers, queryParams, formParams, status
	extra map[string]goja.Value // members a script added
}

func (o *jsMessage) names() []string {
	if o.m.IsRequest {
		return []string{"headers", "queryParams", "formParams", "content", "body", "method", "url"}
	}
	return []string{"headers", "queryParams", "formParams", "content", "body", "status"}
}

func (o *jsMessage) cached(k string, build func() goja.Value) goja.Value {
	if v, ok := o.cache[k]; ok {
		return v
	}
	if o.cache == nil {
		o.cache = make(map[string]goja.Value, 2)
	}
	v := build()
	o.cache[k] = v
	return v
}

func (o *jsMessage) content() string {
	b, err := o.m.Content()
	if err != nil {
		o.jr.fail(fmt.Errorf("read message content: %w", err))
	}
	return string(b)
}

func (o *jsMessage) Get(k string) goja.Value {
	jr, m, vm := o.jr, o.m, o.jr.vm
	switch k {
	case "headers":
		return o.cached(k, func() goja.Value { return vm.NewDynamicObject(&jsHeaders{jr: jr, m: m}) })
	case "queryParams":
		return o.cached(k, func() goja.Value { return vm.NewDynamicObject(&jsParams{jr: jr, m: m}) })
	case "formParams":
		return o.cached(k, func() goja.Value { return vm.NewDynamicObject(&jsParams{jr: jr, m: m, form: true}) })
	case "content", "body":
		// Apigee's content is a host object, not a JavaScript string:
		// scripts read content.asJSON as well as use it as a string.
		return jr.contentString(o.content())
	}
	if m.IsRequest {
		switch k {
		case "method":
			return vm.ToValue(m.Verb)
		case "url":
			if m == jr.r.Request {
				if s, ok := jr.r.Get("request.url"); ok {
					return vm.ToValue(s)
				}
			}
			return vm.ToValue(m.URI())
		}
	} else if k == "status" {
		return o.cached(k, func() goja.Value { return vm.NewDynamicObject(&jsStatus{jr: jr, m: m}) })
	}
	return o.extra[k]
}

func (o *jsMessage) Set(k string, v goja.Value) bool {
	jr, m := o.jr, o.m
	switch k {
	case "content", "body":
		s := v.String()
		jr.charge(len(s))
		m.SetContent([]byte(s))
		return true
	case "headers", "queryParams", "formParams":
		jr.throw("%s cannot be replaced; set its members", k)
	}
	if m.IsRequest {
		switch k {
		case "method":
			m.SetVerb(strings.ToUpper(v.String()))
			return true
		case "url":
			// Setting the target request's URL is setting target.url.
			if m != jr.r.Request || jr.r.Segment() != engine.TargetRequest {
				jr.throw("url is read-only here")
			}
			if err := jr.r.Set("target.url", v.String()); err != nil {
				jr.throw("url: %v", err)
			}
			return true
		}
	} else if k == "status" {
		jr.setStatus(m, v)
		return true
	}
	if o.extra == nil {
		o.extra = map[string]goja.Value{}
	}
	o.extra[k] = v
	return true
}

func (o *jsMessage) Has(k string) bool {
	for _, n := range o.names() {
		if n == k {
			return true
		}
	}
	_, ok := o.extra[k]
	return ok
}

func (o *jsMessage) Delete(k string) bool {
	delete(o.extra, k)
	return !o.Has(k)
}

func (o *jsMessage) Keys() []string {
	out := o.names()
	for k := range o.extra {
		out = append(out, k)
	}
	return out
}

// jsStatus is response.status: code and message, comparing and printing
// as the status code.
type jsStatus struct {
	jr *jsRun
	m  *engine.Message
}

func (s *jsStatus) Get(k string) goja.Value {
	vm, m := s.jr.vm, s.m
	switch k {
	case "code":
		return vm.ToValue(m.Status)
	case "message":
		if m.Reason != "" {
			return vm.ToValue(m.Reason)
		}
		return vm.ToValue(http.StatusText(m.Status))
	case "toString":
		return s.jr.fn(func(goja.FunctionCall) goja.Value { return vm.ToValue(fmt.Sprint(m.Status)) })
	case "valueOf":
		return s.jr.fn(func(goja.FunctionCall) goja.Value { return vm.ToValue(m.Status) })
	}
	return nil
}

func (s *jsStatus) Set(k string, v goja.Value) bool {
	switch k {
	case "code":
		s.jr.setStatus(s.m, v)
	case "message":
		s.m.Reason = v.String()
	default:
		return false
	}
	return true
}

func (s *jsStatus) Has(k string) bool    { return k == "code" || k == "message" }
func (s *jsStatus) Delete(k string) bool { return !s.Has(k) }
func (s *jsStatus) Keys() []string       { return []string{"code", "message"} }

func (jr *jsRun) setStatus(m *engine.Message, v goja.Value) {
	n := v.ToInteger()
	if n < 100 || n > 999 {
		jr.throw("status %s is not an HTTP status", v.String())
	}
	m.SetStatus(int(n))
}

// contentString returns s as a String object with asJSON (the parsed
// content, undefined when it is not JSON) and asForm, as Apigee's content
// wrappers offer.
func (jr *jsRun) contentString(s string) goja.Value {
	vm := jr.vm
	o, err := vm.New(vm.Get("String"), vm.ToValue(s))
	if err != nil {
		return vm.ToValue(s)
	}
	jr.accessor(o, "asJSON", func() goja.Value {
		if !json.Valid([]byte(s)) {
			return goja.Undefined()
		}
		parse, ok := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
		if !ok {
			return goja.Undefined()
		}
		res, err := parse(goja.Undefined(), vm.ToValue(s))
		if err != nil {
			return goja.Undefined()
		}
		return res
	}, nil)
	jr.accessor(o, "asForm", func() goja.Value {
		f := vm.NewObject()
		for _, p := range parseForm(s) {
			_ = f.Set(p.Name, p.Value)
		}
		return f
	}, nil)
	return o
}

// parseForm splits a form string with the engine's rules.
func parseForm(s string) []engine.Param {
	m := engine.NewRequest()
	m.SetHeader("Content-Type", "application/x-www-form-urlencoded")
	m.SetContent([]byte(s))
	return m.FormParams()
}

// jsHeaders is message.headers: header names to value lists (arrays,
// whose string form joins the values with commas).
type jsHeaders struct {
	jr *jsRun
	m  *engine.Message
}

func (h *jsHeaders) Get(k string) goja.Value {
	vs := h.m.HeaderValues(k)
	if vs == nil {
		return nil
	}
	items := make([]any, len(vs))
	for i, v := range vs {
		items[i] = v
	}
	return h.jr.vm.NewArray(items...)
}

func (h *jsHeaders) Set(k string, v goja.Value) bool {
	vals := h.jr.values(v)
	n := 0
	for _, s := range vals {
		n += len(s)
	}
	h.jr.charge(n)
	h.m.RemoveHeader(k)
	for _, s := range vals {
		h.m.AddHeader(k, s)
	}
	return true
}

func (h *jsHeaders) Has(k string) bool    { _, ok := h.m.Header(k); return ok }
func (h *jsHeaders) Delete(k string) bool { h.m.RemoveHeader(k); return true }
func (h *jsHeaders) Keys() []string       { return h.m.HeaderNames() }

// jsParams is message.queryParams or message.formParams.
type jsParams struct {
	jr   *jsRun
	m    *engine.Message
	form bool
}

func (p *jsParams) list() []engine.Param {
	if p.form {
		return p.m.FormParams()
	}
	return p.m.Query()
}

func (p *jsParams) Get(k string) goja.Value {
	var items []any
	for _, q := range p.list() {
		if q.Name == k {
			items = append(items, q.Value)
		}
	}
	if items == nil {
		return nil
	}
	return p.jr.vm.NewArray(items...)
}

func (p *jsParams) Set(k string, v goja.Value) bool {
	vals := p.jr.values(v)
	n := 0
	for _, s := range vals {
		n += len(s)
	}
	p.jr.charge(n)
	if p.form {
		var out []engine.Param
		for _, q := range p.m.FormParams() {
			if q.Name != k {
				out = append(out, q)
			}
		}
		for _, s := range vals {
			out = append(out, engine.Param{Name: k, Value: s})
		}
		p.m.SetFormParams(out)
		return true
	}
	p.m.RemoveQueryParam(k)
	for _, s := range vals {
		p.m.AddQueryParam(k, s)
	}
	return true
}

func (p *jsParams) Has(k string) bool {
	for _, q := range p.list() {
		if q.Name == k {
			return true
		}
	}
	return false
}

func (p *jsParams) Delete(k string) bool {
	if !p.Has(k) {
		return true
	}
	if p.form {
		var out []engine.Param
		for _, q := range p.m.FormParams() {
			if q.Name != k {
				out = append(out, q)
			}
		}
		p.m.SetFormParams(out)
		return true
	}
	p.m.RemoveQueryParam(k)
	return true
}

func (p *jsParams) Keys() []string {
	var out []string
	seen := map[string]bool{}
	for _, q := range p.list() {
		if !seen[q.Name] {
			seen[q.Name] = true
			out = append(out, q.Name)
		}
	}
	return out
}

// jsMaxValues bounds the values one header or parameter assignment takes.
const jsMaxValues = 1000

// values reads a value or an array of values as strings.
func (jr *jsRun) values(v goja.Value) []string {
	if o, ok := v.(*goja.Object); ok && o.ClassName() == "Array" {
		n := int(o.Get("length").ToInteger())
		if n > jsMaxValues {
			jr.throw("more than %d values", jsMaxValues)
		}
		out := make([]string, 0, n)
		for i := 0; i < n; i++ {
			out = append(out, o.Get(fmt.Sprint(i)).String())
		}
		return out
	}
	return []string{v.String()}
}
