package msgtemplate

import (
	"errors"
	"math/rand/v2"
	"regexp/syntax"
	"strings"
	"unicode"
)

// xeger(regex): a random string the regex matches. Apigee generates with
// the dk.brics automaton syntax; flowproc reads the pattern with Go's
// regexp syntax, which agrees on the usual subset (literals, classes,
// ., *, +, ?, {n,m}, |, groups) [inferred]. Unbounded repetitions produce
// at most xegerMaxRepeat extra items; "." and negated classes produce
// printable ASCII. A literal pattern is compiled at load; one from a
// variable, per call.
func init() {
	register("xeger", &function{min: 1, max: 1, prepare: func(args []arg) (any, error) {
		if args[0].isVar || args[0].null {
			return nil, nil
		}
		return parseXeger(args[0].lit)
	}, call: func(st any, a []value) (string, error) {
		re, _ := st.(*syntax.Regexp)
		if re == nil {
			var err error
			if re, err = parseXeger(a[0].str()); err != nil {
				return "", err
			}
		}
		var b strings.Builder
		xeger(&b, re)
		return b.String(), nil
	}})
}

const xegerMaxRepeat = 8

func parseXeger(p string) (*syntax.Regexp, error) {
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		return nil, errors.New("regex does not compile: " + err.Error())
	}
	return re.Simplify(), nil
}

func xeger(b *strings.Builder, re *syntax.Regexp) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && rand.IntN(2) == 0 {
				r = unicode.SimpleFold(r)
			}
			b.WriteRune(r)
		}
	case syntax.OpCharClass:
		b.WriteRune(pickRune(re.Rune))
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		b.WriteRune(rune(0x20 + rand.IntN(0x5f)))
	case syntax.OpCapture:
		xeger(b, re.Sub[0])
	case syntax.OpConcat:
		for _, s := range re.Sub {
			xeger(b, s)
		}
	case syntax.OpAlternate:
		xeger(b, re.Sub[rand.IntN(len(re.Sub))])
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := 0, xegerMaxRepeat
		switch re.Op {
		case syntax.OpPlus:
			lo, hi = 1, 1+xegerMaxRepeat
		case syntax.OpQuest:
			hi = 1
		case syntax.OpRepeat:
			lo, hi = re.Min, re.Max
			if hi < 0 {
				hi = lo + xegerMaxRepeat
			}
		}
		for range lo + rand.IntN(hi-lo+1) {
			xeger(b, re.Sub[0])
		}
	}
	// Empty matches, anchors and word boundaries produce nothing.
}

// pickRune picks from a class's ranges (pairs lo, hi), preferring
// printable ASCII when the class offers any.
func pickRune(ranges []rune) rune {
	if len(ranges) == 0 {
		return 'x'
	}
	var ascii []rune
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := max(ranges[i], 0x20), min(ranges[i+1], 0x7e)
		if lo <= hi {
			ascii = append(ascii, lo, hi)
		}
	}
	if len(ascii) > 0 {
		ranges = ascii
	}
	i := 2 * rand.IntN(len(ranges)/2)
	return ranges[i] + rune(rand.IntN(int(ranges[i+1]-ranges[i])+1))
}
