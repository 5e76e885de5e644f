package deploy

import (
	"encoding/json"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// securityContext is the part of a Kubernetes (Pod)SecurityContext the
// hardening checks read.
type securityContext struct {
	RunAsNonRoot             *bool `json:"runAsNonRoot"`
	RunAsUser                *int  `json:"runAsUser"`
	ReadOnlyRootFilesystem   *bool `json:"readOnlyRootFilesystem"`
	AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation"`
	SeccompProfile           *struct {
		Type string `json:"type"`
	} `json:"seccompProfile"`
	Capabilities *struct {
		Drop []string `json:"drop"`
	} `json:"capabilities"`
}

// hardenedContainers are the containers the project ships (the app is the
// user's).
var hardenedContainers = []string{"envoy", "flowproc"}

// checkFlowprocProbes: with ext_proc on loopback the kubelet cannot reach
// it, so the probes use the admin listener (/readyz, /healthz), which must
// then be set explicitly to a non-loopback address; otherwise they are gRPC
// health probes on the -listen port.
func checkFlowprocProbes(t *testing.T, fc k8sContainer, args serveArgs) {
	t.Helper()
	probes := map[string]*k8sProbe{"readiness": fc.ReadinessProbe, "liveness": fc.LivenessProbe}
	wantPath := map[string]string{"readiness": "/readyz", "liveness": "/healthz"}
	for kind, pr := range probes {
		switch {
		case pr == nil:
			t.Errorf("flowproc has no %s probe", kind)
		case args.listenLoopback():
			if pr.HTTPGet == nil {
				t.Errorf("flowproc listens on loopback %s: its %s probe must be an httpGet on the admin port", args.listenHost, kind)
				continue
			}
			if port := fc.resolve(pr.HTTPGet.Port); port != args.adminPort {
				t.Errorf("%s probe port %s, the admin listener is on %d", kind, pr.HTTPGet.Port, args.adminPort)
			}
			if pr.HTTPGet.Path != wantPath[kind] {
				t.Errorf("%s probe path %q, want %s", kind, pr.HTTPGet.Path, wantPath[kind])
			}
			if !args.adminSet {
				t.Error("the probes use the admin listener, but -admin is not set explicitly (its default is loopback)")
			}
			if ip := net.ParseIP(args.adminHost); args.adminHost == "localhost" || (ip != nil && ip.IsLoopback()) {
				t.Errorf("-admin %s is loopback: the kubelet's probes cannot reach it", args.adminHost)
			}
		default:
			if pr.GRPC == nil {
				t.Errorf("flowproc needs a grpc %s probe", kind)
			} else if pr.GRPC.Port != args.listenPort {
				t.Errorf("%s grpc probe port %d, flowproc listens on %d", kind, pr.GRPC.Port, args.listenPort)
			}
		}
	}
}

// TestKubernetesSecurityContext: Envoy and flowproc run non-root, on a
// read-only root file system, with the runtime's default seccomp profile,
// no privilege escalation and no capabilities.
func TestKubernetesSecurityContext(t *testing.T) {
	forEachPod(t, func(t *testing.T, p sidecarPod) {
		pod := p.deployment.Template.Spec.SecurityContext
		for _, name := range hardenedContainers {
			sc := p.containers[name].SecurityContext
			if sc == nil {
				t.Errorf("container %s has no securityContext", name)
				continue
			}
			if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
				t.Errorf("container %s: runAsNonRoot is not true", name)
			}
			if sc.RunAsUser == nil || *sc.RunAsUser == 0 {
				t.Errorf("container %s: runAsUser must be a numeric non-root uid (runAsNonRoot cannot check a user name)", name)
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Errorf("container %s: readOnlyRootFilesystem is not true", name)
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("container %s: allowPrivilegeEscalation is not false", name)
			}
			seccomp := sc.SeccompProfile
			if seccomp == nil && pod != nil {
				seccomp = pod.SeccompProfile
			}
			if seccomp == nil || seccomp.Type != "RuntimeDefault" {
				t.Errorf("container %s: seccompProfile is not RuntimeDefault (container or pod level)", name)
			}
			if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) {
				t.Errorf("container %s: capabilities.drop is not [ALL]", name)
			}
		}
	})
}

// parseQuantity parses the Kubernetes quantities the manifests use: a
// number with an optional m (milli), Ki/Mi/Gi or k/M/G suffix.
func parseQuantity(t *testing.T, q string) float64 {
	t.Helper()
	m := regexp.MustCompile(`^([0-9.]+)(m|Ki|Mi|Gi|k|M|G)?$`).FindStringSubmatch(q)
	if m == nil {
		t.Fatalf("quantity %q: not understood", q)
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("quantity %q: %v", q, err)
	}
	mult := map[string]float64{"": 1, "m": 1e-3, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "k": 1e3, "M": 1e6, "G": 1e9}[m[2]]
	return n * mult
}

// measuredPeakRSS is flowproc serve's peak RSS with the example project
// under `flowproc bench` (512 concurrent streams), as noted next to the
// flowproc container's resources in deploy/kubernetes/deployment.yaml.
const measuredPeakRSS = 57 << 20

// TestKubernetesResources: both containers request CPU and memory and have a
// memory limit at or above the request; flowproc's limit leaves at least
// four times its measured peak for buffered bodies.
func TestKubernetesResources(t *testing.T) {
	forEachPod(t, func(t *testing.T, p sidecarPod) {
		for _, name := range hardenedContainers {
			r := p.containers[name].Resources
			for _, k := range []string{"cpu", "memory"} {
				if r.Requests[k] == "" {
					t.Errorf("container %s requests no %s", name, k)
				}
			}
			if r.Limits["memory"] == "" {
				t.Errorf("container %s has no memory limit", name)
				continue
			}
			if req, lim := parseQuantity(t, r.Requests["memory"]), parseQuantity(t, r.Limits["memory"]); req > lim {
				t.Errorf("container %s: memory request %s above its limit %s", name, r.Requests["memory"], r.Limits["memory"])
			}
		}
		r := p.containers["flowproc"].Resources
		if req := parseQuantity(t, r.Requests["memory"]); req < measuredPeakRSS {
			t.Errorf("flowproc memory request %s is below its measured peak RSS (%d MiB)", r.Requests["memory"], measuredPeakRSS>>20)
		}
		if lim := parseQuantity(t, r.Limits["memory"]); lim < 4*measuredPeakRSS {
			t.Errorf("flowproc memory limit %s leaves less than 4× the measured peak RSS (%d MiB)", r.Limits["memory"], measuredPeakRSS>>20)
		}
	})
}

var sleepCommand = regexp.MustCompile(`(?m)^\s*sleep\s+([0-9]+)\s*$`)

// preStopSeconds is how long a container's preStop hook takes: its sleep
// action, or the sum of the `sleep N` lines of its exec script.
func preStopSeconds(t *testing.T, c k8sContainer) int {
	t.Helper()
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil {
		t.Errorf("container %s has no preStop hook", c.Name)
		return 0
	}
	ps := c.Lifecycle.PreStop
	if ps.Sleep != nil {
		return ps.Sleep.Seconds
	}
	if ps.Exec == nil || len(ps.Exec.Command) == 0 {
		t.Errorf("container %s: preStop is neither sleep nor exec", c.Name)
		return 0
	}
	total := 0
	for _, m := range sleepCommand.FindAllStringSubmatch(ps.Exec.Command[len(ps.Exec.Command)-1], -1) {
		n, _ := strconv.Atoi(m[1])
		total += n
	}
	return total
}

// TestKubernetesShutdownOrdering: a rollout drops nothing. Envoy's preStop
// starts a graceful listener drain and outlasts its --drain-time-s; flowproc
// and the app keep serving until Envoy has stopped (their preStop sleeps are
// longer than Envoy's hook); flowproc's -shutdown-grace then finishes its
// streams before terminationGracePeriodSeconds runs out.
func TestKubernetesShutdownOrdering(t *testing.T) {
	forEachPod(t, func(t *testing.T, p sidecarPod) {
		ec, fc, app := p.containers["envoy"], p.containers["flowproc"], p.containers["app"]
		drain, err := strconv.Atoi(flagValue(ec.Args, "--drain-time-s"))
		if err != nil {
			t.Fatalf("envoy args %q: want --drain-time-s N: %v", ec.Args, err)
		}
		if s := flagValue(ec.Args, "--drain-strategy"); s != "immediate" {
			t.Errorf("envoy --drain-strategy %q, want immediate (every connection is told to close at once)", s)
		}
		envoyStop := preStopSeconds(t, ec)
		if ec.Lifecycle != nil && ec.Lifecycle.PreStop != nil && ec.Lifecycle.PreStop.Exec != nil {
			if script := strings.Join(ec.Lifecycle.PreStop.Exec.Command, " "); !strings.Contains(script, "POST /drain_listeners?graceful") ||
				!strings.Contains(script, "/dev/tcp/127.0.0.1/9901") {
				t.Errorf("envoy preStop does not POST /drain_listeners?graceful to the admin listener 127.0.0.1:9901: %q", script)
			}
		} else {
			t.Error("envoy's preStop must be an exec hook that drains its listeners")
		}
		if envoyStop <= drain {
			t.Errorf("envoy preStop lasts %d s, not longer than --drain-time-s %d: requests still in flight when the listener closes are cut", envoyStop, drain)
		}
		for _, c := range []k8sContainer{fc, app} {
			if s := preStopSeconds(t, c); s <= envoyStop {
				t.Errorf("container %s stops after %d s, not after Envoy (%d s): Envoy's last requests would fail", c.Name, s, envoyStop)
			}
		}
		args := parseServeArgs(t, fc.Args)
		if args.grace <= 0 {
			t.Errorf("flowproc -shutdown-grace %s", args.grace)
		}
		gp := p.deployment.Template.Spec.TerminationGracePeriodSeconds
		if gp == nil {
			t.Fatal("no terminationGracePeriodSeconds (the default 30 s is not derived from the hooks)")
		}
		need := time.Duration(preStopSeconds(t, fc))*time.Second + args.grace
		if got := time.Duration(*gp) * time.Second; got <= need {
			t.Errorf("terminationGracePeriodSeconds %s ≤ flowproc's preStop + -shutdown-grace (%s): the kubelet kills in-flight streams", got, need)
		}
	})
}

type pdbSpec struct {
	MinAvailable   *intOrString `json:"minAvailable"`
	MaxUnavailable *intOrString `json:"maxUnavailable"`
	Selector       struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"selector"`
}

type deploymentReplicas struct {
	Replicas *int `json:"replicas"`
}

// TestKubernetesDisruptionBudget: a PodDisruptionBudget selects the pods and
// lets a drain evict one while another serves.
func TestKubernetesDisruptionBudget(t *testing.T) {
	forEachPod(t, func(t *testing.T, p sidecarPod) {
		replicas := 1
		for _, o := range p.objects {
			if o.Kind == "Deployment" {
				var r deploymentReplicas
				mustJSON(t, o.file, o.Spec, &r)
				if r.Replicas != nil {
					replicas = *r.Replicas
				}
			}
		}
		if replicas < 2 {
			t.Errorf("replicas %d: a disruption budget needs at least 2", replicas)
		}
		found := 0
		for _, o := range p.objects {
			if o.Kind != "PodDisruptionBudget" {
				continue
			}
			found++
			if o.APIVersion != "policy/v1" {
				t.Errorf("PodDisruptionBudget apiVersion %s, want policy/v1", o.APIVersion)
			}
			var s pdbSpec
			mustJSON(t, o.file, o.Spec, &s)
			if len(s.Selector.MatchLabels) == 0 || !subset(s.Selector.MatchLabels, p.deployment.Template.Metadata.Labels) {
				t.Errorf("PodDisruptionBudget selector %v does not select the pods", s.Selector.MatchLabels)
			}
			switch {
			case s.MinAvailable != nil && s.MinAvailable.name == "":
				if s.MinAvailable.num < 1 || s.MinAvailable.num >= replicas {
					t.Errorf("minAvailable %d with %d replicas: want 1 ≤ minAvailable < replicas", s.MinAvailable.num, replicas)
				}
			case s.MaxUnavailable != nil && s.MaxUnavailable.name == "":
				if s.MaxUnavailable.num < 1 || s.MaxUnavailable.num >= replicas {
					t.Errorf("maxUnavailable %d with %d replicas: want 1 ≤ maxUnavailable < replicas", s.MaxUnavailable.num, replicas)
				}
			default:
				t.Error("PodDisruptionBudget needs a numeric minAvailable or maxUnavailable")
			}
		}
		if found != 1 {
			t.Errorf("%d PodDisruptionBudgets, want 1", found)
		}
	})
}

type networkPolicySpec struct {
	PodSelector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"podSelector"`
	PolicyTypes []string `json:"policyTypes"`
	Ingress     []struct {
		From  []json.RawMessage `json:"from"`
		Ports []struct {
			Port intOrString `json:"port"`
		} `json:"ports"`
	} `json:"ingress"`
}

// TestKubernetesNetworkPolicy: a NetworkPolicy selects the pods and admits
// Envoy's listener, flowproc's admin port only from chosen sources, and
// never flowproc's ext_proc port or the app's port: nothing reaches flows
// or the app without passing Envoy.
func TestKubernetesNetworkPolicy(t *testing.T) {
	forEachPod(t, func(t *testing.T, p sidecarPod) {
		fp := parseServeArgs(t, p.containers["flowproc"].Args)
		ec, app := p.containers["envoy"], p.containers["app"]
		found := 0
		for _, o := range p.objects {
			if o.Kind != "NetworkPolicy" {
				continue
			}
			found++
			var s networkPolicySpec
			mustJSON(t, o.file, o.Spec, &s)
			if len(s.PodSelector.MatchLabels) == 0 || !subset(s.PodSelector.MatchLabels, p.deployment.Template.Metadata.Labels) {
				t.Errorf("NetworkPolicy podSelector %v does not select the pods", s.PodSelector.MatchLabels)
			}
			if !slices.Contains(s.PolicyTypes, "Ingress") {
				t.Errorf("NetworkPolicy policyTypes %v lacks Ingress", s.PolicyTypes)
			}
			admitted := map[int]bool{}
			for i, rule := range s.Ingress {
				if len(rule.Ports) == 0 {
					t.Errorf("ingress[%d] admits every port", i)
				}
				for _, pt := range rule.Ports {
					port := pt.Port.num
					if pt.Port.name != "" {
						for _, c := range p.containers {
							if n := c.resolve(pt.Port); n != 0 {
								port = n
							}
						}
					}
					admitted[port] = true
					switch port {
					case fp.listenPort:
						t.Errorf("ingress[%d] admits flowproc's ext_proc port %d: only Envoy in the pod may call it", i, port)
					case fp.adminPort:
						if len(rule.From) == 0 {
							t.Errorf("ingress[%d] admits flowproc's admin port %d from anywhere", i, port)
						}
					}
					if app.hasPort(port) {
						t.Errorf("ingress[%d] admits the app's port %d: requests would bypass Envoy", i, port)
					}
				}
			}
			for _, s := range p.services {
				for _, sp := range s.Ports {
					if port := ec.resolve(sp.TargetPort); !admitted[port] {
						t.Errorf("the Service's target port %d (Envoy) is not admitted", port)
					}
				}
			}
		}
		if found != 1 {
			t.Errorf("%d NetworkPolicies, want 1", found)
		}
	})
}

// TestKubernetesWatchesProjects: flowproc reloads the ConfigMap-mounted
// projects on update, as docs/deploy.md promises.
func TestKubernetesWatchesProjects(t *testing.T) {
	forEachPod(t, func(t *testing.T, p sidecarPod) {
		if !parseServeArgs(t, p.containers["flowproc"].Args).watch {
			t.Errorf("flowproc args %q lack -watch: ConfigMap updates would not reload", p.containers["flowproc"].Args)
		}
	})
}

// TestComposeWatchesProjects: editing deploy/projects/ reloads the compose
// demo's project, as docs/deploy.md promises.
func TestComposeWatchesProjects(t *testing.T) {
	svc := loadCompose(t).Services["flowproc"]
	args := parseServeArgs(t, svc.Command)
	if !args.watch {
		t.Errorf("compose flowproc command %q lacks -watch", svc.Command)
	}
	if !args.adminSet {
		t.Errorf("compose publishes the admin port, but -admin is not set explicitly (its default is loopback): %q", svc.Command)
	}
}
