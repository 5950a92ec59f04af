package store

import (
	"fmt"
	"strings"
	"time"
)

// The few places where the two engines' SQL differs, each written once
// here so that domain code stays in the common subset.

// InSubquery returns a condition that col is among the values sub selects.
// PostgreSQL gets "= ANY(ARRAY(sub))": evaluated once, it lets the planner
// combine index lookups (BitmapOr) where "IN (sub)" would filter row by
// row; SQLite plans "IN (sub)" well.
func (d Dialect) InSubquery(col, sub string) string {
	if d == Postgres {
		return col + " = ANY(ARRAY(" + sub + "))"
	}
	return col + " IN (" + sub + ")"
}

// StringAgg aggregates expr's values of a group into one string joined by
// sep (a plain literal: no quotes).
func (d Dialect) StringAgg(expr, sep string) string {
	sep = strings.ReplaceAll(sep, "'", "''")
	if d == Postgres {
		return "string_agg(CAST(" + expr + " AS TEXT), '" + sep + "')"
	}
	return "group_concat(" + expr + ", '" + sep + "')"
}

// SkipLocked is the locking clause of a job-queue claim: PostgreSQL skips
// rows another replica has leased; SQLite's single writer needs none.
func (d Dialect) SkipLocked() string {
	if d == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// Bucket is a calendar period that reports group times by.
type Bucket string

const (
	Day     Bucket = "day"     // 2026-12-05
	Week    Bucket = "week"    // the Monday that starts it: 2026-11-30
	Month   Bucket = "month"   // 2026-12
	Quarter Bucket = "quarter" // 2026-Q4
)

// BucketLabel is the label Bucket gives the instant t in zone loc, the
// same string the SQL expression of TimeBucket yields.
func BucketLabel(b Bucket, t time.Time, loc *time.Location) string {
	t = t.In(loc)
	switch b {
	case Week:
		wd := (int(t.Weekday()) + 6) % 7 // Monday 0
		return t.AddDate(0, 0, -wd).Format("2006-01-02")
	case Month:
		return t.Format("2006-01")
	case Quarter:
		return fmt.Sprintf("%d-Q%d", t.Year(), (int(t.Month())+2)/3)
	}
	return t.Format("2006-01-02")
}

// TimeBucket returns an SQL expression labelling the time column col
// (unix milliseconds) with its bucket in the city's zone loc, as
// BucketLabel does. Zones are applied as their offset at the present
// moment: the Chinese zone keeps one offset all year, and SQLite knows no
// zone rules; a zone with daylight saving would label the hour around a
// change by the current offset.
func (d Dialect) TimeBucket(b Bucket, col string, loc *time.Location) string {
	_, off := time.Now().In(loc).Zone()
	local := fmt.Sprintf("((%s) + %d)", col, int64(off)*1000)
	if d == Postgres {
		ts := "(to_timestamp(" + local + " / 1000.0) AT TIME ZONE 'UTC')"
		switch b {
		case Week:
			return "to_char(date_trunc('week', " + ts + "), 'YYYY-MM-DD')"
		case Month:
			return "to_char(" + ts + ", 'YYYY-MM')"
		case Quarter:
			return "to_char(" + ts + ", 'YYYY-\"Q\"Q')"
		}
		return "to_char(" + ts + ", 'YYYY-MM-DD')"
	}
	secs := local + " / 1000, 'unixepoch'"
	switch b {
	case Week:
		return "date(" + secs + ", '-6 days', 'weekday 1')"
	case Month:
		return "strftime('%Y-%m', " + secs + ")"
	case Quarter:
		return "(strftime('%Y', " + secs + ") || '-Q' || ((CAST(strftime('%m', " + secs + ") AS INTEGER) + 2) / 3))"
	}
	return "date(" + secs + ")"
}

// The text search index (case_search) holds, for each case, a text of
// terms separated by spaces that the engine's own word splitter reads
// back one term at a time: SQLite's FTS5 (unicode61) and PostgreSQL's
// tsvector ('simple' configuration). A query is written in the engine's
// language by SearchQuery.

// SearchInsert is the statement that indexes n cases' terms: its
// arguments are each case's id and terms in turn. A case already indexed
// keeps its terms.
func (d Dialect) SearchInsert(n int) string {
	tuple, head, tail := "(?, ?)", "INSERT INTO case_search (rowid, terms) VALUES ", ""
	if d == Postgres {
		tuple, head, tail = "(?, to_tsvector('simple', ?))", "INSERT INTO case_search (case_id, terms) VALUES ", " ON CONFLICT (case_id) DO NOTHING"
	}
	return head + strings.TrimSuffix(strings.Repeat(tuple+",", n), ",") + tail
}

// SearchQuery writes a search in the engine's query language: every
// group must match; a group is a phrase of terms that stand next to each
// other, or (prefix) one term that begins a term of the index. Terms hold
// letters and digits only, so they need no escaping.
func (d Dialect) SearchQuery(groups [][]string, prefix []bool) string {
	parts := make([]string, len(groups))
	for i, g := range groups {
		if d == Postgres {
			p := strings.Join(g, " <-> ")
			if prefix[i] {
				p += ":*"
			}
			parts[i] = "(" + p + ")"
			continue
		}
		p := `"` + strings.Join(g, " ") + `"`
		if prefix[i] {
			p += "*"
		}
		parts[i] = p
	}
	if d == Postgres {
		return strings.Join(parts, " & ")
	}
	return strings.Join(parts, " AND ")
}

// ForUpdate is the locking clause of a read that a transaction will
// write back: PostgreSQL locks the row; SQLite's single writer needs none.
func (d Dialect) ForUpdate() string {
	if d == Postgres {
		return " FOR UPDATE"
	}
	return ""
}
