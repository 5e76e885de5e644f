package expr

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/flowproc/flowproc/flowengine/diag"
)

// tokKind is the kind of an expression token.
type tokKind uint8

const (
	tEOF tokKind = iota
	tName
	tStar     // '*' as a name test
	tNodeType // node, text, comment, processing-instruction before '('
	tFuncName // a name before '('
	tAxisName // a name before '::'
	tVar
	tLiteral
	tNumber
	tOpName // and, or, mod, div
	tMul    // '*' as an operator
	tLParen
	tRParen
	tLBracket
	tRBracket
	tDot
	tDotDot
	tAt
	tComma
	tColonColon
	tSlash
	tSlashSlash
	tPipe
	tPlus
	tMinus
	tEq
	tNe
	tLt
	tLe
	tGt
	tGe
)

var tokText = [...]string{
	tEOF: "end of expression", tName: "name", tStar: "'*'", tNodeType: "node type",
	tFuncName: "function name", tAxisName: "axis name", tVar: "variable", tLiteral: "string",
	tNumber: "number", tOpName: "operator", tMul: "'*'", tLParen: "'('", tRParen: "')'",
	tLBracket: "'['", tRBracket: "']'", tDot: "'.'", tDotDot: "'..'", tAt: "'@'",
	tComma: "','", tColonColon: "'::'", tSlash: "'/'", tSlashSlash: "'//'", tPipe: "'|'",
	tPlus: "'+'", tMinus: "'-'", tEq: "'='", tNe: "'!='", tLt: "'<'", tLe: "'<='",
	tGt: "'>'", tGe: "'>='",
}

// token is one lexical token. pos and end are byte offsets into the source.
type token struct {
	kind   tokKind
	s      string // name (local part), literal value, variable name, operator
	prefix string // QName prefix, dropped when printing
	num    float64
	pos    int
	end    int
}

func (t token) describe() string {
	switch t.kind {
	case tName, tFuncName, tAxisName, tNodeType, tOpName:
		return "'" + t.s + "'"
	case tVar:
		return "'$" + t.s + "'"
	case tLiteral:
		return "string literal"
	case tNumber:
		return "number"
	}
	return tokText[t.kind]
}

// posErr returns a *diag.PosError at byte offset off of src.
func posErr(src string, off int, code diag.Code, msg string) *diag.PosError {
	line, col := lineCol(src, off)
	return &diag.PosError{Code: code, Line: line, Col: col, Offset: off, Msg: msg}
}

// lineCol converts a byte offset into a 1-based line and a 1-based column
// counted in characters.
func lineCol(src string, off int) (line, col int) {
	if off > len(src) {
		off = len(src)
	}
	if off < 0 {
		off = 0
	}
	line, start := 1, 0
	for i := 0; i < off; i++ {
		if src[i] == '\n' {
			line++
			start = i + 1
		}
	}
	return line, utf8.RuneCountInString(src[start:off]) + 1
}

// lex splits src into tokens, applying the XPath 1.0 FLAT docs: JSON as XML (OXN) disambiguation
// rules (operator names, '*', function names, axis names).
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for {
		for i < len(src) && isSpace(src[i]) {
			i++
		}
		if i >= len(src) {
			toks = append(toks, token{kind: tEOF, pos: i, end: i})
			return toks, nil
		}
		start := i
		c := src[i]
		t := token{pos: start}
		switch {
		case c == '(':
			t.kind, i = tLParen, i+1
		case c == ')':
			t.kind, i = tRParen, i+1
		case c == '[':
			t.kind, i = tLBracket, i+1
		case c == ']':
			t.kind, i = tRBracket, i+1
		case c == '@':
			t.kind, i = tAt, i+1
		case c == ',':
			t.kind, i = tComma, i+1
		case c == '|':
			t.kind, i = tPipe, i+1
		case c == '+':
			t.kind, i = tPlus, i+1
		case c == '-':
			t.kind, i = tMinus, i+1
		case c == '=':
			t.kind, i = tEq, i+1
		case c == '!':
			if i+1 < len(src) && src[i+1] == '=' {
				t.kind, i = tNe, i+2
			} else {
				return nil, posErr(src, i, diag.XPathSyntax, "unexpected '!' (did you mean '!=' or not()?)")
			}
		case c == '<':
			if i+1 < len(src) && src[i+1] == '=' {
				t.kind, i = tLe, i+2
			} else {
				t.kind, i = tLt, i+1
			}
		case c == '>':
			if i+1 < len(src) && src[i+1] == '=' {
				t.kind, i = tGe, i+2
			} else {
				t.kind, i = tGt, i+1
			}
		case c == '/':
			if i+1 < len(src) && src[i+1] == '/' {
				t.kind, i = tSlashSlash, i+2
			} else {
				t.kind, i = tSlash, i+1
			}
		case c == ':':
			if i+1 < len(src) && src[i+1] == ':' {
				t.kind, i = tColonColon, i+2
			} else {
				return nil, posErr(src, i, diag.XPathSyntax, "unexpected ':'")
			}
		case c == '*':
			t.kind, i = tStar, i+1
			if len(toks) > 0 && !precedesOperand(toks[len(toks)-1].kind) {
				t.kind = tMul
			}
		case c == '.':
			switch {
			case i+1 < len(src) && src[i+1] == '.':
				t.kind, i = tDotDot, i+2
			case i+1 < len(src) && isDigit(src[i+1]):
				i = scanNumber(src, i)
				t.kind = tNumber
				t.num = parseNumber(src[start:i])
			default:
				t.kind, i = tDot, i+1
			}
		case c == '\'' || c == '"':
			j := strings.IndexByte(src[i+1:], c)
			if j < 0 {
				return nil, posErr(src, i, diag.XPathSyntax, "unterminated string literal")
			}
			t.kind = tLiteral
			t.s = src[i+1 : i+1+j]
			i = i + 2 + j
		case isDigit(c):
			i = scanNumber(src, i)
			t.kind = tNumber
			t.num = parseNumber(src[start:i])
		case c == '$':
			j := i + 1
			r, size := utf8.DecodeRuneInString(src[j:])
			if j >= len(src) || !(r == '_' || unicode.IsLetter(r)) {
				return nil, posErr(src, i, diag.BadVariable, "a variable name must start with a letter or '_' after '$'")
			}
			j += size
			for j < len(src) {
				r, size = utf8.DecodeRuneInString(src[j:])
				if r == '_' || r == '-' || unicode.IsLetter(r) || (r >= '0' && r <= '9') {
					j += size
					continue
				}
				break
			}
			if j < len(src) && (src[j] == '.' || (src[j] == ':' && (j+1 >= len(src) || src[j+1] != ':'))) {
				return nil, posErr(src, j, diag.BadVariable, "a variable name may contain only letters, digits, '_' and '-'")
			}
			t.kind = tVar
			t.s = src[i+1 : j]
			i = j
		default:
			r, _ := utf8.DecodeRuneInString(src[i:])
			if !isNameStart(r) {
				return nil, posErr(src, i, diag.XPathSyntax, "unexpected character "+quoteRune(r))
			}
			j := scanName(src, i)
			name := src[i:j]
			prefix := ""
			// QName: prefix:local or prefix:*, but not name::axis.
			if j+1 < len(src) && src[j] == ':' && src[j+1] != ':' {
				r2, _ := utf8.DecodeRuneInString(src[j+1:])
				switch {
				case src[j+1] == '*':
					prefix, name = name, "*"
					j += 2
				case isNameStart(r2):
					k := scanName(src, j+1)
					prefix, name = name, src[j+1:k]
					j = k
				default:
					return nil, posErr(src, j, diag.XPathSyntax, "invalid qualified name")
				}
			}
			i = j
			t.s, t.prefix = name, prefix
			if len(toks) > 0 && !precedesOperand(toks[len(toks)-1].kind) {
				if prefix == "" && (name == "and" || name == "or" || name == "mod" || name == "div") {
					t.kind = tOpName
					break
				}
				return nil, posErr(src, start, diag.XPathSyntax, "unexpected name '"+src[start:j]+"' (expected an operator)")
			}
			if name == "*" {
				t.kind = tStar
				break
			}
			k := j
			for k < len(src) && isSpace(src[k]) {
				k++
			}
			switch {
			case k < len(src) && src[k] == '(':
				if prefix == "" && isNodeTypeName(name) {
					t.kind = tNodeType
				} else {
					t.kind = tFuncName
				}
			case k+1 < len(src) && src[k] == ':' && src[k+1] == ':':
				t.kind = tAxisName
			default:
				t.kind = tName
			}
		}
		t.end = i
		toks = append(toks, t)
	}
}

// precedesOperand reports whether a token of kind k leaves the lexer
// expecting an operand (XPath 1.0 FLAT docs: JSON as XML (OXN)): then '*' is a name test and a name
// is not an operator.
func precedesOperand(k tokKind) bool {
	switch k {
	case tAt, tColonColon, tLParen, tLBracket, tComma,
		tOpName, tMul, tSlash, tSlashSlash, tPipe, tPlus, tMinus, tEq, tNe, tLt, tLe, tGt, tGe:
		return true
	}
	return false
}

func isNodeTypeName(s string) bool {
	switch s {
	case "node", "text", "comment", "processing-instruction":
		return true
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isNameStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isNameChar(r rune) bool {
	return r == '_' || r == '-' || r == '.' || r == 0xB7 || (r >= '0' && r <= '9') || unicode.IsLetter(r)
}

// scanName returns the end of the NCName starting at i.
func scanName(src string, i int) int {
	for i < len(src) {
		r, size := utf8.DecodeRuneInString(src[i:])
		if !isNameChar(r) {
			break
		}
		i += size
	}
	return i
}

// scanNumber returns the end of the XPath Number starting at i.
func scanNumber(src string, i int) int {
	for i < len(src) && isDigit(src[i]) {
		i++
	}
	if i < len(src) && src[i] == '.' {
		i++
		for i < len(src) && isDigit(src[i]) {
			i++
		}
	}
	return i
}

func quoteRune(r rune) string {
	if r == utf8.RuneError {
		return "(invalid UTF-8)"
	}
	return "'" + string(r) + "'"
}

// parseNumber converts an XPath Number token.
func parseNumber(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}
