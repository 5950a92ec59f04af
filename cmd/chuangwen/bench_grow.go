package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"sync"
	"time"

	"chuangwen/internal/bench"
	"chuangwen/internal/demo"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// cmdBenchGrow grows a city through the real intake path while serve runs
// (with its background work: statistics, deadline watch, photo worker,
// notices), and times the console pages over HTTP at checkpoints, without
// a restart: what an office meets after months of growth.
func cmdBenchGrow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cases, every, clients, reps int
	var profile string
	args = withDefaultData(args, "bench-grow")
	return withApp(ctx, "bench-grow", args, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&cases, "cases", 200_000, "cases to file through Open311 while the server runs")
		fs.IntVar(&every, "every", 50_000, "time the console pages after every this many cases")
		fs.IntVar(&clients, "clients", 4, "concurrent Open311 clients")
		fs.IntVar(&reps, "reps", 5, "times each page is opened at a checkpoint (the first counts)")
		fs.StringVar(&profile, "profile", "", "write a CPU profile of the last stretch of filing to this file")
	}, func(a *app) error {
		a.cfg.PublicReportsPerHour, a.cfg.PublicReadsPerMinute = 0, 0 // the load comes from one address
		if profile != "" {                                            // a bad path fails now, not after the filing
			f, err := os.Create(profile)
			if err != nil {
				return err
			}
			f.Close()
		}
		regions, err := a.orgs.Regions(ctx)
		if err != nil {
			return err
		}
		if len(regions) > 0 {
			return fmt.Errorf("bench-grow starts from an empty database (the demo city's small one is loaded first): %s has data", a.cfg.Data)
		}
		fmt.Fprintln(stdout, "loading the demo city (organisation, grid, 20 cases)...")
		if _, err := demo.Load(ctx, a.orgs, a.flow, demo.Options{Cases: 20, Grid: a.grid}); err != nil {
			return err
		}
		if err := a.grid.Reload(ctx); err != nil {
			return err
		}
		box, _, err := a.grid.Bounds(ctx)
		if err != nil {
			return err
		}
		point := func(r *mrand.Rand) (float64, float64) {
			return box.Min.Lat + r.Float64()*(box.Max.Lat-box.Min.Lat), box.Min.Lon + r.Float64()*(box.Max.Lon-box.Min.Lon)
		}
		codes, err := store.Collect(ctx, a.db.Reader(), func(r store.Scanner) (c string, err error) { return c, r.Scan(&c) },
			`SELECT code FROM categories WHERE parent_id IS NOT NULL AND active = TRUE AND staff_only = FALSE ORDER BY code`)
		if err != nil {
			return err
		}
		tok, err := a.orgs.CreateToken(ctx, org.System, "bench-grow", 0)
		if err != nil {
			return err
		}
		base, stopServer, err := a.serveBackground(ctx)
		if err != nil {
			return err
		}
		defer stopServer()

		fmt.Fprintf(stdout, "\n### %s: %d cases filed through Open311 while serving, console pages over HTTP (%s)\n\n", a.db.Dialect, cases, time.Now().Format("2006-01-02"))
		fmt.Fprintln(stdout, "| cases | filed/s | page | user | first ms | median ms |\n|---|---|---|---|---|---|")
		have := 0
		for have < cases {
			n := min(every, cases-have)
			stopProfile := func() {}
			if have+n >= cases {
				if stopProfile, err = startProfile(profile); err != nil {
					return err
				}
			}
			res := bench.Open311Grow(ctx, base, tok.Secret, codes, point, clients, n, have)
			stopProfile()
			if res.Errors > 0 {
				return fmt.Errorf("%d of %d reports failed; first: %s", res.Errors, res.Requests, res.FirstError)
			}
			have += n
			rate := fmt.Sprintf("%.0f", res.PerSecond())
			handler, err := busiestHandler(ctx, a)
			if err != nil {
				return err
			}
			for _, p := range []struct{ user, path string }{
				{"acceptor1", "/"}, {"acceptor1", "/cases?queue=to_accept"}, {"acceptor1", "/cases"},
				{handler, "/"}, {handler, "/cases?queue=to_handle"},
				{"leader1", "/leader"}, {"leader1", "/performance"},
			} {
				c, err := bench.SignIn(ctx, base, p.user, demo.DemoPassword)
				if err != nil {
					return err
				}
				ds, err := c.Time(ctx, p.path, reps)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "| %d | %s | `%s` | %s | %s | %s |\n", have, rate, p.path, p.user, msStr(ds[0]), msStr(bench.Median(ds)))
				rate = ""
			}
		}
		return nil
	})
}

// serveBackground runs serve, with its background work, on a free
// loopback port for the benches that drive it as its users do; stop
// ends it and waits.
func (a *app) serveBackground(ctx context.Context) (base string, stop func(), err error) {
	srv, ln, err := a.benchListener(ctx)
	if err != nil {
		return "", nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- serve(sctx, a, srv, ln, io.Discard) }()
	return "http://" + ln.Addr().String(), sync.OnceFunc(func() { cancel(); <-done }), nil
}

// busiestHandler is the demo handler of the unit with the most cases in
// handling.
func busiestHandler(ctx context.Context, a *app) (string, error) {
	var name string
	err := a.db.Reader().QueryRow(ctx, `SELECT username FROM users WHERE role = 'handler' AND unit_id = (
		SELECT lead_unit_id FROM cases WHERE state IN ('dispatched', 'in_progress') AND lead_unit_id IS NOT NULL
		GROUP BY lead_unit_id ORDER BY count(*) DESC LIMIT 1) ORDER BY id LIMIT 1`).Scan(&name)
	if err != nil {
		return "", fmt.Errorf("the busiest unit's handler: %w", err)
	}
	return name, nil
}
