package extproc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/budget"
)

// ErrBodyBudget is returned by a body read refused because the server's
// body budget (Options.BodyBudget) cannot hold the body's estimated cost
// now. While the response can still be replaced the exchange is answered
// 503 with code CodeBodyBudget.
var ErrBodyBudget = errors.New("server body budget exhausted")

// CodeBodyBudget is the code of the 503 answer to a body read refused by
// the body budget (docs/errors.md).
const CodeBodyBudget = 5031

// errCodeBodyBudget is the flowproc_errors_total code of such a refusal.
const errCodeBodyBudget = "body_budget"

// bodyBudgetMessage is the message of the 503 answer.
const bodyBudgetMessage = "server busy: too many bodies in flight, retry later"

// admit reserves the estimated peak cost of d's body from the server's body
// budget before the body is asked for (or, for a streamed body, handed to
// the flow): its size (the body received so far when complete, else the
// declared content-length, else the body limit) × the cost factor. The
// reservation is released when the exchange ends (close), whatever the
// ending. A refusal marks the direction, counts it and returns
// ErrBodyBudget; finish answers 503.
func (x *exchange) admit(d *direction) error {
	b := x.s.bodyBudget
	switch {
	case b == nil || d.admitted:
		return nil
	case d.refused:
		return fmt.Errorf("%s body: %w", d.name(), ErrBodyBudget)
	}
	size := x.s.bodyLimit
	switch {
	case d.complete:
		size = d.size
	default:
		if n, ok := x.declaredLength(d); ok && n < size {
			size = n
		}
	}
	r, ok := b.Reserve(x.s.bodyCost(size))
	if !ok {
		d.refused = true
		if x.errorCode == "" {
			x.errorCode = errCodeBodyBudget
		}
		x.s.metrics.bodyRefusals.WithLabelValues(d.name()).Inc()
		return fmt.Errorf("%s body of up to %d bytes: %w", d.name(), size, ErrBodyBudget)
	}
	d.admitted, d.reservation = true, r
	return nil
}

// admittedBody trims d's reservation to the body that actually arrived (the
// estimate was the content-length or the body limit).
func (x *exchange) admittedBody(d *direction) {
	if d.admitted {
		d.reservation.Shrink(x.s.bodyCost(d.size))
	}
}

// releaseBodies gives the exchange's body reservations back.
func (x *exchange) releaseBodies() {
	x.req.reservation.Release()
	x.resp.reservation.Release()
}

// bodyCost is the estimated peak heap cost of a body of size bytes.
func (s *Server) bodyCost(size int64) int64 {
	return int64(float64(max(size, 1)) * s.costFactor)
}

// declaredLength is d's content-length header, when there is a valid one.
func (x *exchange) declaredLength(d *direction) (int64, bool) {
	hs := x.request.Headers
	if d.response {
		hs = x.response.Headers
	}
	return contentLength(hs)
}

// contentLength finds a valid content-length in hs.
func contentLength(hs []flowengine.Header) (int64, bool) {
	for _, h := range hs {
		if h.Name == "content-length" {
			n, err := strconv.ParseInt(strings.TrimSpace(h.Value), 10, 64)
			return n, err == nil && n >= 0
		}
	}
	return 0, false
}

// refusedBody reports whether a body read of the exchange was refused by
// the body budget and the refusal can still be answered.
func (x *exchange) refusedBody() bool {
	return (x.req.refused || x.resp.refused) && x.canAnswer()
}

// registerBudgetMetrics exposes the body budget's size and use.
func registerBudgetMetrics(reg prometheus.Registerer, b *budget.Bytes) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "flowproc_body_budget_bytes",
			Help: "Size of the server-wide body budget in bytes (estimated peak cost of bodies held at once).",
		}, func() float64 { return float64(b.Limit()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "flowproc_body_budget_in_use_bytes",
			Help: "Bytes of the body budget reserved by exchanges now.",
		}, func() float64 { return float64(b.InUse()) }),
	)
}
