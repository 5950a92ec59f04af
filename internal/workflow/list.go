package workflow

import (
	"context"
	"fmt"
	"strings"
	"time"

	"chuangwen/internal/org"
)

// Queue names a work queue (工作队列).
type Queue string

const (
	QueueToAccept   Queue = "to_accept"   // 待受理
	QueueToDispatch Queue = "to_dispatch" // 待派遣
	QueueToHandle   Queue = "to_handle"   // 待处置
	QueueToVerify   Queue = "to_verify"   // 待核查
	QueueOverdue    Queue = "overdue"     // 已超期
	QueueExtension  Queue = "extension"   // 延期待审
	QueueSupervised Queue = "supervised"  // 挂牌督办
)

// QueuesFor lists the queues a role works from, in display order.
func QueuesFor(role org.Role) []Queue {
	switch role {
	case org.RoleAcceptor:
		return []Queue{QueueToAccept, QueueToDispatch, QueueExtension, QueueToVerify, QueueOverdue, QueueSupervised}
	case org.RoleHandler:
		return []Queue{QueueToHandle, QueueOverdue}
	case org.RoleInspector, org.RoleGrid:
		return []Queue{QueueToVerify, QueueOverdue}
	case org.RoleLeader, org.RoleAdmin:
		return []Queue{QueueSupervised, QueueOverdue, QueueToVerify}
	}
	return nil
}

// Filter selects cases for a list.
type Filter struct {
	Queue      Queue
	States     []State
	CategoryID int64
	UnitID     int64 // lead unit
	RegionID   int64 // the region and everything under it
	Warning    int   // 1 yellow or worse, 2 red
	Supervised bool
	From, To   time.Time // reported_at in [From, To)
	No         string    // case number (exact)
	// Before is the paging cursor: only cases with id < Before.
	Before int64
	Limit  int
}

// Page is one page of a case list.
type Page struct {
	Cases []*Case `json:"cases"`
	// Next is the cursor for the following page (0 at the end).
	Next int64 `json:"next,omitempty"`
	// Total counts matching cases up to CountCap; TotalCapped says the
	// real number is larger. Counting a million rows exactly for every
	// page costs more than the page itself.
	Total       int  `json:"total"`
	TotalCapped bool `json:"total_capped,omitempty"`
}

// CountCap bounds the count shown beside a list.
const CountCap = 10000

func (f Filter) where(actor org.Actor, regionPath string) (string, []any) {
	cond, args := actor.CaseScope()
	conds := []string{cond}
	add := func(c string, a ...any) { conds = append(conds, c); args = append(args, a...) }
	states := f.States
	switch f.Queue {
	case QueueToAccept:
		states = []State{Reported}
	case QueueToDispatch:
		states = []State{Accepted}
	case QueueToHandle:
		states = []State{Dispatched, InProgress}
	case QueueToVerify:
		states = []State{Verifying}
	case QueueOverdue:
		states = []State{Dispatched, InProgress}
		add("c.overdue = TRUE")
	case QueueExtension:
		states = []State{InProgress}
		add("c.ext_pending = TRUE")
	case QueueSupervised:
		add("c.supervised = TRUE")
	}
	if len(states) == 1 {
		add("c.state = ?", string(states[0]))
	} else if len(states) > 1 {
		ph := make([]string, len(states))
		for i, s := range states {
			ph[i] = "?"
			args = append(args, string(s))
		}
		conds = append(conds, "c.state IN ("+strings.Join(ph, ",")+")")
	}
	if f.CategoryID != 0 {
		add("(c.category_id = ? OR c.category_id IN (SELECT id FROM categories WHERE parent_id = ?))", f.CategoryID, f.CategoryID)
	}
	if f.UnitID != 0 {
		add("c.lead_unit_id = ?", f.UnitID)
	}
	if regionPath != "" {
		add("c.region_id IN (SELECT id FROM regions WHERE path LIKE ?)", regionPath+"%")
	}
	if f.Warning > 0 {
		add("c.warning >= ?", f.Warning)
	}
	if f.Supervised && f.Queue != QueueSupervised {
		add("c.supervised = TRUE")
	}
	if !f.From.IsZero() {
		add("c.reported_at >= ?", f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		add("c.reported_at < ?", f.To.UnixMilli())
	}
	if f.No != "" {
		add("c.no = ?", f.No)
	}
	return strings.Join(conds, " AND "), args
}

// List returns one page of the cases actor may see that match f, newest
// first.
func (s *Service) List(ctx context.Context, actor org.Actor, f Filter) (Page, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var regionPath string
	if f.RegionID != 0 {
		if err := s.DB.Reader().QueryRow(ctx, `SELECT path FROM regions WHERE id = ?`, f.RegionID).Scan(&regionPath); err != nil {
			return Page{}, nil // an unknown region matches nothing
		}
	}
	where, args := f.where(actor, regionPath)
	q := s.DB.Reader()
	var page Page
	if err := q.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM cases c WHERE `+where+` LIMIT ?) t`, append(args, CountCap+1)...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count cases: %w", err)
	}
	if page.Total > CountCap {
		page.Total, page.TotalCapped = CountCap, true
	}
	pageWhere, pageArgs := where, args
	if f.Before > 0 {
		pageWhere += " AND c.id < ?"
		pageArgs = append(append([]any{}, args...), f.Before)
	}
	rows, err := q.Query(ctx, `SELECT `+caseCols+caseFrom+` WHERE `+pageWhere+` ORDER BY c.id DESC LIMIT ?`, append(pageArgs, f.Limit+1)...)
	if err != nil {
		return page, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return page, err
		}
		hideReporter(actor, c)
		page.Cases = append(page.Cases, c)
	}
	if len(page.Cases) > f.Limit {
		page.Cases = page.Cases[:f.Limit]
		page.Next = page.Cases[f.Limit-1].ID
	}
	return page, rows.Err()
}

// Counts returns, for each of the actor's queues, how many cases wait in
// it (the dashboard counters).
func (s *Service) Counts(ctx context.Context, actor org.Actor) (map[Queue]int, error) {
	out := map[Queue]int{}
	for _, q := range append(QueuesFor(actor.Role), QueueOverdue) {
		if _, done := out[q]; done {
			continue
		}
		where, args := Filter{Queue: q}.where(actor, "")
		var n int
		if err := s.DB.Reader().QueryRow(ctx, `SELECT count(*) FROM cases c WHERE `+where, args...).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", q, err)
		}
		out[q] = n
	}
	return out, nil
}

// StateCounts counts open cases by state in actor's scope, and the
// overdue and yellow-warned ones, for metrics and the dashboard.
func (s *Service) StateCounts(ctx context.Context, actor org.Actor) (map[string]int, error) {
	cond, args := actor.CaseScope()
	rows, err := s.DB.Reader().Query(ctx, `SELECT c.state, count(*) FROM cases c WHERE `+cond+` GROUP BY c.state`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}
