package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/workflow"
)

// Search times the case list's search box on the first page of results
// (with its capped count), as an acceptor and as the busiest unit's
// handler types them: each run draws a new query of its kind, and the
// very first run of each kind counts like any other.
func Search(ctx context.Context, db *store.DB, flow *workflow.Service, reps int, out io.Writer) error {
	var busiest, maxID int64
	if err := db.Reader().QueryRow(ctx, `SELECT lead_unit_id FROM cases WHERE lead_unit_id IS NOT NULL GROUP BY lead_unit_id ORDER BY count(*) DESC LIMIT 1`).Scan(&busiest); err != nil {
		return fmt.Errorf("busiest unit: %w", err)
	}
	if err := db.Reader().QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM cases`).Scan(&maxID); err != nil {
		return err
	}
	// Numbers and phones of cases drawn at random, for the kinds that
	// look a case up.
	var nos, phones []string
	r := rand.New(rand.NewPCG(42, 7))
	for len(nos) < 200 {
		var no, phone string
		err := db.Reader().QueryRow(ctx, `SELECT no, reporter_phone FROM cases WHERE id >= ? ORDER BY id LIMIT 1`, 1+r.Int64N(maxID)).Scan(&no, &phone)
		if err != nil {
			return fmt.Errorf("sample cases: %w", err)
		}
		nos = append(nos, no)
		if phone != "" {
			phones = append(phones, phone)
		}
	}
	if len(phones) == 0 {
		phones = []string{"13900000000"}
	}
	acceptor := org.Actor{Name: "bench", Role: org.RoleAcceptor, Scope: org.ScopeCity}
	handler := org.Actor{Name: "bench", Role: org.RoleHandler, UnitID: busiest, Scope: org.ScopeUnit}
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	kinds := []struct {
		name  string
		actor org.Actor
		query func() string
	}{
		{"two characters (井盖, 占道 …)", acceptor, func() string { return string([]rune(pick(genProblems))[:2]) }},
		{"one character (溢, 损 …)", acceptor, func() string { p := []rune(pick(genProblems)); return string(p[r.IntN(len(p))]) }},
		{"a problem (垃圾桶满溢 …)", acceptor, func() string { return pick(genProblems) }},
		{"a road (人民中路 …)", acceptor, func() string { return pick(genRoads) }},
		{"road and number (北京路120号)", acceptor, func() string { return pick(genRoads) + strconv.Itoa(1+r.IntN(400)) + "号" }},
		{"problem and road, two words", acceptor, func() string { return pick(genProblems) + " " + pick(genRoads) }},
		{"last 6 digits of a case number", acceptor, func() string { n := pick(nos); return n[len(n)-6:] }},
		{"whole case number", acceptor, func() string { return pick(nos) }},
		{"reporter's phone (office)", acceptor, func() string { return pick(phones) }},
		{"nothing matches", acceptor, func() string { return "火星基地" + strconv.Itoa(r.IntN(100)) }},
		{"a problem, as the busiest unit's handler", handler, func() string { return pick(genProblems) }},
	}
	fmt.Fprintf(out, "\n| search (first page, capped count) | runs | first ms | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|\n")
	var all []time.Duration
	for _, k := range kinds {
		ds, err := timeRuns(reps, func() error {
			q := k.query()
			if _, err := flow.List(ctx, k.actor, workflow.Filter{Q: q}); err != nil {
				return fmt.Errorf("search %q: %w", q, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		all = append(all, ds...)
		l := spread(k.name, ds)
		fmt.Fprintf(out, "| %s | %d | %s | %s | %s | %s | %s |\n", l.Name, l.N, ms(l.First), ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Max))
	}
	l := spread("all", all)
	fmt.Fprintf(out, "| **all kinds together** | %d | | %s | **%s** | %s | %s |\n", l.N, ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Max))
	return nil
}
