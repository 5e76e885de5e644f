package expr

// Calls reports whether evaluating e may call the extension function
// name, in e itself or in an argument of another call. FLAT asks it for
// get-log(), which sees the fields of <log> actions.
func (e *Expr) Calls(name string) bool {
	if e == nil {
		return false
	}
	switch e.kind {
	case kCall:
		return e.site.calls(name)
	case kCallCmp:
		return e.ccmp.site.calls(name)
	case kConcat:
		for _, a := range e.cat {
			if a.x.Calls(name) {
				return true
			}
		}
	case kXPath:
		for _, s := range e.slots {
			if s.site.calls(name) {
				return true
			}
		}
	}
	return false
}

func (s *callSite) calls(name string) bool {
	if s == nil {
		return false
	}
	if s.fn.Name == name {
		return true
	}
	for _, a := range s.args {
		if a.Calls(name) {
			return true
		}
	}
	return false
}
