package policies

import (
	"context"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/upstream"
)

// httpClient is the object model's httpClient: send(request[, callback])
// and get(url[, callback]) return an exchange object (isComplete,
// waitForComplete, isSuccess, isError, getResponse, getError). The call
// runs through the run's side-call client when the script makes it,
// bounded by what is left of the script's timeLimit and of the run's time;
// the callback, when given, is called with (response, error) once it
// finished.
func (jr *jsRun) httpClient() *goja.Object {
	return jr.lazy(func(name string) goja.Value {
		if name == "send" {
			return jr.fn(func(c goja.FunctionCall) goja.Value {
				req, ok := c.Argument(0).(*goja.Object)
				if !ok {
					jr.throw("httpClient.send needs a Request")
				}
				return jr.exchange(jr.callFrom(req), c.Argument(1))
			})
		}
		return jr.fn(func(c goja.FunctionCall) goja.Value {
			call := &upstream.Call{ID: jr.j.name, Method: "GET", URL: c.Argument(0).String()}
			return jr.exchange(call, c.Argument(1))
		})
	}, "send", "get")
}

// requestConstructor is Request(url, method, headers, body).
func (jr *jsRun) requestConstructor() goja.Value {
	vm := jr.vm
	return vm.ToValue(func(c goja.ConstructorCall) *goja.Object {
		o := c.This
		str := func(i int, def string) goja.Value {
			a := c.Argument(i)
			if goja.IsUndefined(a) || goja.IsNull(a) {
				return vm.ToValue(def)
			}
			return a
		}
		_ = o.Set("url", str(0, ""))
		_ = o.Set("method", str(1, "GET"))
		if h, ok := c.Argument(2).(*goja.Object); ok {
			_ = o.Set("headers", h)
		} else {
			_ = o.Set("headers", vm.NewObject())
		}
		_ = o.Set("body", str(3, ""))
		return nil
	})
}

// callFrom reads a Request object (url, method, headers, body) into a call.
func (jr *jsRun) callFrom(req *goja.Object) *upstream.Call {
	get := func(k string) string {
		v := req.Get(k)
		if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
			return ""
		}
		return v.String()
	}
	call := &upstream.Call{ID: jr.j.name, URL: get("url"), Method: strings.ToUpper(get("method"))}
	if call.Method == "" {
		call.Method = "GET"
	}
	if b := get("body"); b != "" {
		jr.charge(len(b))
		call.Body = []byte(b)
	}
	if h, ok := req.Get("headers").(*goja.Object); ok {
		for _, k := range h.Keys() {
			for _, v := range jr.values(h.Get(k)) {
				call.Headers = append(call.Headers, upstream.Field{Name: k, Value: v})
			}
		}
	}
	return call
}

// exchange makes the call now and returns the exchange object.
func (jr *jsRun) exchange(call *upstream.Call, callback goja.Value) goja.Value {
	r := jr.r
	if !strings.HasPrefix(call.URL, "http://") && !strings.HasPrefix(call.URL, "https://") {
		jr.throw("httpClient: URL %q is not absolute http(s)", call.URL)
	}
	left := time.Until(jr.deadline)
	if left <= 0 {
		left = time.Millisecond
	}
	left = r.Budget().Cap(left)
	ctx, cancel := context.WithTimeout(r.Ctx(), left)
	call.Timeout = left
	res, err := r.Upstream().Do(ctx, call)
	cancel()
	if r.Ctx().Err() != nil {
		jr.fail(r.Ctx().Err())
	}
	var resp *engine.Message
	errText := ""
	switch {
	case err != nil:
		errText = err.Error()
	case res == nil:
		errText = "no result"
	case res.Failed():
		errText = res.Err.Error()
	default:
		jr.charge(len(res.Body))
		resp = engine.NewResponse()
		resp.Status = res.Status
		for name, vs := range res.Header {
			for _, v := range vs {
				resp.AddHeader(name, v)
			}
		}
		resp.SetContent(res.Body)
	}
	st := &jsExchangeState{resp: resp, errText: errText}
	ex := jr.exchangeObject(st)
	if fn, ok := goja.AssertFunction(callback); ok {
		respVal, errVal := st.values(jr)
		if _, err := fn(goja.Undefined(), respVal, errVal); err != nil {
			if ex, isEx := err.(*goja.Exception); isEx {
				panic(ex)
			}
			// Interrupted (timeLimit, cancellation) inside the callback.
			jr.fail(jr.j.fault(err, "", jr.limit))
		}
	}
	return ex
}

// jsExchangeState is the outcome of one httpClient call: a response or an
// error text. It outlives the execution when a script keeps the exchange
// in context.session.
type jsExchangeState struct {
	resp    *engine.Message
	errText string
}

// values are the response (undefined on error) and the error (undefined
// on success) as script values.
func (st *jsExchangeState) values(jr *jsRun) (goja.Value, goja.Value) {
	if st.resp != nil {
		return jr.message(st.resp), goja.Undefined()
	}
	return goja.Undefined(), jr.vm.ToValue(st.errText)
}

// jsExchange is the exchange object httpClient returns.
type jsExchange struct {
	jr *jsRun
	st *jsExchangeState
}

func (jr *jsRun) exchangeObject(st *jsExchangeState) *goja.Object {
	return jr.vm.NewDynamicObject(&jsExchange{jr: jr, st: st})
}

var jsExchangeMembers = []string{"isComplete", "waitForComplete", "isSuccess", "isError", "getResponse", "getError"}

func (e *jsExchange) Get(k string) goja.Value {
	jr, st := e.jr, e.st
	var f func() goja.Value
	switch k {
	case "isComplete":
		f = func() goja.Value { return jr.vm.ToValue(true) }
	case "waitForComplete":
		// The call finished when it was made.
		f = goja.Undefined
	case "isSuccess":
		f = func() goja.Value { return jr.vm.ToValue(st.resp != nil) }
	case "isError":
		f = func() goja.Value { return jr.vm.ToValue(st.resp == nil) }
	case "getResponse":
		f = func() goja.Value { v, _ := st.values(jr); return v }
	case "getError":
		f = func() goja.Value { _, v := st.values(jr); return v }
	default:
		return nil
	}
	return jr.fn(func(goja.FunctionCall) goja.Value { return f() })
}

func (e *jsExchange) Set(string, goja.Value) bool { return false }
func (e *jsExchange) Has(k string) bool {
	for _, n := range jsExchangeMembers {
		if n == k {
			return true
		}
	}
	return false
}
func (e *jsExchange) Delete(k string) bool { return !e.Has(k) }
func (e *jsExchange) Keys() []string       { return jsExchangeMembers }
