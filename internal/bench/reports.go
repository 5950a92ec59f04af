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
