package expr

import (
	"context"
	"os"

	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/dom"
)

// Value is the result of an evaluation. It is exactly one of:
//   - string
//   - float64
//   - bool
//   - NodeSet
type Value any

// NodeSet is an ordered set of nodes (document order where XPath defines it).
type NodeSet []*dom.Node

// Scope resolves $variables at evaluation time. A variable that does not
// exist behaves as an empty node-set (FLAT: false / null / "").
type Scope interface {
	// Var returns the value of $name (name without the "$").
	Var(name string) (Value, bool)
}

// Context is everything an evaluation may read.
type Context struct {
	// Ctx is the request's context (cancellation, deadlines).
	Ctx context.Context
	// Scope resolves variables; may be nil (all variables undefined).
	Scope Scope
	// Node is the context node ("."); nil means an empty document unless
	// Tree is set.
	Node *dom.Node
	// Tree is the context node when Node is nil and Tree.Doc is not: a
	// node of a JSON document held as an oxn.Tree. Simple paths walk the
	// Tree; anything else materialises the document (once per Doc).
	Tree TreeNode
	// Runtime gives extension functions access to the exchange (upstream
	// bodies, log fields, files relative to the flow). Functions type-assert
	// it to the interface they need; nil when there is no exchange.
	Runtime any
	// Dir is the directory of the file the expression came from, for
	// functions that read files relative to it.
	Dir string
	// Root confines every file a function reads: the project directory,
	// opened once by the front end. Dir must lie inside Root.Name(); reads
	// may not leave the root, also not through symbolic links. When nil,
	// files are confined to Dir itself.
	Root *os.Root
	// Budget is the run's work budget: regular-expression work, decoded
	// and output bytes, and cancellation. Nil means unlimited (regular
	// expressions then get a fresh default budget per search).
	Budget *budget.Budget

	// pos and size are the context position and size while a predicate
	// is evaluated node by node (0 = not in such a predicate).
	pos, size int
}
