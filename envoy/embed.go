package envoy

import _ "embed"

// DefaultConfigYAML is envoy/envoy.yaml as shipped: the front-proxy
// configuration flowproc dev drives its Envoy-faithful client with when no
// other file is given.
//
//go:embed envoy.yaml
var DefaultConfigYAML []byte
