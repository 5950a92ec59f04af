package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/bench"
	"chuangwen/internal/demo"
	"chuangwen/internal/report"
)

// cmdBench builds (or reuses) a large database and prints the timings of
// docs/benchmarks.md as Markdown tables.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cases, reps, transitions int
	var stale bool
	var workers, parts, profile string
	// Default the data folder to ./data/bench, so a real ./data is never
	// filled with a million generated cases.
	args = withDefaultData(args, "bench")
	return withApp(ctx, "bench", args, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&cases, "cases", 1_000_000, "cases in the database (generated up to this number)")
		fs.IntVar(&reps, "reps", 200, "timed runs of each read")
		fs.BoolVar(&stale, "stale-statistics", false, "leave the planner's statistics as they were before the generated cases (what a server that has not re-analysed since the data grew plans with)")
		fs.IntVar(&transitions, "transitions", 500, "accepted cases to drive through dispatch → acknowledge → feedback → verify (4 transitions each)")
		fs.StringVar(&workers, "workers", "1,4", "concurrent writers for the transition run, comma-separated")
		fs.StringVar(&profile, "profile", "", "write a CPU profile of the transition runs to this file")
		fs.StringVar(&parts, "parts", "reads,search,leader,bulletin,durability,transitions", "what to measure, comma-separated: reads, search, rechecks, leader, bulletin, notices, exports, durability, transitions (bulletin first gives the city a year of mock inspections; rechecks draws revisits and files reports)")
	}, func(a *app) error {
		now := time.Now()
		regions, err := a.orgs.Regions(ctx)
		if err != nil {
			return err
		}
		if len(regions) == 0 {
			fmt.Fprintln(stdout, "loading the demo city's organisation and grid...")
			if _, err := demo.Load(ctx, a.orgs, a.flow, demo.Options{Cases: 20, Now: now, Grid: a.grid}); err != nil {
				return err
			}
		}
		var have int
		if err := a.db.Reader().QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&have); err != nil {
			return err
		}
		if have < cases {
			fmt.Fprintf(stdout, "generating %d cases (have %d)...\n", cases-have, have)
			start := time.Now()
			err := bench.Generate(ctx, a.db, bench.GenOptions{Cases: cases - have, Days: 120, Seed: uint64(have + 1), Now: now, Loc: a.loc, StaleStatistics: stale,
				Log: func(f string, args ...any) { fmt.Fprintf(stdout, "  "+f+"\n", args...) }})
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "generated in %s\n", time.Since(start).Round(time.Second))
			have = cases
		}
		fmt.Fprintf(stdout, "\n### %s, %d cases (%s)\n", a.db.Dialect, have, now.Format("2006-01-02"))
		want := map[string]bool{}
		for _, p := range strings.Split(parts, ",") {
			want[strings.TrimSpace(p)] = true
		}
		if want["reads"] {
			if err := bench.Reads(ctx, a.db, a.flow, now, reps, stdout); err != nil {
				return err
			}
		}
		if want["search"] {
			if err := bench.Search(ctx, a.db, a.flow, reps, stdout); err != nil {
				return err
			}
		}
		if want["rechecks"] {
			if err := bench.Rechecks(ctx, a.db, a.flow, now, 8, reps, stdout); err != nil {
				return err
			}
		}
		if want["leader"] {
			if err := bench.Leader(ctx, a.reportService, reps, stdout); err != nil {
				return err
			}
		}
		if want["bulletin"] {
			if err := bench.Rounds(ctx, a.db, a.assessService(), now, a.loc, func(f string, args ...any) { fmt.Fprintf(stdout, "  "+f+"\n", args...) }); err != nil {
				return err
			}
			t := now.In(a.loc)
			quarter := fmt.Sprintf("%dQ%d", t.Year(), (int(t.Month())-1)/3+1)
			if err := bench.Bulletin(ctx, a.reportService, quarter, 3, stdout); err != nil {
				return err
			}
		}
		if want["notices"] {
			if err := bench.Notices(ctx, a.reportService, report.WeekOf(now, a.loc).String(), min(reps, 5), stdout); err != nil {
				return err
			}
		}
		if want["exports"] {
			base, stop, err := a.serveLoopback(ctx)
			if err != nil {
				return err
			}
			err = bench.Exports(ctx, base, "acceptor1", demo.DemoPassword, have, min(reps, 3), stdout)
			stop()
			if err != nil {
				return err
			}
		}
		if want["durability"] {
			fmt.Fprintf(stdout, "\n| engine | setting | commits | durable commits/s | relaxed commits/s | ratio |\n|---|---|---|---|---|---|\n")
			if err := bench.Durability(ctx, a.db, 3000, stdout); err != nil {
				return err
			}
		}
		if !want["transitions"] {
			return nil
		}
		fmt.Fprintf(stdout, "\n| engine | writers | transitions | transitions/s | raw inserts/s | ratio |\n|---|---|---|---|---|---|\n")
		// the server's sealer chains the trail meanwhile, as it would
		sctx, stopSealer := context.WithCancel(ctx)
		sealed := a.runSealer(sctx)
		defer func() { stopSealer(); <-sealed }()
		if profile != "" {
			stopProfile, err := startProfile(profile)
			if err != nil {
				return err
			}
			defer stopProfile()
		}
		for _, w := range strings.Split(workers, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(w))
			if err != nil || n < 1 {
				return fmt.Errorf("--workers %q: want numbers like 1,4", workers)
			}
			if err := bench.Transitions(ctx, a.db, a.flow, transitions, n, stdout); err != nil {
				return err
			}
		}
		return nil
	})
}

// withDefaultData puts a bench command's database in data/<name> unless
// the arguments name a data folder or a database.
func withDefaultData(args []string, name string) []string {
	for _, a := range args {
		if flag := strings.TrimLeft(strings.SplitN(a, "=", 2)[0], "-"); flag == "data" || flag == "db" {
			return args
		}
	}
	return append([]string{"--data", filepath.Join("data", name)}, args...)
}
