package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/flowproc/flowproc/examples"
	_ "github.com/flowproc/flowproc/flowengine/frontends" // every front end's loader
	"github.com/flowproc/flowproc/flowengine/projects"
)

// projectDirs returns the project directories to load: dirs, or the embedded
// example extracted to a temporary directory when dirs is empty. extracted
// is then that temporary directory, which the caller removes when it stops
// serving (flows may read their project's files while they run); it is ""
// otherwise. Every directory must exist; a file is taken only when a front
// end loads projects from such files (an Apigee bundle zip).
func projectDirs(dirs []string) (out []string, extracted string, err error) {
	if len(dirs) == 0 {
		dir, err := examples.Extract(examples.Default)
		if err != nil {
			return nil, "", fmt.Errorf("extract the embedded example: %w", err)
		}
		return []string{dir}, filepath.Dir(dir), nil
	}
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			if os.IsNotExist(err) {
				return nil, "", fmt.Errorf("project directory %s: no such directory", filepath.Clean(d))
			}
			if err == nil {
				if _, derr := projects.Detect(d); derr == nil {
					continue // a project file, such as an Apigee bundle zip
				}
				return nil, "", fmt.Errorf("project directory %s: is a file, not a directory", filepath.Clean(d))
			}
			return nil, "", fmt.Errorf("project directory %s: %w", filepath.Clean(d), err)
		}
	}
	return dirs, "", nil
}

// reportLoadErrors passes each project that failed to load to report.
func reportLoadErrors(set *projects.Set, report func(error)) {
	if report == nil {
		return
	}
	for _, e := range set.Entries() {
		if len(e.Errors) > 0 {
			report(fmt.Errorf("project %s failed to load (its routes answer 503):\n%w", e.Name, e.Errors))
		}
	}
}

// loadProjectsWith loads the projects in dirs once, with engine options
// (body limit…); dirs must not be empty. defaultProject
// names the project for requests no other rule selects ("" = the first).
// Load errors of individual projects are reported through report; such
// projects answer 503 on their routes while the others serve.
func loadProjectsWith(dirs []string, defaultProject string, opts projects.LoadOptions, report func(error)) (*projects.Set, error) {
	if len(dirs) == 0 {
		return nil, errors.New("no project directory")
	}
	dirs, _, err := projectDirs(dirs)
	if err != nil {
		return nil, err
	}
	set, err := projects.Load(dirs, defaultProject, opts)
	if err != nil {
		return nil, err
	}
	reportLoadErrors(set, report)
	return set, nil
}

// loadRegistry is loadProjectsWith for the serving commands, and the
// embedded example when dirs is empty: the projects can be reloaded
// (startReloading). extracted is the temporary directory holding the
// embedded example, "" when dirs were given; the embedded example needs no
// file watching, and the caller removes extracted when it stops serving.
func loadRegistry(dirs []string, opts projects.RegistryOptions, report func(error)) (reg *projects.Registry, extracted string, err error) {
	dirs, extracted, err = projectDirs(dirs)
	if err != nil {
		return nil, "", err
	}
	reg, err = projects.NewRegistry(dirs, opts)
	if err != nil {
		if extracted != "" {
			os.RemoveAll(extracted)
		}
		return nil, "", err
	}
	reportLoadErrors(reg.Set(), report)
	return reg, extracted, nil
}

// reloadHooks say where the serving commands report reloads.
type reloadHooks struct {
	// reloaded is called after every reload with what triggered it
	// ("SIGHUP", "file change") and Reload's results.
	reloaded func(trigger string, rep projects.ReloadReport, err error)
	// warn reports a problem with reloading itself (no file watching).
	warn func(error)
}

// startReloading makes SIGHUP reload reg and, when watch is set, any change
// of a file under the project directories. It returns once the SIGHUP
// handler and the file watches are installed; watching reports whether files
// are watched. stop removes the handler, ends the watching and waits for a
// running reload to finish.
func startReloading(ctx context.Context, reg *projects.Registry, hupReloads, watch bool, hooks reloadHooks) (stop func(), watching bool) {
	ctx, cancel := context.WithCancel(ctx)
	hup := make(chan os.Signal, 1)
	if hupReloads {
		signal.Notify(hup, syscall.SIGHUP)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				reloadNow(ctx, reg, "SIGHUP", hooks)
			}
		}
	})
	if watch {
		done, err := reg.Watch(ctx, projects.WatchOptions{OnReload: func(rep projects.ReloadReport, err error) {
			if hooks.reloaded != nil {
				hooks.reloaded("file change", rep, err)
			}
		}})
		if err != nil && hooks.warn != nil {
			hooks.warn(fmt.Errorf("file watching is off (reload with SIGHUP): %w", err))
		}
		if done != nil {
			watching = true
			wg.Go(func() { <-done })
		}
	}
	return func() {
		signal.Stop(hup)
		cancel()
		wg.Wait()
	}, watching
}

// reloadNow reloads reg and reports the result through hooks; the SIGHUP
// handler calls it.
func reloadNow(ctx context.Context, reg *projects.Registry, trigger string, hooks reloadHooks) {
	rep, err := reg.Reload(ctx)
	if hooks.reloaded != nil {
		hooks.reloaded(trigger, rep, err)
	}
}

// writeReload prints a reload's outcome for people: one line per project,
// each load error below it as "file:line:col: CODE: message".
func writeReload(w io.Writer, prefix, trigger string, rep projects.ReloadReport, err error) {
	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "%sreload (%s) failed, the previous projects keep serving: %v\n", prefix, trigger, err)
	}
	for _, p := range rep.Projects {
		if err != nil {
			break
		}
		fmt.Fprintf(&b, "%sreload (%s): %s\n", prefix, trigger, p)
		for _, e := range p.Errors {
			fmt.Fprintf(&b, "  %s\n", e)
		}
	}
	_, _ = io.WriteString(w, b.String()) // one write: lines stay whole next to concurrent output
}
