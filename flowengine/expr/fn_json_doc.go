package expr

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// json-doc(path) loads a JSON file and returns its OXN root element (a
// copy; the parsed file is cached until it changes). path is relative to
// the directory of the file the expression came from (Context.Dir) and
// must stay inside it (no absolute paths, no ".."). A missing or invalid
// file is an evaluation error.
func init() {
	Register(&Func{Name: "json-doc", MinArgs: 1, MaxArgs: 1, Call: jsonDoc})
}

// ErrBadPath is wrapped by json-doc errors for paths outside the flow's
// directory.
var ErrBadPath = errors.New("path must be relative and stay inside the flow's directory")

type cachedDoc struct {
	mod  time.Time
	size int64
	root *dom.Node
}

var jsonDocs sync.Map // absolute path -> *cachedDoc

func jsonDoc(c *Context, args []Value) (Value, error) {
	rel := String(args[0])
	if !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("%q: %w", rel, ErrBadPath)
	}
	path := filepath.Join(c.Dir, rel)
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("json-doc: %w", err)
	}
	if v, ok := jsonDocs.Load(path); ok {
		d := v.(*cachedDoc)
		if d.mod.Equal(st.ModTime()) && d.size == st.Size() {
			return NodeSet{d.root.Clone()}, nil
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("json-doc: %w", err)
	}
	doc, err := oxn.Parse(data, jsonMaxDepth)
	if err != nil {
		return nil, fmt.Errorf("json-doc %s: %w", rel, err)
	}
	root := doc.FirstChild
	root.Detach()
	jsonDocs.Store(path, &cachedDoc{mod: st.ModTime(), size: st.Size(), root: root})
	return NodeSet{root.Clone()}, nil
}
