package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/tracetree"
	"github.com/flowproc/flowproc/internal/adminapi"
	flowprocv1 "github.com/flowproc/flowproc/proto/flowproc/v1"
)

func init() {
	register(&command{
		name:    "trace",
		summary: "print live traces of exchanges from a server's API (or show a saved session)",
		run:     runTrace,
	})
}

// DefaultAPIAddr is where `flowproc trace` connects by default; `serve
// -api :9091` and `dev` listen there.
const DefaultAPIAddr = "127.0.0.1:9091"

const traceUsage = `Usage: flowproc trace [flags]

Opens a trace session on a flowproc server's API (serve -api ADDR, or dev,
which enables it on loopback and prints its address) and prints each
exchange the filters select as it ends: a line with the request, project,
outcome, status and duration, then its steps as a tree with conditions,
timings, variables and errors. -json prints one ExchangeTrace per line
(protojson, the trace document of docs/trace.md); -save FILE writes the
session to FILE in that format, and -show FILE prints a saved session
without a server. Ctrl-C ends the session.

Flags:
`

// headerFlags are repeated -header name=value filters.
type headerFlags []*flowprocv1.Header

func (h *headerFlags) String() string { return "" }

func (h *headerFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("%q: want name=value", v)
	}
	*h = append(*h, &flowprocv1.Header{Name: strings.TrimSpace(name), Value: value})
	return nil
}

// traceJSON is the trace document's JSON form: camelCase names, every
// field present.
var traceJSON = protojson.MarshalOptions{EmitUnpopulated: true}

func runTrace(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", DefaultAPIAddr, "the server's API `address` (serve -api, or the address dev prints)")
	req := &flowprocv1.TraceRequest{}
	fs.StringVar(&req.Project, "project", "", "trace only this `project`")
	fs.StringVar(&req.PathPrefix, "path", "", "trace only request paths starting with this `prefix`")
	var headers headerFlags
	fs.Var(&headers, "header", "trace only requests with this header `name=value` (repeatable; all must match)")
	fs.StringVar(&req.Status, "status", "", "trace only exchanges ending with this `status`: a code (404) or a class (5xx)")
	fs.Float64Var(&req.Sample, "sample", 1, "trace this `fraction` of the selected exchanges, in (0, 1]")
	asJSON := fs.Bool("json", false, "print one JSON trace document per line instead of the step tree")
	save := fs.String("save", "", "also write the session to `file` as JSON lines")
	show := fs.String("show", "", "print a saved session `file` (JSON lines) instead of connecting")
	count := fs.Int("count", 0, "stop after `n` traces (0 = until interrupted)")
	tokenFile := fs.String("token-file", "", "`file` holding the API's bearer token")
	caFile := fs.String("tls-ca", "", "connect with TLS, trusting the server certificate's CA PEM `file`")
	certFile := fs.String("tls-cert", "", "client certificate PEM `file` (mTLS)")
	keyFile := fs.String("tls-key", "", "client key PEM `file` (mTLS)")
	serverName := fs.String("tls-server-name", "", "server `name` to verify in its certificate (default: the -addr host)")
	fs.Usage = func() {
		fmt.Fprint(stderr, traceUsage)
		fs.PrintDefaults()
	}
	if err := parseInterspersed(fs, args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "flowproc trace: unexpected arguments %q\n", fs.Args())
		return 2
	}
	req.Headers = headers
	out := &traceWriter{w: stdout, json: *asJSON}
	if *show != "" {
		if err := showSession(*show, out, *count); err != nil {
			fmt.Fprintf(stderr, "flowproc trace: %v\n", err)
			return 1
		}
		return 0
	}
	if *save != "" {
		f, err := os.Create(*save)
		if err != nil {
			fmt.Fprintf(stderr, "flowproc trace: %v\n", err)
			return 1
		}
		defer f.Close()
		out.save = bufio.NewWriter(f)
		defer out.save.Flush()
	}
	creds, err := traceCredentials(*caFile, *certFile, *keyFile, *serverName)
	if err != nil {
		fmt.Fprintf(stderr, "flowproc trace: %v\n", err)
		return 2
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds), grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16 << 20))}
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "flowproc trace: %v\n", err)
			return 2
		}
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(strings.TrimSpace(string(b)))))
	}
	conn, err := grpc.NewClient(*addr, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "flowproc trace: %v\n", err)
		return 1
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := flowprocv1.NewFlowprocAdminClient(conn).Trace(ctx, req)
	if err == nil {
		_, err = stream.Header() // the server sends headers once the session is open
	}
	if err != nil {
		return traceFailed(stderr, *addr, err)
	}
	fmt.Fprintf(stderr, "flowproc trace: session open on %s\n", *addr)
	n := 0
	for {
		t, err := stream.Recv()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) {
				reportDropped(stderr, stream.Trailer())
				return 0
			}
			return traceFailed(stderr, *addr, err)
		}
		if t.GetDropped() > 0 {
			fmt.Fprintf(stderr, "flowproc trace: %d traces dropped (this client read too slowly)\n", t.GetDropped())
		}
		if err := out.write(t); err != nil {
			fmt.Fprintf(stderr, "flowproc trace: %v\n", err)
			return 1
		}
		if n++; *count > 0 && n >= *count {
			return 0
		}
	}
}

// traceFailed reports a failed session; a refused filter exits 2.
func traceFailed(stderr io.Writer, addr string, err error) int {
	st, _ := status.FromError(err)
	fmt.Fprintf(stderr, "flowproc trace: %s: %s (%s)\n", addr, st.Message(), st.Code())
	if st.Code() == codes.InvalidArgument {
		return 2
	}
	return 1
}

func reportDropped(stderr io.Writer, md metadata.MD) {
	if v := md.Get(adminapi.DroppedTrailer); len(v) > 0 && v[0] != "0" {
		fmt.Fprintf(stderr, "flowproc trace: the session dropped %s traces in all\n", v[0])
	}
}

// traceCredentials is plaintext without TLS flags, else TLS (with a client
// certificate for mTLS).
func traceCredentials(ca, cert, key, serverName string) (credentials.TransportCredentials, error) {
	if ca == "" && cert == "" && key == "" {
		return insecure.NewCredentials(), nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("tls ca: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls ca %s: no PEM certificate", ca)
		}
	}
	if cert != "" || key != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("tls client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return credentials.NewTLS(cfg), nil
}

// bearer sends the API token with every call.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity is false so the token also works on loopback
// without TLS; the server refuses a token without TLS on other addresses.
func (bearer) RequireTransportSecurity() bool { return false }

// showSession prints a saved session (JSON lines).
func showSession(file string, out *traceWriter, count int) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	n := 0
	for line := 1; sc.Scan(); line++ {
		b := strings.TrimSpace(sc.Text())
		if b == "" {
			continue
		}
		t := &flowprocv1.ExchangeTrace{}
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal([]byte(b), t); err != nil {
			return fmt.Errorf("%s:%d: not a trace document: %w", file, line, err)
		}
		if err := out.write(t); err != nil {
			return err
		}
		if n++; count > 0 && n >= count {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// traceWriter prints traces as text or JSON lines, and saves them.
type traceWriter struct {
	w    io.Writer
	json bool
	save *bufio.Writer
}

func (o *traceWriter) write(t *flowprocv1.ExchangeTrace) error {
	var line []byte
	if o.json || o.save != nil {
		b, err := traceJSON.Marshal(t)
		if err != nil {
			return fmt.Errorf("encode trace: %w", err)
		}
		line = append(b, '\n')
	}
	if o.save != nil {
		if _, err := o.save.Write(line); err != nil {
			return fmt.Errorf("save: %w", err)
		}
		if err := o.save.Flush(); err != nil {
			return fmt.Errorf("save: %w", err)
		}
	}
	if o.json {
		_, err := o.w.Write(line)
		return err
	}
	return writeTraceText(o.w, t)
}

// writeTraceText prints one trace for people: a head line, then the step
// tree (flowengine/tracetree) indented under it.
func writeTraceText(w io.Writer, t *flowprocv1.ExchangeTrace) error {
	var b strings.Builder
	start := ""
	if t.GetStart() != nil {
		start = t.GetStart().AsTime().UTC().Format("15:04:05.000") + " "
	}
	fmt.Fprintf(&b, "%s%s %s project=%s", start, t.GetMethod(), t.GetPath(), dash(t.GetProject()))
	if t.GetKind() != "" {
		fmt.Fprintf(&b, " (%s)", t.GetKind())
	}
	fmt.Fprintf(&b, " flow=%s %s %d %s id=%s", dash(t.GetFlow()), t.GetOutcome(), t.GetStatus(),
		(time.Duration(t.GetDurationUs()) * time.Microsecond).String(), dash(t.GetId()))
	if t.GetError() != "" {
		fmt.Fprintf(&b, " error=%q", t.GetError())
	}
	b.WriteByte('\n')
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return tracetree.Write(w, traceEvents(t), tracetree.Options{Durations: true, Indent: "    "})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// traceEvents turns a trace document back into the events tracetree
// prints: steps and messages, the forward, the upstream response and the
// outcome.
func traceEvents(t *flowprocv1.ExchangeTrace) []flowengine.Event {
	var evs []flowengine.Event
	for _, s := range t.GetSteps() {
		e := flowengine.Event{Kind: flowengine.StepEvent, Seq: int(s.GetSeq()), Depth: int(s.GetDepth()), Flow: s.GetFlow(),
			Step: s.GetStep(), At: s.GetAt(), Cond: s.GetCondition(), CondResult: s.GetConditionResult(),
			Duration: time.Duration(s.GetDurationUs()) * time.Microsecond, Message: s.GetMessage()}
		if s.GetKind() == "message" {
			e.Kind = flowengine.MessageEvent
		}
		for _, v := range s.GetVars() {
			e.Vars = append(e.Vars, flowengine.Var{Name: v.GetName(), Value: v.GetValue()})
		}
		if s.GetError() != "" {
			e.Err = errors.New(s.GetError())
		}
		evs = append(evs, e)
	}
	if f := t.GetForward(); f != nil {
		m := &flowengine.Mutation{Path: f.GetPath(), Authority: f.GetAuthority(), RemoveHeaders: f.GetRemoveHeaders(), BodySet: f.GetBodySet()}
		for _, h := range f.GetSetHeaders() {
			m.SetHeaders = append(m.SetHeaders, flowengine.Header{Name: h.GetName(), Value: h.GetValue()})
		}
		for _, h := range f.GetAddHeaders() {
			m.AddHeaders = append(m.AddHeaders, flowengine.Header{Name: h.GetName(), Value: h.GetValue()})
		}
		if m.BodySet {
			m.Body = make([]byte, f.GetBodySize())
		}
		evs = append(evs, flowengine.Event{Kind: flowengine.ForwardEvent, Mutation: m})
	}
	for _, p := range t.GetPhases() {
		if p.GetPhase() == "response_headers" {
			evs = append(evs, flowengine.Event{Kind: flowengine.UpstreamEvent, Response: &flowengine.Response{Status: int(p.GetStatus())}})
		}
	}
	o := &flowengine.Outcome{Kind: flowengine.Answered, Mutation: flowengine.Mutation{Status: int(t.GetStatus())}, Error: t.GetError()}
	if t.GetOutcome() == "forward" {
		o.Kind = flowengine.Forwarded
	}
	return append(evs, flowengine.Event{Kind: flowengine.OutcomeEvent, Outcome: o})
}
