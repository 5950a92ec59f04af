package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"chuangwen/internal/bench"
	"chuangwen/internal/demo"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/volunteer"
)

// cmdBenchVolunteers measures the volunteer service at scale: the
// quarter's statistics over a grown database (200,000 volunteers and
// 2,000,000 service records by default), and a burst of check-ins to one
// activity from volunteers signed in on their phones, over loopback HTTP
// against a real server in this process.
func cmdBenchVolunteers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var volunteers, records, reps, burst, clients int
	var window time.Duration
	args = withDefaultData(args, "bench-volunteers")
	return withApp(ctx, "bench-volunteers", args, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&volunteers, "volunteers", 200_000, "volunteers in the database (generated up to this number)")
		fs.IntVar(&records, "records", 2_000_000, "service records in the database (generated up to this number)")
		fs.IntVar(&reps, "reps", 5, "timed runs of each statistics read")
		fs.IntVar(&burst, "burst", 1000, "volunteers checking in to one activity")
		fs.IntVar(&clients, "clients", 100, "phones sending at the same moment in the retry round")
		fs.DurationVar(&window, "window", time.Minute, "the first check-ins arrive at random moments over this window")
	}, func(a *app) error {
		a.cfg.PublicReportsPerHour, a.cfg.PublicReadsPerMinute, a.cfg.VolunteerWritesPerHour = 0, 0, 0 // the phones come from one address
		now := time.Now()
		vol, err := a.volunteerService()
		if err != nil {
			return err
		}
		regions, err := a.orgs.Regions(ctx)
		if err != nil {
			return err
		}
		if len(regions) == 0 {
			fmt.Fprintln(stdout, "loading the demo city (organisation, grid, volunteer teams)...")
			if _, err := demo.Load(ctx, a.orgs, a.flow, demo.Options{Cases: 100, Now: now, Grid: a.grid, Volunteer: vol}); err != nil {
				return err
			}
		}
		logf := func(f string, args ...any) { fmt.Fprintf(stdout, "  "+f+"\n", args...) }
		if err := bench.GenerateVolunteers(ctx, a.db, volunteers, records, 120, now, a.loc, uint64(now.Unix()), logf); err != nil {
			return err
		}
		var nv, nr int
		if err := a.db.Reader().QueryRow(ctx, `SELECT (SELECT count(*) FROM volunteers), (SELECT count(*) FROM service_records)`).Scan(&nv, &nr); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\n### %s, %d volunteers, %d service records (%s)\n", a.db.Dialect, nv, nr, now.Format("2006-01-02"))
		if err := bench.VolunteerStats(ctx, vol, now, a.loc, reps, stdout); err != nil {
			return err
		}
		return volunteerBurst(ctx, a, vol, burst, clients, window, stdout)
	})
}

// volunteerBurst signs burst volunteers in on their phones, opens an
// activity on now for them, and has them all check in at random moments
// of window, then all again, clients at a time (retries); every one must
// be recorded once.
func volunteerBurst(ctx context.Context, a *app, vol *volunteer.Service, burst, clients int, window time.Duration, stdout io.Writer) error {
	const password = "Bench-Passw0rd!"
	// A cheap hash for the bench's phones: the burst measures check-in,
	// not 1,000 sign-ins at the production cost.
	hash, err := org.PasswordCost{Time: 1, MemoryKiB: 64}.Hash(password)
	if err != nil {
		return err
	}
	type who struct {
		id    int64
		phone string
		team  int64
	}
	people, err := store.Collect(ctx, a.db.Reader(), func(s store.Scanner) (who, error) {
		var w who
		return w, s.Scan(&w.id, &w.phone, &w.team)
	}, `SELECT id, phone, team_id FROM volunteers WHERE status = 'active' AND id_sealed = '-' ORDER BY id DESC LIMIT ?`, burst) // generated ones only
	if err != nil {
		return err
	}
	if len(people) < burst {
		return fmt.Errorf("%d volunteers, want %d", len(people), burst)
	}
	for _, p := range people {
		if _, err := a.db.Exec(ctx, `UPDATE volunteers SET password_hash = ? WHERE id = ?`, hash, p.id); err != nil {
			return err
		}
	}
	admin := org.Actor{Role: org.RoleAdmin, Scope: org.ScopeCity, Name: "bench"}
	const lat, lon = 25.0, 102.75
	act, err := vol.CreateActivity(ctx, admin, volunteer.NewActivity{TeamID: people[0].team, Kind: "persuasion", Title: "压力测试：集中签到", Address: "广场",
		Lat: lat, Lon: lon, StartsAt: time.Now().Add(-5 * time.Minute), EndsAt: time.Now().Add(2 * time.Hour), Capacity: burst, RadiusM: 300})
	if err != nil {
		return err
	}
	base, stop, err := a.serveLoopback(ctx)
	if err != nil {
		return err
	}
	defer stop()
	phones := make([]*bench.Phone, len(people))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 8)
	start := time.Now()
	for i, p := range people {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ph, err := bench.VolunteerSignIn(ctx, base, p.phone, password)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			phones[i] = ph
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	fmt.Fprintf(stdout, "\n%d volunteers signed in on their phones in %s\n", len(phones), time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "\n| check-in burst | phones | at once | elapsed s | errors | p50 ms | p95 ms | p99 ms | max ms | recorded |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, round := range []string{fmt.Sprintf("arriving over %s", window), "again, all at once (retries)"} {
		var res bench.LoadResult
		if round == "again, all at once (retries)" {
			res = bench.CheckinBurst(ctx, base, act.CheckinToken, lat+0.0004, lon, phones, clients)
		} else {
			res = bench.CheckinArrivals(ctx, base, act.CheckinToken, lat+0.0004, lon, phones, window, uint64(time.Now().UnixNano()))
		}
		var n int
		if err := a.db.Reader().QueryRow(ctx, `SELECT count(*) FROM service_records WHERE activity_id = ?`, act.ID).Scan(&n); err != nil {
			return err
		}
		at := fmt.Sprint(clients)
		if round[0] == 'a' && round[1] == 'r' {
			at = "open"
		}
		fmt.Fprintf(stdout, "| %s | %d | %s | %.1f | %d | %.1f | %.1f | %.1f | %.1f | %d |\n", round, res.Requests, at, res.Elapsed.Seconds(), res.Errors,
			msf(res.P50), msf(res.P95), msf(res.P99), msf(res.Max), n)
		if res.FirstError != "" {
			fmt.Fprintf(stdout, "\nfirst error: %s\n", res.FirstError)
		}
		if n != len(phones) {
			return fmt.Errorf("%d check-ins recorded for %d volunteers", n, len(phones))
		}
	}
	return nil
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
