package expr

import (
	"sync"
	"time"

	"github.com/flowproc/flowproc/flowengine/dom"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

// json-doc(path) loads a JSON file and returns its OXN root element (a
// copy; the parsed file is cached until it changes). path is relative to
// the directory of the file the expression came from (Context.Dir) and
// must stay inside the project directory (Context.Root; without one,
// inside Context.Dir): absolute paths, ".." leaving it and symbolic links
// pointing out of it (and, as os.Root has it, symbolic links with an
// absolute target) are errors wrapping ErrBadPath. A missing or invalid
// file is an evaluation error; messages name the file only as written.
func init() {
	Register(&Func{Name: "json-doc", MinArgs: 1, MaxArgs: 1, Call: jsonDoc})
}

type cachedDoc struct {
	mod  time.Time
	size int64
	root *dom.Node
}

var jsonDocs sync.Map // root name + "\x00" + name -> *cachedDoc

func jsonDoc(c *Context, args []Value) (Value, error) {
	rel := String(args[0])
	fail := func(err error) (Value, error) { return nil, &FileError{Func: "json-doc", Name: rel, Err: err} }
	root, name, closeRoot, err := fileRoot(c, rel)
	if err != nil {
		return fail(err)
	}
	defer closeRoot()
	st, err := root.Stat(name)
	if err != nil {
		return fail(classifyFileErr(err))
	}
	key := root.Name() + "\x00" + name
	if v, ok := jsonDocs.Load(key); ok {
		d := v.(*cachedDoc)
		if d.mod.Equal(st.ModTime()) && d.size == st.Size() {
			return NodeSet{d.root.Clone()}, nil
		}
	}
	data, err := root.ReadFile(name)
	if err != nil {
		return fail(classifyFileErr(err))
	}
	doc, err := oxn.Parse(data, jsonMaxDepth)
	if err != nil {
		return fail(errNotJSON)
	}
	top := doc.FirstChild
	top.Detach()
	jsonDocs.Store(key, &cachedDoc{mod: st.ModTime(), size: st.Size(), root: top})
	return NodeSet{top.Clone()}, nil
}
