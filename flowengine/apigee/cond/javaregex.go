package cond

import (
	"regexp"
	"strings"
)

// compileJavaRegex compiles a JavaRegex (~~) pattern with Go's RE2 engine.
// Apigee matches with java.util.regex Matcher.matches(): the whole value
// must match, so "/c*t" does not match "/cat" [code: api-platform-samples
// condition-pattern-matching README; doc]. The pattern is wrapped as
// ^(?:…)\z.
//
// Java constructs RE2 lacks are load errors (CodeRegexUnsupported) naming
// the construct, and so are constructs both engines accept with different
// meanings (nested classes, && intersections, flags RE2 reads differently).
// Remaining small differences, documented not detected: Java's "." also
// excludes \r, \u0085, \u2028 and \u2029; Java's \s includes \x0B.
func compileJavaRegex(pat string) (*regexp.Regexp, string, string) {
	if what := javaOnly(pat); what != "" {
		return nil, CodeRegexUnsupported, "JavaRegex uses " + what + ", which Go's RE2 engine does not support"
	}
	re, err := regexp.Compile(`^(?:` + pat + `)\z`)
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "invalid nested repetition") {
			return nil, CodeRegexUnsupported, "JavaRegex uses a possessive or nested quantifier, which Go's RE2 engine does not support"
		}
		if strings.Contains(msg, "invalid or unsupported Perl syntax") {
			return nil, CodeRegexUnsupported, "JavaRegex: " + msg
		}
		return nil, CodeRegexInvalid, "JavaRegex pattern does not compile: " + msg
	}
	return re, "", ""
}

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
