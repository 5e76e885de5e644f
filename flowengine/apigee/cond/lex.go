package cond

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tString // double-quoted literal; text is the content
	tNumber // number literal; lit holds the value
	tIdent  // variable name (bare word or single-quoted)
	tAnd
	tOr
	tNot
	tOp // comparison or pattern operator; op says which
	tNull
	tTrue
	tFalse
)

type opKind uint8

const (
	opNone opKind = iota
	opEq
	opNe
	opEqCI
	opGt
	opGe
	opLt
	opLe
	opStartsWith
	opMatches
	opRegex
	opPath
)

// opNames are the canonical (word) spellings, used by Expr.String.
var opNames = [...]string{
	opNone: "?", opEq: "Equals", opNe: "NotEquals", opEqCI: "EqualsCaseInsensitive",
	opGt: "GreaterThan", opGe: "GreaterThanOrEquals", opLt: "LesserThan", opLe: "LesserThanOrEquals",
	opStartsWith: "StartsWith", opMatches: "Matches", opRegex: "JavaRegex", opPath: "MatchesPath",
}

type token struct {
	kind tokKind
	op   opKind
	neg  bool // "!~": Matches negated
	text string
	lit  val // tNumber
	off  int // byte offset in the source
}

// words are the keywords; operator words are case-insensitive
// (apigeelint's grammar marks every one with the i flag; the conditions
// reference spells them in mixed case). null/true/false are accepted in any
// case too [inferred: a miscased literal silently read as an unset
// variable would be worse than accepting it].
var words = map[string]token{
	"and": {kind: tAnd}, "or": {kind: tOr}, "not": {kind: tNot},
	"equals": {kind: tOp, op: opEq}, "is": {kind: tOp, op: opEq},
	"notequals": {kind: tOp, op: opNe}, "isnot": {kind: tOp, op: opNe},
	"equalscaseinsensitive": {kind: tOp, op: opEqCI},
	"greaterthan":           {kind: tOp, op: opGt}, "greaterthanorequals": {kind: tOp, op: opGe},
	"lesserthan": {kind: tOp, op: opLt}, "lesserthanorequals": {kind: tOp, op: opLe},
	"startswith": {kind: tOp, op: opStartsWith},
	"matches":    {kind: tOp, op: opMatches}, "like": {kind: tOp, op: opMatches},
	"javaregex":   {kind: tOp, op: opRegex},
	"matchespath": {kind: tOp, op: opPath}, "likepath": {kind: tOp, op: opPath},
	"null": {kind: tNull}, "true": {kind: tTrue}, "false": {kind: tFalse},
}

// notOperators are plausible operator words Apigee does not have, with the
// spelling it does have; they get CodeUnknownOperator instead of a generic
// syntax error.
var notOperators = map[string]string{
	"lessthan": "LesserThan", "lessthanorequals": "LesserThanOrEquals",
	"greaterthanorequal": "GreaterThanOrEquals", "lesserthanorequal": "LesserThanOrEquals",
	"lessthanorequal": "LesserThanOrEquals", "notequal": "NotEquals", "equal": "Equals",
	"contains": "Matches \"*x*\" or JavaRegex", "endswith": "Matches \"*x\"",
	"in": "or-ed Equals", "startwith": "StartsWith",
}

func isWordStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// isWordChar: apigeelint's token rule [-a-zA-Z0-9_.] (hyphens appear in
// header names such as request.header.x-api-key).
func isWordChar(c byte) bool {
	return isWordStart(c) || c >= '0' && c <= '9' || c == '.' || c == '-'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// numberStart reports whether a number literal starts at src[i]: a digit,
// ".5", "-5" or "-.5".
func numberStart(src string, i int) bool {
	at := func(j int) byte {
		if j < len(src) {
			return src[j]
		}
		return 0
	}
	switch c := src[i]; {
	case isDigit(c):
		return true
	case c == '.':
		return isDigit(at(i + 1))
	case c == '-':
		return isDigit(at(i+1)) || at(i+1) == '.' && isDigit(at(i+2))
	}
	return false
}

func colAt(src string, off int) int {
	if off > len(src) {
		off = len(src)
	}
	return utf8.RuneCountInString(src[:off]) + 1
}

func synErr(src string, off int, code, msg string) *SyntaxError {
	return &SyntaxError{Col: colAt(src, off), Code: code, Msg: msg}
}

// lex splits src into tokens, ending with tEOF.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for {
		for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r') {
			i++
		}
		if i >= len(src) {
			return append(toks, token{kind: tEOF, off: i}), nil
		}
		start := i
		c := src[i]
		two := ""
		if i+1 < len(src) {
			two = src[i : i+2]
		}
		op := func(k tokKind, o opKind, n int) {
			toks = append(toks, token{kind: k, op: o, text: src[start : start+n], off: start})
			i += n
		}
		switch {
		case c == '(':
			op(tLParen, opNone, 1)
		case c == ')':
			op(tRParen, opNone, 1)
		case c == '"':
			// No escape mechanism: apigeelint's ZeroOrMoreNotQuote.
			end := strings.IndexByte(src[i+1:], '"')
			if end < 0 {
				return nil, synErr(src, start, CodeUnbalancedQuote, "unbalanced quote: string literal is not closed")
			}
			toks = append(toks, token{kind: tString, text: src[i+1 : i+1+end], off: start})
			i += end + 2
		case c == '\'':
			// Names with operator characters are single-quoted
			// (conditions reference: 'request.header.help!me').
			end := strings.IndexByte(src[i+1:], '\'')
			if end < 0 {
				return nil, synErr(src, start, CodeUnbalancedName, "unbalanced quote: quoted variable name is not closed")
			}
			if end == 0 {
				return nil, synErr(src, start, CodeExpectedOperand, "empty quoted variable name")
			}
			toks = append(toks, token{kind: tIdent, text: src[i+1 : i+1+end], off: start})
			i += end + 2
		case two == "&&":
			op(tAnd, opNone, 2)
		case two == "||":
			op(tOr, opNone, 2)
		case two == "!=":
			op(tOp, opNe, 2)
		case two == "!~":
			// The docs' null-operand table lists !~ (not Matches).
			toks = append(toks, token{kind: tOp, op: opMatches, neg: true, text: two, off: start})
			i += 2
		case c == '!':
			op(tNot, opNone, 1)
		case two == "==":
			op(tOp, opEq, 2)
		case two == "=|":
			op(tOp, opStartsWith, 2)
		case c == '=':
			op(tOp, opEq, 1)
		case two == ":=":
			op(tOp, opEqCI, 2)
		case two == ">=":
			op(tOp, opGe, 2)
		case c == '>':
			op(tOp, opGt, 1)
		case two == "<=":
			op(tOp, opLe, 2)
		case c == '<':
			op(tOp, opLt, 1)
		case two == "~~":
			op(tOp, opRegex, 2)
		case two == "~/":
			op(tOp, opPath, 2)
		case c == '~':
			op(tOp, opMatches, 1)
		case numberStart(src, i):
			t, n, err := lexNumber(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i += n
		case isWordStart(c):
			for i < len(src) && isWordChar(src[i]) {
				i++
			}
			w := src[start:i]
			if kw, ok := words[strings.ToLower(w)]; ok {
				kw.text, kw.off = w, start
				toks = append(toks, kw)
			} else {
				toks = append(toks, token{kind: tIdent, text: w, off: start})
			}
		default:
			r, _ := utf8.DecodeRuneInString(src[i:])
			msg := "unexpected character " + strconv.QuoteRune(r)
			switch c {
			case '&':
				msg += " (use && or and)"
			case '|':
				msg += " (use || or or)"
			}
			return nil, synErr(src, start, CodeBadChar, msg)
		}
	}
}

// lexNumber reads -?digits[.digits][fFdDlL] at src[i:]. Literals are
// Integer unless suffixed f (Float), d (Double), l (Long) [doc: conditions
// reference, "Operands"]; a literal with a fraction and no suffix is a
// Double [inferred].
func lexNumber(src string, i int) (token, int, error) {
	start := i
	if src[i] == '-' {
		i++
	}
	intStart := i
	for i < len(src) && isDigit(src[i]) {
		i++
	}
	hasFrac := false
	if i < len(src) && src[i] == '.' {
		i++
		fs := i
		for i < len(src) && isDigit(src[i]) {
			i++
		}
		if i == fs {
			return token{}, 0, synErr(src, start, CodeBadNumber, "number literal "+strconv.Quote(src[start:i])+" needs digits after the point")
		}
		hasFrac = true
	}
	if i == intStart {
		return token{}, 0, synErr(src, start, CodeBadNumber, "malformed number literal")
	}
	digits := src[start:i]
	suffix := byte(0)
	if i < len(src) && strings.IndexByte("fFdDlL", src[i]) >= 0 {
		suffix = src[i] | 0x20
		i++
	}
	if i < len(src) && isWordChar(src[i]) {
		j := i
		for j < len(src) && isWordChar(src[j]) {
			j++
		}
		return token{}, 0, synErr(src, start, CodeBadNumber, "malformed number literal "+strconv.Quote(src[start:j]))
	}
	t := token{kind: tNumber, text: src[start:i], off: start}
	switch {
	case suffix == 'l' && hasFrac:
		return token{}, 0, synErr(src, start, CodeBadNumber, "long literal "+strconv.Quote(t.text)+" has a fraction")
	case suffix == 'l' || suffix == 0 && !hasFrac:
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			return token{}, 0, synErr(src, start, CodeBadNumber, "number literal "+strconv.Quote(t.text)+" is out of range")
		}
		t.lit = val{k: kInt, i: n}
	default:
		f, err := strconv.ParseFloat(digits, 64)
		if err != nil || math.IsInf(f, 0) {
			return token{}, 0, synErr(src, start, CodeBadNumber, "number literal "+strconv.Quote(t.text)+" is out of range")
		}
		if suffix == 'f' {
			// A Java Float widened to double for comparison.
			f = float64(float32(f))
		}
		t.lit = val{k: kFloat, f: f}
	}
	return t, i - start, nil
}
