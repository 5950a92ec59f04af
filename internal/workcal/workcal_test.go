package workcal_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"chuangwen/internal/workcal"
)

func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatalf("load Asia/Shanghai: %v", err)
	}
	return loc
}

func china(t testing.TB) *workcal.Calendar {
	t.Helper()
	c, err := workcal.New(shanghai(t), workcal.DefaultSpans(), workcal.China2026())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// at parses "2006-01-02 15:04" (optionally with ":05") in loc.
func at(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	layout := "2006-01-02 15:04"
	if strings.Count(s, ":") == 2 {
		layout = "2006-01-02 15:04:05"
	}
	v, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

func checkTime(t *testing.T, c *workcal.Calendar, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("got %s, want %s", got.Format(time.DateTime+" Mon"), want.Format(time.DateTime+" Mon"))
	}
	if got.Location() != c.Location() {
		t.Errorf("result in %v, want calendar location %v", got.Location(), c.Location())
	}
}

func TestChinaCalendarDays(t *testing.T) {
	c := china(t)
	tests := []struct {
		date workcal.Date
		want bool
	}{
		{"2026-11-27", true},  // ordinary Friday
		{"2026-11-28", false}, // ordinary Saturday
		{"2026-11-29", false}, // ordinary Sunday
		{"2026-01-01", false}, // 元旦
		{"2026-01-04", true},  // Sunday make-up day
		{"2026-02-14", true},  // Saturday make-up day before 春节
		{"2026-02-23", false}, // last day of 春节, a Monday
		{"2026-02-28", true},  // Saturday make-up day after 春节
		{"2026-04-06", false}, // 清明节 Monday
		{"2026-05-05", false}, // 劳动节 Tuesday
		{"2026-05-09", true},  // Saturday make-up day
		{"2026-06-19", false}, // 端午节 Friday
		{"2026-09-20", true},  // Sunday make-up day for 国庆节
		{"2026-09-25", false}, // 中秋节 Friday
		{"2026-10-01", false}, // 国庆节
		{"2026-10-07", false}, // 国庆节
		{"2026-10-08", true},  // Thursday after 国庆节
		{"2026-10-10", true},  // Saturday make-up day
		{"2026-10-11", false}, // ordinary Sunday
		{"2026-13-01", false}, // malformed
		{"2026-1-5", false},   // not canonical
		{"", false},
	}
	for _, tt := range tests {
		if got := c.IsWorkday(tt.date); got != tt.want {
			t.Errorf("IsWorkday(%q) = %v, want %v", tt.date, got, tt.want)
		}
	}
}

func TestChina2026Data(t *testing.T) {
	ov := workcal.China2026()
	names := map[string]bool{}
	holidays, makeups := 0, 0
	for _, o := range ov {
		names[o.Name] = true
		if o.Working {
			makeups++
		} else {
			holidays++
		}
	}
	for _, n := range []string{"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"} {
		if !names[n] {
			t.Errorf("missing holiday name %s", n)
		}
	}
	// 3+9+3+5+3+3+7 days off; Jan 4, Feb 14, Feb 28, May 9, Sep 20, Oct 10 worked.
	if holidays != 33 || makeups != 6 {
		t.Errorf("got %d holidays and %d make-up days, want 33 and 6", holidays, makeups)
	}
	// Callers get their own copy.
	ov[0].Working = true
	if workcal.China2026()[0].Working {
		t.Error("China2026 shares its backing array between calls")
	}
}

func TestAddWorkingMinutes(t *testing.T) {
	c := china(t)
	loc := c.Location()
	tests := []struct {
		name  string
		start string
		m     int
		want  string
	}{
		{"Friday afternoon over the weekend", "2026-11-27 16:00", 240, "2026-11-30 11:00"},
		{"lunch break skipped", "2026-11-26 11:00", 240, "2026-11-26 16:00"},
		{"start in lunch break", "2026-11-26 12:30", 240, "2026-11-26 17:00"},
		{"start before opening", "2026-11-26 07:00", 240, "2026-11-26 14:00"},
		{"ends exactly at noon from opening", "2026-11-26 09:00", 180, "2026-11-26 12:00"},
		{"ends exactly at noon", "2026-11-26 11:00", 60, "2026-11-26 12:00"},
		{"ends exactly at close", "2026-11-26 13:00", 300, "2026-11-26 18:00"},
		{"one minute past noon", "2026-11-26 11:00", 61, "2026-11-26 13:01"},
		{"start at noon", "2026-11-26 12:00", 60, "2026-11-26 14:00"},
		{"start at close", "2026-11-26 18:00", 60, "2026-11-27 10:00"},
		{"start after close Friday", "2026-11-27 19:00", 240, "2026-11-30 14:00"},
		{"zero after close Friday", "2026-11-27 19:00", 0, "2026-11-30 09:00"},
		{"zero inside span", "2026-11-26 10:17", 0, "2026-11-26 10:17"},
		{"negative counts as zero", "2026-11-26 10:17", -5, "2026-11-26 10:17"},
		{"seconds carried", "2026-11-26 11:59:30", 1, "2026-11-26 13:00:30"},
		{"National Day", "2026-09-30 16:00", 240, "2026-10-08 11:00"},
		{"start on holiday", "2026-10-03 10:00", 60, "2026-10-08 10:00"},
		{"into Saturday make-up day", "2026-10-09 17:00", 120, "2026-10-10 10:00"},
		{"Mid-Autumn then weekend", "2026-09-24 17:00", 120, "2026-09-28 10:00"},
		{"full week", "2026-11-30 09:00", 5 * 480, "2026-12-04 18:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.AddWorkingMinutes(at(t, loc, tt.start), tt.m)
			checkTime(t, c, got, at(t, loc, tt.want))
		})
	}
}

func TestInputLocationIsConverted(t *testing.T) {
	c := china(t)
	// 08:00 UTC is 16:00 in Shanghai on the Friday.
	start := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	got := c.Deadline(start, workcal.Limit{Value: 4, Unit: workcal.Hours})
	checkTime(t, c, got, at(t, c.Location(), "2026-11-30 11:00"))

	// 23:30 UTC on Thursday is already Friday in Shanghai, so Friday is the
	// dispatch day and does not count.
	start = time.Date(2026, 11, 26, 23, 30, 0, 0, time.UTC)
	got = c.Deadline(start, workcal.Limit{Value: 1, Unit: workcal.Days})
	checkTime(t, c, got, at(t, c.Location(), "2026-11-30 18:00"))
}

func TestDeadline(t *testing.T) {
	c := china(t)
	loc := c.Location()
	tests := []struct {
		name  string
		start string
		limit workcal.Limit
		want  string
	}{
		{"4 hours over a weekend", "2026-11-27 16:00", workcal.Limit{Value: 4, Unit: workcal.Hours}, "2026-11-30 11:00"},
		{"4 hours over National Day", "2026-09-30 16:00", workcal.Limit{Value: 4, Unit: workcal.Hours}, "2026-10-08 11:00"},
		{"5 days over National Day", "2026-09-29 10:00", workcal.Limit{Value: 5, Unit: workcal.Days}, "2026-10-12 18:00"},
		{"5 days, dispatched late at night", "2026-09-29 23:59", workcal.Limit{Value: 5, Unit: workcal.Days}, "2026-10-12 18:00"},
		{"5 days, dispatched early morning", "2026-09-29 00:00", workcal.Limit{Value: 5, Unit: workcal.Days}, "2026-10-12 18:00"},
		{"1 day from Friday", "2026-11-27 09:00", workcal.Limit{Value: 1, Unit: workcal.Days}, "2026-11-30 18:00"},
		{"5 days ordinary week", "2026-11-30 15:00", workcal.Limit{Value: 5, Unit: workcal.Days}, "2026-12-07 18:00"},
		{"dispatched on a holiday", "2026-10-03 10:00", workcal.Limit{Value: 1, Unit: workcal.Days}, "2026-10-08 18:00"},
		{"dispatched on a make-up Sunday", "2026-09-20 10:00", workcal.Limit{Value: 1, Unit: workcal.Days}, "2026-09-21 18:00"},
		{"Saturday make-up before Spring Festival", "2026-02-13 10:00", workcal.Limit{Value: 1, Unit: workcal.Days}, "2026-02-14 18:00"},
		{"across Spring Festival", "2026-02-13 10:00", workcal.Limit{Value: 3, Unit: workcal.Days}, "2026-02-25 18:00"},
		{"2027 holidays not loaded, so Jan 1 counts", "2026-12-31 10:00", workcal.Limit{Value: 1, Unit: workcal.Days}, "2027-01-01 18:00"},
		{"20 working days", "2026-11-02 10:00", workcal.Limit{Value: 20, Unit: workcal.Days}, "2026-11-30 18:00"},
		{"invalid limit returns start", "2026-11-02 10:00", workcal.Limit{Value: 0, Unit: workcal.Days}, "2026-11-02 10:00"},
		{"unknown unit returns start", "2026-11-02 10:00", workcal.Limit{Value: 3, Unit: "weeks"}, "2026-11-02 10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Deadline(at(t, loc, tt.start), tt.limit)
			checkTime(t, c, got, at(t, loc, tt.want))
		})
	}
}

func TestDeadlineLargeLimits(t *testing.T) {
	c := china(t)
	start := at(t, c.Location(), "2026-01-05 09:00")
	got := c.Deadline(start, workcal.Limit{Value: 2000, Unit: workcal.Hours})
	if w := c.WorkingMinutesBetween(start, got); w != 2000*60 {
		t.Errorf("2000 working hours: WorkingMinutesBetween = %d, want %d", w, 2000*60)
	}
	// 2000 h = 250 working days of 8 h from a Monday opening, so it ends at
	// close of business on the 250th working day, which Deadline in days
	// counting from the previous day must agree with.
	want := c.Deadline(start.AddDate(0, 0, -1), workcal.Limit{Value: 250, Unit: workcal.Days})
	checkTime(t, c, got, want)
}

func TestWorkingMinutesBetween(t *testing.T) {
	c := china(t)
	loc := c.Location()
	tests := []struct {
		name string
		a, b string
		want int
	}{
		{"over a weekend", "2026-11-27 16:00", "2026-11-30 11:00", 240},
		{"whole weekend", "2026-11-28 00:00", "2026-11-30 00:00", 0},
		{"ordinary week", "2026-11-30 00:00", "2026-12-07 00:00", 5 * 480},
		{"holiday week", "2026-09-28 00:00", "2026-10-12 00:00", 3*480 + 3*480},
		{"National Day alone", "2026-10-01 00:00", "2026-10-08 00:00", 0},
		{"make-up Sunday", "2026-09-20 00:00", "2026-09-21 00:00", 480},
		{"partial spans", "2026-11-26 10:30", "2026-11-26 14:15", 90 + 75},
		{"inside lunch", "2026-11-26 12:10", "2026-11-26 12:50", 0},
		{"before opening to noon", "2026-11-26 06:00", "2026-11-26 12:00", 180},
		{"after close to next morning", "2026-11-26 18:00", "2026-11-27 09:30", 30},
		{"sub-minute rounds down", "2026-11-26 09:00:30", "2026-11-26 09:02:00", 1},
		{"equal", "2026-11-26 10:00", "2026-11-26 10:00", 0},
		{"reversed", "2026-11-27 10:00", "2026-11-26 10:00", 0},
		{"whole year 2026", "2026-01-01 00:00", "2027-01-01 00:00", 0}, // filled in below
	}
	// 2026 has 261 weekdays; 19 of the 33 holidays fall on weekdays, and
	// there are 6 weekend make-up days: 261 - 19 + 6 = 248 working days.
	tests[len(tests)-1].want = 248 * 480
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.WorkingMinutesBetween(at(t, loc, tt.a), at(t, loc, tt.b)); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestAddBetweenRoundTrip(t *testing.T) {
	c := china(t)
	loc := c.Location()
	r := rand.New(rand.NewPCG(20261001, 1))
	base := at(t, loc, "2025-12-01 00:00")
	for i := range 5000 {
		// Whole-minute starts over 14 months so holidays and make-up days
		// are hit, and limits from 0 to about 12 working days.
		start := base.Add(time.Duration(r.IntN(425*24*60)) * time.Minute)
		m := r.IntN(12 * 480)
		end := c.AddWorkingMinutes(start, m)
		if got := c.WorkingMinutesBetween(start, end); got != m {
			t.Fatalf("case %d: start %s m %d: end %s, WorkingMinutesBetween = %d", i, start, m, end, got)
		}
		if end.Before(start) {
			t.Fatalf("case %d: end %s before start %s", i, end, start)
		}
		// The result is the earliest such instant.
		if m > 0 {
			if got := c.WorkingMinutesBetween(start, end.Add(-time.Minute)); got != m-1 {
				t.Fatalf("case %d: start %s m %d: one minute before end gives %d", i, start, m, got)
			}
		}
		// Converting the input location changes nothing.
		if other := c.AddWorkingMinutes(start.UTC(), m); !other.Equal(end) {
			t.Fatalf("case %d: UTC input gives %s, want %s", i, other, end)
		}
	}
}

func TestWarnAt(t *testing.T) {
	c := china(t)
	loc := c.Location()
	tests := []struct {
		name            string
		start, deadline string
		frac            float64
		want            string
	}{
		{"80% of 4 hours from Monday opening", "2026-11-30 09:00", "2026-11-30 14:00", 0.8, "2026-11-30 13:12"},
		{"80% over National Day", "2026-09-30 16:00", "2026-10-08 11:00", 0.8, "2026-10-08 10:12"},
		{"80% of 5 days", "2026-09-29 10:00", "2026-10-12 18:00", 0.8, "2026-10-10 16:36"},
		{"full fraction lands on deadline", "2026-11-30 09:00", "2026-11-30 14:00", 1, "2026-11-30 14:00"},
		{"fraction above 1 clamps", "2026-11-30 09:00", "2026-11-30 14:00", 3, "2026-11-30 14:00"},
		{"zero fraction is start", "2026-11-30 09:00", "2026-11-30 14:00", 0, "2026-11-30 09:00"},
		{"float rounding tolerated", "2026-11-30 09:00", "2026-11-30 10:40", 0.29, "2026-11-30 09:29"},
		{"no working time returns deadline", "2026-10-02 09:00", "2026-10-05 18:00", 0.8, "2026-10-05 18:00"},
		{"reversed returns deadline", "2026-11-30 14:00", "2026-11-30 09:00", 0.8, "2026-11-30 09:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.WarnAt(at(t, loc, tt.start), at(t, loc, tt.deadline), tt.frac)
			checkTime(t, c, got, at(t, loc, tt.want))
		})
	}
}

func TestNewValidation(t *testing.T) {
	loc := shanghai(t)
	good := workcal.DefaultSpans()
	tests := []struct {
		name      string
		loc       *time.Location
		spans     []workcal.Span
		overrides []workcal.Override
		wantErr   bool
	}{
		{"default", loc, good, workcal.China2026(), false},
		{"touching spans", loc, []workcal.Span{{Start: 0, End: 720}, {Start: 720, End: 1440}}, nil, false},
		{"nil location", nil, good, nil, true},
		{"no spans", loc, nil, nil, true},
		{"overlapping spans", loc, []workcal.Span{{Start: 540, End: 720}, {Start: 700, End: 1080}}, nil, true},
		{"unsorted spans", loc, []workcal.Span{{Start: 780, End: 1080}, {Start: 540, End: 720}}, nil, true},
		{"empty span", loc, []workcal.Span{{Start: 540, End: 540}}, nil, true},
		{"reversed span", loc, []workcal.Span{{Start: 720, End: 540}}, nil, true},
		{"negative start", loc, []workcal.Span{{Start: -1, End: 540}}, nil, true},
		{"end past midnight", loc, []workcal.Span{{Start: 540, End: 1441}}, nil, true},
		{"bad date", loc, good, []workcal.Override{{Date: "2026-02-30"}}, true},
		{"garbage date", loc, good, []workcal.Override{{Date: "tomorrow"}}, true},
		{"non-canonical date", loc, good, []workcal.Override{{Date: "2026-1-4", Working: true}}, true},
		{"slashes", loc, good, []workcal.Override{{Date: "2026/01/04", Working: true}}, true},
		{"duplicate date", loc, good, []workcal.Override{
			{Date: "2026-10-01", Name: "国庆节"},
			{Date: "2026-10-01", Working: true},
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := workcal.New(tt.loc, tt.spans, tt.overrides)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && c == nil {
				t.Fatal("nil calendar without error")
			}
		})
	}
}

func TestNewCopiesSpans(t *testing.T) {
	spans := workcal.DefaultSpans()
	c, err := workcal.New(shanghai(t), spans, nil)
	if err != nil {
		t.Fatal(err)
	}
	spans[1].End = 1440
	if got := c.MinutesPerDay(); got != 480 {
		t.Errorf("MinutesPerDay = %d, want 480", got)
	}
	d := c.Deadline(at(t, c.Location(), "2026-11-26 10:00"), workcal.Limit{Value: 1, Unit: workcal.Days})
	checkTime(t, c, d, at(t, c.Location(), "2026-11-27 18:00"))
}

func TestLimit(t *testing.T) {
	tests := []struct {
		limit   workcal.Limit
		wantErr bool
		str     string
	}{
		{workcal.Limit{Value: 4, Unit: workcal.Hours}, false, "4 working hours"},
		{workcal.Limit{Value: 5, Unit: workcal.Days}, false, "5 working days"},
		{workcal.Limit{Value: 1, Unit: workcal.Hours}, false, "1 working hour"},
		{workcal.Limit{Value: 1, Unit: workcal.Days}, false, "1 working day"},
		{workcal.Limit{Value: 0, Unit: workcal.Hours}, true, "0 working hours"},
		{workcal.Limit{Value: -3, Unit: workcal.Days}, true, "-3 working days"},
		{workcal.Limit{Value: 3, Unit: "weeks"}, true, `3 (unit "weeks")`},
		{workcal.Limit{Value: 3, Unit: ""}, true, `3 (unit "")`},
		{workcal.Limit{Value: 3, Unit: "Hours"}, true, `3 (unit "Hours")`},
	}
	for _, tt := range tests {
		if err := tt.limit.Validate(); (err != nil) != tt.wantErr {
			t.Errorf("%#v.Validate() = %v, wantErr %v", tt.limit, err, tt.wantErr)
		}
		if got := tt.limit.String(); got != tt.str {
			t.Errorf("%#v.String() = %q, want %q", tt.limit, got, tt.str)
		}
	}
}

func TestDateOfAndBasics(t *testing.T) {
	loc := shanghai(t)
	// 2026-09-30 17:00 UTC is 2026-10-01 01:00 in Shanghai.
	ts := time.Date(2026, 9, 30, 17, 0, 0, 0, time.UTC)
	if got := workcal.DateOf(ts, loc); got != "2026-10-01" {
		t.Errorf("DateOf = %q, want 2026-10-01", got)
	}
	if got := workcal.DateOf(ts, time.UTC); got != "2026-09-30" {
		t.Errorf("DateOf UTC = %q, want 2026-09-30", got)
	}
	if got := workcal.DateOf(ts, nil); got != "2026-09-30" {
		t.Errorf("DateOf nil = %q, want 2026-09-30", got)
	}
	c := china(t)
	if c.Location().String() != "Asia/Shanghai" {
		t.Errorf("Location = %v", c.Location())
	}
	if got := c.MinutesPerDay(); got != 480 {
		t.Errorf("MinutesPerDay = %d, want 480", got)
	}
}

// allHolidays builds a calendar on which no day for well over ten years is a
// working day.
func allHolidays(t testing.TB) *workcal.Calendar {
	t.Helper()
	loc := shanghai(t)
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ov []workcal.Override
	for i := range 5000 {
		ov = append(ov, workcal.Override{Date: workcal.DateOf(first.AddDate(0, 0, i), time.UTC), Name: "closed"})
	}
	c, err := workcal.New(loc, workcal.DefaultSpans(), ov)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestNoWorkdaysDoesNotHang(t *testing.T) {
	c := allHolidays(t)
	loc := c.Location()
	start := at(t, loc, "2026-03-02 10:00")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if c.IsWorkday("2026-03-02") {
			t.Error("Monday should be a holiday")
		}
		// Fallbacks documented on AddWorkingMinutes and Deadline: wall time.
		checkTime(t, c, c.AddWorkingMinutes(start, 90), start.Add(90*time.Minute))
		checkTime(t, c, c.Deadline(start, workcal.Limit{Value: 4, Unit: workcal.Hours}), start.Add(4*time.Hour))
		checkTime(t, c, c.Deadline(start, workcal.Limit{Value: 5, Unit: workcal.Days}), start.AddDate(0, 0, 5))
		end := start.AddDate(1, 0, 0)
		if got := c.WorkingMinutesBetween(start, end); got != 0 {
			t.Errorf("WorkingMinutesBetween = %d, want 0", got)
		}
		checkTime(t, c, c.WarnAt(start, end, 0.8), end)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("calendar without working days hung")
	}
}

func BenchmarkDeadline(b *testing.B) {
	c := china(b)
	start := at(b, c.Location(), "2026-09-24 16:30")
	for _, l := range []workcal.Limit{
		{Value: 20, Unit: workcal.Days},
		{Value: 4, Unit: workcal.Hours},
		{Value: 2000, Unit: workcal.Hours},
	} {
		b.Run(strings.ReplaceAll(l.String(), " ", "_"), func(b *testing.B) {
			for b.Loop() {
				c.Deadline(start, l)
			}
		})
	}
}
