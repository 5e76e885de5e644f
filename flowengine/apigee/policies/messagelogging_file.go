package policies

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowproc/flowproc/flowengine/apigee/bundle"
	"github.com/flowproc/flowproc/flowengine/apigee/engine"
	"github.com/flowproc/flowproc/flowengine/diag"
)

// rotation is a <File>'s FileRotationOptions. Without the element, files
// rotate at 10 MB keeping 5 old files (flowproc's default: a log must not
// fill the disk).
type rotation struct {
	onStartup bool
	bySize    bool
	maxBytes  int64
	every     time.Duration
	keep      int
}

var defaultRotation = rotation{bySize: true, maxBytes: 10 << 20, keep: 5}

// messageLogDir is the directory of <File> logs.
func messageLogDir() string {
	if d := os.Getenv(MessageLogDirEnv); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "flowproc-messagelog")
}

func (ml *messageLogging) compileFile(c *engine.Compiler, p *bundle.Policy, n *bundle.Node) bool {
	c.Unknown(n, "Message", "FileName", "FileRotationOptions")
	ok := ml.message(c, n)
	fn := n.Child("FileName")
	name := ""
	switch {
	case fn == nil || fn.Text == "":
		c.Errorf(n, diag.APMissingElement, "<File> has no <FileName>")
		ok = false
	case strings.ContainsAny(fn.Text, `/\`+"\x00") || fn.Text == "." || fn.Text == "..":
		c.Errorf(fn, diag.APBadPolicy, "FileName %q must be a plain file name (files go to $%s)", fn.Text, MessageLogDirEnv)
		ok = false
	default:
		name = fn.Text
	}
	rot := defaultRotation
	if ro := n.Child("FileRotationOptions"); ro != nil {
		c.Unknown(ro, "FileRotationType", "MaxFileSizeInMB", "RotationFrequency", "MaxFilesToRetain")
		if v, has := ro.Attr("rotateFileOnStartup"); has {
			rot.onStartup = c.Bool(ro, v, false)
		}
		positive := func(e *bundle.Node) (int, bool) {
			v, err := strconv.Atoi(e.Text)
			if err != nil || v < 1 {
				c.Errorf(e, diag.APBadPolicy, "<%s> %q is not a positive integer", e.Name, e.Text)
				return 0, false
			}
			return v, true
		}
		typ := "SIZE"
		if t := ro.Child("FileRotationType"); t != nil {
			typ = strings.ToUpper(t.Text)
			if typ != "SIZE" && typ != "TIME" {
				c.Errorf(t, diag.APBadPolicy, "FileRotationType %q: want SIZE or TIME", t.Text)
				ok = false
			}
		}
		rot.bySize = typ == "SIZE"
		if e := ro.Child("MaxFileSizeInMB"); e != nil {
			v, good := positive(e)
			ok = ok && good
			rot.maxBytes = int64(v) << 20
		}
		if e := ro.Child("RotationFrequency"); e != nil {
			v, good := positive(e)
			ok = ok && good
			unit := time.Minute
			if u, has := e.Attr("unit"); has {
				switch strings.ToLower(u) {
				case "minute", "minutes":
				case "hour", "hours":
					unit = time.Hour
				case "day", "days":
					unit = 24 * time.Hour
				default:
					c.Errorf(e, diag.APBadPolicy, "RotationFrequency unit %q: want minute, hour or day", u)
					ok = false
				}
			}
			rot.every = time.Duration(v) * unit
		} else if typ == "TIME" {
			c.Errorf(ro, diag.APMissingElement, "FileRotationType TIME needs <RotationFrequency>")
			ok = false
		}
		if e := ro.Child("MaxFilesToRetain"); e != nil {
			v, err := strconv.Atoi(e.Text)
			if err != nil || v < 0 {
				c.Errorf(e, diag.APBadPolicy, "<MaxFilesToRetain> %q is not a count", e.Text)
				ok = false
			}
			rot.keep = v
		}
	}
	if !ok {
		return false
	}
	ml.rot = &rot
	ml.max, ml.stream = maxStreamMessage, true
	ml.sink = fileSinkFor(filepath.Join(messageLogDir(), name))
	ml.dest = "file:" + name
	return true
}

// fileSink appends to one log file, shared process-wide by path.
type fileSink struct {
	path string

	mu     sync.Mutex
	f      *os.File
	size   int64
	opened time.Time
	seen   bool // opened once: rotateFileOnStartup applies to the first open
}

var (
	fileSinksMu sync.Mutex
	fileSinks   = map[string]*fileSink{}
)

func fileSinkFor(path string) *fileSink {
	fileSinksMu.Lock()
	defer fileSinksMu.Unlock()
	s := fileSinks[path]
	if s == nil {
		s = &fileSink{path: path}
		fileSinks[path] = s
	}
	return s
}

func (s *fileSink) String() string { return "file://" + s.path }

func (s *fileSink) send(ctx context.Context, msg []byte, rot *rotation) error {
	if rot == nil {
		rot = &defaultRotation
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.f == nil {
		if err := s.open(rot); err != nil {
			return err
		}
	}
	if rot.bySize && s.size > 0 && s.size+int64(len(msg)) > rot.maxBytes ||
		!rot.bySize && rot.every > 0 && time.Since(s.opened) >= rot.every {
		if err := s.rotate(rot); err != nil {
			return err
		}
	}
	n, err := s.f.Write(msg)
	s.size += int64(n)
	if err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	return nil
}

func (s *fileSink) open(rot *rotation) error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o750); err != nil {
		return fmt.Errorf("message log directory: %w", err)
	}
	first := !s.seen
	s.seen = true
	if first && rot.onStartup {
		if st, err := os.Stat(s.path); err == nil && st.Size() > 0 {
			if err := s.shift(rot.keep); err != nil {
				return err
			}
		}
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open message log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("open message log: %w", err)
	}
	s.f, s.size, s.opened = f, st.Size(), time.Now()
	return nil
}

// rotate closes the file, shifts it to path.1 (path.1 to path.2, …,
// dropping those beyond keep) and opens a new one.
func (s *fileSink) rotate(rot *rotation) error {
	err := s.f.Close()
	s.f = nil
	if err != nil {
		return fmt.Errorf("close message log: %w", err)
	}
	if err := s.shift(rot.keep); err != nil {
		return err
	}
	return s.open(rot)
}

func (s *fileSink) shift(keep int) error {
	if keep == 0 {
		if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate message log: %w", err)
		}
		return nil
	}
	old := func(i int) string { return s.path + "." + strconv.Itoa(i) }
	if err := os.Remove(old(keep)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rotate message log: %w", err)
	}
	for i := keep - 1; i >= 1; i-- {
		if err := os.Rename(old(i), old(i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate message log: %w", err)
		}
	}
	if err := os.Rename(s.path, old(1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rotate message log: %w", err)
	}
	return nil
}

// closeFile closes the sink's file (tests).
func (s *fileSink) closeFile() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
