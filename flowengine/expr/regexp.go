package expr

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
)

// translatePattern turns a PCRE pattern (without delimiters) and its
// modifiers into a Go regexp pattern: i, m, s and U become inline flags,
// x strips unescaped whitespace and #-comments outside character classes,
// u is accepted and ignored (Go regexps are UTF-8). The result is checked
// to compile. PCRE features RE2 lacks (backreferences, lookaround,
// possessive quantifiers) fail here.
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
	if _, err := compileMatcher(pattern); err != nil {
		return "", err
	}
	return pattern, nil
}

// matcher is a compiled regular expression: Go's RE2 regexp, or, for the
// PCRE features RE2 lacks (backreferences, lookaround, atomic groups),
// the backtracking engine of pcre.go.
type matcher interface {
	MatchString(s string) bool
	FindAllStringSubmatchIndex(s string, n int) [][]int
	Split(s string, n int) []string
}

// compileMatcher compiles a translated pattern, with RE2 when it can.
func compileMatcher(pattern string) (matcher, error) {
	re, err := regexp.Compile(pattern)
	if err == nil {
		return re, nil
	}
	if p, perr := compilePCRE(pattern); perr == nil {
		return p, nil
	}
	return nil, err
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

// ErrRegexp is wrapped by errors about invalid regular expressions found at
// evaluation time.
var ErrRegexp = errors.New("invalid regular expression")

// reCache maps modifiers+"\x00"+pattern to a matcher for patterns only
// known at evaluation time. It stops growing at reCacheMax entries.
var (
	reCache  sync.Map
	reCacheN atomic.Int64
)

const reCacheMax = 1024

// compileRegexp compiles a PCRE pattern with modifiers, caching the result.
func compileRegexp(pattern, modifiers string) (matcher, error) {
	key := modifiers + "\x00" + pattern
	if re, ok := reCache.Load(key); ok {
		return re.(matcher), nil
	}
	goPat, err := translatePattern(pattern, modifiers)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRegexp, err)
	}
	re, err := compileMatcher(goPat)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRegexp, err)
	}
	if reCacheN.Load() < reCacheMax {
		if _, loaded := reCache.LoadOrStore(key, re); !loaded {
			reCacheN.Add(1)
		}
	}
	return re, nil
}

// bindRegexp returns the compile-time regexp of a call site whose pattern
// is argument pi and whose optional modifiers are argument mi: non-nil
// when both are constant (or the modifiers absent).
func bindRegexp(consts []Value, pi, mi int) (matcher, error) {
	if pi >= len(consts) || consts[pi] == nil {
		return nil, nil
	}
	mods := ""
	if mi < len(consts) {
		if consts[mi] == nil {
			return nil, nil
		}
		mods = String(consts[mi])
	}
	re, err := compileRegexp(String(consts[pi]), mods)
	if err != nil {
		return nil, err
	}
	return re, nil
}

// runtimeRegexp returns the site's pre-compiled regexp or compiles the
// pattern from the evaluated arguments.
func runtimeRegexp(pre matcher, args []Value, pi, mi int) (matcher, error) {
	if pre != nil {
		return pre, nil
	}
	mods := ""
	if mi < len(args) {
		mods = String(args[mi])
	}
	return compileRegexp(String(args[pi]), mods)
}
