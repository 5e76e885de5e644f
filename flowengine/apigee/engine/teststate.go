package engine

import "github.com/flowproc/flowproc/flowengine/store"

// SetTestState replaces the state stores of a TestRun (TestRun starts
// with the process-wide store.MemoryStores, shared by every test), so
// that a test can use isolated or failing stores.
func (r *Run) SetTestState(s *store.Stores) { r.p.opts.State = s }
