package projects

import (
	"context"
	"testing"

	"github.com/flowproc/flowproc/flowengine"
)

// closerProject is a Project with background work to stop.
type closerProject struct {
	name   string
	closed int
}

func (p *closerProject) Run(context.Context, *flowengine.Request, flowengine.Host) *flowengine.Outcome {
	return nil
}
func (p *closerProject) Name() string        { return p.name }
func (p *closerProject) Kind() string        { return "test" }
func (p *closerProject) Dir() string         { return p.name }
func (p *closerProject) BasePaths() []string { return nil }
func (p *closerProject) Summary() string     { return "" }
func (p *closerProject) Close() error        { p.closed++; return nil }

// uncomparable is a Closer whose type cannot be compared: never closed.
type uncomparable struct {
	*closerProject
	tags []string
}

func TestCloseReplaced(t *testing.T) {
	kept, replaced, gone := &closerProject{name: "kept"}, &closerProject{name: "replaced"}, &closerProject{name: "gone"}
	odd := uncomparable{closerProject: &closerProject{name: "odd"}}
	old := &Set{entries: []*Entry{{Project: kept}, {Project: replaced}, {Project: gone}, {Project: odd}, {Name: "failing"}}}
	cur := &Set{entries: []*Entry{{Project: kept}, {Project: &closerProject{name: "replaced"}}, {Name: "failing"}}}
	closeReplaced(old, cur)
	closeReplaced(nil, cur)
	if kept.closed != 0 || replaced.closed != 1 || gone.closed != 1 || odd.closed != 0 {
		t.Errorf("closed: kept %d, replaced %d, gone %d, uncomparable %d", kept.closed, replaced.closed, gone.closed, odd.closed)
	}
}
