package engine

// MessageVar reads a message variable field (the part after
// "request.": "header.x", "status.code", "content", …) of any message,
// as Lookup does for request, response and message variables. Policies
// use it to let templates see a message they are building (RaiseFault's
// FaultResponse is "message" while it is built).
func (r *Run) MessageVar(m *Message, field string) (any, bool) {
	v, ok := r.messageField(m, "", field)
	return v.boxed(), ok
}
