// Package workcal computes case-handling deadlines (处置时限) in working
// hours and working days.
//
// A Calendar knows the office's daily working spans (for example 09:00–12:00
// and 13:00–18:00) and a set of per-date overrides: public holidays that fall
// on weekdays, and make-up working days (调休) that fall on a Saturday or
// Sunday. All results are returned in the calendar's location, whatever the
// location of the inputs, so that "Friday 16:00" means Friday 16:00 in the
// office's city and not on the server.
//
// A Calendar is immutable after New and safe for concurrent use.
package workcal

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Date is a civil date "YYYY-MM-DD" in the calendar's location.
type Date string

const dateLayout = "2006-01-02"

// DateOf returns the civil date of t in loc. A nil loc means t's own
// location, so that a missing location degrades instead of panicking.
func DateOf(t time.Time, loc *time.Location) Date {
	if loc != nil {
		t = t.In(loc)
	}
	return Date(t.Format(dateLayout))
}

// parseDate accepts only the canonical form, so that "2026-1-4" and
// "2026-01-04" cannot both be loaded as overrides for the same day.
func parseDate(d Date) (int, error) {
	t, err := time.Parse(dateLayout, string(d))
	if err != nil {
		return 0, fmt.Errorf("workcal: bad date %q: %w", string(d), err)
	}
	if t.Format(dateLayout) != string(d) {
		return 0, fmt.Errorf("workcal: date %q is not in YYYY-MM-DD form", string(d))
	}
	return dayNumber(t.Date()), nil
}

// dayNumber maps a civil date to a count of days since 1970-01-01, so that
// calendars can step through days with integer arithmetic and map lookups
// instead of repeated time zone conversions.
func dayNumber(y int, m time.Month, d int) int {
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func civilOf(day int) (int, time.Month, int) {
	return time.Unix(int64(day)*86400, 0).UTC().Date()
}

func weekdayOf(day int) time.Weekday {
	// 1970-01-01 was a Thursday.
	w := (day + int(time.Thursday)) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

// Unit is the unit of a time limit.
type Unit string

// Units of a Limit.
const (
	Hours Unit = "hours"
	Days  Unit = "days"
)

// Limit is a time limit such as "4 working hours". Value must be positive.
type Limit struct {
	Value int
	Unit  Unit
}

// Validate reports whether the limit can be turned into a deadline.
func (l Limit) Validate() error {
	if l.Value <= 0 {
		return fmt.Errorf("workcal: limit value must be positive, got %d", l.Value)
	}
	if l.Unit != Hours && l.Unit != Days {
		return fmt.Errorf("workcal: unknown limit unit %q", string(l.Unit))
	}
	return nil
}

// String renders the limit for case sheets and logs, e.g. "4 working hours".
func (l Limit) String() string {
	var unit string
	switch l.Unit {
	case Hours:
		unit = "working hours"
		if l.Value == 1 {
			unit = "working hour"
		}
	case Days:
		unit = "working days"
		if l.Value == 1 {
			unit = "working day"
		}
	default:
		// Keep the raw unit visible so a bad limit is recognisable in logs.
		return fmt.Sprintf("%d (unit %q)", l.Value, string(l.Unit))
	}
	return fmt.Sprintf("%d %s", l.Value, unit)
}

// Span is a working period within a day, in minutes after local midnight,
// with Start < End. A span covers [Start, End).
type Span struct{ Start, End int }

// DefaultSpans returns 09:00–12:00 and 13:00–18:00, i.e. 8 working hours a
// day with a one-hour lunch break.
func DefaultSpans() []Span {
	return []Span{{Start: 9 * 60, End: 12 * 60}, {Start: 13 * 60, End: 18 * 60}}
}

// Override marks a date as a holiday (Working=false) or a make-up working day
// (Working=true).
type Override struct {
	Date    Date
	Working bool
	Name    string
}

// Calendar answers working-time questions for one office.
type Calendar struct {
	loc       *time.Location
	spans     []Span
	overrides map[int]bool // day number -> working
	perDay    int
}

// maxIdleDays bounds every forward search: if this many consecutive calendar
// days contain no working day, the calendar is treated as having none at all.
// Ten years is far beyond any real holiday, so it only trips on a broken
// calendar.
const maxIdleDays = 3660

// maxMinutes keeps minute counts within time.Duration (about 292 years) and
// within int on 32-bit platforms.
const maxMinutes = int(min(int64(math.MaxInt), math.MaxInt64/int64(time.Minute)))

// maxDays caps a day-based limit so a nonsensical value cannot make Deadline
// loop for minutes or overflow the date arithmetic; it is thousands of
// years of working days.
const maxDays = 1 << 20

// New builds a calendar. loc must be non-nil; spans must be non-empty,
// sorted, non-overlapping and within [0, 1440]; override dates must be
// canonical YYYY-MM-DD and unique. Spans may touch (End of one equal to
// Start of the next).
func New(loc *time.Location, spans []Span, overrides []Override) (*Calendar, error) {
	if loc == nil {
		return nil, errors.New("workcal: nil location")
	}
	if len(spans) == 0 {
		return nil, errors.New("workcal: no working spans")
	}
	perDay := 0
	for i, s := range spans {
		if s.Start < 0 || s.End > 24*60 {
			return nil, fmt.Errorf("workcal: span %d (%d-%d) outside [0, 1440]", i, s.Start, s.End)
		}
		if s.Start >= s.End {
			return nil, fmt.Errorf("workcal: span %d (%d-%d) is empty or reversed", i, s.Start, s.End)
		}
		if i > 0 && s.Start < spans[i-1].End {
			return nil, fmt.Errorf("workcal: span %d (%d-%d) overlaps or precedes span %d (%d-%d)",
				i, s.Start, s.End, i-1, spans[i-1].Start, spans[i-1].End)
		}
		perDay += s.End - s.Start
	}
	ov := make(map[int]bool, len(overrides))
	for _, o := range overrides {
		day, err := parseDate(o.Date)
		if err != nil {
			return nil, err
		}
		if _, dup := ov[day]; dup {
			return nil, fmt.Errorf("workcal: duplicate override for %s", string(o.Date))
		}
		ov[day] = o.Working
	}
	return &Calendar{
		loc:       loc,
		spans:     append([]Span(nil), spans...),
		overrides: ov,
		perDay:    perDay,
	}, nil
}

// Location returns the calendar's location; all results are in it.
func (c *Calendar) Location() *time.Location { return c.loc }

// MinutesPerDay returns the nominal working minutes of one working day.
func (c *Calendar) MinutesPerDay() int { return c.perDay }

// IsWorkday reports whether d is a working day: Monday to Friday unless
// overridden as a holiday, Saturday and Sunday only if overridden as a
// make-up working day. A malformed date is not a working day.
func (c *Calendar) IsWorkday(d Date) bool {
	day, err := parseDate(d)
	if err != nil {
		return false
	}
	return c.isWorkday(day)
}

func (c *Calendar) isWorkday(day int) bool {
	if w, ok := c.overrides[day]; ok {
		return w
	}
	wd := weekdayOf(day)
	return wd != time.Saturday && wd != time.Sunday
}

func (c *Calendar) dayOf(t time.Time) int {
	return dayNumber(t.Date())
}

// bounds returns the instants of a span on a day. Going through time.Date
// with wall-clock minutes keeps spans on local wall time even in zones with
// daylight saving, where a day is not always 24 hours.
func (c *Calendar) bounds(day int, s Span) (time.Time, time.Time) {
	y, m, d := civilOf(day)
	return time.Date(y, m, d, 0, s.Start, 0, 0, c.loc), time.Date(y, m, d, 0, s.End, 0, 0, c.loc)
}

// AddWorkingMinutes returns the instant after exactly m working minutes
// counted from start. If start lies outside working time, counting begins at
// the next working instant; so m == 0 returns the first working instant at or
// after start (span ends are not working time: 12:00 normalises to 13:00).
// When the count ends exactly on the end of a span, that end is returned
// (12:00, not 13:00). A negative m counts as 0; m beyond what time.Duration
// can hold is capped.
//
// If no working day exists within maxIdleDays (3660) consecutive days, the
// calendar has no usable working time and start plus m minutes of wall time
// is returned instead, so a misconfigured calendar yields a plausible
// deadline rather than a hang or a panic.
func (c *Calendar) AddWorkingMinutes(start time.Time, m int) time.Time {
	t := start.In(c.loc)
	if m < 0 {
		m = 0
	}
	m = min(m, maxMinutes)
	remaining := time.Duration(m) * time.Minute
	idle := 0
	for day := c.dayOf(t); ; day++ {
		if !c.isWorkday(day) {
			idle++
			if idle > maxIdleDays {
				return t.Add(time.Duration(m) * time.Minute)
			}
			continue
		}
		idle = 0
		for _, sp := range c.spans {
			s, e := c.bounds(day, sp)
			if !e.After(t) || !e.After(s) {
				continue
			}
			if s.Before(t) {
				s = t
			}
			avail := e.Sub(s)
			if remaining <= avail {
				return s.Add(remaining)
			}
			remaining -= avail
		}
	}
}

// WorkingMinutesBetween counts the working minutes in [a, b), rounded down
// to whole minutes; it is 0 if b is not after a.
func (c *Calendar) WorkingMinutesBetween(a, b time.Time) int {
	a, b = a.In(c.loc), b.In(c.loc)
	if !b.After(a) {
		return 0
	}
	// Whole minutes and the sub-minute remainders are summed separately so
	// that a very long range cannot overflow time.Duration.
	minutes := 0
	var frac time.Duration
	last := c.dayOf(b)
	for day := c.dayOf(a); day <= last; day++ {
		if !c.isWorkday(day) {
			continue
		}
		for _, sp := range c.spans {
			s, e := c.bounds(day, sp)
			if s.Before(a) {
				s = a
			}
			if e.After(b) {
				e = b
			}
			if d := e.Sub(s); d > 0 {
				minutes += int(d / time.Minute)
				frac += d % time.Minute
			}
		}
	}
	return minutes + int(frac/time.Minute)
}

// Deadline returns the deadline of a case dispatched at start.
//
// Hours: AddWorkingMinutes(start, 60*Value).
//
// Days: the close of business (end of the last span) of the Value-th working
// day after the civil date of start. The dispatch day never counts, whatever
// the hour, matching the usual rule "N working days from the day after
// dispatch".
//
// If no working day exists within 3660 consecutive days, start plus the
// limit in wall time is returned (Value hours, or Value calendar days).
// An invalid limit (see Limit.Validate) yields start itself, in the
// calendar's location; callers should validate limits when they are
// configured. Day limits above about a million working days are capped.
func (c *Calendar) Deadline(start time.Time, l Limit) time.Time {
	t := start.In(c.loc)
	if l.Validate() != nil {
		return t
	}
	if l.Unit == Hours {
		m := maxMinutes
		if l.Value <= maxMinutes/60 {
			m = 60 * l.Value
		}
		return c.AddWorkingMinutes(t, m)
	}
	n := min(l.Value, maxDays)
	closing := c.spans[len(c.spans)-1].End
	idle := 0
	for day := c.dayOf(t) + 1; ; day++ {
		if !c.isWorkday(day) {
			idle++
			if idle > maxIdleDays {
				return t.AddDate(0, 0, n)
			}
			continue
		}
		idle = 0
		n--
		if n == 0 {
			y, m, d := civilOf(day)
			return time.Date(y, m, d, 0, closing, 0, 0, c.loc)
		}
	}
}

// WarnAt returns the instant at which frac of the working time between start
// and deadline has elapsed, i.e. AddWorkingMinutes(start,
// floor(frac*WorkingMinutesBetween(start, deadline))). If there is no working
// time between them, deadline is returned (in the calendar's location).
//
// frac is clamped to [0, 1] and NaN counts as 1, so a bad configuration warns
// late rather than never. The floor tolerates float rounding (0.29*100 gives
// 29, not 28), because office rules are stated in exact percentages.
func (c *Calendar) WarnAt(start, deadline time.Time, frac float64) time.Time {
	total := c.WorkingMinutesBetween(start, deadline)
	if total <= 0 {
		return deadline.In(c.loc)
	}
	switch {
	case math.IsNaN(frac) || frac > 1:
		frac = 1
	case frac < 0:
		frac = 0
	}
	x := frac * float64(total)
	n := math.Floor(x)
	if x-n > 1-1e-9 {
		n++
	}
	return c.AddWorkingMinutes(start, int(n))
}
