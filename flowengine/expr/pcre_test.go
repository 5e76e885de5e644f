package expr

import "testing"

func TestPCREFeatures(t *testing.T) {
	runFnCases(t, []fnCase{
		{`matches("abab", "^(ab)\1$")`, "true"},
		{`matches("abba", "^(ab)\1$")`, "false"},
		{`matches("ABab", "^(ab)\1$", "i")`, "true"},
		{`replace("foobar foobaz", "foo(?=bar)", "X")`, `"Xbar foobaz"`},
		{`matches("price: $42", "(?<=\$)\d+")`, "true"},
		{`matches("price: 42", "(?<=\$)\d+")`, "false"},
		{`replace("a1 b2 c3", "[a-z](?!2)", "_")`, `"_1 b2 _3"`},
		{`replace("a1 b2 c3", "(?<!a)\d", "#")`, `"a1 b# c#"`},
		{`replace("aaa bbb", "(?<w>\w)\k<w>+", "[$1]")`, `"[a] [b]"`},
		{`replace("xaaay", "a++a", "-")`, `"xaaay"`},
		{`replace("xaaay", "(?>a+)y", "-")`, `"x-"`},
		{`split("a1b22c", "(?<=\d)(?=\D)")`, "[token=a1 token=b22 token=c]"},
		{`matches("hello world", "(?i)^(H)ELLO \w+(?=$)")`, "true"},
		{`replace("2024-05-06", "(\d+)-(\d+)-(?=(\d+))", "$3/$2/")`, `"06/05/06"`},
		{`matches("é€", "^\p{L}\p{Sc}$")`, "true"},
		{`replace("a.b", "\Q.\E", "!")`, `"a!b"`},
		{`replace("aXbXc", "(?=X)", "-")`, `"a-Xb-Xc"`},
		{`matches("ab", "(a)|\1b")`, "true"},
	})
}
