// Package deploy holds flowproc's deployment files — the container image
// (Dockerfile), the docker compose demo (docker-compose.yaml with
// envoy-compose.yaml and the demo project in projects/), the Kubernetes
// sidecar manifests (kubernetes/), the Helm chart (helm/flowproc/) and the
// Istio EnvoyFilter (istio/) — and the tests that keep them consistent:
// names, ports, mounts and images that must agree across files are compared
// by deploy_test.go, every Envoy config is validated with
// envoy.ValidateBootstrapYAML, the pod's hardening (security context,
// resources, shutdown ordering, disruption budget, network policy) is
// checked by hardening_test.go, and helm_test.go renders the chart so that
// all Kubernetes checks also run on its output. See docs/deploy.md.
//
// The package has no Go API; it exists so that "go test ./..." runs those
// checks.
package deploy
