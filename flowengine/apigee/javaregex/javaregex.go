// Package javaregex compiles java.util.regex patterns (as written in
// Apigee JavaRegex conditions and replaceAll/replaceFirst template
// functions) with Go's RE2 engine, refusing the Java constructs RE2 lacks
// instead of silently matching something else.
//
// Refused (ErrUnsupported, the message names the construct):
// backreferences, lookahead/lookbehind, atomic groups, possessive
// quantifiers, nested classes and && intersections, inline flags other than
// i, m and s (Java's U means UNICODE_CHARACTER_CLASS, RE2's U means
// ungreedy), \G \Z \R \X \h \H \v \V, and Java properties such as
// \p{javaLowerCase}. Remaining small differences, documented not detected:
// Java's "." also excludes \r, \u0085, \u2028 and \u2029; Java's \s
// includes \x0B; Go compares in UTF-8, Java in UTF-16.
//
// When flowengine/regex (a bounded backtracking engine) lands on main,
// refused constructs could be routed there instead.
package javaregex

import (
	"errors"
	"regexp"
	"strings"
)

// ErrUnsupported is wrapped by errors for Java constructs RE2 lacks.
var ErrUnsupported = errors.New("unsupported Java regex construct")

// ErrInvalid is wrapped by errors for patterns that do not compile.
var ErrInvalid = errors.New("invalid regex")

// Error is a pattern that cannot be compiled.
type Error struct {
	// Unsupported is true for Java-only constructs, false for invalid
	// patterns.
	Unsupported bool
	Msg         string
}

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns ErrUnsupported or ErrInvalid.
func (e *Error) Unwrap() error {
	if e.Unsupported {
		return ErrUnsupported
	}
	return ErrInvalid
}

// Compile compiles pat for searching (Matcher.find, String.replaceAll).
func Compile(pat string) (*regexp.Regexp, error) {
	return compile(pat, pat)
}

// CompileWhole compiles pat for Matcher.matches(): the whole input must
// match, so "/c*t" does not match "/cat". The pattern is wrapped as
// ^(?:…)\z.
func CompileWhole(pat string) (*regexp.Regexp, error) {
	return compile(pat, `^(?:`+pat+`)\z`)
}

func compile(pat, goPat string) (*regexp.Regexp, error) {
	if what := javaOnly(pat); what != "" {
		return nil, &Error{Unsupported: true, Msg: "uses " + what + ", which Go's RE2 engine does not support"}
	}
	re, err := regexp.Compile(goPat)
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "invalid nested repetition") {
			return nil, &Error{Unsupported: true, Msg: "uses a possessive or nested quantifier, which Go's RE2 engine does not support"}
		}
		if strings.Contains(msg, "invalid or unsupported Perl syntax") {
			return nil, &Error{Unsupported: true, Msg: msg}
		}
		return nil, &Error{Msg: "does not compile: " + msg}
	}
	return re, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// javaOnly names the first Java-only construct in pat, or "".
func javaOnly(pat string) string {
	inClass := 0
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		next := byte(0)
		if i+1 < len(pat) {
			next = pat[i+1]
		}
		switch {
		case c == '\\':
			switch {
			case next == 'Q':
				end := strings.Index(pat[i+2:], `\E`)
				if end < 0 {
					return ""
				}
				i += 2 + end + 1
				continue
			case next >= '1' && next <= '9' && inClass == 0:
				return `a backreference (\` + string(next) + `)`
			case next == 'k' && inClass == 0:
				return `a named backreference (\k<…>)`
			case strings.IndexByte("GZRXhHvV", next) >= 0 && next != 0:
				return `\` + string(next)
			case next == 'p' || next == 'P':
				rest := pat[i+2:]
				if strings.HasPrefix(rest, "{java") || strings.HasPrefix(rest, "{Is") || strings.HasPrefix(rest, "{In") {
					if end := strings.IndexByte(rest, '}'); end > 0 {
						rest = rest[:end+1]
					}
					return `a Java character property (\` + string(next) + rest + `)`
				}
			}
			i++
		case inClass > 0:
			switch {
			case c == '[':
				return "a nested character class (union, or a POSIX class that Java reads differently)"
			case c == '&' && next == '&':
				return "a character class intersection (&&)"
			case c == ']':
				inClass = 0
			}
		case c == '[':
			inClass = 1
			// A leading ] or ^] is a literal in RE2; skip it so it does not
			// close the class.
			j := i + 1
			if j < len(pat) && pat[j] == '^' {
				j++
			}
			if j < len(pat) && pat[j] == ']' {
				i = j
			}
		case c == '(' && next == '?':
			rest := pat[i+2:]
			switch {
			case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"):
				return "a lookahead ((?=…) or (?!…))"
			case strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "<!"):
				return "a lookbehind ((?<=…) or (?<!…))"
			case strings.HasPrefix(rest, ">"):
				return "an atomic group ((?>…))"
			case strings.HasPrefix(rest, "<"), strings.HasPrefix(rest, "P<"), strings.HasPrefix(rest, ":"):
			default:
				// Inline flags: RE2 and Java share i, m, s; Java's U is
				// UNICODE_CHARACTER_CLASS but RE2's U is ungreedy.
				for j := 0; j < len(rest) && rest[j] != ')' && rest[j] != ':'; j++ {
					if strings.IndexByte("ims-", rest[j]) < 0 {
						return "the inline flag " + string(rest[j])
					}
				}
			}
		case (c == '*' || c == '+' || c == '?' || c == '}' && closesCount(pat[:i])) && next == '+':
			return "a possessive quantifier (" + string(c) + "+)"
		}
	}
	return ""
}

// closesCount reports whether a "}" after pre ends a {n}, {n,} or {n,m}
// quantifier.
func closesCount(pre string) bool {
	open := strings.LastIndexByte(pre, '{')
	if open < 0 {
		return false
	}
	body := pre[open+1:]
	digits, comma := 0, false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case isDigit(c):
			if !comma {
				digits++
			}
		case c == ',' && !comma:
			comma = true
		default:
			return false
		}
	}
	return digits > 0
}
