package expr

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/flowproc/flowproc/flowengine/oxn"
)

// sort(array [, key [, descending]]) returns a sorted copy of the OXN
// array. key is an expression (as text) evaluated with each item as the
// context node, e.g. "name" or "address/zip"; empty (the default) sorts by
// the items themselves. When every key is a number the order is numeric,
// otherwise by string (byte order). The sort is stable; descending
// (default false()) reverses it. A literal key is compiled with the
// calling expression; an invalid one is a compile error.
func init() {
	Register(&Func{Name: "sort", MinArgs: 1, MaxArgs: 3, Call: sortCall(nil), Bind: func(consts []Value) (CallFunc, error) {
		if len(consts) < 2 || consts[1] == nil {
			return nil, nil
		}
		key, err := sortKey(String(consts[1]))
		if err != nil {
			return nil, err
		}
		return sortCall(key), nil
	}})
}

// sortKeys caches key expressions only known at evaluation time.
var (
	sortKeys  sync.Map
	sortKeysN int64
	sortMu    sync.Mutex
)

func sortKey(src string) (*Expr, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	if e, ok := sortKeys.Load(src); ok {
		return e.(*Expr), nil
	}
	e, err := Compile(src)
	if err != nil {
		return nil, fmt.Errorf("sort key %q: %w", src, err)
	}
	sortMu.Lock()
	if sortKeysN < 256 {
		sortKeys.Store(src, e)
		sortKeysN++
	}
	sortMu.Unlock()
	return e, nil
}

func sortCall(bound *Expr) CallFunc {
	return func(c *Context, args []Value) (Value, error) {
		key := bound
		if bound == nil && len(args) > 1 {
			var err error
			if key, err = sortKey(String(args[1])); err != nil {
				return nil, err
			}
		}
		items := arrayItems(args[0])
		keys := make([]string, len(items))
		nums := make([]float64, len(items))
		numeric := true
		for i, it := range items {
			if err := loopCheck(c, i); err != nil {
				return nil, err
			}
			if key == nil {
				keys[i] = it.StringValue()
			} else {
				cc := *c
				cc.Tree = TreeNode{}
				cc.Node, cc.pos, cc.size = it, i+1, len(items)
				s, err := key.EvalString(&cc)
				if err != nil {
					return nil, err
				}
				keys[i] = s
			}
			nums[i] = ParseNumber(keys[i])
			if math.IsNaN(nums[i]) {
				numeric = false
			}
		}
		idx := make([]int, len(items))
		for i := range idx {
			idx[i] = i
		}
		desc := argBool(args, 2, false)
		sort.SliceStable(idx, func(a, b int) bool {
			i, j := idx[a], idx[b]
			if desc {
				i, j = j, i
			}
			if numeric {
				return nums[i] < nums[j]
			}
			return keys[i] < keys[j]
		})
		out := oxn.NewArray(oxn.RootName)
		for _, i := range idx {
			oxn.AddValue(out, items[i].Clone())
		}
		return NodeSet{out}, nil
	}
}
