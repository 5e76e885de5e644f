package oxn_test

import (
	"fmt"

	"github.com/antchfx/xpath"

	"github.com/flowproc/flowproc/flowengine/oxn"
)

// A Tree is read with the same XPath as the document Parse returns.
func ExampleParseTree() {
	tree, err := oxn.ParseTree([]byte(`{"items":[{"name":"a","price":1.5},{"name":"b","price":2}],"total id":7}`), 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, src := range []string{`string(/json/items/value[2]/name)`, `sum(//price)`, `string(/json/json-element[@name='total id'])`} {
		fmt.Println(src, "=", xpath.MustCompile(src).Evaluate(tree.Navigator()))
	}
	fmt.Println(oxn.TreeCost(1<<20)>>20, "MiB at most for a 1 MiB body")
	// Output:
	// string(/json/items/value[2]/name) = b
	// sum(//price) = 3.5
	// string(/json/json-element[@name='total id']) = 7
	// 24 MiB at most for a 1 MiB body
}
