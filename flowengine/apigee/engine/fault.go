package engine

import (
	"encoding/json"
	"fmt"
)

// Fault is an Apigee fault: a policy failure, a RaiseFault, a target
// error or a runtime error. It becomes the fault.* and error.* variables
// and, unless a FaultRule changes it, the client's answer.
type Fault struct {
	// Name is fault.name ("RaiseFault", "UnresolvedVariable",
	// "ErrorResponseCode").
	Name string
	// Code is the error code in the fault JSON
	// ("steps.raisefault.RaiseFault").
	Code string
	// Message is the faultstring (error.message).
	Message string
	// Status is the HTTP status of the default error response.
	Status int
	// Reason is the reason phrase ("" for the status's usual one).
	Reason string
	// Policy is the policy that raised it ("" for runtime faults).
	Policy string
	// Response, when set, is the error response to send instead of the
	// fault JSON (RaiseFault's FaultResponse; a target's error response).
	Response *Message
	// Err is the underlying error, if any (logged, never sent).
	Err error
}

// Error implements error.
func (f *Fault) Error() string {
	if f.Err != nil {
		return fmt.Sprintf("%s (%s): %v", f.Message, f.Code, f.Err)
	}
	return f.Message + " (" + f.Code + ")"
}

// Unwrap returns the underlying error.
func (f *Fault) Unwrap() error { return f.Err }

// NewFault returns a policy fault with code "steps.<prefix>.<name>".
func NewFault(prefix, name string, status int, format string, args ...any) *Fault {
	return &Fault{Name: name, Code: "steps." + prefix + "." + name, Status: status, Message: fmt.Sprintf(format, args...)}
}

// FaultJSON is Apigee's default error body:
// {"fault":{"faultstring":…,"detail":{"errorcode":…}}}.
func FaultJSON(faultstring, code string) []byte {
	type detail struct {
		ErrorCode string `json:"errorcode"`
	}
	type fault struct {
		FaultString string `json:"faultstring"`
		Detail      detail `json:"detail"`
	}
	b, _ := json.Marshal(struct {
		Fault fault `json:"fault"`
	}{fault{faultstring, detail{code}}})
	return b
}

// errorMessage builds the error response of f: f.Response when the fault
// carries one, else Apigee's fault JSON with f's status.
func (f *Fault) errorMessage() *Message {
	if f.Response != nil {
		return f.Response
	}
	m := NewResponse()
	m.Status = f.Status
	if m.Status == 0 {
		m.Status = 500
	}
	m.Reason = f.Reason
	m.SetHeader("Content-Type", "application/json")
	m.SetContent(FaultJSON(f.Message, f.Code))
	return m
}
