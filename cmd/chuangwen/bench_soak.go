package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/audit"
	"chuangwen/internal/bench"
	"chuangwen/internal/demo"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// cmdBenchSoak runs `chuangwen bench soak`: serve, with all its background
// work, under a day's mix of requests for --minutes, a row a minute, and
// the trail verified at the end. Exit status 1 on any error or a broken
// trail.
func cmdBenchSoak(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var minutes, cases, photoKB int
	var interval time.Duration
	cfg := bench.SoakConfig{}
	args = withDefaultData(args, "soak")
	return withApp(ctx, "bench soak", args, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&minutes, "minutes", 30, "how long the soak runs")
		fs.DurationVar(&interval, "interval", time.Minute, "how often a row is written")
		fs.IntVar(&cases, "cases", 200, "demo cases loaded first into an empty database")
		fs.IntVar(&photoKB, "photo-kb", 400, "size of each photo (a phone's photo as the pages shrink it before upload)")
		fs.IntVar(&cfg.PublicPerMin, "public", 20, "public reports with a photo per minute")
		fs.IntVar(&cfg.Open311PerMin, "open311", 20, "Open311 reports per minute")
		fs.IntVar(&cfg.Open311ReadsPerMin, "open311-reads", 60, "Open311 reads per minute")
		fs.IntVar(&cfg.ConsoleReadsPerMin, "reads", 120, "console pages (lists, dashboards, the leader's screen) per minute")
		fs.BoolVar(&cfg.ShowRefusals, "show-refusals", false, "write the first refused staff action of each row")
		fs.IntVar(&cfg.StaffRoundsPerMin, "staff", 12, "rounds of staff work per minute (accept, dispatch, acknowledge, report done with a photo, verify: up to 5 cases a step)")
	}, func(a *app) error {
		city, err := a.benchCity(ctx, cases, stdout)
		if err != nil {
			return err
		}
		cfg.Center, cfg.CategoryID = city.center, city.catID
		if cfg.ServiceCodes, err = store.Collect(ctx, a.db.Reader(), func(r store.Scanner) (c string, err error) { return c, r.Scan(&c) },
			`SELECT code FROM categories WHERE parent_id IS NOT NULL AND active = TRUE AND staff_only = FALSE ORDER BY code`); err != nil {
			return err
		}
		if cfg.Handlers, err = store.Collect(ctx, a.db.Reader(), func(r store.Scanner) (c string, err error) { return c, r.Scan(&c) },
			`SELECT username FROM users WHERE role = 'handler' AND disabled = FALSE AND username LIKE 'handler%' ORDER BY username`); err != nil || len(cfg.Handlers) == 0 {
			return fmt.Errorf("the demo's handlers: %v (%d)", err, len(cfg.Handlers))
		}
		tok, err := a.orgs.CreateToken(ctx, org.System, "bench-soak", 0)
		if err != nil {
			return err
		}
		cfg.Open311Key = tok.Secret
		cfg.Acceptor, cfg.Leader, cfg.Password = "acceptor1", "leader1", demo.DemoPassword
		cfg.Photo = bench.PhonePhoto(photoKB << 10)
		cfg.Duration, cfg.Interval, cfg.Out = time.Duration(minutes)*time.Minute, interval, stdout
		cfg.Memory = func() (float64, float64, int) {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return float64(ms.HeapInuse) / (1 << 20), rssMB(), runtime.NumGoroutine()
		}

		var stopServer func()
		if cfg.Base, stopServer, err = a.serveBackground(ctx); err != nil {
			return err
		}
		defer stopServer()

		fmt.Fprintf(stdout, "\n### bench soak on %s, %d minutes (%s; GOMAXPROCS %d)\n\n", a.db.Dialect, minutes, time.Now().Format("2006-01-02 15:04"), runtime.GOMAXPROCS(0))
		fmt.Fprintf(stdout, "per minute: %d public reports with a %d KB photo, %d Open311 reports, %d Open311 reads, %d console pages, %d staff rounds (%d handlers)\n\n",
			cfg.PublicPerMin, photoKB, cfg.Open311PerMin, cfg.Open311ReadsPerMin, cfg.ConsoleReadsPerMin, cfg.StaffRoundsPerMin, len(cfg.Handlers))
		res, err := bench.Soak(ctx, cfg)
		if err != nil {
			return err
		}
		stopServer() // the background work too, before the trail is read
		rep, err := audit.Verify(ctx, a.db)
		if err != nil {
			return err
		}
		var cases, events int64
		_ = a.db.Reader().QueryRow(ctx, `SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM events)`).Scan(&cases, &events)
		fmt.Fprintf(stdout, "\n%s\n", soakSummary(res))
		fmt.Fprintf(stdout, "database at the end: %d cases, %d trail entries; audit verify: ", cases, events)
		if !rep.OK {
			fmt.Fprintf(stdout, "BROKEN at entry %d: %s\n", rep.BrokenSeq, rep.Problem)
			return exitCode(1)
		}
		fmt.Fprintf(stdout, "OK, %d entries, head %s\n", rep.Entries, rep.HeadHash)
		if res.Errors > 0 {
			return exitCode(1)
		}
		return nil
	})
}

// soakSummary compares the first and the last fifth of the run: the tail
// latencies and the memory.
func soakSummary(res bench.SoakResult) string {
	n := len(res.Rows)
	if n == 0 {
		return "no rows"
	}
	k := max(1, n/5)
	avg := func(rows []bench.SoakRow, f func(bench.SoakRow) float64) float64 {
		s := 0.0
		for _, r := range rows {
			s += f(r)
		}
		return s / float64(len(rows))
	}
	first, last := res.Rows[:k], res.Rows[n-k:]
	var b strings.Builder
	fmt.Fprintf(&b, "errors: %d. First %d vs last %d rows (means of the rows):\n", res.Errors, k, k)
	for _, c := range []string{"report", "open311", "o311read", "read", "staff"} {
		p := func(r bench.SoakRow) float64 { return float64(r.P99[c].Microseconds()) / 1000 }
		fmt.Fprintf(&b, "- %s p99: %.1f → %.1f ms\n", c, avg(first, p), avg(last, p))
	}
	fmt.Fprintf(&b, "- RSS: %.0f → %.0f MB; Go heap in use: %.0f → %.0f MB; goroutines: %.0f → %.0f\n",
		avg(first, func(r bench.SoakRow) float64 { return r.RSSMB }), avg(last, func(r bench.SoakRow) float64 { return r.RSSMB }),
		avg(first, func(r bench.SoakRow) float64 { return r.HeapMB }), avg(last, func(r bench.SoakRow) float64 { return r.HeapMB }),
		avg(first, func(r bench.SoakRow) float64 { return float64(r.Goroutines) }), avg(last, func(r bench.SoakRow) float64 { return float64(r.Goroutines) }))
	return b.String()
}

// rssMB is the process's resident set (Linux), 0 elsewhere.
func rssMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
