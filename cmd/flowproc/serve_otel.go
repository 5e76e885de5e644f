package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/flowproc/flowproc/extproc"
)

// tracingFlushTimeout bounds the flush of OpenTelemetry spans at exit.
const tracingFlushTimeout = 5 * time.Second

// flushOTel exports the spans still buffered when serve stops (a nil
// OTel is tracing off: nothing to do). A collector that does not answer
// in time is logged, not waited for.
func flushOTel(ctx context.Context, t *extproc.OTel, logger *slog.Logger) {
	if t == nil {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tracingFlushTimeout)
	defer cancel()
	if err := t.Shutdown(sctx); err != nil {
		logger.Warn("OpenTelemetry spans not flushed", "error", err.Error())
	}
}
