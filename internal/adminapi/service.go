// Package adminapi serves flowproc's operator API (proto/flowproc/v1
// FlowprocAdmin: Trace, Status, Reload) on a listener of its own, off by
// default, loopback unless exposed with mTLS or a bearer token
// (docs/trace.md).
package adminapi

import (
	"context"
	"errors"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/flowproc/flowproc/flowengine/diag"
	"github.com/flowproc/flowproc/flowengine/projects"
	"github.com/flowproc/flowproc/internal/tracehub"
	flowprocv1 "github.com/flowproc/flowproc/proto/flowproc/v1"
)

// DroppedTrailer is the trailer key of a Trace stream holding how many
// traces the session dropped because the client read too slowly.
const DroppedTrailer = "flowproc-trace-dropped"

// Service implements flowprocv1.FlowprocAdminServer.
type Service struct {
	flowprocv1.UnimplementedFlowprocAdminServer

	hub      *tracehub.Hub
	reg      *projects.Registry
	reloaded func(trigger string, rep projects.ReloadReport, err error)
}

// NewService returns the service for hub and reg. A nil reg answers Status
// and Reload with Unimplemented.
func NewService(hub *tracehub.Hub, reg *projects.Registry) *Service {
	return &Service{hub: hub, reg: reg}
}

// OnReload sets a function called after every reload the API performs,
// with the trigger "api" (or "api project NAME" for a one-project reload),
// the report and the error, as SIGHUP and file-watch reloads report theirs:
// serve uses it to update the reload metrics and the projects' load
// states. It returns s.
func (s *Service) OnReload(f func(trigger string, rep projects.ReloadReport, err error)) *Service {
	s.reloaded = f
	return s
}

// Register registers the service on g.
func (s *Service) Register(g *grpc.Server) { flowprocv1.RegisterFlowprocAdminServer(g, s) }

// Trace implements FlowprocAdminServer: one trace session for the stream's
// life. The trailer DroppedTrailer says how many traces it dropped.
func (s *Service) Trace(req *flowprocv1.TraceRequest, stream grpc.ServerStreamingServer[flowprocv1.ExchangeTrace]) error {
	sess, err := s.hub.Open(stream.Context(), req)
	if err != nil {
		return err
	}
	defer func() {
		sess.Close()
		stream.SetTrailer(metadata.Pairs(DroppedTrailer, strconv.FormatUint(sess.Dropped(), 10)))
	}()
	// Headers go out at once, so a client knows the session is open
	// before any exchange is traced.
	if err := stream.SendHeader(metadata.MD{}); err != nil {
		return err
	}
	for t := range sess.C {
		if err := stream.Send(t); err != nil {
			return err
		}
	}
	return stream.Context().Err()
}

// Status implements FlowprocAdminServer.
func (s *Service) Status(context.Context, *flowprocv1.StatusRequest) (*flowprocv1.StatusResponse, error) {
	if s.reg == nil {
		return nil, status.Error(codes.Unimplemented, "status: this server has no project registry")
	}
	out := &flowprocv1.StatusResponse{}
	for _, e := range s.reg.Set().Entries() {
		p := &flowprocv1.ProjectStatus{Name: e.Name, Kind: e.Kind, BasePaths: e.BasePaths, Dir: e.Dir, State: "loaded"}
		if v, ok := e.Project.(interface{ Version() string }); ok {
			p.Version = v.Version()
		}
		switch {
		case len(e.Errors) > 0:
			p.State, p.Errors = "failing", diagnostics(e.Errors)
		case len(e.ReloadErrors) > 0:
			p.State, p.Errors = "kept_last_good", diagnostics(e.ReloadErrors)
		}
		out.Projects = append(out.Projects, p)
	}
	if last := s.reg.LastReload(); last != nil {
		out.LastReload = reloadResult(last.Time, last.Report, last.Err, "")
	}
	return out, nil
}

// Reload implements FlowprocAdminServer. Without a project name the
// registry reloads every project (projects.Registry.Reload); with one it
// reloads only that project (projects.Registry.ReloadProject) and every
// other project keeps serving what it served. Either way the swap is atomic
// and one project's failure never affects another. An unknown name is
// NotFound.
func (s *Service) Reload(ctx context.Context, req *flowprocv1.ReloadRequest) (*flowprocv1.ReloadResult, error) {
	if s.reg == nil {
		return nil, status.Error(codes.Unimplemented, "reload: this server has no project registry")
	}
	name := req.GetProject()
	var (
		rep     projects.ReloadReport
		err     error
		trigger = "api"
	)
	if name == "" {
		rep, err = s.reg.Reload(ctx)
	} else {
		trigger = "api project " + name
		rep, err = s.reg.ReloadProject(ctx, name)
		if errors.Is(err, projects.ErrUnknownProject) {
			return nil, status.Errorf(codes.NotFound, "reload: no project %q", name)
		}
	}
	if s.reloaded != nil {
		s.reloaded(trigger, rep, err)
	}
	return reloadResult(time.Now(), rep, err, "api"), nil
}

func reloadResult(t time.Time, rep projects.ReloadReport, err error, trigger string) *flowprocv1.ReloadResult {
	r := &flowprocv1.ReloadResult{Time: timestamppb.New(t), Trigger: trigger, Ok: err == nil}
	if err != nil {
		r.Error = err.Error()
	}
	for _, p := range rep.Projects {
		pr := &flowprocv1.ProjectReload{Name: p.Name, Outcome: outcome(p.Outcome), Errors: diagnostics(p.Errors)}
		if p.Outcome != projects.Reloaded {
			r.Ok = false
		}
		r.Projects = append(r.Projects, pr)
	}
	return r
}

func outcome(o projects.Outcome) string {
	switch o {
	case projects.Reloaded:
		return "reloaded"
	case projects.KeptLastGood:
		return "kept_last_good"
	default:
		return "failing"
	}
}

func diagnostics(l diag.List) []*flowprocv1.Diagnostic {
	out := make([]*flowprocv1.Diagnostic, 0, len(l))
	for _, e := range l {
		out = append(out, &flowprocv1.Diagnostic{File: e.File, Line: uint32(max(e.Line, 0)), Col: uint32(max(e.Col, 0)),
			Code: string(e.Code), Message: e.Msg})
	}
	return out
}
