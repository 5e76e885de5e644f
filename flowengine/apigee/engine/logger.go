package engine

import "log/slog"

// Logger is the project's logger, for policies that report conditions
// that are not faults (a cache store outage a cache policy fails open on).
func (r *Run) Logger() *slog.Logger { return r.p.opts.Logger }
