package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/report"
)

// Leader times the leader's screen (report.Leader plus its JSON, as
// GET /api/v1/leader sends it) for a city-wide leader, reps times, with
// a new service so that the first read meets empty caches as after a
// restart. The first read is in the spread; it is also printed alone.
func Leader(ctx context.Context, newService func() *report.Service, reps int, out io.Writer) error {
	rs := newService()
	leader := org.Actor{Name: "bench", Role: org.RoleLeader, Scope: org.ScopeCity}
	ds := make([]time.Duration, reps)
	var size int
	for i := range ds {
		t := time.Now()
		v, err := rs.Leader(ctx, leader)
		if err != nil {
			return fmt.Errorf("leader screen: %w", err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		ds[i], size = time.Since(t), len(b)
	}
	first := ds[0]
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	q := func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
	fmt.Fprintf(out, "\n| leader's screen (%d KB of JSON) | runs | first ms | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|\n", size>>10)
	fmt.Fprintf(out, "| city-wide, first read after a start included | %d | %s | %s | %s | %s | %s |\n", reps, ms(first), ms(q(0.5)), ms(q(0.95)), ms(q(0.99)), ms(ds[len(ds)-1]))
	return nil
}

// Bulletin times drafting the quarter's bulletin (report.Draft: the
// units' assessment over the quarter's dispatches and the quarter
// before, the index over the quarter's rounds and the one before's),
// reps times, each on a new service.
func Bulletin(ctx context.Context, newService func() *report.Service, quarter string, reps int, out io.Writer) error {
	ds := make([]time.Duration, reps)
	var rounds, units int
	for i := range ds {
		rs := newService()
		t := time.Now()
		b, err := rs.Draft(ctx, org.System, quarter)
		if err != nil {
			return fmt.Errorf("bulletin: %w", err)
		}
		ds[i] = time.Since(t)
		rounds, units = len(b.Inputs.Rounds)+len(b.Inputs.PreviousRounds), len(b.Doc.Units)
	}
	first := ds[0]
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	fmt.Fprintf(out, "\n| quarterly bulletin %s (%d rounds read, %d units) | runs | first ms | p50 ms | max ms |\n|---|---|---|---|---|\n", quarter, rounds, units)
	fmt.Fprintf(out, "| draft | %d | %s | %s | %s |\n", reps, ms(first), ms(ds[len(ds)/2]), ms(ds[len(ds)-1]))
	return nil
}

// Notices times composing the week's supervision notices for every unit
// (report.WeeklyDrafts, before any of the week's notices went out) and
// encoding them as `report weekly --format json` does, reps times, each
// on a new service; the first run is what an office meets on the day.
func Notices(ctx context.Context, newService func() *report.Service, week string, reps int, out io.Writer) error {
	ds := make([]time.Duration, reps)
	var units, listed, size int
	for i := range ds {
		rs := newService()
		t := time.Now()
		docs, err := rs.WeeklyDrafts(ctx, org.System, week, "")
		if err != nil {
			return fmt.Errorf("weekly notices: %w", err)
		}
		cw := &countWriter{}
		if err := json.NewEncoder(cw).Encode(docs); err != nil {
			return err
		}
		ds[i], size, units, listed = time.Since(t), cw.n, len(docs), 0
		for _, d := range docs {
			listed += len(d.Overdue) + len(d.DueSoon) + len(d.Listed) + len(d.Reworks) + len(d.ExtensionsPending)
		}
	}
	first := ds[0]
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	fmt.Fprintf(out, "\n| weekly notices %s (%d units, %d case entries, %d MB of JSON) | runs | first ms | p50 ms | max ms |\n|---|---|---|---|---|\n", week, units, listed, size>>20)
	fmt.Fprintf(out, "| composed and encoded | %d | %s | %s | %s |\n", reps, ms(first), ms(ds[len(ds)/2]), ms(ds[len(ds)-1]))
	return nil
}

// countWriter counts what is written to it.
type countWriter struct{ n int }

func (w *countWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// Exports times the case list's export of every case the console user
// sees, as CSV and as XLSX, over the server at base (reps downloads of
// each, the first one first), and prints rows per second: rows is how
// many cases the user sees.
func Exports(ctx context.Context, base, username, password string, rows, reps int, out io.Writer) error {
	c, err := SignIn(ctx, base, username, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n| case export (%d rows, as %s) | runs | first s | first rows/s | best s | best rows/s |\n|---|---|---|---|---|---|\n", rows, username)
	for _, format := range []string{"csv", "xlsx"} {
		ds, err := c.Time(ctx, "/cases/export?format="+format, reps)
		if err != nil {
			return err
		}
		first := ds[0]
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		rate := func(d time.Duration) string { return fmt.Sprintf("%.0f", float64(rows)/d.Seconds()) }
		fmt.Fprintf(out, "| %s | %d | %.2f | %s | %.2f | %s |\n", format, reps, first.Seconds(), rate(first), ds[0].Seconds(), rate(ds[0]))
	}
	return nil
}
