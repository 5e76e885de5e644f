package projects

import "time"

// LastReload is the latest Reload of a Registry: when it ended, its report
// and its error (see Reload).
type LastReload struct {
	Time   time.Time
	Report ReloadReport
	Err    error
}

// LastReload returns the latest reload (SIGHUP, a file change, the API),
// or nil before the first.
func (r *Registry) LastReload() *LastReload { return r.last.Load() }

// noteReload records a reload's result for LastReload.
func (r *Registry) noteReload(rep ReloadReport, err error) {
	r.last.Store(&LastReload{Time: time.Now(), Report: rep, Err: err})
}
