package engine

// SetTestClient sets the client address (client.ip) of a TestRun.
func (r *Run) SetTestClient(addr string) { r.x.Req.ClientInfo().Address = addr }
