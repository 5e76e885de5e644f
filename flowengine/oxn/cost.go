package oxn

// ParsedCostFactor bounds how many times its size a JSON body costs in
// live heap at peak when it is parsed with Parse (the *dom.Node tree the
// engine builds for $body and content()) and read through XPath: the raw
// body the exchange keeps, Parse's copy of the text, the nodes (an element
// and a text node of 104 bytes each per scalar) and navigation, which
// allocates nothing per node. Measured (TestParsedCostReport): typical API
// JSON — objects of short strings and numbers, arrays of objects — costs
// 19–23×; many members with non-XML-name keys 26–34×; deep nesting 54–62×;
// arrays of one-digit numbers ([1,1,…], the most values per byte) 109–111×.
// The factor is the bound over all shapes, for body admission; RSS is
// higher by the garbage collector's headroom (GOGC/GOMEMLIMIT).
const ParsedCostFactor = 112

// TreeCostFactor is ParsedCostFactor for a Tree (ParseTree): 36 bytes per
// JSON value and no copied strings. Typical API JSON costs 5.0–6.2×, the
// worst shapes (one-digit arrays, deep empty nesting) 20–21×.
const TreeCostFactor = 24

// parsedCostBase is the fixed part of a parse's cost (document node, first
// slabs), which dominates bodies of a few bytes.
const parsedCostBase = 2048

// ParsedCost estimates the peak live bytes a JSON body of size bytes costs
// when the engine parses it (Parse) and a flow reads it through XPath:
// size × ParsedCostFactor plus a small fixed part. Body admission (memory
// budgets) uses it before the body is parsed.
func ParsedCost(size int64) int64 { return size*ParsedCostFactor + parsedCostBase }

// TreeCost is ParsedCost for a body parsed with ParseTree.
func TreeCost(size int64) int64 { return size*TreeCostFactor + parsedCostBase }
