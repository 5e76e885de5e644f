package projects

import (
	"io"
	"reflect"
)

// closeReplaced closes the projects of old that cur no longer serves, when
// they hold resources beyond memory (they implement io.Closer: an Apigee
// bundle's HealthMonitor probes). A run still in flight on such a project
// finishes; only its background work stops.
func closeReplaced(old, cur *Set) {
	if old == nil {
		return
	}
	for _, e := range old.entries {
		c, ok := e.Project.(io.Closer)
		if !ok || stillServed(cur, e.Project) {
			continue
		}
		_ = c.Close()
	}
}

// stillServed reports whether p is one of cur's projects. Projects are
// compared by identity; a project type that is not comparable is never
// closed (comparing it would panic).
func stillServed(cur *Set, p Project) bool {
	if !reflect.TypeOf(p).Comparable() {
		return true
	}
	for _, e := range cur.entries {
		if e.Project != nil && reflect.TypeOf(e.Project) == reflect.TypeOf(p) && e.Project == p {
			return true
		}
	}
	return false
}
