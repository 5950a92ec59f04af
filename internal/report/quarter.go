// Package report produces the campaign's rhythm documents (一周一督办、
// 一月一调度、一季一通报): for now the quarterly bulletin (季度通报), which
// ranks the districts by the civilization index and the units by the
// city-management assessment of their handling of cases, and is
// published frozen and verifiable (docs/reports.md).
package report

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"chuangwen/internal/apperr"
)

// Quarter is a calendar quarter, 2026Q4.
type Quarter struct {
	Year, Q int
}

var quarterRe = regexp.MustCompile(`^(\d{4})Q([1-4])$`)

// ParseQuarter reads "2026Q4".
func ParseQuarter(s string) (Quarter, error) {
	m := quarterRe.FindStringSubmatch(s)
	if m == nil {
		return Quarter{}, apperr.New(apperr.Invalid, "report.bad_quarter", "quarter", s)
	}
	y, _ := strconv.Atoi(m[1])
	q, _ := strconv.Atoi(m[2])
	return Quarter{y, q}, nil
}

func (q Quarter) String() string { return fmt.Sprintf("%dQ%d", q.Year, q.Q) }

// Start is the quarter's first instant in loc.
func (q Quarter) Start(loc *time.Location) time.Time {
	return time.Date(q.Year, time.Month(3*(q.Q-1)+1), 1, 0, 0, 0, 0, loc)
}

// End is the first instant after the quarter in loc.
func (q Quarter) End(loc *time.Location) time.Time { return q.Start(loc).AddDate(0, 3, 0) }

// Prev is the quarter before.
func (q Quarter) Prev() Quarter {
	if q.Q == 1 {
		return Quarter{q.Year - 1, 4}
	}
	return Quarter{q.Year, q.Q - 1}
}

// Contains tells whether a day (YYYY-MM-DD) falls in the quarter.
func (q Quarter) Contains(day string) bool {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return false
	}
	return t.Year() == q.Year && (int(t.Month())-1)/3+1 == q.Q
}
