package workflow

import (
	"context"
	"strings"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// PublicQuery selects cases for public readers (Open311 GET requests):
// never staff-only categories.
type PublicQuery struct {
	Nos           []string
	CategoryCodes []string
	Open, Closed  bool // both false: either
	From, To      time.Time
	UpdatedAfter  time.Time
	UpdatedBefore time.Time
	Offset, Limit int
}

// openStateList spells the open states for SQL.
var openStateList = stateList([]State{Reported, Accepted, Dispatched, InProgress, Postponed, Verifying})

// PublicCases lists cases newest first. The reporter is never loaded.
func (s *Service) PublicCases(ctx context.Context, q PublicQuery) ([]*Case, error) {
	var where []string
	var args []any
	where = append(where, "cat.staff_only = FALSE")
	if len(q.Nos) > 0 {
		where = append(where, "c.no IN "+store.In(len(q.Nos)))
		for _, n := range q.Nos {
			args = append(args, n)
		}
	}
	if len(q.CategoryCodes) > 0 {
		where = append(where, "cat.code IN "+store.In(len(q.CategoryCodes)))
		for _, c := range q.CategoryCodes {
			args = append(args, c)
		}
	}
	switch {
	case q.Open && !q.Closed:
		where = append(where, "c.state IN ("+openStateList+")")
	case q.Closed && !q.Open:
		where = append(where, "c.state NOT IN ("+openStateList+")")
	}
	for _, b := range []struct {
		col, op string
		t       time.Time
	}{{"c.reported_at", ">=", q.From}, {"c.reported_at", "<=", q.To}, {"c.updated_at", ">=", q.UpdatedAfter}, {"c.updated_at", "<=", q.UpdatedBefore}} {
		if !b.t.IsZero() {
			where = append(where, b.col+" "+b.op+" ?")
			args = append(args, store.Ms(b.t))
		}
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 1000
	}
	// read as nobody's: no reporter reaches the public
	return s.readCases(ctx, s.DB.Reader(), org.Actor{}, `SELECT `+caseCols+caseFrom+` WHERE `+strings.Join(where, " AND ")+` ORDER BY c.id DESC LIMIT ? OFFSET ?`,
		append(args, q.Limit, q.Offset))
}

// PublicCase returns one case by number for public readers, with its
// photos; nil when there is none (or its category is staff-only).
func (s *Service) PublicCase(ctx context.Context, no string) (*Case, error) {
	cs, err := s.PublicCases(ctx, PublicQuery{Nos: []string{no}, Limit: 1})
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	c := cs[0]
	c.Photos, err = s.casePhotos(ctx, s.DB.Reader(), c.ID)
	return c, err
}

// CaseAttributes returns the attribute answers filed with a case.
func (s *Service) CaseAttributes(ctx context.Context, id int64) (string, error) {
	var a string
	err := s.DB.Reader().QueryRow(ctx, `SELECT attributes FROM cases WHERE id = ?`, id).Scan(&a)
	return a, err
}

// PublicTimeline is the trail of a case as state changes only: no names,
// no opinions (they may carry personal data).
func (s *Service) PublicTimeline(ctx context.Context, id int64) ([]PublicStep, error) {
	evs, err := s.Timeline(ctx, org.System, id)
	if err != nil {
		return nil, err
	}
	var out []PublicStep
	for _, e := range evs {
		if e.ToState == "" || e.ToState == e.FromState {
			continue
		}
		out = append(out, PublicStep{At: e.At, Action: Action(e.Action), To: State(e.ToState)})
	}
	return out, nil
}

// PublicStep is one change of state.
type PublicStep struct {
	At     time.Time
	Action Action
	To     State
}

// PhotosOf lists the photos of several cases in one query, by case.
func (s *Service) PhotosOf(ctx context.Context, ids []int64) (map[int64][]Photo, error) {
	out := map[int64][]Photo{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.DB.Reader().Query(ctx, `SELECT case_id, `+photoCols+` FROM photos WHERE case_id IN (`+idList(ids)+`) ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var caseID int64
		p, err := scanPhoto(leading{rows, &caseID})
		if err != nil {
			return nil, err
		}
		out[caseID] = append(out[caseID], p)
	}
	return out, rows.Err()
}

// leading scans one extra column before the ones a scan function expects.
type leading struct {
	r     interface{ Scan(...any) error }
	first any
}

func (l leading) Scan(dest ...any) error { return l.r.Scan(append([]any{l.first}, dest...)...) }

// AttributedCategories returns the ids of the categories that ask
// attributes (Open311 "metadata").
func (s *Service) AttributedCategories(ctx context.Context) (map[int64]bool, error) {
	ids, err := store.Int64s(ctx, s.DB.Reader(), `SELECT DISTINCT category_id FROM category_attributes`)
	out := map[int64]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}
