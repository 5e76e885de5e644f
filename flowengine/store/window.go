package store

import (
	"fmt"
	"strings"
	"time"
)

// WindowKind selects how a Counter groups increments in time.
type WindowKind int

const (
	// Calendar windows are fixed, back to back, aligned to Window.Start (or,
	// when Start is zero, to the start of the unit in UTC: top of the
	// minute/hour, midnight, Monday 00:00, the 1st of the month). This is
	// Apigee's default Quota type and its type="calendar".
	Calendar WindowKind = iota
	// Flexi windows start at the first increment of a key and last one
	// interval; the next increment after that opens a new window (Apigee
	// type="flexi").
	Flexi
	// Rolling windows count what happened in the last interval ending now
	// (Apigee type="rollingwindow"). See Counter for the bucketed
	// approximation used.
	Rolling
)

// String returns the Apigee spelling of the kind.
func (k WindowKind) String() string {
	switch k {
	case Calendar:
		return "calendar"
	case Flexi:
		return "flexi"
	case Rolling:
		return "rollingwindow"
	}
	return fmt.Sprintf("WindowKind(%d)", int(k))
}

// TimeUnit is the unit of a window's interval.
type TimeUnit int

const (
	// Second is one second (not an Apigee Quota unit; useful for tests and
	// short windows).
	Second TimeUnit = iota + 1
	// Minute is sixty seconds.
	Minute
	// Hour is sixty minutes.
	Hour
	// Day is 24 hours (UTC days: no daylight saving shifts).
	Day
	// Week is seven days.
	Week
	// Month is a calendar month; its length varies.
	Month
)

var unitNames = map[TimeUnit]string{Second: "second", Minute: "minute", Hour: "hour", Day: "day", Week: "week", Month: "month"}

// String returns the lower-case Apigee spelling of the unit.
func (u TimeUnit) String() string {
	if s, ok := unitNames[u]; ok {
		return s
	}
	return fmt.Sprintf("TimeUnit(%d)", int(u))
}

// ParseTimeUnit reads an Apigee <TimeUnit> value (second, minute, hour, day,
// week, month; case-insensitive, surrounding space ignored).
func ParseTimeUnit(s string) (TimeUnit, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for u, n := range unitNames {
		if n == t {
			return u, nil
		}
	}
	return 0, fmt.Errorf("time unit %q (want second, minute, hour, day, week or month): %w", s, ErrInvalid)
}

func (u TimeUnit) duration() (time.Duration, bool) {
	switch u {
	case Second:
		return time.Second, true
	case Minute:
		return time.Minute, true
	case Hour:
		return time.Hour, true
	case Day:
		return 24 * time.Hour, true
	case Week:
		return 7 * 24 * time.Hour, true
	}
	return 0, false
}

// Window describes the time span a counter counts over.
type Window struct {
	Kind     WindowKind
	Interval int64 // number of Units per window, at least 1
	Unit     TimeUnit
	// Start aligns Calendar windows (Apigee <StartTime>). Zero means the
	// start of the unit in UTC. Ignored by Flexi and Rolling windows.
	Start time.Time
}

// maxWindow bounds one window so that millisecond arithmetic cannot
// overflow and keys do not live for centuries.
const maxWindow = 10 * 366 * 24 * time.Hour

// Validate reports a window that cannot be honoured.
func (w Window) Validate() error {
	if w.Kind != Calendar && w.Kind != Flexi && w.Kind != Rolling {
		return fmt.Errorf("window kind %d: %w", int(w.Kind), ErrInvalid)
	}
	if _, ok := unitNames[w.Unit]; !ok {
		return fmt.Errorf("window unit %d: %w", int(w.Unit), ErrInvalid)
	}
	if w.Interval < 1 {
		return fmt.Errorf("window interval %d (want >= 1): %w", w.Interval, ErrInvalid)
	}
	if w.Unit == Month {
		if w.Kind == Rolling {
			return fmt.Errorf("rollingwindow with time unit month (months have no fixed length; use day or week): %w", ErrInvalid)
		}
		if w.Interval > 120 {
			return fmt.Errorf("window of %d months (at most 120): %w", w.Interval, ErrInvalid)
		}
		return nil
	}
	d, _ := w.Unit.duration()
	if w.Interval > int64(maxWindow/d) {
		return fmt.Errorf("window of %d %ss (at most %s): %w", w.Interval, w.Unit, maxWindow, ErrInvalid)
	}
	return nil
}

// Duration returns the fixed length of the window; ok is false for months.
func (w Window) Duration() (d time.Duration, ok bool) {
	u, ok := w.Unit.duration()
	if !ok {
		return 0, false
	}
	return time.Duration(w.Interval) * u, true
}

// weekOrigin is a Monday at 00:00 UTC: default alignment for week windows.
var weekOrigin = time.Date(1970, 1, 5, 0, 0, 0, 0, time.UTC)

// CalendarBounds returns the Calendar window [start, end) holding now,
// or the Validate error of an invalid window.
func (w Window) CalendarBounds(now time.Time) (start, end time.Time, err error) {
	if err := w.Validate(); err != nil {
		return time.Time{}, time.Time{}, err
	}
	start, end = w.calendarBounds(now)
	return start, end, nil
}

// calendarBounds is CalendarBounds for a valid window.
func (w Window) calendarBounds(now time.Time) (start, end time.Time) {
	if w.Unit == Month {
		origin := w.Start
		if origin.IsZero() {
			origin = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		months := (now.Year()-origin.Year())*12 + int(now.Month()-origin.Month())
		k := floorDiv(int64(months), w.Interval) * w.Interval
		start = addMonths(origin, k)
		for start.After(now) {
			k -= w.Interval
			start = addMonths(origin, k)
		}
		for end = addMonths(origin, k+w.Interval); !end.After(now); end = addMonths(origin, k+w.Interval) {
			k += w.Interval
			start = end
		}
		return start, end
	}
	d, _ := w.Duration()
	origin := w.Start
	if origin.IsZero() {
		origin = time.Unix(0, 0).UTC()
		if w.Unit == Week {
			origin = weekOrigin
		}
	}
	k := floorDiv(int64(now.Sub(origin)), int64(d))
	start = origin.Add(time.Duration(k) * d)
	return start, start.Add(d)
}

// flexiEnd returns the end of a Flexi window opened at start.
func (w Window) flexiEnd(start time.Time) time.Time {
	if w.Unit == Month {
		return addMonths(start, w.Interval)
	}
	d, _ := w.Duration()
	return start.Add(d)
}

// rollingBuckets is the number of buckets a Rolling window is cut into.
const rollingBuckets = 60

// buckets returns the width of one Rolling bucket (whole milliseconds)
// and how many buckets before the current one a count covers: enough that
// nb*width >= the window, so the count never misses an event of the last
// interval.
func (w Window) buckets() (width time.Duration, nb int64) {
	d, _ := w.Duration()
	width = (d / rollingBuckets).Truncate(time.Millisecond)
	if width < time.Millisecond {
		width = time.Millisecond
	}
	nb = int64((d + width - 1) / width)
	return width, nb
}

// addMonths adds k months to origin, clamping the day to the target
// month's length (Jan 31 + 1 month = Feb 28/29), keeping the clock time.
func addMonths(origin time.Time, k int64) time.Time {
	total := int64(origin.Year())*12 + int64(origin.Month()-1) + k
	y, m := int(floorDiv(total, 12)), time.Month(total-floorDiv(total, 12)*12+1)
	day := origin.Day()
	if last := time.Date(y, m+1, 0, 0, 0, 0, 0, origin.Location()).Day(); day > last {
		day = last
	}
	return time.Date(y, m, day, origin.Hour(), origin.Minute(), origin.Second(), origin.Nanosecond(), origin.Location())
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
