package deploy

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_proc/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	"github.com/flowproc/flowproc/envoy"
)

var update = flag.Bool("update", false, "rewrite the data of the Kubernetes ConfigMaps from envoy/sidecar.yaml and deploy/projects/")

// The files under test, relative to this directory.
const (
	composePath       = "docker-compose.yaml"
	dockerfilePath    = "Dockerfile"
	k8sDir            = "kubernetes"
	istioFilterPath   = "istio/envoyfilter.yaml"
	sidecarConfigPath = "../envoy/sidecar.yaml"
	projectsDir       = "projects"
	projectHeader     = "x-flowproc-project"
)

// ---------------------------------------------------------------------------
// docker compose

type composeFile struct {
	Services map[string]composeService `json:"services"`
}

type composeService struct {
	Image string `json:"image"`
	Build *struct {
		Context    string `json:"context"`
		Dockerfile string `json:"dockerfile"`
	} `json:"build"`
	Command     []string          `json:"command"`
	Volumes     []string          `json:"volumes"`
	Ports       []string          `json:"ports"`
	Expose      []string          `json:"expose"`
	Environment map[string]string `json:"environment"`
	DependsOn   map[string]struct {
		Condition string `json:"condition"`
	} `json:"depends_on"`
	Healthcheck *struct {
		Test []string `json:"test"`
	} `json:"healthcheck"`
}

// containerPorts lists the container-side ports a compose service publishes
// or exposes.
func (s composeService) containerPorts(t *testing.T) []int {
	t.Helper()
	var out []int
	for _, p := range s.Ports {
		parts := strings.Split(strings.TrimSuffix(p, "/tcp"), ":")
		out = append(out, mustPort(t, parts[len(parts)-1]))
	}
	for _, p := range s.Expose {
		out = append(out, mustPort(t, strings.TrimSuffix(p, "/tcp")))
	}
	return out
}

// bindMount is one short-syntax compose volume "source:target[:mode]".
type bindMount struct{ source, target string }

func (s composeService) bindMounts(t *testing.T) []bindMount {
	t.Helper()
	var out []bindMount
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 {
			t.Fatalf("volume %q: want source:target[:mode]", v)
		}
		out = append(out, bindMount{source: parts[0], target: parts[1]})
	}
	return out
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	mustYAML(t, composePath, mustRead(t, composePath), &c)
	for _, name := range []string{"envoy", "flowproc", "upstream"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("%s: no service %q", composePath, name)
		}
	}
	return c
}

// composeEnvoyConfigFile returns the host file (relative to this directory)
// that compose mounts as the envoy service's config, after checking that
// the envoy command reads the mounted path.
func composeEnvoyConfigFile(t *testing.T, envoySvc composeService) string {
	t.Helper()
	cfg := flagValue(envoySvc.Command, "-c")
	if cfg == "" {
		t.Fatalf("envoy command %q has no -c", envoySvc.Command)
	}
	for _, m := range envoySvc.bindMounts(t) {
		if m.target == cfg {
			return filepath.Clean(m.source)
		}
	}
	t.Fatalf("envoy reads %s, but no volume of the envoy service is mounted there", cfg)
	return ""
}

// ---------------------------------------------------------------------------
// Dockerfile

type dockerfile struct {
	stages      []dockerStage
	expose      []int
	user        string
	healthcheck []string // exec form
	entrypoint  []string
	cmd         []string
	runs        []string
	copyFrom    []string // stage names in COPY --from=
}

type dockerStage struct{ image, name string }

// parseDockerfile reads the instructions this package's tests need.
func parseDockerfile(t *testing.T, data []byte) dockerfile {
	t.Helper()
	var d dockerfile
	var lines []string
	var cur strings.Builder
	for _, l := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	execForm := func(s string) []string {
		var a []string
		if err := json.Unmarshal([]byte(s), &a); err != nil {
			t.Fatalf("Dockerfile: %q is not exec (JSON array) form: %v", s, err)
		}
		return a
	}
	for _, l := range lines {
		instr, rest, _ := strings.Cut(l, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(instr) {
		case "FROM":
			f := strings.Fields(rest)
			var st dockerStage
			for i := 0; i < len(f); i++ {
				switch {
				case strings.HasPrefix(f[i], "--"):
				case strings.EqualFold(f[i], "AS") && i+1 < len(f):
					st.name = f[i+1]
					i++
				default:
					st.image = f[i]
				}
			}
			d.stages = append(d.stages, st)
		case "EXPOSE":
			for _, p := range strings.Fields(rest) {
				d.expose = append(d.expose, mustPort(t, strings.TrimSuffix(p, "/tcp")))
			}
		case "USER":
			d.user = rest
		case "HEALTHCHECK":
			_, cmd, ok := strings.Cut(rest, "CMD ")
			if !ok {
				t.Fatalf("Dockerfile: HEALTHCHECK without CMD: %q", rest)
			}
			d.healthcheck = execForm(strings.TrimSpace(cmd))
		case "ENTRYPOINT":
			d.entrypoint = execForm(rest)
		case "CMD":
			d.cmd = execForm(rest)
		case "RUN":
			d.runs = append(d.runs, rest)
		case "COPY":
			for _, f := range strings.Fields(rest) {
				if from, ok := strings.CutPrefix(f, "--from="); ok {
					d.copyFrom = append(d.copyFrom, from)
				}
			}
		}
	}
	return d
}

// ---------------------------------------------------------------------------
// Kubernetes

type k8sObject struct {
	file       string
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Data      map[string]string `json:"data"`
	Resources []string          `json:"resources"` // kustomization
	Spec      json.RawMessage   `json:"spec"`
}

type deploymentSpec struct {
	Selector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"selector"`
	Template struct {
		Metadata struct {
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
		Spec podSpec `json:"spec"`
	} `json:"template"`
}

type podSpec struct {
	TerminationGracePeriodSeconds *int             `json:"terminationGracePeriodSeconds"`
	SecurityContext               *securityContext `json:"securityContext"`
	Containers                    []k8sContainer   `json:"containers"`
	Volumes                       []struct {
		Name      string `json:"name"`
		ConfigMap *struct {
			Name string `json:"name"`
		} `json:"configMap"`
	} `json:"volumes"`
}

type k8sContainer struct {
	Name  string   `json:"name"`
	Image string   `json:"image"`
	Args  []string `json:"args"`
	Env   []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"env"`
	Ports []struct {
		Name          string `json:"name"`
		ContainerPort int    `json:"containerPort"`
	} `json:"ports"`
	ReadinessProbe *k8sProbe `json:"readinessProbe"`
	LivenessProbe  *k8sProbe `json:"livenessProbe"`
	StartupProbe   *k8sProbe `json:"startupProbe"`
	VolumeMounts   []struct {
		Name      string `json:"name"`
		MountPath string `json:"mountPath"`
	} `json:"volumeMounts"`
	SecurityContext *securityContext `json:"securityContext"`
	Resources       struct {
		Requests map[string]string `json:"requests"`
		Limits   map[string]string `json:"limits"`
	} `json:"resources"`
	Lifecycle *struct {
		PreStop *struct {
			Exec *struct {
				Command []string `json:"command"`
			} `json:"exec"`
			Sleep *struct {
				Seconds int `json:"seconds"`
			} `json:"sleep"`
		} `json:"preStop"`
	} `json:"lifecycle"`
}

type k8sProbe struct {
	GRPC *struct {
		Port int `json:"port"`
	} `json:"grpc"`
	HTTPGet *struct {
		Path string      `json:"path"`
		Port intOrString `json:"port"`
	} `json:"httpGet"`
	TCPSocket *struct {
		Port intOrString `json:"port"`
	} `json:"tcpSocket"`
}

// intOrString is a Kubernetes port: a number or a port name.
type intOrString struct {
	num  int
	name string
}

func (p *intOrString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &p.name)
	}
	return json.Unmarshal(b, &p.num)
}

func (p intOrString) String() string {
	if p.name != "" {
		return p.name
	}
	return strconv.Itoa(p.num)
}

// resolve returns the container port p refers to, or 0.
func (c k8sContainer) resolve(p intOrString) int {
	for _, cp := range c.Ports {
		if (p.name != "" && cp.Name == p.name) || (p.name == "" && cp.ContainerPort == p.num) {
			return cp.ContainerPort
		}
	}
	return 0
}

func (c k8sContainer) hasPort(port int) bool { return c.resolve(intOrString{num: port}) != 0 }

type serviceSpec struct {
	Selector map[string]string `json:"selector"`
	Ports    []struct {
		Name       string      `json:"name"`
		Port       int         `json:"port"`
		TargetPort intOrString `json:"targetPort"`
	} `json:"ports"`
}

type envoyFilterSpec struct {
	WorkloadSelector struct {
		Labels map[string]string `json:"labels"`
	} `json:"workloadSelector"`
	ConfigPatches []struct {
		ApplyTo string `json:"applyTo"`
		Match   struct {
			Context  string `json:"context"`
			Listener *struct {
				FilterChain struct {
					Filter struct {
						Name      string `json:"name"`
						SubFilter struct {
							Name string `json:"name"`
						} `json:"subFilter"`
					} `json:"filter"`
				} `json:"filterChain"`
			} `json:"listener"`
		} `json:"match"`
		Patch struct {
			Operation string          `json:"operation"`
			Value     json.RawMessage `json:"value"`
		} `json:"patch"`
	} `json:"configPatches"`
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?$`)

// loadManifests parses every YAML file of dir, split into documents.
func loadManifests(t *testing.T, dir string) []k8sObject {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var out []k8sObject
	for _, f := range files {
		out = append(out, splitManifests(t, f, mustRead(t, f))...)
	}
	if len(out) == 0 {
		t.Fatalf("no manifests in %s", dir)
	}
	return out
}

// splitManifests parses the YAML documents of one file (or of one rendered
// Helm chart, named file).
func splitManifests(t *testing.T, file string, data []byte) []k8sObject {
	t.Helper()
	var out []k8sObject
	for _, doc := range docSeparator.Split(string(data), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		o := k8sObject{file: file}
		mustYAML(t, file, []byte(doc), &o)
		if o.Kind == "" {
			if strings.TrimSpace(stripComments(doc)) != "" {
				t.Errorf("%s: a document without kind", file)
			}
			continue
		}
		out = append(out, o)
	}
	return out
}

// stripComments drops the YAML comment lines of doc.
func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// manifestSet is one way the sidecar pod is shipped: the raw manifests of
// deploy/kubernetes, or the Helm chart rendered with its default values.
type manifestSet struct {
	name    string
	objects []k8sObject
}

// manifestSets are the raw manifests and the rendered Helm chart: every
// Kubernetes validation runs on both.
func manifestSets(t *testing.T) []manifestSet {
	t.Helper()
	return []manifestSet{
		{name: "kubernetes", objects: loadManifests(t, k8sDir)},
		{name: "helm", objects: splitManifests(t, helmChartDir, renderChart(t, helmChartDir, nil))},
	}
}

// forEachPod runs check as a subtest on the sidecar pod of every manifest
// set.
func forEachPod(t *testing.T, check func(t *testing.T, p sidecarPod)) {
	t.Helper()
	for _, set := range manifestSets(t) {
		t.Run(set.name, func(t *testing.T) { check(t, loadSidecarPodFrom(t, set.objects)) })
	}
}

// sidecarPod is the parsed Kubernetes sidecar deployment.
type sidecarPod struct {
	objects    []k8sObject
	deployment deploymentSpec
	configMaps map[string]k8sObject
	services   []serviceSpec
	containers map[string]k8sContainer
	// volumes maps volume names to ConfigMap names.
	volumes map[string]string
}

func loadSidecarPod(t *testing.T) sidecarPod {
	t.Helper()
	return loadSidecarPodFrom(t, loadManifests(t, k8sDir))
}

// loadSidecarPodFrom finds the sidecar Deployment, its ConfigMaps and
// Services in objs.
func loadSidecarPodFrom(t *testing.T, objs []k8sObject) sidecarPod {
	t.Helper()
	p := sidecarPod{configMaps: map[string]k8sObject{}, containers: map[string]k8sContainer{}, volumes: map[string]string{}}
	p.objects = objs
	deployments := 0
	for _, o := range p.objects {
		switch o.Kind {
		case "Deployment":
			deployments++
			mustJSON(t, o.file, o.Spec, &p.deployment)
		case "ConfigMap":
			p.configMaps[o.Metadata.Name] = o
		case "Service":
			var s serviceSpec
			mustJSON(t, o.file, o.Spec, &s)
			p.services = append(p.services, s)
		}
	}
	if deployments != 1 || len(p.services) == 0 {
		t.Fatalf("want one Deployment and a Service, got %d Deployments and %d Services", deployments, len(p.services))
	}
	for _, c := range p.deployment.Template.Spec.Containers {
		p.containers[c.Name] = c
	}
	for _, v := range p.deployment.Template.Spec.Volumes {
		if v.ConfigMap != nil {
			p.volumes[v.Name] = v.ConfigMap.Name
		} else {
			p.volumes[v.Name] = ""
		}
	}
	for _, name := range []string{"app", "envoy", "flowproc"} {
		if _, ok := p.containers[name]; !ok {
			t.Fatalf("the Deployment has no %q container", name)
		}
	}
	return p
}

// configMapFile returns the ConfigMap key and ConfigMap behind a file path
// inside a container, via the container's volume mounts.
func (p sidecarPod) configMapFile(t *testing.T, c k8sContainer, file string) (key string, cm k8sObject) {
	t.Helper()
	for _, m := range c.VolumeMounts {
		rel, ok := strings.CutPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/")
		if !ok {
			continue
		}
		cmName := p.volumes[m.Name]
		cm, ok := p.configMaps[cmName]
		if !ok {
			t.Fatalf("container %s: %s is on volume %q, which is not a ConfigMap of the manifests", c.Name, file, m.Name)
		}
		if _, ok := cm.Data[rel]; !ok {
			t.Fatalf("container %s reads %s, but ConfigMap %s has no key %q", c.Name, file, cmName, rel)
		}
		return rel, cm
	}
	t.Fatalf("container %s: no volume is mounted above %s", c.Name, file)
	return "", k8sObject{}
}

// ---------------------------------------------------------------------------
// Envoy configs

// envoyFacts is what the deployment files must agree with in an Envoy config.
type envoyFacts struct {
	listenerPorts []int
	adminPort     int
	clusters      map[string]envoyCluster
	// extProcClusters are the clusters of the ext_proc filters' grpc_service.
	extProcClusters []string
	// projects are the x-flowproc-project values sent to flowproc.
	projects []string
}

type envoyCluster struct {
	typ       string
	endpoints []hostPort
}

type hostPort struct {
	host string
	port int
}

// readEnvoyFacts validates data with envoy.ValidateBootstrapYAML, then
// collects its ports, clusters and ext_proc settings.
func readEnvoyFacts(t *testing.T, name string, data []byte) envoyFacts {
	t.Helper()
	if err := envoy.ValidateBootstrapYAML(data); err != nil {
		t.Fatalf("%s does not validate:\n%v", name, err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &b); err != nil {
		t.Fatal(err)
	}
	f := envoyFacts{
		adminPort: int(b.GetAdmin().GetAddress().GetSocketAddress().GetPortValue()),
		clusters:  map[string]envoyCluster{},
	}
	for _, c := range b.GetStaticResources().GetClusters() {
		ec := envoyCluster{typ: c.GetType().String()}
		if ct := c.GetClusterType(); ct != nil {
			// Custom cluster types (the dynamic forward proxy for origins
			// chosen by flows) have no static endpoints to check.
			ec.typ = ct.GetName()
		}
		for _, le := range c.GetLoadAssignment().GetEndpoints() {
			for _, lb := range le.GetLbEndpoints() {
				sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
				ec.endpoints = append(ec.endpoints, hostPort{sa.GetAddress(), int(sa.GetPortValue())})
			}
		}
		f.clusters[c.GetName()] = ec
	}
	for _, l := range b.GetStaticResources().GetListeners() {
		f.listenerPorts = append(f.listenerPorts, int(l.GetAddress().GetSocketAddress().GetPortValue()))
		for _, fc := range l.GetFilterChains() {
			for _, nf := range fc.GetFilters() {
				var h hcmv3.HttpConnectionManager
				if nf.GetTypedConfig().UnmarshalTo(&h) != nil {
					continue
				}
				f.addHCM(t, &h)
			}
		}
	}
	return f
}

func (f *envoyFacts) addHCM(t *testing.T, h *hcmv3.HttpConnectionManager) {
	t.Helper()
	for _, hf := range h.GetHttpFilters() {
		var ep extprocv3.ExternalProcessor
		if hf.GetTypedConfig().UnmarshalTo(&ep) != nil {
			continue
		}
		f.extProcClusters = append(f.extProcClusters, ep.GetGrpcService().GetEnvoyGrpc().GetClusterName())
		f.addProjects(ep.GetGrpcService().GetInitialMetadata())
	}
	for _, vh := range h.GetRouteConfig().GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			for _, a := range r.GetTypedPerFilterConfig() {
				var per extprocv3.ExtProcPerRoute
				if a.UnmarshalTo(&per) == nil {
					f.addProjects(per.GetOverrides().GetGrpcInitialMetadata())
				}
			}
		}
	}
}

func (f *envoyFacts) addProjects(md []*corev3.HeaderValue) {
	for _, h := range md {
		if strings.EqualFold(h.GetKey(), projectHeader) {
			f.projects = append(f.projects, h.GetValue())
		}
	}
}

// extProcCluster returns the one cluster the ext_proc filters use.
func (f envoyFacts) extProcCluster(t *testing.T) envoyCluster {
	t.Helper()
	if len(f.extProcClusters) == 0 {
		t.Fatal("no ext_proc filter")
	}
	for _, c := range f.extProcClusters[1:] {
		if c != f.extProcClusters[0] {
			t.Fatalf("ext_proc filters use different clusters: %v", f.extProcClusters)
		}
	}
	c, ok := f.clusters[f.extProcClusters[0]]
	if !ok || len(c.endpoints) == 0 {
		t.Fatalf("ext_proc cluster %q has no endpoints", f.extProcClusters[0])
	}
	return c
}

// ---------------------------------------------------------------------------
// flowproc command lines

// serveArgs is a parsed `flowproc serve [-listen addr] [-admin addr]
// [-config file] [DIR...]` command line.
type serveArgs struct {
	listenHost, adminHost string
	listenPort, adminPort int
	// adminSet: -admin was given (its default is loopback, so a probe or a
	// published port needs it set).
	adminSet bool
	watch    bool
	grace    time.Duration
	dirs     []string
}

// listenLoopback reports whether ext_proc listens on loopback only.
func (a serveArgs) listenLoopback() bool {
	ip := net.ParseIP(a.listenHost)
	return a.listenHost == "localhost" || (ip != nil && ip.IsLoopback())
}

func parseServeArgs(t *testing.T, args []string) serveArgs {
	t.Helper()
	if len(args) == 0 || args[0] != "serve" {
		t.Fatalf("flowproc arguments %q do not start with the serve command", args)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	listen := fs.String("listen", ":50051", "")
	admin := fs.String("admin", "127.0.0.1:9090", "")
	watch := fs.Bool("watch", false, "")
	grace := fs.Duration("shutdown-grace", 15*time.Second, "")
	fs.String("config", "", "")
	fs.String("log-level", "", "")
	if err := fs.Parse(args[1:]); err != nil {
		t.Fatalf("flowproc arguments %q: %v", args, err)
	}
	a := serveArgs{listenPort: addrPort(t, *listen), adminPort: addrPort(t, *admin), watch: *watch, grace: *grace, dirs: fs.Args()}
	a.listenHost, _, _ = net.SplitHostPort(*listen)
	a.adminHost, _, _ = net.SplitHostPort(*admin)
	fs.Visit(func(f *flag.Flag) { a.adminSet = a.adminSet || f.Name == "admin" })
	return a
}

func addrPort(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return mustPort(t, p)
}

// projectNames are the base names of the project directories: the names
// flowproc knows the projects by.
func (a serveArgs) projectNames() []string {
	var out []string
	for _, d := range a.dirs {
		out = append(out, path.Base(d))
	}
	return out
}

// ---------------------------------------------------------------------------
// Tests

func TestComposeEnvoyConfigIsMountedAndValid(t *testing.T) {
	c := loadCompose(t)
	ev := c.Services["envoy"]
	if !regexp.MustCompile(`^envoyproxy/envoy:v1\.3\d\.\d+$`).MatchString(ev.Image) {
		t.Errorf("envoy image %q is not the official image pinned to a v1.3x.y tag", ev.Image)
	}
	file := composeEnvoyConfigFile(t, ev)
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("the envoy config compose mounts does not exist: %v", err)
	}
	if err := envoy.ValidateBootstrapFile(file); err != nil {
		t.Fatalf("compose envoy config:\n%v", err)
	}
	facts := readEnvoyFacts(t, file, mustRead(t, file))
	published := ev.containerPorts(t)
	for _, p := range append(slices.Clone(facts.listenerPorts), facts.adminPort) {
		if !slices.Contains(published, p) {
			t.Errorf("envoy listens on %d (%s), but the envoy service does not publish it (ports %v)", p, file, ev.Ports)
		}
	}
}

func TestComposeEnvoyClustersMatchServices(t *testing.T) {
	c := loadCompose(t)
	file := composeEnvoyConfigFile(t, c.Services["envoy"])
	facts := readEnvoyFacts(t, file, mustRead(t, file))
	fp := parseServeArgs(t, c.Services["flowproc"].Command)

	names := make([]string, 0, len(facts.clusters))
	for n := range facts.clusters {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		cl := facts.clusters[name]
		t.Run(name, func(t *testing.T) {
			if cl.typ == "envoy.clusters.dynamic_forward_proxy" {
				return // resolves each request's :authority; no compose service behind it
			}
			if cl.typ != "STRICT_DNS" {
				t.Errorf("type %s: compose service names need STRICT_DNS (or LOGICAL_DNS)", cl.typ)
			}
			for _, ep := range cl.endpoints {
				svc, ok := c.Services[ep.host]
				if !ok {
					t.Errorf("endpoint %s:%d is not a compose service", ep.host, ep.port)
					continue
				}
				want := svc.containerPorts(t)
				if ep.host == "flowproc" {
					want = []int{fp.listenPort}
				}
				if !slices.Contains(want, ep.port) {
					t.Errorf("endpoint %s:%d, but service %s serves on %v", ep.host, ep.port, ep.host, want)
				}
			}
		})
	}
	ext := facts.extProcCluster(t)
	if ext.endpoints[0].host != "flowproc" {
		t.Errorf("ext_proc cluster points at %s, want the flowproc service", ext.endpoints[0].host)
	}
	if d := c.Services["envoy"].DependsOn; d["flowproc"].Condition != "service_healthy" {
		t.Errorf("envoy should wait for flowproc to be healthy, depends_on = %v", d)
	}
}

func TestComposeFlowprocServiceMatchesImageAndProjects(t *testing.T) {
	c := loadCompose(t)
	svc := c.Services["flowproc"]
	if svc.Build == nil {
		t.Fatal("flowproc service has no build section")
	}
	dockerfile := filepath.Join(svc.Build.Context, svc.Build.Dockerfile)
	if abs1, abs2 := mustAbs(t, dockerfile), mustAbs(t, dockerfilePath); abs1 != abs2 {
		t.Errorf("flowproc is built from %s, want %s", abs1, abs2)
	}
	if _, err := os.Stat(filepath.Join(svc.Build.Context, "go.mod")); err != nil {
		t.Errorf("build context %s is not the module root: %v", svc.Build.Context, err)
	}
	df := parseDockerfile(t, mustRead(t, dockerfilePath))
	args := parseServeArgs(t, svc.Command)
	for what, p := range map[string]int{"-listen": args.listenPort, "-admin": args.adminPort} {
		if !slices.Contains(df.expose, p) {
			t.Errorf("flowproc %s port %d is not EXPOSEd by the Dockerfile (%v)", what, p, df.expose)
		}
	}
	if !slices.Contains(svc.containerPorts(t), args.listenPort) {
		t.Errorf("flowproc service does not expose its -listen port %d", args.listenPort)
	}
	if svc.Healthcheck == nil {
		t.Fatal("flowproc service has no healthcheck (envoy's depends_on needs it)")
	}
	if got, want := svc.Healthcheck.Test, append([]string{"CMD"}, df.healthcheck...); !slices.Equal(got, want) {
		t.Errorf("compose healthcheck %q differs from the Dockerfile's HEALTHCHECK %q", got, want)
	}
	if p := addrPort(t, flagValue(svc.Healthcheck.Test, "-addr")); p != args.listenPort {
		t.Errorf("healthcheck asks port %d, flowproc listens on %d", p, args.listenPort)
	}
	if len(args.dirs) == 0 {
		t.Fatal("the compose demo serves no project directory")
	}
	for _, dir := range args.dirs {
		host := ""
		for _, m := range svc.bindMounts(t) {
			if rel, ok := strings.CutPrefix(dir, strings.TrimSuffix(m.target, "/")+"/"); ok {
				host = filepath.Join(m.source, rel)
			}
		}
		if host == "" {
			t.Errorf("project directory %s is not inside a volume of the flowproc service", dir)
			continue
		}
		if _, err := os.Stat(filepath.Join(host, "swagger.yaml")); err != nil {
			t.Errorf("project directory %s (host %s) has no swagger.yaml: %v", dir, host, err)
		}
	}
	facts := readEnvoyFacts(t, "compose envoy config", mustRead(t, composeEnvoyConfigFile(t, c.Services["envoy"])))
	if len(facts.projects) == 0 {
		t.Error("the compose envoy config selects no project with " + projectHeader)
	}
	for _, p := range facts.projects {
		if !slices.Contains(args.projectNames(), p) {
			t.Errorf("envoy selects project %q, flowproc serves %v", p, args.projectNames())
		}
	}
}

func TestDockerfile(t *testing.T) {
	df := parseDockerfile(t, mustRead(t, dockerfilePath))
	if len(df.stages) < 2 {
		t.Fatalf("want a multi-stage build, got stages %v", df.stages)
	}
	if first := df.stages[0]; !strings.HasPrefix(first.image, "golang:1.26") || first.name == "" {
		t.Errorf("builder stage %+v: want a named golang:1.26 stage", first)
	}
	final := df.stages[len(df.stages)-1].image
	if !strings.HasPrefix(final, "gcr.io/distroless/static") && final != "scratch" {
		t.Errorf("final image %q: want distroless static or scratch", final)
	}
	for _, from := range df.copyFrom {
		if !slices.ContainsFunc(df.stages, func(s dockerStage) bool { return s.name == from }) {
			t.Errorf("COPY --from=%s names no stage", from)
		}
	}
	if uid, _, _ := strings.Cut(df.user, ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("USER %q: want a non-root user", df.user)
	} else if _, err := strconv.Atoi(uid); err != nil {
		t.Errorf("USER %q: want a numeric uid (Kubernetes runAsNonRoot cannot verify names)", df.user)
	}
	build := ""
	for _, r := range df.runs {
		if strings.Contains(r, "go build") {
			build = r
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "./cmd/flowproc"} {
		if !strings.Contains(build, want) {
			t.Errorf("go build step %q lacks %s", build, want)
		}
	}
	if _, err := os.Stat("../cmd/flowproc"); err != nil {
		t.Errorf("the built package is missing: %v", err)
	}
	if len(df.entrypoint) != 1 {
		t.Fatalf("ENTRYPOINT %q: want the flowproc binary", df.entrypoint)
	}
	def := parseServeArgs(t, df.cmd)
	for _, p := range []int{def.listenPort, def.adminPort} {
		if !slices.Contains(df.expose, p) {
			t.Errorf("default CMD uses port %d, EXPOSE has %v", p, df.expose)
		}
	}
	hc := df.healthcheck
	if len(hc) < 2 || hc[0] != df.entrypoint[0] || hc[1] != "healthcheck" {
		t.Fatalf("HEALTHCHECK %q: want %s healthcheck ...", hc, df.entrypoint[0])
	}
	if p := addrPort(t, flagValue(hc, "-addr")); p != def.listenPort {
		t.Errorf("HEALTHCHECK asks port %d, flowproc listens on %d", p, def.listenPort)
	}
	// The subcommand the HEALTHCHECK runs must exist.
	srcs, _ := filepath.Glob("../cmd/flowproc/*.go")
	registered := false
	for _, s := range srcs {
		if !strings.HasSuffix(s, "_test.go") && regexp.MustCompile(`name:\s*"healthcheck"`).Match(mustRead(t, s)) {
			registered = true
		}
	}
	if !registered {
		t.Error("no file in cmd/flowproc registers the healthcheck command the HEALTHCHECK runs")
	}
}

func TestKubernetesKustomizationListsEveryManifest(t *testing.T) {
	var kust *k8sObject
	listed := map[string]bool{}
	objs := loadManifests(t, k8sDir)
	for i := range objs {
		if objs[i].Kind == "Kustomization" {
			kust = &objs[i]
		}
	}
	if kust == nil {
		t.Fatal("no kustomization.yaml")
	}
	for _, r := range kust.Resources {
		listed[r] = true
		if _, err := os.Stat(filepath.Join(k8sDir, r)); err != nil {
			t.Errorf("kustomization resource %s: %v", r, err)
		}
	}
	for _, o := range objs {
		if base := filepath.Base(o.file); o.Kind != "Kustomization" && !listed[base] {
			t.Errorf("%s is not listed in kustomization.yaml", base)
		}
	}
}

func TestKubernetesPortsProbesAndVolumesAgree(t *testing.T) {
	forEachPod(t, checkPortsProbesAndVolumes)
}

func checkPortsProbesAndVolumes(t *testing.T, p sidecarPod) {
	labels := p.deployment.Template.Metadata.Labels
	if !subset(p.deployment.Selector.MatchLabels, labels) {
		t.Errorf("Deployment selector %v does not match its pod labels %v", p.deployment.Selector.MatchLabels, labels)
	}
	for _, s := range p.services {
		if !subset(s.Selector, labels) {
			t.Errorf("Service selector %v does not select the pod (labels %v)", s.Selector, labels)
		}
		for _, sp := range s.Ports {
			found := false
			for _, c := range p.containers {
				if c.resolve(sp.TargetPort) != 0 {
					found = true
				}
			}
			if !found {
				t.Errorf("Service port %s: targetPort %s is no container port", sp.Name, sp.TargetPort)
			}
		}
	}
	for _, c := range p.containers {
		probes := map[string]*k8sProbe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe}
		for kind, pr := range probes {
			if pr == nil {
				continue
			}
			switch {
			case pr.GRPC != nil:
				if !c.hasPort(pr.GRPC.Port) {
					t.Errorf("container %s: %s grpc probe port %d is not a container port", c.Name, kind, pr.GRPC.Port)
				}
			case pr.HTTPGet != nil:
				if c.resolve(pr.HTTPGet.Port) == 0 {
					t.Errorf("container %s: %s httpGet port %s is not a container port", c.Name, kind, pr.HTTPGet.Port)
				}
			case pr.TCPSocket != nil:
				if c.resolve(pr.TCPSocket.Port) == 0 {
					t.Errorf("container %s: %s tcpSocket port %s is not a container port", c.Name, kind, pr.TCPSocket.Port)
				}
			}
		}
		for _, m := range c.VolumeMounts {
			if _, ok := p.volumes[m.Name]; !ok {
				t.Errorf("container %s mounts volume %q, which the pod does not define", c.Name, m.Name)
			}
		}
	}
	for v, cm := range p.volumes {
		if _, ok := p.configMaps[cm]; cm != "" && !ok {
			t.Errorf("volume %s uses ConfigMap %q, which the manifests do not define", v, cm)
		}
	}
	if port := p.deployment.Template.Metadata.Annotations["prometheus.io/port"]; port != "" {
		if !p.containers["flowproc"].hasPort(mustPort(t, port)) {
			t.Errorf("prometheus.io/port %s is not a flowproc container port", port)
		}
	}
}

func TestKubernetesEnvoySidecarConfig(t *testing.T) {
	forEachPod(t, checkEnvoySidecarConfig)
}

func checkEnvoySidecarConfig(t *testing.T, p sidecarPod) {
	ec := p.containers["envoy"]
	cfgPath := flagValue(ec.Args, "-c")
	if cfgPath == "" {
		t.Fatalf("envoy args %q have no -c", ec.Args)
	}
	key, cm := p.configMapFile(t, ec, cfgPath)
	data := []byte(cm.Data[key])
	if err := envoy.ValidateBootstrapYAML(data); err != nil {
		t.Fatalf("ConfigMap %s key %s:\n%v", cm.Metadata.Name, key, err)
	}
	facts := readEnvoyFacts(t, cm.Metadata.Name, data)

	for _, lp := range facts.listenerPorts {
		if !ec.hasPort(lp) {
			t.Errorf("Envoy listens on %d, the envoy container declares no such port", lp)
		}
	}
	// Clients must go through Envoy: every Service port lands on a listener.
	for _, s := range p.services {
		for _, sp := range s.Ports {
			if port := ec.resolve(sp.TargetPort); !slices.Contains(facts.listenerPorts, port) {
				t.Errorf("Service port %s targets %s, not an Envoy listener %v", sp.Name, sp.TargetPort, facts.listenerPorts)
			}
		}
	}
	// Every cluster is another container of the pod, on loopback.
	for name, cl := range facts.clusters {
		for _, ep := range cl.endpoints {
			ip := net.ParseIP(ep.host)
			if ip == nil || !ip.IsLoopback() {
				t.Errorf("cluster %s endpoint %s is not a loopback address", name, ep.host)
			}
			owner := ""
			for _, c := range p.containers {
				if c.Name != "envoy" && c.hasPort(ep.port) {
					owner = c.Name
				}
			}
			// flowproc's ext_proc port may be a loopback listener, which
			// declares no container port.
			if fp := parseServeArgs(t, p.containers["flowproc"].Args); owner == "" && fp.listenPort == ep.port {
				owner = "flowproc"
			}
			if owner == "" {
				t.Errorf("cluster %s endpoint port %d is no port of another container in the pod", name, ep.port)
			}
		}
	}
	fp := parseServeArgs(t, p.containers["flowproc"].Args)
	if ext := facts.extProcCluster(t); ext.endpoints[0].port != fp.listenPort {
		t.Errorf("ext_proc cluster port %d, flowproc -listen port %d", ext.endpoints[0].port, fp.listenPort)
	}
	if len(facts.projects) == 0 {
		t.Error("the sidecar config selects no project with " + projectHeader)
	}
	for _, pr := range facts.projects {
		if !slices.Contains(fp.projectNames(), pr) {
			t.Errorf("envoy selects project %q, flowproc serves %v", pr, fp.projectNames())
		}
	}
}

func TestKubernetesFlowprocContainer(t *testing.T) {
	forEachPod(t, checkFlowprocContainer)
}

func checkFlowprocContainer(t *testing.T, p sidecarPod) {
	fc := p.containers["flowproc"]
	args := parseServeArgs(t, fc.Args)
	if !args.listenLoopback() && !fc.hasPort(args.listenPort) {
		t.Errorf("flowproc -listen port %d is not a container port", args.listenPort)
	}
	if !fc.hasPort(args.adminPort) {
		t.Errorf("flowproc -admin port %d is not a container port", args.adminPort)
	}
	checkFlowprocProbes(t, fc, args)
	df := parseDockerfile(t, mustRead(t, dockerfilePath))
	for _, port := range []int{args.listenPort, args.adminPort} {
		if !slices.Contains(df.expose, port) {
			t.Errorf("port %d is not EXPOSEd by the image (%v)", port, df.expose)
		}
	}
	if len(args.dirs) == 0 {
		t.Fatal("flowproc serves no project directory")
	}
	for _, dir := range args.dirs {
		mounted := false
		for _, m := range fc.VolumeMounts {
			if strings.TrimSuffix(m.MountPath, "/") == strings.TrimSuffix(dir, "/") && p.volumes[m.Name] != "" {
				mounted = true
			}
		}
		if !mounted {
			t.Errorf("project directory %s is not a ConfigMap volume mount", dir)
		}
		if _, err := os.Stat(filepath.Join(projectsDir, path.Base(dir), "swagger.yaml")); err != nil {
			t.Errorf("project %s has no source in %s: %v", path.Base(dir), projectsDir, err)
		}
	}
	compose := loadCompose(t)
	for name, img := range map[string]string{"envoy": p.containers["envoy"].Image, "flowproc": fc.Image} {
		if want := compose.Services[name].Image; img != want {
			t.Errorf("%s image %q, compose uses %q", name, img, want)
		}
	}
	if app, up := p.containers["app"], compose.Services["upstream"]; app.Image != up.Image {
		t.Errorf("demo app image %q, compose upstream uses %q", app.Image, up.Image)
	}
}

// configMapSources lists, per ConfigMap, the files its data must equal:
// the Envoy sidecar config and each served project's directory.
func configMapSources(t *testing.T, p sidecarPod) map[string][]sourceFile {
	t.Helper()
	out := map[string][]sourceFile{}
	ec := p.containers["envoy"]
	key, cm := p.configMapFile(t, ec, flagValue(ec.Args, "-c"))
	out[cm.Metadata.Name] = []sourceFile{{key: key, path: sidecarConfigPath}}
	fc := p.containers["flowproc"]
	for _, dir := range parseServeArgs(t, fc.Args).dirs {
		for _, m := range fc.VolumeMounts {
			if strings.TrimSuffix(m.MountPath, "/") != strings.TrimSuffix(dir, "/") {
				continue
			}
			src := filepath.Join(projectsDir, path.Base(dir))
			entries, err := os.ReadDir(src)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.IsDir() {
					t.Errorf("%s/%s: ConfigMaps hold no subdirectories; flatten the demo project", src, e.Name())
					continue
				}
				out[p.volumes[m.Name]] = append(out[p.volumes[m.Name]], sourceFile{key: e.Name(), path: filepath.Join(src, e.Name())})
			}
		}
	}
	return out
}

type sourceFile struct{ key, path string }

// TestKubernetesConfigMapsMatchSources keeps the ConfigMaps equal to the
// files they copy (envoy/sidecar.yaml, deploy/projects/<name>/). Run with
// -update to rewrite their data sections.
func TestKubernetesConfigMapsMatchSources(t *testing.T) {
	p := loadSidecarPod(t)
	sources := configMapSources(t, p)
	names := make([]string, 0, len(sources))
	for n := range sources {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		files := sources[name]
		cm := p.configMaps[name]
		t.Run(name, func(t *testing.T) {
			if *update {
				rewriteConfigMapData(t, cm.file, files)
				return
			}
			want := map[string]bool{}
			for _, f := range files {
				want[f.key] = true
				if got := cm.Data[f.key]; got != string(mustRead(t, f.path)) {
					t.Errorf("%s: data[%q] differs from %s; run go test ./deploy -run %s -update", cm.file, f.key, f.path, t.Name())
				}
			}
			for k := range cm.Data {
				if !want[k] {
					t.Errorf("%s: data[%q] has no source file; run go test ./deploy -run %s -update", cm.file, k, t.Name())
				}
			}
		})
	}
}

// rewriteConfigMapData replaces everything from the top-level "data:" line
// of file (which must be the last key) with the files as block scalars.
func rewriteConfigMapData(t *testing.T, file string, files []sourceFile) {
	t.Helper()
	old := string(mustRead(t, file))
	head, _, ok := strings.Cut(old, "\ndata:\n")
	if !ok {
		t.Fatalf("%s: no top-level data: line", file)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].key < files[j].key })
	var b strings.Builder
	b.WriteString(head + "\ndata:\n")
	for _, f := range files {
		content := string(mustRead(t, f.path))
		if !strings.HasSuffix(content, "\n") || strings.HasSuffix(content, "\n\n") || strings.HasPrefix(content, " ") {
			t.Fatalf("%s: cannot be embedded as a plain | block (needs one trailing newline, no leading space)", f.path)
		}
		fmt.Fprintf(&b, "  %s: |\n", f.key)
		for _, l := range strings.SplitAfter(content, "\n") {
			if strings.TrimSpace(l) == "" {
				b.WriteString(strings.TrimLeft(l, " \t"))
			} else {
				b.WriteString("    " + l)
			}
		}
	}
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestIstioEnvoyFilterMatchesSidecarDeployment(t *testing.T) {
	objs := loadManifests(t, filepath.Dir(istioFilterPath))
	var spec envoyFilterSpec
	found := false
	for _, o := range objs {
		if o.Kind == "EnvoyFilter" && o.file == istioFilterPath {
			mustJSON(t, o.file, o.Spec, &spec)
			found = true
		}
	}
	if !found {
		t.Fatalf("%s: no EnvoyFilter", istioFilterPath)
	}
	pod := loadSidecarPod(t)
	if len(spec.WorkloadSelector.Labels) == 0 || !subset(spec.WorkloadSelector.Labels, pod.deployment.Template.Metadata.Labels) {
		t.Errorf("workloadSelector %v does not select the workload (pod labels %v)", spec.WorkloadSelector.Labels, pod.deployment.Template.Metadata.Labels)
	}
	var clusterJSON, filterJSON json.RawMessage
	for i, cp := range spec.ConfigPatches {
		switch {
		case cp.ApplyTo == "CLUSTER" && cp.Patch.Operation == "ADD":
			clusterJSON = cp.Patch.Value
		case cp.ApplyTo == "HTTP_FILTER" && cp.Patch.Operation == "INSERT_BEFORE":
			l := cp.Match.Listener
			if l == nil || l.FilterChain.Filter.Name != "envoy.filters.network.http_connection_manager" || l.FilterChain.Filter.SubFilter.Name != "envoy.filters.http.router" {
				t.Errorf("configPatches[%d]: want a match on the HCM's envoy.filters.http.router", i)
			}
			if cp.Match.Context != "SIDECAR_INBOUND" {
				t.Errorf("configPatches[%d]: context %s, want SIDECAR_INBOUND", i, cp.Match.Context)
			}
			filterJSON = cp.Patch.Value
		case cp.ApplyTo == "NETWORK_FILTER" && cp.Patch.Operation == "MERGE":
			// The HCM's path options: TestEnvoyConfigsNormalizePaths.
			if l := cp.Match.Listener; l == nil || l.FilterChain.Filter.Name != "envoy.filters.network.http_connection_manager" || cp.Match.Context != "SIDECAR_INBOUND" {
				t.Errorf("configPatches[%d]: want a SIDECAR_INBOUND match on the HCM", i)
			}
		default:
			t.Errorf("configPatches[%d]: unexpected %s %s", i, cp.ApplyTo, cp.Patch.Operation)
		}
	}
	if clusterJSON == nil || filterJSON == nil {
		t.Fatal("want one CLUSTER ADD and one HTTP_FILTER INSERT_BEFORE patch")
	}
	// Assemble the two patches into a bootstrap: validates both, including
	// that the filter's cluster is the added one and speaks HTTP/2.
	var cluster, filter any
	mustJSON(t, "cluster patch", clusterJSON, &cluster)
	mustJSON(t, "filter patch", filterJSON, &filter)
	boot := map[string]any{"static_resources": map[string]any{
		"listeners": []any{map[string]any{
			"name":    "inbound",
			"address": map[string]any{"socket_address": map[string]any{"address": "0.0.0.0", "port_value": 15006}},
			"filter_chains": []any{map[string]any{"filters": []any{map[string]any{
				"name": "envoy.filters.network.http_connection_manager",
				"typed_config": map[string]any{
					"@type":       "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
					"stat_prefix": "inbound",
					"route_config": map[string]any{"virtual_hosts": []any{map[string]any{
						"name": "all", "domains": []any{"*"},
						"routes": []any{map[string]any{"match": map[string]any{"prefix": "/"}, "direct_response": map[string]any{"status": 200}}},
					}}},
					"http_filters": []any{filter, map[string]any{
						"name":         "envoy.filters.http.router",
						"typed_config": map[string]any{"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
					}},
				},
			}}}},
		}},
		"clusters": []any{cluster},
	}}
	data, err := json.Marshal(boot)
	if err != nil {
		t.Fatal(err)
	}
	facts := readEnvoyFacts(t, istioFilterPath, data)
	fp := parseServeArgs(t, pod.containers["flowproc"].Args)
	ext := facts.extProcCluster(t)
	if ep := ext.endpoints[0]; ep.host != "127.0.0.1" || ep.port != fp.listenPort {
		t.Errorf("ext_proc cluster endpoint %s:%d, want 127.0.0.1:%d (flowproc in the same pod)", ep.host, ep.port, fp.listenPort)
	}
	if len(facts.projects) == 0 {
		t.Error("the EnvoyFilter selects no project with " + projectHeader)
	}
	for _, pr := range facts.projects {
		if !slices.Contains(fp.projectNames(), pr) {
			t.Errorf("EnvoyFilter selects project %q, flowproc serves %v", pr, fp.projectNames())
		}
	}
}

// ---------------------------------------------------------------------------
// helpers

func mustRead(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustYAML(t *testing.T, name string, data []byte, v any) {
	t.Helper()
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func mustJSON(t *testing.T, name string, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustPort(t *testing.T, s string) int {
	t.Helper()
	p, err := strconv.Atoi(s)
	if err != nil || p <= 0 || p > 65535 {
		t.Fatalf("%q is not a port", s)
	}
	return p
}

// flagValue returns the argument after name in args ("" if absent).
func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

// subset reports whether every label of sel is in labels.
func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}
