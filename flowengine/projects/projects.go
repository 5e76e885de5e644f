// Package projects holds the set of loaded projects a server runs and picks
// the project for each request: by the x-flowproc-project
// name Envoy sends as gRPC metadata, else by the longest matching base
// path, else the default project.
package projects

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// Entry is one project in a Set.
type Entry struct {
	Name string
	// Kind is the front end that loads the project ("" when none
	// recognised the directory).
	Kind      string
	Dir       string
	BasePaths []string
	Runner    flowengine.Runner
	// Project is the loaded project (nil for a project with no good
	// version).
	Project Project
	// Errors are the load diagnostics of a project that failed to load and
	// has no good version; its Runner then answers 503 on every request.
	Errors diag.List
	// ReloadErrors are the diagnostics of the latest reload when it failed
	// while an earlier good version is kept: Runner is that version and
	// Errors is empty (see Registry.Reload).
	ReloadErrors diag.List
}

// good reports whether the entry serves a loaded project (not a 503 stub).
func (e *Entry) good() bool { return len(e.Errors) == 0 }

// Set is an immutable set of projects.
type Set struct {
	entries []*Entry          // in load order
	byName  map[string]*Entry // by name
	byBase  []baseEntry       // every non-empty base path, longest first
	def     *Entry
}

type baseEntry struct {
	base  string
	entry *Entry
}

// Load loads every directory in dirs with the loader of its kind. A
// project that fails to load is kept as a failing entry (503 on its routes)
// so one bad project never takes the others down; its diagnostics are in
// Entry.Errors. defaultName names the default project ("" = the first
// loaded).
func Load(dirs []string, defaultName string, opts LoadOptions) (*Set, error) {
	entries := make([]*Entry, 0, len(dirs))
	for _, dir := range dirs {
		entries = append(entries, loadEntry(dir, opts))
	}
	return New(entries, defaultName)
}

// loadEntry loads the project in dir. A project that does not load becomes a
// failing entry (503 on its routes). A panic while loading (an engine bug
// triggered by the project's files) is recovered into a diagnostic so that it
// fails only this project, at start and on a hot reload alike.
func loadEntry(dir string, opts LoadOptions) (e *Entry) {
	o := opts
	if o.Name == "" {
		o.Name = filepath.Base(filepath.Clean(dir))
	}
	defer func() {
		if v := recover(); v != nil {
			errs := diag.List{{File: dir, Msg: fmt.Sprintf("internal error while loading the project: %v", v)}}
			e = &Entry{Name: o.Name, Dir: dir, Errors: errs, Runner: failing{name: o.Name}}
		}
	}()
	l, derr := Detect(dir)
	if derr != nil {
		return &Entry{Name: o.Name, Dir: dir, Errors: diag.List{derr}, Runner: failing{name: o.Name}}
	}
	p, errs := l.Load(dir, o)
	if p != nil && len(errs) == 0 {
		return &Entry{Name: p.Name(), Kind: l.Kind(), Dir: p.Dir(), BasePaths: p.BasePaths(), Runner: p, Project: p}
	}
	return &Entry{Name: o.Name, Kind: l.Kind(), Dir: dir, Errors: errs, BasePaths: l.BasePaths(dir), Runner: failing{name: o.Name}}
}

// New builds a Set from entries. Two entries with one name are an error
// (a *diag.Error with code FP106, the same for serve, dev, reload and
// validate).
func New(entries []*Entry, defaultName string) (*Set, error) {
	s := &Set{entries: entries, byName: map[string]*Entry{}}
	for _, e := range entries {
		if prev, dup := s.byName[e.Name]; dup {
			return nil, duplicateName(prev, e)
		}
		s.byName[e.Name] = e
		for _, b := range e.BasePaths {
			if b != "" {
				s.byBase = append(s.byBase, baseEntry{b, e})
			}
		}
	}
	sort.SliceStable(s.byBase, func(i, j int) bool { return len(s.byBase[i].base) > len(s.byBase[j].base) })
	switch {
	case defaultName != "":
		d, ok := s.byName[defaultName]
		if !ok {
			return nil, fmt.Errorf("default project %q is not among the loaded projects", defaultName)
		}
		s.def = d
	case len(entries) > 0:
		s.def = entries[0]
	}
	return s, nil
}

// Entries returns the projects in load order.
func (s *Set) Entries() []*Entry { return s.entries }

// Resolve picks the project for a request: name (from x-flowproc-project)
// when non-empty, else the longest base path that prefixes path, else the
// default. ok is false when nothing matches (including an unknown name).
// Base paths match case-sensitively; a path that lies under a base path
// only when case is ignored gets a runner that answers 400 (code 3213,
// docs/security.md "Request paths") instead of reaching any project's flows
// or the upstream. path must be normalized (package pathnorm; the ext_proc
// server refuses other paths before it resolves).
func (s *Set) Resolve(name, path string) (flowengine.Runner, string, bool) {
	if name != "" {
		e, ok := s.byName[name]
		if !ok {
			return nil, "", false
		}
		if caseOnly(e.BasePaths, path) {
			return caseMismatch{name: e.Name}, e.Name, true
		}
		return e.Runner, e.Name, true
	}
	for _, b := range s.byBase {
		if underBase(path, b.base) {
			return b.entry.Runner, b.entry.Name, true
		}
	}
	// A path under a base path only when letter case is ignored ("/T/x"
	// for base "/t") is refused: routing is case-sensitive, but an
	// upstream that is not would serve it without the project's flows.
	for _, b := range s.byBase {
		if underBaseFold(path, b.base) {
			return caseMismatch{name: b.entry.Name}, b.entry.Name, true
		}
	}
	if s.def == nil {
		return nil, "", false
	}
	return s.def.Runner, s.def.Name, true
}

// underBase reports whether path (possibly with a query) lies under base.
func underBase(path, base string) bool {
	if !strings.HasPrefix(path, base) {
		return false
	}
	rest := path[len(base):]
	return rest == "" || rest[0] == '/' || rest[0] == '?'
}

// failing answers every request of a project that did not load with 503.
// The answer names the project and nothing else: its diagnostics (file
// paths, file contents) go to the log and `flowproc validate`, never to
// clients.
type failing struct {
	name string
}

func (f failing) Run(_ context.Context, req *flowengine.Request, _ flowengine.Host) *flowengine.Outcome {
	var b bytes.Buffer
	b.WriteString(`{"error":{"message":`)
	writeJSONString(&b, "Project "+f.name+" failed to load")
	b.WriteString(`,"status":503,"requestID":`)
	writeJSONString(&b, req.ID)
	b.WriteString(`,"info":["The project is not available; see the server log."],"code":5030}}`)
	return &flowengine.Outcome{
		Kind: flowengine.Answered,
		Mutation: flowengine.Mutation{
			Status:     503,
			SetHeaders: []flowengine.Header{{Name: "content-type", Value: "application/json"}},
			Body:       b.Bytes(),
			BodySet:    true,
		},
		Project:   f.name,
		Error:     "5030",
		RequestID: req.ID,
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	out, _ := json.Marshal(s)
	b.Write(out)
}

// Names returns the project names in load order.
func (s *Set) Names() []string {
	out := make([]string, len(s.entries))
	for i, e := range s.entries {
		out[i] = e.Name
	}
	return out
}

// duplicateName is the FP106 error for two projects named alike, at the
// second one's directory.
func duplicateName(first, second *Entry) error {
	return diag.Errorf(second.Dir, 0, 0, diag.DuplicateProject,
		"two projects are named %q (%s and %s); project names (directory names) must be unique", second.Name, first.Dir, second.Dir)
}
