package projects

import (
	"context"
	"errors"
	"fmt"
)

// ErrUnknownProject is wrapped by ReloadProject's error when no project of
// the current Set has the name asked for.
var ErrUnknownProject = errors.New("no such project")

// ReloadProject loads the one project called name again from its directory
// and atomically swaps in a Set where only that project changed: every other
// project keeps the very entry (and Runner) it had. The outcome follows
// Reload's rules: the project that loads replaces its old version, one that
// fails keeps its last good version (KeptLastGood) or, without one, answers
// 503 with its new diagnostics (Failing); the outcome is logged unless
// RegistryOptions.QuietReloads, and the reload is what LastReload returns
// afterwards (with this one project in its report).
//
// The error wraps ErrUnknownProject when the current Set has no project
// called name (nothing is loaded or swapped, and LastReload is unchanged).
// Otherwise it is non-nil only when nothing was swapped in: ctx ended first,
// or the new set is inconsistent (the reloaded project took another
// project's name). The previous Set then keeps serving.
func (r *Registry) ReloadProject(ctx context.Context, name string) (rep ReloadReport, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.cur.Load()
	i := old.index(name)
	if i < 0 || i >= len(r.dirs) {
		return ReloadReport{}, fmt.Errorf("reload project %q: %w", name, ErrUnknownProject)
	}
	defer func() { r.noteReload(rep, err) }()
	if err := ctx.Err(); err != nil {
		return ReloadReport{}, fmt.Errorf("reload cancelled: %w", err)
	}
	dir := r.dirs[i]
	e, pr := reloadEntry(old, dir, r.opts)
	entries := append([]*Entry(nil), old.entries...)
	entries[i] = e
	rep = ReloadReport{Projects: []ProjectReport{pr}}
	set, err := New(entries, r.defaultName)
	if err != nil {
		r.log.Error("reload rejected; the previous projects keep serving", "project", name, "error", err.Error())
		return rep, fmt.Errorf("reload project %q: %w", name, err)
	}
	r.cur.Store(set)
	if !r.quiet {
		r.logProject(ctx, pr)
	}
	return rep, nil
}

// reloadEntry loads the project in dir again, keeping the last good version
// from old when the new one fails, and reports what happened.
func reloadEntry(old *Set, dir string, opts LoadOptions) (*Entry, ProjectReport) {
	e := loadEntry(dir, opts)
	pr := ProjectReport{Name: e.Name, Dir: dir, Outcome: Reloaded}
	if e.good() {
		return e, pr
	}
	pr.Errors = e.Errors
	pr.Outcome = Failing
	if prev := old.byName[e.Name]; prev != nil && prev.good() {
		kept := *prev // the old Set's entry stays untouched
		kept.ReloadErrors = e.Errors
		pr.Outcome = KeptLastGood
		return &kept, pr
	}
	return e, pr
}

// index returns the load-order position of the project called name, or -1.
// Entries are in the order of the Registry's directories.
func (s *Set) index(name string) int {
	for i, e := range s.entries {
		if e.Name == name {
			return i
		}
	}
	return -1
}
