package projects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/flowproc/flowproc/flowengine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// Registry serves a Set of projects that can be reloaded while requests run
// (a failed project keeps serving its last good version): Reload loads every project directory again and swaps the
// new Set in atomically. Resolve always reads the current Set; a request
// keeps the Runner it resolved (Runners are immutable), so in-flight runs
// finish on the version they started with.
//
// A Registry is safe for concurrent use. Reloads are serialised.
type Registry struct {
	dirs        []string
	defaultName string
	opts        LoadOptions
	log         *slog.Logger
	quiet       bool // no per-project reload records

	mu   sync.Mutex // serialises Reload
	cur  atomic.Pointer[Set]
	last atomic.Pointer[LastReload]
}

// RegistryOptions configure a Registry.
type RegistryOptions struct {
	// Default names the default project ("" = the first).
	Default string
	// Load are the options every project is loaded with.
	Load LoadOptions
	// Logger receives one record per project and reload (see Reload) and
	// the file watcher's errors. Nil discards them.
	Logger *slog.Logger
	// QuietReloads leaves the per-project reload records out of Logger, for
	// callers that print the ReloadReport themselves.
	QuietReloads bool
}

// NewRegistry loads the projects in dirs (as Load does) and returns a
// Registry serving them. Projects that fail to load answer 503 until a
// reload loads them; their diagnostics are in Set().Entries(). The error is
// about the configuration (duplicate project names, an unknown default), not
// about a project's files.
func NewRegistry(dirs []string, opts RegistryOptions) (*Registry, error) {
	set, err := Load(dirs, opts.Default, opts.Load)
	if err != nil {
		return nil, err
	}
	r := &Registry{
		dirs:        append([]string(nil), dirs...),
		defaultName: opts.Default,
		opts:        opts.Load,
		log:         opts.Logger,
		quiet:       opts.QuietReloads,
	}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r.cur.Store(set)
	return r, nil
}

// Set returns the current set of projects.
func (r *Registry) Set() *Set { return r.cur.Load() }

// Resolve picks the project for a request from the current Set (see
// Set.Resolve).
func (r *Registry) Resolve(name, path string) (flowengine.Runner, string, bool) {
	return r.cur.Load().Resolve(name, path)
}

// Names returns the project names in load order.
func (r *Registry) Names() []string { return r.cur.Load().Names() }

// Dirs returns the project directories the Registry loads.
func (r *Registry) Dirs() []string { return append([]string(nil), r.dirs...) }

// Outcome is what a reload did to one project.
type Outcome int

const (
	// Reloaded: the project loaded; its new version serves from now on.
	Reloaded Outcome = iota
	// KeptLastGood: the project failed to load; its last good version keeps
	// serving. The report carries the diagnostics.
	KeptLastGood
	// Failing: the project failed to load and has no good version; its
	// routes answer 503 with the diagnostics.
	Failing
)

// String returns a short description of the outcome.
func (o Outcome) String() string {
	switch o {
	case Reloaded:
		return "reloaded"
	case KeptLastGood:
		return "load failed, keeping the last good version"
	case Failing:
		return "load failed, no good version: its routes answer 503"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// ProjectReport is the outcome of a reload for one project.
type ProjectReport struct {
	Name    string
	Dir     string
	Outcome Outcome
	// Errors are the load diagnostics when the project failed to load.
	Errors diag.List
}

// String is one line: the project, its outcome and the number of errors.
// The diagnostics themselves are in Errors, one "file:line:col: CODE:
// message" each.
func (p ProjectReport) String() string {
	s := "project " + p.Name + ": " + p.Outcome.String()
	switch n := len(p.Errors); n {
	case 0:
	case 1:
		s += " (1 error)"
	default:
		s += fmt.Sprintf(" (%d errors)", n)
	}
	return s
}

// ReloadReport is the outcome of one Reload, per project in load order.
type ReloadReport struct {
	Projects []ProjectReport
}

// OK reports whether every project loaded.
func (r ReloadReport) OK() bool {
	for _, p := range r.Projects {
		if p.Outcome != Reloaded {
			return false
		}
	}
	return true
}

// Reload loads every project directory again and atomically swaps in the
// result: a project that loads replaces its old version; one that fails
// keeps its last good version (KeptLastGood) or, without one, keeps
// answering 503 with its new diagnostics (Failing). One project's failure
// never affects another. Each project's outcome is logged (unless
// RegistryOptions.QuietReloads), with its diagnostics as "file:line:col:
// CODE: message".
//
// The error is non-nil only when nothing was swapped in: ctx ended before
// every project was loaded, or the new set is inconsistent. The previous Set
// then keeps serving.
func (r *Registry) Reload(ctx context.Context) (rep ReloadReport, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() { r.noteReload(rep, err) }()
	old := r.cur.Load()
	entries := make([]*Entry, 0, len(r.dirs))
	rep = ReloadReport{Projects: make([]ProjectReport, 0, len(r.dirs))}
	for _, dir := range r.dirs {
		if err := ctx.Err(); err != nil {
			return ReloadReport{}, fmt.Errorf("reload cancelled: %w", err)
		}
		e, pr := reloadEntry(old, dir, r.opts)
		entries = append(entries, e)
		rep.Projects = append(rep.Projects, pr)
	}
	set, err := New(entries, r.defaultName)
	if err != nil {
		r.log.Error("reload rejected; the previous projects keep serving", "error", err.Error())
		return rep, fmt.Errorf("reload: %w", err)
	}
	r.cur.Store(set)
	closeReplaced(old, set)
	for _, p := range rep.Projects {
		if !r.quiet {
			r.logProject(ctx, p)
		}
	}
	return rep, nil
}

// logProject logs one project's reload outcome; diagnostics are listed as
// "file:line:col: CODE: message".
func (r *Registry) logProject(ctx context.Context, p ProjectReport) {
	attrs := []any{"project", p.Name, "dir", p.Dir, "outcome", p.Outcome.String()}
	if len(p.Errors) > 0 {
		errs := make([]string, len(p.Errors))
		for i, e := range p.Errors {
			errs[i] = e.Error()
		}
		attrs = append(attrs, "errors", errs)
	}
	switch p.Outcome {
	case Reloaded:
		r.log.InfoContext(ctx, "project reloaded", attrs...)
	case KeptLastGood:
		r.log.WarnContext(ctx, "project reload failed; keeping the last good version", attrs...)
	default:
		r.log.ErrorContext(ctx, "project failed to load; its routes answer 503", attrs...)
	}
}

// DefaultDebounce is the quiet period Watch waits for after the last file
// change before it reloads.
const DefaultDebounce = 250 * time.Millisecond

// WatchOptions configure Watch.
type WatchOptions struct {
	// Debounce is the quiet period after the last change before a reload
	// (default DefaultDebounce): an editor's save or a copy of many files
	// causes one reload. Changes that never pause for that long still
	// reload every 10 × Debounce.
	Debounce time.Duration
	// OnReload, when set, is called after every reload Watch triggers, with
	// Reload's results. It runs on the watch goroutine.
	OnReload func(ReloadReport, error)
}

// Watch reloads the projects whenever a file under one of the project
// directories changes (created, written, removed or renamed; attribute-only
// changes and editor swap/backup files are ignored), after a quiet period of
// opts.Debounce. fsnotify is not recursive: Watch adds every subdirectory,
// and each new one as it appears (hidden subdirectories such as .git are not
// descended into). It also watches each project directory's parent, so a
// project directory that is replaced as a whole (mv new old) is noticed.
//
// Watch sets the watches up before it returns and then runs in a goroutine
// until ctx ends; done is closed when that goroutine has stopped. err is
// non-nil only when the watcher cannot be created at all. Later watcher
// errors are logged and the watch goes on.
func (r *Registry) Watch(ctx context.Context, opts WatchOptions) (done <-chan struct{}, err error) {
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch project directories: %w", err)
	}
	rw := &watch{r: r, w: w, opts: opts}
	for _, d := range r.dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			_ = w.Close()
			return nil, fmt.Errorf("watch %s: %w", d, err)
		}
		rw.roots = append(rw.roots, abs)
	}
	rw.sync(ctx)
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		defer func() {
			if v := recover(); v != nil { // never take the server down
				r.log.ErrorContext(ctx, "project watcher stopped after a panic", "panic", fmt.Sprint(v))
			}
		}()
		defer w.Close()
		rw.run(ctx)
	}()
	return ch, nil
}

// watch is one running Watch.
type watch struct {
	r     *Registry
	w     *fsnotify.Watcher
	opts  WatchOptions
	roots []string // absolute project directories
}

// run handles events until ctx ends or the watcher closes.
func (rw *watch) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var first time.Time // of the changes not reloaded yet; zero when none
	schedule := func() {
		now := time.Now()
		if first.IsZero() {
			first = now
		}
		timer.Reset(min(rw.opts.Debounce, first.Add(10*rw.opts.Debounce).Sub(now)))
	}
	log := rw.r.log
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-rw.w.Events:
			if !ok {
				return
			}
			if !rw.relevant(ev) {
				continue
			}
			log.DebugContext(ctx, "project file changed", "path", ev.Name, "op", ev.Op.String())
			if ev.Has(fsnotify.Create) && (rw.isRoot(ev.Name) || !strings.HasPrefix(filepath.Base(ev.Name), ".")) {
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					rw.addTree(ctx, ev.Name)
				}
			}
			schedule()
		case err, ok := <-rw.w.Errors:
			if !ok {
				return
			}
			log.WarnContext(ctx, "project watcher error; watching goes on", "error", err.Error())
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				schedule() // changes were lost: reload to be sure
			}
		case <-timer.C:
			first = time.Time{}
			log.InfoContext(ctx, "project files changed; reloading")
			rep, err := rw.r.Reload(ctx)
			if err != nil && ctx.Err() != nil {
				return
			}
			rw.sync(ctx) // pick up directories created before their parent was watched
			rw.notify(ctx, rep, err)
		}
	}
}

// notify calls OnReload; a panic in it is logged and watching goes on.
func (rw *watch) notify(ctx context.Context, rep ReloadReport, err error) {
	if rw.opts.OnReload == nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			rw.r.log.ErrorContext(ctx, "reload callback panicked; watching goes on", "panic", fmt.Sprint(v))
		}
	}()
	rw.opts.OnReload(rep, err)
}

// sync adds a watch on every project directory tree and on each project
// directory's parent. Adding an already watched directory is harmless.
func (rw *watch) sync(ctx context.Context) {
	for _, root := range rw.roots {
		if err := rw.w.Add(filepath.Dir(root)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			rw.r.log.WarnContext(ctx, "cannot watch a project directory's parent", "dir", filepath.Dir(root), "error", err.Error())
		}
		rw.addTree(ctx, root)
	}
}

// addTree watches dir and every subdirectory below it except hidden ones.
func (rw *watch) addTree(ctx context.Context, dir string) {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				rw.r.log.WarnContext(ctx, "cannot watch a project directory", "dir", path, "error", err.Error())
			}
			if d != nil && d.IsDir() && path != dir {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir
		}
		if err := rw.w.Add(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			rw.r.log.WarnContext(ctx, "cannot watch a project directory", "dir", path, "error", err.Error())
		}
		return nil
	})
}

// relevant reports whether ev may change a project: a change at or below a
// project directory that is not attribute-only and not an editor's swap,
// backup or lock file.
func (rw *watch) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod || ev.Op == 0 {
		return false
	}
	if editorNoise(filepath.Base(ev.Name)) {
		return false
	}
	for _, root := range rw.roots {
		if ev.Name == root || strings.HasPrefix(ev.Name, root+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// isRoot reports whether path is one of the project directories.
func (rw *watch) isRoot(path string) bool {
	for _, root := range rw.roots {
		if path == root {
			return true
		}
	}
	return false
}

// editorNoise reports whether name is an editor's temporary file (vim swap
// and backup files, emacs lock and auto-save files).
func editorNoise(name string) bool {
	return strings.HasSuffix(name, "~") || strings.HasSuffix(name, ".swp") || strings.HasSuffix(name, ".swx") ||
		strings.HasPrefix(name, ".#") || (len(name) > 1 && strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"))
}
