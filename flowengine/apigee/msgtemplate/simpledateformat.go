package msgtemplate

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// sdf is a compiled java.text.SimpleDateFormat pattern (English locale).
// Supported letters: G y Y u M L d D E a H k K h m s S z Z X; quoted text
// in '…' and ” for a quote. Other letters (w W F) are refused, as Java
// refuses letters it does not know.
type sdf []sdfTok

type sdfTok struct {
	letter byte // 0 for literal text
	n      int
	text   string
}

func compileSDF(p string) (sdf, error) {
	var toks sdf
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, sdfTok{text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			if i+1 < len(p) && p[i+1] == '\'' {
				lit.WriteByte('\'')
				i += 2
				continue
			}
			end := strings.IndexByte(p[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("time format " + strconv.Quote(p) + " has an unclosed quote")
			}
			for j := i + 1; j < i+1+end; j++ {
				lit.WriteByte(p[j])
			}
			i += end + 2
			// '' inside quotes is a quote: 'o''clock'
			for i < len(p) && p[i] == '\'' && i+1 < len(p) {
				end = strings.IndexByte(p[i+1:], '\'')
				if end < 0 {
					return nil, errors.New("time format " + strconv.Quote(p) + " has an unclosed quote")
				}
				lit.WriteByte('\'')
				lit.WriteString(p[i+1 : i+1+end])
				i += end + 2
			}
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			if strings.IndexByte("GyYuMLdDEaHkKhmsSzZX", c) < 0 {
				return nil, errors.New("time format letter " + string(c) + " is not supported")
			}
			n := 1
			for i+n < len(p) && p[i+n] == c {
				n++
			}
			flush()
			toks = append(toks, sdfTok{letter: c, n: n})
			i += n
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return toks, nil
}

func pad(b *strings.Builder, v, n int) {
	s := strconv.Itoa(v)
	for k := len(s); k < n; k++ {
		b.WriteByte('0')
	}
	b.WriteString(s)
}

func (f sdf) format(t time.Time) string {
	var b strings.Builder
	for _, tk := range f {
		n := tk.n
		switch tk.letter {
		case 0:
			b.WriteString(tk.text)
		case 'G':
			if t.Year() > 0 {
				b.WriteString("AD")
			} else {
				b.WriteString("BC")
			}
		case 'y', 'Y', 'u':
			var y int
			switch tk.letter {
			case 'Y':
				y, _ = t.ISOWeek()
			case 'u':
				// u is the day number of week (1 = Monday … 7 = Sunday).
				wd := int(t.Weekday())
				if wd == 0 {
					wd = 7
				}
				pad(&b, wd, n)
				continue
			default:
				y = t.Year()
			}
			if n == 2 {
				pad(&b, y%100, 2)
			} else {
				pad(&b, y, n)
			}
		case 'M', 'L':
			switch {
			case n >= 4:
				b.WriteString(t.Month().String())
			case n == 3:
				b.WriteString(t.Month().String()[:3])
			default:
				pad(&b, int(t.Month()), n)
			}
		case 'd':
			pad(&b, t.Day(), n)
		case 'D':
			pad(&b, t.YearDay(), n)
		case 'E':
			if n >= 4 {
				b.WriteString(t.Weekday().String())
			} else {
				b.WriteString(t.Weekday().String()[:3])
			}
		case 'a':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'H':
			pad(&b, t.Hour(), n)
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			pad(&b, h, n)
		case 'K':
			pad(&b, t.Hour()%12, n)
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			pad(&b, h, n)
		case 'm':
			pad(&b, t.Minute(), n)
		case 's':
			pad(&b, t.Second(), n)
		case 'S':
			pad(&b, t.Nanosecond()/1e6, n)
		case 'z':
			name, _ := t.Zone()
			b.WriteString(name)
		case 'Z':
			b.WriteString(t.Format("-0700"))
		case 'X':
			_, off := t.Zone()
			switch {
			case off == 0:
				b.WriteByte('Z')
			case n == 1:
				b.WriteString(t.Format("-07"))
			case n == 2:
				b.WriteString(t.Format("-0700"))
			default:
				b.WriteString(t.Format("-07:00"))
			}
		}
	}
	return b.String()
}
