package expr

import "testing"

func TestFnJSONToCSV(t *testing.T) {
	sc := mapScope{
		"rows":    NodeSet{mustJSON(t, `[[1,"  foo ",true],[2,"ba, r",false],[3.21,"q\"u\"x",true],["",null,""]]`).FirstChild},
		"objs":    NodeSet{mustJSON(t, `[{"A":1,"B":"  foo ","C":true},{"A":2,"B":"ba, r","C":false},{"A":3.21,"B":"q\"u\"x","C":true},{"A":"","B":null,"C":""}]`).FirstChild},
		"doc":     NodeSet{mustJSON(t, `[["a\nb","c\rd"]]`)},
		"empty":   NodeSet{mustJSON(t, `[]`).FirstChild},
		"nested":  NodeSet{mustJSON(t, `[[1,[2]]]`).FirstChild},
		"nestobj": NodeSet{mustJSON(t, `[{"a":{"b":1}}]`).FirstChild},
		"scalars": NodeSet{mustJSON(t, `[1,2]`).FirstChild},
		"obj":     NodeSet{mustJSON(t, `{"a":[1]}`).FirstChild},
	}
	want := "\"1,  foo ,true\\r\\n2,\\\"ba, r\\\",false\\r\\n3.21,\\\"q\\\"\\\"u\\\"\\\"x\\\",true\\r\\n,,\\r\\n\""
	runIn(t, sc, []fnCase{
		{"json-to-csv($rows)", want},
		{"json-to-csv($objs)", want},
		{"json-to-csv($doc)", `"\"a\nb\",\"c\rd\"\r\n"`},
		{"json-to-csv($empty)", `""`},
		{"json-to-csv($nested)", `""`},
		{"json-to-csv($nestobj)", `""`},
		{"json-to-csv($scalars)", `""`},
		{"json-to-csv($obj)", `""`},
		{"json-to-csv($xml)", `""`},
		{"json-to-csv('[[1]]')", `""`},
		{"json-to-csv($undefined)", `""`},
	})
}

// runIn runs table cases with the variables of sc.
func runIn(t *testing.T, sc mapScope, cases []fnCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.src, func(t *testing.T) {
			if got := show(evalIn(t, tc.src, sc)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
