package bench

import (
	"context"
	"fmt"
	"io"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/workflow"
)

// Rechecks times the re-checks over the generated city: the weekly draw
// of revisits for each of the last weeks (each a first and only draw, as
// the server makes it on a Monday), the inspectors' list of pending
// revisits, and a report with a location with and without the
// recurrence check (the check's cost at intake). The draws and reports
// write to the database.
func Rechecks(ctx context.Context, db *store.DB, flow *workflow.Service, now time.Time, weeks, reps int, out io.Writer) error {
	if err := flow.SaveRecheckSettings(ctx, org.Actor{Name: "bench", Role: org.RoleAdmin, Scope: org.ScopeCity}, workflow.DefaultRecheckSettings()); err != nil {
		return err
	}
	// The demo city loaded before the generated cases drew its own weeks;
	// the draws measured here are of the generated closures.
	if _, err := db.Exec(ctx, `DELETE FROM revisits`); err != nil {
		return err
	}
	if _, err := db.Exec(ctx, `DELETE FROM revisit_draws`); err != nil {
		return err
	}
	monday := workflow.WeekMonday(now, flow.Location)
	var draws []time.Duration
	total, drawn := 0, 0
	for w := weeks - 1; w >= 0; w-- {
		t := time.Now()
		d, err := flow.DrawRevisits(ctx, org.System, monday.AddDate(0, 0, -7*w))
		if err != nil {
			return fmt.Errorf("draw: %w", err)
		}
		draws = append(draws, time.Since(t))
		total, drawn = total+d.Candidates, drawn+d.Drawn
	}
	l := spread("draw", draws)
	fmt.Fprintf(out, "\n| revisits | runs | first ms | p50 ms | max ms |\n|---|---|---|---|---|\n")
	fmt.Fprintf(out, "| weekly draw (%d weeks: %d closures, %d drawn) | %d | %s | %s | %s |\n", weeks, total, drawn, l.N, ms(l.First), ms(l.P50), ms(l.Max))
	inspector := org.Actor{Name: "bench", Role: org.RoleInspector, Scope: org.ScopeCity}
	var pending int
	l, err := measure("list", reps, func() error {
		items, err := flow.Revisits(ctx, inspector, workflow.RevisitFilter{State: workflow.RevisitPending})
		pending = len(items)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "| pending revisits, city-wide inspector (%d shown) | %d | %s | %s | %s |\n", pending, l.N, ms(l.First), ms(l.P50), ms(l.Max))

	// A report at the spot of a recently closed case.
	var cat, region int64
	var lat, lon float64
	err = db.Reader().QueryRow(ctx, `SELECT category_id, region_id, lat, lon FROM cases
		WHERE state = 'closed' AND lat IS NOT NULL AND region_id IS NOT NULL AND closed_at >= ? ORDER BY closed_at DESC LIMIT 1`,
		store.Ms(now.AddDate(0, 0, -20))).Scan(&cat, &region, &lat, &lon)
	if err != nil {
		return fmt.Errorf("a closed case with a place: %w", err)
	}
	acceptor := org.Actor{Name: "bench", Role: org.RoleAcceptor, Scope: org.ScopeCity}
	report := func() error {
		la, lo := lat+0.0001, lon
		_, err := flow.Report(ctx, acceptor, workflow.NewCase{Source: workflow.SourceHotline, CategoryID: cat, RegionID: region, Description: "bench: 同一地点再次反映", Lat: &la, Lon: &lo})
		return err
	}
	fmt.Fprintf(out, "\n| report with a location | runs | first ms | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|---|\n")
	for _, on := range []bool{false, true} {
		st := workflow.DefaultRecheckSettings()
		name := "recurrence check on (30 days)"
		if !on {
			st.RecurrenceDays, name = 0, "recurrence check off"
		}
		if err := flow.SaveRecheckSettings(ctx, org.Actor{Name: "bench", Role: org.RoleAdmin, Scope: org.ScopeCity}, st); err != nil {
			return err
		}
		l, err := measure(name, reps, report)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "| %s | %d | %s | %s | %s | %s |\n", name, l.N, ms(l.First), ms(l.P50), ms(l.P95), ms(l.Max))
	}
	var linked int
	if err := db.Reader().QueryRow(ctx, `SELECT count(*) FROM case_recurrences`).Scan(&linked); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n%d reports linked as recurrences.\n", linked)
	return nil
}
