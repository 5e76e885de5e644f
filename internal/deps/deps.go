//go:build tools

package deps

import (
	_ "github.com/antchfx/xmlquery"
	_ "github.com/antchfx/xpath"
	_ "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	_ "github.com/getkin/kin-openapi/openapi3"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "go.uber.org/goleak"
	_ "google.golang.org/grpc"
	_ "sigs.k8s.io/yaml"
)
