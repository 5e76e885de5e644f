package expr

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"time"
)

// lookup(db, key [, default]) returns the value of key in a JSON database
// file: a JSON object whose string values are returned as they are,
// numbers and booleans as their JSON text, and objects and arrays as
// compact JSON strings. A missing key, or one whose value is null, gives
// default ("" when not given). db is a fit://site/… or fit://project/… URL
// (see file-exists) or a path relative to the flow (as for json-doc), and
// must end in lowercase .json. The parsed file is cached until it changes.
// SHMT databases (.shmt) are not supported; they, a missing file, a file
// that is no JSON object and a path leaving the project directory are
// evaluation errors (a *FileError).
func init() {
	Register(&Func{Name: "lookup", MinArgs: 2, MaxArgs: 3, Call: lookup})
}

var (
	errUnsupportedDB = errors.New("SHMT databases are not supported; use a .json file")
	errDBExt         = errors.New("database file must end in .json")
)

type cachedDB struct {
	mod  time.Time
	size int64
	m    map[string]string
}

var lookupDBs sync.Map // root name + "\x00" + name -> *cachedDB

func lookup(c *Context, args []Value) (Value, error) {
	uri := String(args[0])
	fail := func(err error) (Value, error) { return nil, &FileError{Func: "lookup", Name: uri, Err: err} }
	switch {
	case strings.HasSuffix(uri, ".shmt"):
		return fail(errUnsupportedDB)
	case !strings.HasSuffix(uri, ".json"):
		return fail(errDBExt)
	}
	var (
		root      *os.Root
		name      string
		closeRoot func()
		err       error
	)
	if strings.HasPrefix(uri, "fit://") {
		root, name, _, closeRoot, err = fitFile(c, uri)
	} else {
		root, name, closeRoot, err = fileRoot(c, uri)
	}
	if err != nil {
		return fail(err)
	}
	db, err := loadDB(root, name)
	closeRoot()
	if err != nil {
		return fail(err)
	}
	if v, ok := db[String(args[1])]; ok {
		return v, nil
	}
	return argString(args, 2), nil
}

// loadDB returns the cached database at key, reading it when it changed.
func loadDB(root *os.Root, name string) (map[string]string, error) {
	st, err := root.Stat(name)
	if err != nil {
		return nil, classifyFileErr(err)
	}
	key, mod, size := root.Name()+"\x00"+name, st.ModTime(), st.Size()
	if v, ok := lookupDBs.Load(key); ok {
		d := v.(*cachedDB)
		if d.mod.Equal(mod) && d.size == size {
			return d.m, nil
		}
	}
	data, err := root.ReadFile(name)
	if err != nil {
		return nil, classifyFileErr(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil || raw == nil {
		return nil, errNotJSON
	}
	m := make(map[string]string, len(raw))
	for k, v := range raw {
		switch v[0] {
		case 'n': // null: absent
		case '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, errNotJSON
			}
			m[k] = s
		case '{', '[':
			var b bytes.Buffer
			if err := json.Compact(&b, v); err != nil {
				return nil, errNotJSON
			}
			m[k] = b.String()
		default:
			m[k] = string(v)
		}
	}
	lookupDBs.Store(key, &cachedDB{mod: mod, size: size, m: m})
	return m, nil
}
