package oxn

import "unsafe"

// TreeArena parses many small JSON texts (a request's template outputs)
// into Trees whose headers and node slices are cut from shared blocks, so
// a parse costs one allocation (the copy of the text) instead of three.
// Memory is never reused: a Tree stays valid, and unchanged, as long as it
// is referenced, whatever is parsed after it. The first few trees and
// nodes come from arrays inside the TreeArena, so one embedded in a larger
// allocation (a run's scratch state) serves a couple of small texts with
// no allocation but their copies. The zero TreeArena is ready to use; a
// TreeArena must not be copied after first use nor used concurrently.
type TreeArena struct {
	trees      []Tree
	nodes      []tnode
	treeBlock  int // size of the last block of trees, 0 before the first
	nodeBlock  int // size of the last block of nodes, 0 before the first
	firstTrees [firstArenaTrees]Tree
	firstNodes [firstArenaTnodes]tnode
	// treeBase and nodeBase are the whole current blocks, for Reset.
	treeBase []Tree
	nodeBase []tnode
	// text is the chunk small texts are copied into (Text): trees
	// and the strings read from them refer into it. Bytes below its
	// length are never written again, not even after Reset, so those
	// strings stay valid whatever their owners keep them for; a full
	// chunk is left to them and a new one started.
	text []byte
	// reused: Reset has run, so the arena serves one run after another
	// (a recycled run's); only then do texts go to a chunk.
	reused bool
	// btext is the scratch buffer of the builder started from the arena
	// (StartBuilder), building while one is under way.
	btext    []byte
	building bool
	// docs is the current block of Docs (NewDoc). There is no embedded
	// first block: an arena serves Docs only when it is kept from run to
	// run, so its one block is made once.
	docs    []Doc
	docBase []Doc
}

// TreeArena block sizes: the first blocks are small (a template output has
// a handful of values), later ones double up to the maximum; a text with
// more values than half the maximum gets a slice of its own.
const (
	firstArenaTrees  = 4
	arenaDocs        = 4
	firstArenaTnodes = 8
	minArenaTrees    = 4
	maxArenaTrees    = 64
	minArenaTnodes   = 16
	maxArenaTnodes   = 1024 // 1024 * 36 bytes
	ownArenaTnodes   = maxArenaTnodes / 2
)

// Text chunk sizes: a chunk holds the texts of many small trees (a few
// runs' template values); a longer text gets a string of its own. The
// first chunk of an arena is small, later ones double up to textChunk.
const (
	// maxBuilderScratch is the largest builder scratch an arena keeps.
	maxBuilderScratch = 4 << 10
	firstTextChunk    = 128
	textChunk         = 2048
	maxKeptText       = 256
)

// Text returns b as a string that stays valid whatever is done with a
// afterwards: from a's append-only text chunk when b is short and a has
// been Reset (an arena used once gives each text its exact allocation, as
// a chunk would mostly go unused), else a copy of its own ("" for an
// empty b). A nil a copies.
func (a *TreeArena) Text(b []byte) string {
	n := len(b)
	if n == 0 {
		return ""
	}
	if a == nil || !a.reused || n > maxKeptText {
		return string(b)
	}
	if cap(a.text)-len(a.text) < n {
		a.text = make([]byte, 0, min(max(firstTextChunk, 2*cap(a.text)), textChunk))
	}
	start := len(a.text)
	a.text = append(a.text, b...)
	// Append-only: the bytes are never written again (see text).
	return unsafe.String(&a.text[start], n)
}

// ParseTree is ParseTree (same syntax, limits, errors and result) with
// the Tree and its nodes taken from a. data is copied once.
func (a *TreeArena) ParseTree(data []byte, maxDepth int) (*Tree, error) {
	return a.ParseTreeString(string(data), maxDepth)
}

// ParseTreeString is ParseTreeString with the Tree and its nodes taken
// from a; the tree keeps s and refers into it.
func (a *TreeArena) ParseTreeString(s string, maxDepth int) (*Tree, error) {
	// The node slice comes from a block: countValues is an upper bound,
	// so the parser's appends stay within the slice's capacity and never
	// write into a neighbour's nodes (and the three-index slice makes an
	// overrun copy instead).
	tv, err := parseTree(s, maxDepth, a.nodeSlice)
	if err != nil {
		return nil, err
	}
	t := a.tree()
	*t = tv
	return t, nil
}

// nodeSlice returns an empty node slice of capacity n.
func (a *TreeArena) nodeSlice(n int) []tnode {
	if n > ownArenaTnodes {
		return make([]tnode, 0, n)
	}
	if len(a.nodes) < n {
		if a.nodeBlock == 0 && n <= firstArenaTnodes {
			a.nodeBlock = firstArenaTnodes
			a.nodes = a.firstNodes[:]
		} else {
			a.nodeBlock = min(max(minArenaTnodes, n, 2*a.nodeBlock), maxArenaTnodes)
			a.nodes = make([]tnode, a.nodeBlock)
		}
		a.nodeBase = a.nodes
	}
	s := a.nodes[:0:n]
	a.nodes = a.nodes[n:]
	return s
}

// tree returns a zeroed Tree.
func (a *TreeArena) tree() *Tree {
	if len(a.trees) == 0 {
		if a.treeBlock == 0 {
			a.treeBlock = firstArenaTrees
			a.trees = a.firstTrees[:]
		} else {
			a.treeBlock = min(max(minArenaTrees, 2*a.treeBlock), maxArenaTrees)
			a.trees = make([]Tree, a.treeBlock)
		}
		a.treeBase = a.trees
	}
	t := &a.trees[0]
	a.trees = a.trees[1:]
	return t
}

// Reset makes a's memory reusable: no Tree or node a handed out may be
// used afterwards. It keeps the current tree and node blocks, so an arena
// reused for similar work stops allocating, and drops the earlier ones.
// Trees are cleared (they refer to texts); nodes hold no pointers.
func (a *TreeArena) Reset() {
	clear(a.treeBase)
	clear(a.firstTrees[:]) // no longer handed out once a later block exists, but they refer to texts
	a.trees, a.nodes = a.treeBase, a.nodeBase
	a.reused = true
	a.building = false // a builder abandoned before BuiltTree
	a.btext = a.btext[:0]
	clear(a.docBase)
	a.docs = a.docBase
}

// NewDoc is NewDoc with the Doc taken from a (a nil a allocates it). Like
// a's trees, it must not be used after Reset.
func (a *TreeArena) NewDoc(t *Tree) *Doc {
	if a == nil {
		return NewDoc(t)
	}
	if len(a.docs) == 0 {
		a.docs = make([]Doc, arenaDocs)
		a.docBase = a.docs
	}
	d := &a.docs[0]
	a.docs = a.docs[1:]
	d.tree = t
	return d
}
