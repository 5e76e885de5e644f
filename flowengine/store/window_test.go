package store

import (
	"errors"
	"testing"
	"time"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCalendarBounds(t *testing.T) {
	tests := []struct {
		name       string
		w          Window
		now        string
		start, end string
	}{
		{"minute", Window{Interval: 1, Unit: Minute}, "2026-03-10T10:04:59Z", "2026-03-10T10:04:00Z", "2026-03-10T10:05:00Z"},
		{"minute boundary", Window{Interval: 1, Unit: Minute}, "2026-03-10T10:05:00Z", "2026-03-10T10:05:00Z", "2026-03-10T10:06:00Z"},
		{"2 hours", Window{Interval: 2, Unit: Hour}, "2026-03-10T11:30:00Z", "2026-03-10T10:00:00Z", "2026-03-10T12:00:00Z"},
		{"day", Window{Interval: 1, Unit: Day}, "2026-03-10T23:59:59Z", "2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z"},
		{"week starts monday", Window{Interval: 1, Unit: Week}, "2026-03-12T08:00:00Z", "2026-03-09T00:00:00Z", "2026-03-16T00:00:00Z"},
		{"month", Window{Interval: 1, Unit: Month}, "2026-02-15T08:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"},
		{"quarter", Window{Interval: 3, Unit: Month}, "2026-05-15T08:00:00Z", "2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z"},
		{"start aligned minute", Window{Interval: 1, Unit: Minute, Start: ts("2017-01-19T12:00:30Z")}, "2026-03-10T10:01:10Z", "2026-03-10T10:00:30Z", "2026-03-10T10:01:30Z"},
		{"start in the future", Window{Interval: 1, Unit: Hour, Start: ts("2030-01-01T00:15:00Z")}, "2026-03-10T10:01:10Z", "2026-03-10T09:15:00Z", "2026-03-10T10:15:00Z"},
		{"month start 31st clamps", Window{Interval: 1, Unit: Month, Start: ts("2026-01-31T12:00:00Z")}, "2026-02-28T13:00:00Z", "2026-02-28T12:00:00Z", "2026-03-31T12:00:00Z"},
		{"month start 31st before clamp", Window{Interval: 1, Unit: Month, Start: ts("2026-01-31T12:00:00Z")}, "2026-02-28T11:00:00Z", "2026-01-31T12:00:00Z", "2026-02-28T12:00:00Z"},
		{"month before start", Window{Interval: 1, Unit: Month, Start: ts("2026-06-15T00:00:00Z")}, "2026-03-20T00:00:00Z", "2026-03-15T00:00:00Z", "2026-04-15T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, e, err := tt.w.CalendarBounds(ts(tt.now))
			if err != nil {
				t.Fatal(err)
			}
			if !s.Equal(ts(tt.start)) || !e.Equal(ts(tt.end)) {
				t.Fatalf("got [%s, %s), want [%s, %s)", s.Format(time.RFC3339), e.Format(time.RFC3339), tt.start, tt.end)
			}
		})
	}
}

func TestWindowValidate(t *testing.T) {
	tests := []struct {
		name string
		w    Window
		ok   bool
	}{
		{"calendar minute", Window{Kind: Calendar, Interval: 1, Unit: Minute}, true},
		{"flexi month", Window{Kind: Flexi, Interval: 2, Unit: Month}, true},
		{"rolling day", Window{Kind: Rolling, Interval: 1, Unit: Day}, true},
		{"rolling month", Window{Kind: Rolling, Interval: 1, Unit: Month}, false},
		{"zero interval", Window{Kind: Calendar, Interval: 0, Unit: Minute}, false},
		{"no unit", Window{Kind: Calendar, Interval: 1}, false},
		{"bad kind", Window{Kind: 7, Interval: 1, Unit: Hour}, false},
		{"too long", Window{Kind: Calendar, Interval: 1000, Unit: Week}, false},
		{"too many months", Window{Kind: Calendar, Interval: 121, Unit: Month}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.w.Validate()
			if _, _, berr := tt.w.CalendarBounds(time.Now()); (berr == nil) != (err == nil) {
				t.Fatalf("CalendarBounds error %v, Validate %v", berr, err)
			}
			if tt.ok != (err == nil) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestParseTimeUnit(t *testing.T) {
	tests := []struct {
		in   string
		want TimeUnit
		ok   bool
	}{
		{"minute", Minute, true}, {" Hour ", Hour, true}, {"DAY", Day, true}, {"week", Week, true},
		{"month", Month, true}, {"second", Second, true}, {"year", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseTimeUnit(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseTimeUnit(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestRollingBucketsCoverTheWindow(t *testing.T) {
	for _, w := range []Window{
		{Kind: Rolling, Interval: 1, Unit: Second},
		{Kind: Rolling, Interval: 7, Unit: Second},
		{Kind: Rolling, Interval: 1, Unit: Minute},
		{Kind: Rolling, Interval: 1, Unit: Day},
	} {
		width, nb := w.buckets()
		d, _ := w.Duration()
		if time.Duration(nb)*width < d || time.Duration(nb-1)*width >= d || width%time.Millisecond != 0 {
			t.Errorf("%d %s: width %s nb %d does not cover %s tightly", w.Interval, w.Unit, width, nb, d)
		}
	}
}
