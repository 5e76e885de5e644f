// Package frontends links every flow-language front end into a binary: each
// registers its project loader with flowengine/projects when imported.
// Hosts (serve, dev, validate, test, bench) import this package and never
// name a front end themselves.
package frontends

import (
	"github.com/prometheus/client_golang/prometheus"

	// Apigee Edge proxy bundles (apiproxy/ + shared flows).
	"github.com/flowproc/flowproc/flowengine/apigee"
	// FLAT apps (OpenAPI + x-flat-* + XML flows).
	_ "github.com/flowproc/flowproc/flowengine/flat"
)

// RegisterMetrics registers every front end's own Prometheus collectors
// (Apigee StatisticsCollector) on reg, next to the server's metrics.
func RegisterMetrics(reg prometheus.Registerer) error {
	return apigee.RegisterMetrics(reg)
}
