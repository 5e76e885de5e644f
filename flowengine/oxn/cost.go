package oxn

// ParsedCostFactor is how many times its size a JSON body costs at peak
// when a flow reads it through XPath over a Tree (ParseTree): the raw body
// the exchange keeps, the Tree's copy of the text, its nodes and unescaped
// strings, and navigation (which allocates nothing per node). A Tree node
// is 36 bytes per JSON value; typical API JSON (objects of short strings
// and numbers, arrays of objects) has one value per 8–12 bytes and costs
// about 5×; the worst shapes — arrays of one-digit numbers ([1,1,…], one
// value per 2 bytes) and deep empty nesting ([[[…]]]) — cost about 20×.
// The factor is an upper bound over all shapes, for admission control:
// TestParsedCostBound checks it.
//
// Parse's *dom.Node tree costs more: about 19× for typical JSON and up to
// about 110× for the worst shapes (see docs/bench.md, "JSON body memory").
const ParsedCostFactor = 24

// ParsedCost estimates the peak bytes a JSON body of size bytes costs
// when parsed with ParseTree and read through XPath: size ×
// ParsedCostFactor. Body admission (memory budgets) uses it.
func ParsedCost(size int64) int64 { return size * ParsedCostFactor }
