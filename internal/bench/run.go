package bench

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"slices"
	"sync"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
	"chuangwen/internal/workflow"
)

// Latency is the spread of one timed operation. First is the first run,
// which counts like any other: it is what a user meets after a start, a
// restart or a change of the data (no untimed warm-up run).
type Latency struct {
	Name                      string
	N                         int
	First, P50, P95, P99, Max time.Duration
}

func measure(name string, n int, fn func() error) (Latency, error) {
	ds, err := timeRuns(n, fn)
	if err != nil {
		return Latency{}, fmt.Errorf("%s: %w", name, err)
	}
	return spread(name, ds), nil
}

// timeRuns times n runs of fn, in order.
func timeRuns(n int, fn func() error) ([]time.Duration, error) {
	ds := make([]time.Duration, n)
	for i := range ds {
		t := time.Now()
		if err := fn(); err != nil {
			return nil, err
		}
		ds[i] = time.Since(t)
	}
	return ds, nil
}

// spread summarises timed runs (in the order they ran).
func spread(name string, runs []time.Duration) Latency {
	ds := slices.Clone(runs)
	slices.Sort(ds)
	q := func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
	return Latency{Name: name, N: len(ds), First: runs[0], P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: ds[len(ds)-1]}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

// Reads times the case lists, work queues and dashboard counters each
// role opens, and the quarterly performance figures.
func Reads(ctx context.Context, db *store.DB, flow *workflow.Service, now time.Time, reps int, out io.Writer) error {
	var busiest int64
	if err := db.Reader().QueryRow(ctx, `SELECT lead_unit_id FROM cases WHERE lead_unit_id IS NOT NULL GROUP BY lead_unit_id ORDER BY count(*) DESC LIMIT 1`).Scan(&busiest); err != nil {
		return fmt.Errorf("busiest unit: %w", err)
	}
	var district, category int64
	if err := db.Reader().QueryRow(ctx, `SELECT id FROM regions WHERE level = 'district' ORDER BY id LIMIT 1`).Scan(&district); err != nil {
		return err
	}
	if err := db.Reader().QueryRow(ctx, `SELECT id FROM categories WHERE parent_id IS NULL ORDER BY id LIMIT 1`).Scan(&category); err != nil {
		return err
	}
	acceptor := org.Actor{Name: "bench", Role: org.RoleAcceptor, Scope: org.ScopeCity}
	handler := org.Actor{Name: "bench", Role: org.RoleHandler, UnitID: busiest, Scope: org.ScopeUnit}
	inspector := org.Actor{Name: "bench", Role: org.RoleInspector, Scope: org.ScopeCity}
	monthAgo := now.AddDate(0, -1, 0)
	list := func(a org.Actor, f workflow.Filter) func() error {
		return func() error { _, err := flow.List(ctx, a, f); return err }
	}
	scenarios := []struct {
		name string
		fn   func() error
	}{
		{"case list, city, no filter", list(acceptor, workflow.Filter{})},
		{"case list: state + category + district + last 30 days", list(acceptor, workflow.Filter{States: []workflow.State{workflow.Closed}, CategoryID: category, RegionID: district, From: monthAgo})},
		{"case list: red warnings", list(acceptor, workflow.Filter{Warning: 2})},
		{"case list: one unit's cases (handler scope)", list(handler, workflow.Filter{})},
		{"queue 待受理 (acceptor)", list(acceptor, workflow.Filter{Queue: workflow.QueueToAccept})},
		{"queue 待派遣 (acceptor)", list(acceptor, workflow.Filter{Queue: workflow.QueueToDispatch})},
		{"queue 待处置 (handler of busiest unit)", list(handler, workflow.Filter{Queue: workflow.QueueToHandle})},
		{"queue 待处置 by deadline, as the console opens it (handler of busiest unit)", list(handler, workflow.Filter{Queue: workflow.QueueToHandle, Sort: workflow.SortDeadline})},
		{"queue 待核查 (inspector)", list(inspector, workflow.Filter{Queue: workflow.QueueToVerify})},
		{"queue 已超期 (acceptor)", list(acceptor, workflow.Filter{Queue: workflow.QueueOverdue})},
		{"dashboard counters (acceptor: 6 queues)", func() error { _, err := flow.Counts(ctx, acceptor); return err }},
		{"dashboard counters (handler)", func() error { _, err := flow.Counts(ctx, handler); return err }},
	}
	fmt.Fprintf(out, "\n| read | runs | first ms | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|\n")
	for _, sc := range scenarios {
		l, err := measure(sc.name, reps, sc.fn)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "| %s | %d | %s | %s | %s | %s | %s |\n", l.Name, l.N, ms(l.First), ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Max))
	}
	// a quarter's worth of days ending now holds most generated cases
	period := workflow.Period{From: now.AddDate(0, 0, -90), To: now}
	var dispatches int
	if err := db.Reader().QueryRow(ctx, `SELECT count(*) FROM dispatches WHERE dispatched_at >= ? AND dispatched_at < ?`, store.Ms(period.From), store.Ms(period.To)).Scan(&dispatches); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n| performance figures (90 days, %d dispatches) | runs | first ms | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|---|\n", dispatches)
	for _, sc := range []struct {
		name string
		fn   func() error
	}{
		{"per unit", func() error { _, err := flow.UnitPerformance(ctx, period); return err }},
		{"per district (with acceptance rate)", func() error { _, err := flow.RegionPerformance(ctx, period, "district"); return err }},
	} {
		l, err := measure(sc.name, max(3, reps/20), sc.fn)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "| %s | %d | %s | %s | %s | %s |\n", l.Name, l.N, ms(l.First), ms(l.P50), ms(l.P95), ms(l.Max))
	}
	return nil
}

// Transitions drives accepted cases through dispatch, acknowledge,
// feedback and verify with the real service (trail, dispatches, audit chain in
// each transaction), with workers goroutines, and compares the rate with
// single-row durable inserts into a bare table on the same database.
func Transitions(ctx context.Context, db *store.DB, flow *workflow.Service, cases, workers int, out io.Writer) error {
	rows, err := db.Reader().Query(ctx, `SELECT id FROM cases WHERE state = 'accepted' ORDER BY id LIMIT ?`, cases)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) < workers {
		return fmt.Errorf("transitions: only %d accepted cases to work on", len(ids))
	}
	var unit int64
	if err := db.Reader().QueryRow(ctx, `SELECT id FROM units ORDER BY id LIMIT 1`).Scan(&unit); err != nil {
		return err
	}
	pf, err := flow.Photos.Save(bytes.NewReader(tinyJPEG()))
	if err != nil {
		return err
	}
	acceptor := org.Actor{Name: "bench", Role: org.RoleAcceptor, Scope: org.ScopeCity}
	handler := org.Actor{Name: "bench", Role: org.RoleHandler, UnitID: unit, Scope: org.ScopeUnit}
	inspector := org.Actor{Name: "bench", Role: org.RoleInspector, Scope: org.ScopeCity}
	steps := []struct {
		actor org.Actor
		in    workflow.ActInput
	}{
		{acceptor, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: unit}},
		{handler, workflow.ActInput{Action: workflow.Acknowledge}},
		{handler, workflow.ActInput{Action: workflow.Feedback, Opinion: "已整改", Photos: []photo.File{pf}}},
		{inspector, workflow.ActInput{Action: workflow.VerifyPass}},
	}
	start := time.Now()
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(ids); i += workers {
				for _, st := range steps {
					if _, err := flow.Act(ctx, st.actor, ids[i], st.in); err != nil {
						errc <- fmt.Errorf("case %d %s: %w", ids[i], st.in.Action, err)
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	n := len(ids) * len(steps)
	trRate := float64(n) / time.Since(start).Seconds()

	if _, err := db.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_raw (id BIGINT PRIMARY KEY, at BIGINT NOT NULL, payload TEXT NOT NULL)`); err != nil {
		return err
	}
	defer db.Exec(ctx, `DROP TABLE bench_raw`)
	start = time.Now()
	var mu sync.Mutex
	next := int64(0)
	wg = sync.WaitGroup{}
	errc = make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				next++
				id := next
				mu.Unlock()
				if id > int64(n) {
					return
				}
				err := db.WithTx(ctx, func(tx *store.Tx) error {
					_, err := tx.Exec(ctx, `INSERT INTO bench_raw (id, at, payload) VALUES (?, ?, ?)`, id, time.Now().UnixMilli(), "payload of a comparable size to a trail event")
					return err
				})
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	rawRate := float64(n) / time.Since(start).Seconds()
	fmt.Fprintf(out, "| %s | %d | %d | %.0f | %.0f | %.2f |\n", db.Dialect, workers, n, trRate, rawRate, trRate/rawRate)
	return nil
}

func tinyJPEG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := 0; x < 64; x++ {
		img.Set(x, x%48, color.RGBA{0, 120, 60, 255})
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, nil)
	return buf.Bytes()
}

// Durability compares single-row commits per second with the product's
// durable setting against a relaxed one on the same database: SQLite
// synchronous=FULL against NORMAL (WAL), PostgreSQL synchronous_commit on
// against off. The difference is what "an acknowledged write survives a
// power cut" costs.
func Durability(ctx context.Context, db *store.DB, n int, out io.Writer) error {
	if _, err := db.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_raw (id BIGINT PRIMARY KEY, at BIGINT NOT NULL, payload TEXT NOT NULL)`); err != nil {
		return err
	}
	defer db.Exec(ctx, `DROP TABLE bench_raw`)
	next := int64(0)
	commits := func(relaxed bool) (float64, error) {
		if db.Dialect == store.SQLite {
			mode := "FULL"
			if relaxed {
				mode = "NORMAL"
			}
			// the writer pool has one connection, so the pragma applies to it
			if _, err := db.Exec(ctx, `PRAGMA synchronous = `+mode); err != nil {
				return 0, err
			}
			defer db.Exec(ctx, `PRAGMA synchronous = FULL`)
		}
		start := time.Now()
		for i := 0; i < n; i++ {
			next++
			err := db.WithTx(ctx, func(tx *store.Tx) error {
				if relaxed && db.Dialect == store.Postgres {
					if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
						return err
					}
				}
				_, err := tx.Exec(ctx, `INSERT INTO bench_raw (id, at, payload) VALUES (?, ?, ?)`, next, time.Now().UnixMilli(), "payload of a comparable size to a trail event")
				return err
			})
			if err != nil {
				return 0, err
			}
		}
		return float64(n) / time.Since(start).Seconds(), nil
	}
	durable, err := commits(false)
	if err != nil {
		return err
	}
	relaxed, err := commits(true)
	if err != nil {
		return err
	}
	label := "synchronous=FULL vs NORMAL"
	if db.Dialect == store.Postgres {
		label = "synchronous_commit on vs off"
	}
	fmt.Fprintf(out, "| %s | %s | %d | %.0f | %.0f | %.2f |\n", db.Dialect, label, n, durable, relaxed, durable/relaxed)
	return nil
}
