package msgtemplate

import (
	"errors"
	"strconv"
	"strings"
)

// substring(s, start [, end]): Java String.substring(start, end) counted
// in characters (Go runes; Java counts UTF-16 units). Indexes past the end
// are clamped and start > end gives "" instead of Java's exception; a
// negative index counts from the end [inferred: the Apigee reference
// documents only in-range use]. Non-numeric indexes fail (MT005 at load
// when literal, MT101 at run time).
func init() {
	register("substring", &function{min: 2, max: 3, prepare: func(args []arg) (any, error) {
		for _, a := range args[1:] {
			if !a.isVar && !a.null {
				if _, err := index(a.lit); err != nil {
					return nil, err
				}
			}
		}
		return nil, nil
	}, call: func(_ any, a []value) (string, error) {
		s := []rune(a[0].str())
		start, err := index(a[1].str())
		if err != nil {
			return "", err
		}
		end := len(s)
		if len(a) > 2 && !a[2].null {
			if end, err = index(a[2].s); err != nil {
				return "", err
			}
		}
		start, end = clampIndex(start, len(s)), clampIndex(end, len(s))
		if start >= end {
			return "", nil
		}
		return string(s[start:end]), nil
	}})
}

func index(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, errors.New("index " + strconv.Quote(s) + " is not an integer")
	}
	return n, nil
}

func clampIndex(i, n int) int {
	if i < 0 {
		i += n
	}
	return max(0, min(i, n))
}
