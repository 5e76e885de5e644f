package regex

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/flowproc/flowproc/flowengine/budget"
)

// translatePattern turns a PCRE pattern (without delimiters) and its
// modifiers into a Go regexp pattern: i, m, s and U become inline flags,
// x strips unescaped whitespace and #-comments outside character classes,
// u is accepted and ignored (Go regexps are UTF-8). The result is checked
// PCRE features RE2 lacks (backreferences, lookaround,
// possessive quantifiers) are left to the backtracking engine.
func translatePattern(pattern, modifiers string) (string, error) {
	var flags []byte
	extended := false
	for i := 0; i < len(modifiers); i++ {
		switch m := modifiers[i]; m {
		case 'i', 'm', 's', 'U':
			if strings.IndexByte(string(flags), m) < 0 {
				flags = append(flags, m)
			}
		case 'x':
			extended = true
		case 'u', ' ':
		default:
			return "", fmt.Errorf("unknown regular expression modifier %q (supported: i m s x u U)", m)
		}
	}
	// Leading in-pattern option groups such as (?x) or (?ix): Go has no
	// x flag, so it is applied here; the others become Go flags.
	for strings.HasPrefix(pattern, "(?") {
		end := strings.IndexByte(pattern, ')')
		opts := ""
		if end > 2 {
			opts = pattern[2:end]
		}
		if opts == "" || strings.Trim(opts, "imsxuU") != "" {
			break
		}
		for i := 0; i < len(opts); i++ {
			switch m := opts[i]; m {
			case 'x':
				extended = true
			case 'u':
			default:
				if strings.IndexByte(string(flags), m) < 0 {
					flags = append(flags, m)
				}
			}
		}
		pattern = pattern[end+1:]
	}
	if extended {
		pattern = stripExtended(pattern)
	}
	if len(flags) > 0 {
		pattern = "(?" + string(flags) + ")" + pattern
	}
	return pattern, nil
}

// stripExtended removes what PCRE's x modifier ignores: whitespace and
// comments from '#' to the end of the line, outside character classes and
// escapes.
func stripExtended(p string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			b.WriteByte(c)
			b.WriteByte(p[i+1])
			i++
		case inClass:
			b.WriteByte(c)
			if c == ']' {
				inClass = false
			}
		case c == '[':
			b.WriteByte(c)
			inClass = true
			// A ']' right after '[' or '[^' is literal.
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
		case c == '#':
			for i+1 < len(p) && p[i+1] != '\n' {
				i++
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ErrSyntax is wrapped by the errors of Compile.
var ErrSyntax = errors.New("invalid regular expression")

// Regexp is a compiled PCRE-style regular expression. It runs on Go's RE2
// engine when the pattern allows, otherwise on the bounded backtracking
// engine of pcre.go. A Regexp is immutable and safe for concurrent use.
type Regexp struct {
	re2 *regexp.Regexp // nil when bt is used
	bt  *pcre
	src string
}

// cache maps modifiers+"\x00"+pattern to a *Regexp; it stops growing at
// cacheMax entries.
var (
	cache  sync.Map
	cacheN atomic.Int64
)

const cacheMax = 1024

// Compile compiles a PCRE-style pattern (without delimiters) with
// modifiers: i (case-insensitive), m (multi-line), s (dot matches
// newline), x (extended: unescaped whitespace and #-comments ignored), u
// (accepted, no effect: patterns are UTF-8) and U (ungreedy). Leading
// option groups such as (?ix) are honoured too. Backreferences,
// lookaround, atomic groups and possessive quantifiers are supported by
// the backtracking engine. Results are cached, so compiling a computed
// pattern per call is cheap. Errors wrap ErrSyntax.
func Compile(pattern, modifiers string) (*Regexp, error) {
	key := modifiers + "\x00" + pattern
	if re, ok := cache.Load(key); ok {
		return re.(*Regexp), nil
	}
	goPat, err := translatePattern(pattern, modifiers)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	re := &Regexp{src: pattern}
	if re.re2, err = regexp.Compile(goPat); err != nil {
		var perr error
		if re.bt, perr = compilePCRE(goPat); perr != nil {
			return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
		}
	}
	if cacheN.Load() < cacheMax {
		if _, loaded := cache.LoadOrStore(key, re); !loaded {
			cacheN.Add(1)
		}
	}
	return re, nil
}

// String returns the pattern the Regexp was compiled from.
func (re *Regexp) String() string { return re.src }

// Backtracking reports whether the pattern needs the backtracking engine.
func (re *Regexp) Backtracking() bool { return re.bt != nil }

// chargeLinear charges a linear-time RE2 search over s.
func chargeLinear(b *budget.Budget, s string) error {
	return b.Regex(int64(len(s)) + 1)
}

// Match reports whether the pattern matches somewhere in s. The work is
// charged to b (nil: a fresh default budget per call); an exceeded budget
// or a cancelled context is an error.
func (re *Regexp) Match(b *budget.Budget, s string) (bool, error) {
	if re.bt != nil {
		return re.bt.match(b, s)
	}
	if err := chargeLinear(b, s); err != nil {
		return false, err
	}
	return re.re2.MatchString(s), nil
}

// FindAll is regexp.Regexp's FindAllStringSubmatchIndex: the byte offsets
// of at most n (n < 0: all) successive non-overlapping matches and their
// groups, -1 for a group that did not participate.
func (re *Regexp) FindAll(b *budget.Budget, s string, n int) ([][]int, error) {
	if re.bt != nil {
		return re.bt.findAll(b, s, n)
	}
	if err := chargeLinear(b, s); err != nil {
		return nil, err
	}
	return re.re2.FindAllStringSubmatchIndex(s, n), nil
}

// Replace replaces every match in s by repl, in which $n, ${n} and \n
// (n up to 99) insert group n (empty when the group does not exist or did
// not match) and "\\" is one backslash; any other character is literal.
// Each match and the bytes built are charged to b.
func (re *Regexp) Replace(b *budget.Budget, s, repl string) (string, error) {
	matches, err := re.FindAll(b, s, -1)
	if err != nil || len(matches) == 0 {
		return s, err
	}
	var sb strings.Builder
	last := 0
	for _, m := range matches {
		if err := b.Regex(int64(len(repl)) + 1); err != nil {
			return "", err
		}
		sb.WriteString(s[last:m[0]])
		expandReplacement(&sb, repl, s, m)
		last = m[1]
		if err := b.Output(int64(sb.Len() - last)); err != nil {
			return "", err
		}
	}
	sb.WriteString(s[last:])
	return sb.String(), nil
}

// Split is regexp.Regexp's Split: the substrings between at most n-1
// matches (n < 0: all; n == 0: nil).
func (re *Regexp) Split(b *budget.Budget, s string, n int) ([]string, error) {
	if n == 0 {
		return nil, nil
	}
	if len(s) == 0 {
		return []string{""}, nil
	}
	if re.bt == nil {
		if err := chargeLinear(b, s); err != nil {
			return nil, err
		}
		return re.re2.Split(s, n), nil
	}
	matches, err := re.bt.findAll(b, s, n)
	if err != nil {
		return nil, err
	}
	parts := make([]string, 0, len(matches))
	beg, end := 0, 0
	for _, match := range matches {
		if n > 0 && len(parts) == n-1 {
			break
		}
		end = match[0]
		if match[1] != 0 {
			parts = append(parts, s[beg:end])
		}
		beg = match[1]
	}
	if end != len(s) {
		parts = append(parts, s[beg:])
	}
	return parts, nil
}

// expandReplacement writes repl with $n, ${n} and \n replaced by group n
// of the match m in s.
func expandReplacement(b *strings.Builder, repl, s string, m []int) {
	group := func(n int) {
		if 2*n+1 < len(m) && m[2*n] >= 0 {
			b.WriteString(s[m[2*n]:m[2*n+1]])
		}
	}
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if (c != '$' && c != '\\') || i+1 >= len(repl) {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		braced := c == '$' && repl[j] == '{'
		if braced {
			j++
		}
		n, k := 0, j
		for k < len(repl) && k-j < 2 && repl[k] >= '0' && repl[k] <= '9' {
			n = n*10 + int(repl[k]-'0')
			k++
		}
		if k == j || (braced && (k >= len(repl) || repl[k] != '}')) {
			if c == '\\' && repl[i+1] == '\\' {
				b.WriteByte('\\') // "\\" is a literal backslash
				i++
				continue
			}
			b.WriteByte(c)
			continue
		}
		if braced {
			k++
		}
		group(n)
		i = k - 1
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
