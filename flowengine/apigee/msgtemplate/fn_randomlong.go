package msgtemplate

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// randomLong([low [, high]]): a random long in [low, high) — with no
// arguments any long (Java Random.nextLong), with one [low, Long.MAX_VALUE)
// [doc: message-template reference, "range_low inclusive, range_high
// exclusive"; the one-argument form is inferred]. low >= high fails.
func init() {
	register("randomLong", &function{min: 0, max: 2, prepare: func(args []arg) (any, error) {
		for _, a := range args {
			if !a.isVar && !a.null {
				if _, err := parseLong(a.lit); err != nil {
					return nil, err
				}
			}
		}
		return nil, nil
	}, call: func(_ any, a []value) (string, error) {
		if len(a) == 0 {
			return strconv.FormatInt(int64(rand.Uint64()), 10), nil
		}
		lo, err := parseLong(a[0].str())
		if err != nil {
			return "", err
		}
		hi := int64(math.MaxInt64)
		if len(a) > 1 && !a[1].null {
			if hi, err = parseLong(a[1].s); err != nil {
				return "", err
			}
		}
		if lo >= hi {
			return "", errors.New("randomLong range is empty (low must be below high)")
		}
		return strconv.FormatInt(lo+int64(rand.Uint64N(uint64(hi-lo))), 10), nil
	}})
}

func parseLong(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, errors.New(strconv.Quote(s) + " is not a long integer")
	}
	return n, nil
}
