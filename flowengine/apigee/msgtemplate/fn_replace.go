package msgtemplate

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/flowproc/flowproc/flowengine/apigee/javaregex"
)

// replaceAll(s, regex, replacement), replaceFirst(s, regex, replacement):
// Java String.replaceAll / replaceFirst. The regex is a java.util.regex
// pattern (compiled by javaregex: Java-only constructs are refused) and
// the replacement uses Java's syntax: $n and ${name} insert groups, \x
// inserts x literally, a bare $ or a missing group fails. A literal regex
// and replacement are compiled at load; from variables, per call.
func init() {
	register("replaceAll", &function{min: 3, max: 3, prepare: prepareReplace, call: func(st any, a []value) (string, error) {
		return replace(st, a, -1)
	}})
	register("replaceFirst", &function{min: 3, max: 3, prepare: prepareReplace, call: func(st any, a []value) (string, error) {
		return replace(st, a, 1)
	}})
}

type replaceState struct {
	re   *regexp.Regexp
	repl []replPiece // nil unless the replacement is a literal
}

// replPiece is literal text, or group (index >= 0).
type replPiece struct {
	text  string
	group int
}

func prepareReplace(args []arg) (any, error) {
	st := &replaceState{}
	if !args[1].isVar && !args[1].null {
		re, err := javaregex.Compile(args[1].lit)
		if err != nil {
			return nil, errors.New("regex " + err.Error())
		}
		st.re = re
		if !args[2].isVar && !args[2].null {
			if st.repl, err = parseReplacement(args[2].lit, re); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

func replace(state any, a []value, n int) (string, error) {
	st := state.(*replaceState)
	s := a[0].str()
	re, repl := st.re, st.repl
	if re == nil {
		var err error
		if re, err = javaregex.Compile(a[1].str()); err != nil {
			return "", errors.New("regex " + err.Error())
		}
	}
	if repl == nil {
		var err error
		if repl, err = parseReplacement(a[2].str(), re); err != nil {
			return "", err
		}
	}
	var b strings.Builder
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(s, n) {
		b.WriteString(s[last:m[0]])
		for _, p := range repl {
			if p.group < 0 {
				b.WriteString(p.text)
			} else if m[2*p.group] >= 0 {
				b.WriteString(s[m[2*p.group]:m[2*p.group+1]])
			}
		}
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// parseReplacement reads Java's Matcher replacement syntax against re's
// groups. As in Java, $ takes the longest run of digits that still names
// an existing group.
func parseReplacement(r string, re *regexp.Regexp) ([]replPiece, error) {
	pieces := []replPiece{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			pieces = append(pieces, replPiece{text: lit.String(), group: -1})
			lit.Reset()
		}
	}
	groups := re.NumSubexp()
	for i := 0; i < len(r); i++ {
		switch c := r[i]; c {
		case '\\':
			if i+1 >= len(r) {
				return nil, errors.New("replacement ends with a lone backslash")
			}
			i++
			lit.WriteByte(r[i])
		case '$':
			if i+1 < len(r) && r[i+1] == '{' {
				end := strings.IndexByte(r[i+2:], '}')
				if end < 0 {
					return nil, errors.New("replacement has an unclosed ${")
				}
				name := r[i+2 : i+2+end]
				g := re.SubexpIndex(name)
				if g < 0 {
					return nil, errors.New("replacement names group " + strconv.Quote(name) + ", which the regex does not have")
				}
				flush()
				pieces = append(pieces, replPiece{group: g})
				i += 2 + end
				continue
			}
			if i+1 >= len(r) || r[i+1] < '0' || r[i+1] > '9' {
				return nil, errors.New("replacement has a $ without a group number (write \\$ for a dollar)")
			}
			g := int(r[i+1] - '0')
			if g > groups {
				return nil, errors.New("replacement refers to group " + strconv.Itoa(g) + ", which the regex does not have")
			}
			i++
			for i+1 < len(r) && r[i+1] >= '0' && r[i+1] <= '9' {
				ng := g*10 + int(r[i+1]-'0')
				if ng > groups {
					break
				}
				g = ng
				i++
			}
			flush()
			pieces = append(pieces, replPiece{group: g})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return pieces, nil
}
