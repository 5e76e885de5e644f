package engine

import (
	"fmt"
	"os"
	"strings"

	"sigs.k8s.io/yaml"
)

// DeploymentFile is the name of the deployment settings file beside a
// bundle (in the project directory). docs/apigee.md documents it.
const DeploymentFile = "deployment.yaml"

// Deployment is what Apigee keeps outside a bundle: the organization and
// environment it is deployed to, the environment's TargetServers, and
// per-TargetEndpoint URL overrides (for local testing).
type Deployment struct {
	Organization string `json:"organization"`
	Environment  string `json:"environment"`
	// TargetServers are the environment's target servers by name.
	TargetServers map[string]TargetServer `json:"targetServers"`
	// TargetURLs replace the URL of the TargetEndpoint with that name.
	TargetURLs map[string]string `json:"targetURLs"`
	// FlowHooks attach shared flows (by name, from sharedflows/) to
	// PreProxyFlowHook, PostProxyFlowHook, PreTargetFlowHook and
	// PostTargetFlowHook.
	FlowHooks map[string]string `json:"flowHooks"`
	// Products is the directory (relative to the project) of developers,
	// apps, API products and KVM seeds in the Apigee config layout
	// (docs/state.md); "" for none.
	Products string `json:"products"`
	// Properties are environment-wide values read as propertyset.<set>.<key>.
	Properties map[string]map[string]string `json:"propertySets"`
}

// TargetServer is an Apigee TargetServer: host, port and TLS.
type TargetServer struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	SSL  bool   `json:"ssl"`
	// Enabled defaults to true.
	Enabled *bool `json:"enabled"`
}

// URL returns the server's base URL.
func (ts TargetServer) URL() string {
	scheme, port := "http", ts.Port
	if ts.SSL {
		scheme = "https"
	}
	if port == 0 || (port == 80 && !ts.SSL) || (port == 443 && ts.SSL) {
		return scheme + "://" + ts.Host
	}
	return fmt.Sprintf("%s://%s:%d", scheme, ts.Host, port)
}

// LoadDeployment reads the deployment file at path; a missing file gives
// the defaults (organization "local", environment "test").
func LoadDeployment(path string) (*Deployment, error) {
	d := &Deployment{}
	b, err := os.ReadFile(path)
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return nil, fmt.Errorf("read deployment settings: %w", err)
	default:
		if err := yaml.UnmarshalStrict(b, d); err != nil {
			return nil, fmt.Errorf("deployment settings: %w", err)
		}
	}
	if d.Organization == "" {
		d.Organization = "local"
	}
	if d.Environment == "" {
		d.Environment = "test"
	}
	for name, ts := range d.TargetServers {
		if ts.Host == "" || strings.ContainsAny(ts.Host, "/ ") {
			return nil, fmt.Errorf("deployment settings: targetServers.%s: host %q is not a host name", name, ts.Host)
		}
		if ts.Port < 0 || ts.Port > 65535 {
			return nil, fmt.Errorf("deployment settings: targetServers.%s: port %d out of range", name, ts.Port)
		}
	}
	return d, nil
}
