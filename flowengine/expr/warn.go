package expr

import (
	"context"
	"log/slog"
)

// Warner is implemented by a Context.Runtime that collects the warnings
// of extension functions which, as FLAT documents, log a problem and go
// on with an empty result (xml-parse, has-class). Without one, warnings go
// to slog.Default() at warning level.
type Warner interface {
	// Warn records a warning of function fn. msg never holds file
	// contents or secrets.
	Warn(ctx context.Context, fn, msg string)
}

// warn reports a function warning through c.Runtime or slog.
func warn(c *Context, fn, msg string) {
	ctx := c.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if w, ok := c.Runtime.(Warner); ok {
		w.Warn(ctx, fn, msg)
		return
	}
	slog.WarnContext(ctx, "function warning", "function", fn, "msg", msg)
}
