package expr

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// fnCase is one function test: an expression over the fixture scope and
// the expected shown result.
type fnCase struct {
	src  string
	want string
}

func runFnCases(t *testing.T, cases []fnCase) {
	t.Helper()
	sc, _ := fixture(t)
	sc["bin"] = "\xff\x00a"
	sc["b64"] = "aGVsbG8gd29ybGQ="
	sc["text"] = "  padded\t\n\v"
	sc["arr"] = NodeSet{mustJSON(t, `[1,"two",true]`).FirstChild}
	for _, tc := range cases {
		t.Run(tc.src, func(t *testing.T) {
			e, err := Compile(tc.src)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			v, err := e.Eval(&Context{Scope: sc})
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if got := show(v); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestFnJSONParse(t *testing.T) {
	runFnCases(t, []fnCase{
		{"json-parse($json)/s", "[s=x]"},
		{"json-parse('[1,2]')/value[2]", "[value=2]"},
		{"json-parse('42')", "[json=42]"},
		{"json-parse('\"s\"')", "[json=s]"},
		{"json-parse('{')", "[]"},
		{"json-parse('')", "[]"},
		{"json-parse($undefined)", "[]"},
		{"json-parse('{\"a b\":1}')/json-element/@name", "[@name=a b]"},
		{"name(json-parse('{}'))", `"json"`},
	})
}

func TestFnJSONParseDepth(t *testing.T) {
	deep := ""
	for i := 0; i < 513; i++ {
		deep += "["
	}
	for i := 0; i < 513; i++ {
		deep += "]"
	}
	v, err := MustCompile("json-parse($d)").Eval(&Context{Scope: mapScope{"d": deep}})
	if err != nil || show(v) != "[]" {
		t.Fatalf("513 levels: %s, %v", show(v), err)
	}
	v, _ = MustCompile("count(json-parse($d))").Eval(&Context{Scope: mapScope{"d": deep[1 : len(deep)-1]}})
	if show(v) != "1" {
		t.Fatalf("512 levels: %s", show(v))
	}
}

func TestFnJSONStringify(t *testing.T) {
	runFnCases(t, []fnCase{
		{"json-stringify(42)", `"42"`},
		{"json-stringify(1.5)", `"1.5"`},
		{"json-stringify('foo')", `"\"foo\""`},
		{"json-stringify('a\"b\\n')", `"\"a\\\"b\\\\n\""`},
		{"json-stringify(true())", `"true"`},
		{"json-stringify(1 div 0)", `"null"`},
		{"json-stringify($undefined)", `"null"`},
		{"json-stringify($cfg)", `"{\"stage\":\"prod\",\"port\":8080}"`},
		{"json-stringify($cfg/port)", `"8080"`},
		{"json-stringify($body)", `"{\"a\":{\"b\":1,\"c\":[1,2,3],\"d\":\"x\"},\"list\":[{\"n\":\"a\",\"v\":1},{\"n\":\"b\",\"v\":2}],\"weird key\":true,\"nil\":null}"`},
		{"json-stringify($cfg, true())", "\"{\\n    \\\"stage\\\": \\\"prod\\\",\\n    \\\"port\\\": 8080\\n}\""},
		{"json-stringify($xml)", `"{\"item\":[\"one\",\"two\"],\"x\":\"nsx\"}"`},
		{"json-stringify($xml/root/@a)", `"\"1\""`},
		{"json-stringify(split('a b'))", `"\"a\""`},
		{"json-stringify($arr)", `"[1,\"two\",true]"`},
	})
}

func TestFnJSONToXML(t *testing.T) {
	runFnCases(t, []fnCase{
		{"json-to-xml($json)/json/a/b", "[b=1]"},
		{"json-to-xml($json)", "[#doc]"},
		{"json-to-xml('nope')", "[]"},
	})
}

func TestFnXMLToJSON(t *testing.T) {
	runFnCases(t, []fnCase{
		{"xml-to-json($cfg)", `"{\"stage\":\"prod\",\"port\":8080}"`},
		{"xml-to-json($undefined)", `""`},
		{"xml-to-json($xml/root/item[1])", `"\"one\""`},
		{"xml-to-json(json-parse('{\"n\":1}')/n)", `"1"`},
	})
}

func TestFnBase64(t *testing.T) {
	runFnCases(t, []fnCase{
		{"base64-encode('hello world')", `"aGVsbG8gd29ybGQ="`},
		{"base64-encode('')", `""`},
		{"base64-encode($bin)", `"/wBh"`},
		{"base64-decode($b64)", `"hello world"`},
		{"base64-decode('aGVsbG8gd29ybGQ')", `"hello world"`},
		{"base64-decode('aGVs bG8*gd29y\nbGQ=')", `"hello world"`},
		{"base64-decode('aGVs bG8=', true())", "false"},
		{"base64-decode('aGVsbG8=', true())", `"hello"`},
		{"base64-decode('aGVsbG8', true())", `"hello"`},
		{"base64-decode('aGVs=bG8=', true())", "false"},
		{"base64-decode('aGVsbG8===', true())", "false"},
		{"base64-decode('a', true())", "false"},
		{"base64-decode('a')", `""`},
		{"base64-decode(base64-encode($bin)) = $bin", "true"},
	})
}

func TestFnURL(t *testing.T) {
	runFnCases(t, []fnCase{
		{"url-encode('a b&c=d/é~-_.')", `"a%20b%26c%3Dd%2F%C3%A9~-_."`},
		{"urlencode('AZaz09')", `"AZaz09"`},
		{"url-decode('a%20b+c%3d%C3%A9')", `"a b c=é"`},
		{"urldecode('100%')", `"100%"`},
		{"url-decode('%zz%4')", `"%zz%4"`},
		{"url-decode(url-encode($bin)) = $bin", "true"},
	})
}

func TestFnCase(t *testing.T) {
	runFnCases(t, []fnCase{
		{"tolower('ÄBC')", `"äbc"`},
		{"toupper('straße')", `"STRAßE"`},
		{"toupper($cfg/stage)", `"PROD"`},
		{"tolower($undefined)", `""`},
		{"capitalize-first('élan vital')", `"Élan vital"`},
		{"capitalize-first('')", `""`},
		{"capitalize-first('1a')", `"1a"`},
		{"capitalize-first('aBC dEF')", `"ABC dEF"`},
	})
	// Without an argument: the context node.
	sc, docs := fixture(t)
	v, err := MustCompile("toupper()").Eval(&Context{Scope: sc, Node: docs["cfg"].Child("stage")})
	if err != nil || show(v) != `"PROD"` {
		t.Errorf("toupper() = %s, %v", show(v), err)
	}
}

func TestFnTrim(t *testing.T) {
	runFnCases(t, []fnCase{
		{"trim($text)", `"padded"`},
		{"trim('  a b  ')", `"a b"`},
		{"trim('')", `""`},
	})
}

func TestFnEndsWith(t *testing.T) {
	runFnCases(t, []fnCase{
		{"ends-with('abc', 'bc')", "true"},
		{"ends-with('abc', '')", "true"},
		{"ends-with('abc', 'ab')", "false"},
		{"ends-with($cfg/port, 80)", "true"},
	})
}

func TestFnMatches(t *testing.T) {
	runFnCases(t, []fnCase{
		{"matches('Hello', '^h', 'i')", "true"},
		{"matches('Hello', '^h')", "false"},
		{"matches('a\nb', '^b$')", "false"},
		{"matches('a\nb', '^b$', 'm')", "true"},
		{"matches('a\nb', 'a.b', 's')", "true"},
		{"matches('abc', 'a b # comment\n c', 'x')", "true"},
		{"matches('a b', 'a[ ]b', 'x')", "true"},
		{"matches($s, concat('^', 'hel'))", "true"},
		{"matches('x', $undefined)", "true"},
	})
}

func TestFnReplace(t *testing.T) {
	runFnCases(t, []fnCase{
		{"replace('hello world', 'o', '0')", `"hell0 w0rld"`},
		{"replace('John Smith', '(\\w+) (\\w+)', '$2, $1')", `"Smith, John"`},
		{"replace('John Smith', '(\\w+) (\\w+)', '${2}x \\1')", `"Smithx John"`},
		{"replace('abc', 'B', 'x', 'i')", `"axc"`},
		{"replace('abc', 'b', '$9$')", `"a$c"`},
		{"replace('abc', 'b', '\\\\')", `"a\\c"`},
		{"replace('aaa', 'a', '$0$0')", `"aaaaaa"`},
		{"replace('abc', 'x', 'y')", `"abc"`},
		{"replace('a.b', '\\.', '$$')", `"a$$b"`},
	})
}

func TestFnSplit(t *testing.T) {
	runFnCases(t, []fnCase{
		{"split(' a  b\tc\n')", "[token=a token=b token=c]"},
		{"split('a,,b', ',')", "[token=a token=b]"},
		{"split('aXbxc', '(?i)x')", "[token=a token=b token=c]"},
		{"split('')", "[]"},
		{"count(split('a-b-c', '-'))", "3"},
		{"split('a1b22c', '[0-9]+')[last()]", "[token=c]"},
		{"split('A1b2C', '(?x) \\d  # a digit')", "[token=A token=b token=C]"},
		{"split('AxBXc', '(?ix) x ')", "[token=A token=B token=c]"},
	})
}

func TestFnJoin(t *testing.T) {
	runFnCases(t, []fnCase{
		{"join(',', 'a', 'b', 1)", `"a,b,1"`},
		{"join('-', $parts)", `"x-y-z"`},
		{"join(', ', $arr)", `"1, two, true"`},
		{"join('', $parts, $arr)", `"xyz1twotrue"`},
		{"join('-', $undefined, 'a')", `"a"`},
		{"join('/', $body/json/a/c)", `"1/2/3"`},
	})
}

func TestFnArray(t *testing.T) {
	runFnCases(t, []fnCase{
		{"json-stringify(array($parts))", `"[\"x\",\"y\",\"z\"]"`},
		{"json-stringify(array($cfg/*))", `"[\"prod\",8080]"`},
		{"json-stringify(array($xml//@*))", `"[\"1\",\"1\",\"2\"]"`},
		{"array($xml/root/@a)/value/@name", "[@name=a]"},
		{"json-stringify(array())", `"[]"`},
		{"json-stringify(array($body))", `"[{\"a\":{\"b\":1,\"c\":[1,2,3],\"d\":\"x\"},\"list\":[{\"n\":\"a\",\"v\":1},{\"n\":\"b\",\"v\":2}],\"weird key\":true,\"nil\":null}]"`},
		{"json-stringify(array(json-parse('{\"a b\":{\"c\":1}}')/*))", `"[{\"c\":1}]"`},
		{"count(array($parts)/value)", "3"},
		{"name(array($parts))", `"json"`},
	})
}

func TestFnMD5(t *testing.T) {
	runFnCases(t, []fnCase{
		{"md5('')", `"d41d8cd98f00b204e9800998ecf8427e"`},
		{"md5('hello')", `"5d41402abc4b2a76b9719d911017c592"`},
	})
}

func TestFnUUID4(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, _ := MustCompile("uuid4()").EvalString(nil)
	b, _ := MustCompile("uuid4()").EvalString(nil)
	if !re.MatchString(a) || !re.MatchString(b) || a == b {
		t.Fatalf("uuid4() = %q, %q", a, b)
	}
}

func TestFnUnixtime(t *testing.T) {
	old := now
	now = func() time.Time { return time.Unix(1700000000, 999) }
	defer func() { now = old }()
	runFnCases(t, []fnCase{
		{"unixtime()", "1700000000"},
		{"string(unixtime())", `"1700000000"`},
	})
}

func TestFnRegexpErrors(t *testing.T) {
	for _, src := range []string{"matches('a', '(')", "replace('a', '[', 'b')", "split('a', '*')", "matches('a', 'a', 'z')"} {
		_, err := Compile(src)
		var pe *diag.PosError
		if !errors.As(err, &pe) || pe.Code != diag.XPathSyntax {
			t.Errorf("Compile(%q) = %v, want XPathSyntax", src, err)
		}
	}
}

func TestRegister(t *testing.T) {
	for _, f := range []*Func{nil, {Name: "x"}, {Name: "json-parse", Call: jsonParse}, {Name: "y", MinArgs: 2, MaxArgs: 1, Call: jsonParse}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%+v) did not panic", f)
				}
			}()
			Register(f)
		}()
	}
	if f, ok := Lookup("urlencode"); !ok || f.Name != "urlencode" {
		t.Errorf("Lookup(urlencode) = %v, %v", f, ok)
	}
	if len(Funcs()) < 20 {
		t.Errorf("Funcs() = %v", Funcs())
	}
}

func TestFnUUID3(t *testing.T) {
	runFnCases(t, []fnCase{
		{"uuid3('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'example.com')", `"9073926b-929f-31c2-abc9-fad77ae3e8eb"`},
		{"uuid3('{6ba7b8109dad11d180b400c04fd430c8}', 'example.com')", `"9073926b-929f-31c2-abc9-fad77ae3e8eb"`},
		{"uuid3('nope', 'x')", `""`},
	})
}

func TestFnArrayReverse(t *testing.T) {
	runFnCases(t, []fnCase{
		{"json-stringify(array-reverse(json-parse('[2,1,3]')))", `"[3,1,2]"`},
		{"json-stringify(array-reverse(json-to-xml('[\"a\",{\"b\":null}]')))", `"[{\"b\":null},\"a\"]"`},
		{"json-stringify(array-reverse($cfg))", `"[]"`},
		{"json-stringify(array-reverse($undefined))", `"[]"`},
	})
}

func TestFnSort(t *testing.T) {
	runFnCases(t, []fnCase{
		{"json-stringify(sort(json-parse('[2,1,10,3]')))", `"[1,2,3,10]"`},
		{"json-stringify(sort(json-parse('[2,1,3]'), '', true()))", `"[3,2,1]"`},
		{"json-stringify(sort(json-parse('[\"b\",\"a\",\"10\"]')))", `"[\"10\",\"a\",\"b\"]"`},
		{"json-stringify(sort(json-parse('[{\"id\":3,\"n\":\"A\"},{\"id\":1,\"n\":\"C\"},{\"id\":2,\"n\":\"B\"}]'), 'id'))", `"[{\"id\":1,\"n\":\"C\"},{\"id\":2,\"n\":\"B\"},{\"id\":3,\"n\":\"A\"}]"`},
		{"json-stringify(sort(json-parse('[{\"id\":3,\"n\":\"A\"},{\"id\":1,\"n\":\"C\"}]'), concat('', 'n')))", `"[{\"id\":3,\"n\":\"A\"},{\"id\":1,\"n\":\"C\"}]"`},
		{"json-stringify(sort(json-parse('[{\"k\":1,\"v\":\"x\"},{\"k\":1,\"v\":\"y\"},{\"k\":0,\"v\":\"z\"}]'), 'k'))", `"[{\"k\":0,\"v\":\"z\"},{\"k\":1,\"v\":\"x\"},{\"k\":1,\"v\":\"y\"}]"`},
		{"json-stringify(sort($undefined))", `"[]"`},
	})
	if _, err := Compile("sort($a, 'a[')"); err == nil {
		t.Error("invalid literal key compiled")
	}
}

func TestFnApplyCodecs(t *testing.T) {
	runFnCases(t, []fnCase{
		{"apply-codecs('a?b', 'base64-encode', 'url-encode')", `"YT9i"`},
		{"apply-codecs('YT9i', 'base64-decode')", `"a?b"`},
		{"apply-codecs('??>', 'base64url-encode')", `"Pz8-"`},
		{"apply-codecs('Pz8-', 'base64url-decode')", `"??>"`},
		{"apply-codecs('a b', 'url-encode', 'url-decode')", `"a b"`},
		{"apply-codecs('my input', 'deflate', 'base64-encode', 'url-encode', 'url-decode', 'base64-decode', 'inflate')", `"my input"`},
	})
	if _, err := Compile("apply-codecs('x', 'rot13')"); err == nil {
		t.Error("unknown literal codec compiled")
	}
	if _, err := MustCompile("apply-codecs('x', $c)").Eval(&Context{Scope: mapScope{"c": "rot13"}}); err == nil {
		t.Error("unknown codec evaluated")
	}
	if _, err := MustCompile("apply-codecs('not deflate', 'inflate')").Eval(nil); err == nil {
		t.Error("inflate of garbage succeeded")
	}
}

func TestFnJSONDoc(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "conf", "user.json")
	if err := os.WriteFile(path, []byte(`{"name":"brenda"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &Context{Dir: dir}
	for src, want := range map[string]string{
		"json-doc('conf/user.json')/name":      "[name=brenda]",
		"name(json-doc('conf/user.json'))":     `"json"`,
		"count(json-doc('conf/user.json')/..)": "1", // the mount
	} {
		v, err := MustCompile(src).Eval(c)
		if err != nil || show(v) != want {
			t.Errorf("%s = %s, %v; want %s", src, show(v), err, want)
		}
	}
	// Changes are picked up.
	if err := os.WriteFile(path, []byte(`{"name":"brendan!"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, _ := MustCompile("json-doc('conf/user.json')/name").EvalString(c); s != "brendan!" {
		t.Errorf("after change: %q", s)
	}
	for _, src := range []string{"json-doc('../x.json')", "json-doc('/etc/passwd')", "json-doc('conf/missing.json')"} {
		if _, err := MustCompile(src).Eval(c); err == nil {
			t.Errorf("%s succeeded", src)
		}
	}
	if _, err := MustCompile("json-doc('../x.json')").Eval(c); !errors.Is(err, ErrBadPath) {
		t.Errorf("err = %v, want ErrBadPath", err)
	}
}
