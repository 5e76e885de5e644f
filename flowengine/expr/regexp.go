package expr

import (
	"errors"
	"fmt"

	"github.com/flowproc/flowproc/flowengine/regex"
)

// ErrRegexp is wrapped by errors about invalid regular expressions found at
// evaluation time.
var ErrRegexp = errors.New("invalid regular expression")

// compileRegexp compiles a PCRE pattern with modifiers (cached by the
// regex package).
func compileRegexp(pattern, modifiers string) (*regex.Regexp, error) {
	re, err := regex.Compile(pattern, modifiers)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRegexp, err)
	}
	return re, nil
}

// bindRegexp returns the compile-time regexp of a call site whose pattern
// is argument pi and whose optional modifiers are argument mi: non-nil
// when both are constant (or the modifiers absent).
func bindRegexp(consts []Value, pi, mi int) (*regex.Regexp, error) {
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
	return compileRegexp(String(consts[pi]), mods)
}

// runtimeRegexp returns the site's pre-compiled regexp or compiles the
// pattern from the evaluated arguments.
func runtimeRegexp(pre *regex.Regexp, args []Value, pi, mi int) (*regex.Regexp, error) {
	if pre != nil {
		return pre, nil
	}
	mods := ""
	if mi < len(args) {
		mods = String(args[mi])
	}
	return compileRegexp(String(args[pi]), mods)
}
