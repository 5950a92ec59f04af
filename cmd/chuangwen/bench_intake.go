package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"chuangwen/internal/bench"
	"chuangwen/internal/demo"
	"chuangwen/internal/org"
)

// cmdBenchIntake measures intake over loopback HTTP against a real server
// in this process: reports without photos through Open311 (sustained
// rate, compared with raw durable inserts on the same database in the
// same run), and concurrent photo uploads through the public page's
// endpoint (time to acknowledgement while the derivative worker runs).
func cmdBenchIntake(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var duration time.Duration
	var clients, uploads, uploadClients, photoKB int
	var profile, uploadProfile string
	var noWorker, skipSustained bool
	args = withDefaultData(args, "bench-intake")
	return withApp(ctx, "bench-intake", args, stderr, func(fs *flag.FlagSet) {
		fs.DurationVar(&duration, "duration", 15*time.Second, "how long each sustained run lasts")
		fs.IntVar(&clients, "clients", 8, "concurrent clients filing reports without photos")
		fs.IntVar(&uploads, "uploads", 200, "photo reports to upload")
		fs.IntVar(&uploadClients, "upload-clients", 20, "concurrent uploaders")
		fs.IntVar(&photoKB, "photo-kb", 2048, "size of the uploaded phone photo (a 12-megapixel JPEG)")
		fs.StringVar(&profile, "profile", "", "write a CPU profile of the sustained no-photo run to this file")
		fs.StringVar(&uploadProfile, "upload-profile", "", "write a CPU profile of the upload run to this file")
		fs.BoolVar(&noWorker, "no-worker", false, "do not run the derivative worker during the uploads (to see what it costs them)")
		fs.BoolVar(&skipSustained, "uploads-only", false, "skip the sustained no-photo run")
	}, func(a *app) error {
		city, err := a.benchCity(ctx, 20, stdout)
		if err != nil {
			return err
		}
		center, catID, catCode := city.center, city.catID, city.catCode
		tok, err := a.orgs.CreateToken(ctx, org.System, "bench-intake", 0)
		if err != nil {
			return err
		}
		base, stop, err := a.serveLoopback(ctx)
		if err != nil {
			return err
		}
		defer stop()
		wctx, stopWorker := context.WithCancel(ctx)
		defer stopWorker()
		if !noWorker {
			go a.flow.PhotoJobs.Run(wctx, "bench", time.Second)
		}

		fmt.Fprintf(stdout, "\n### intake on %s (%d clients, %s each run)\n\n", a.db.Dialect, clients, duration)
		if err := runSustained(ctx, a, stdout, skipSustained, profile, base, tok.Secret, catCode, center, clients, duration); err != nil {
			return err
		}
		photo := bench.PhonePhoto(photoKB << 10)
		var queuedBefore int
		_ = a.db.Reader().QueryRow(ctx, `SELECT count(*) FROM photo_jobs`).Scan(&queuedBefore)
		worker := "worker running"
		if noWorker {
			worker = "worker stopped"
		}
		fmt.Fprintf(stdout, "\n| engine | load | uploads | photo | derivatives | ack p50 ms | ack p95 ms | ack p99 ms | max ms | uploads/s |\n|---|---|---|---|---|---|---|---|---|---|\n")
		row := func(load string, up bench.LoadResult) {
			fmt.Fprintf(stdout, "| %s | %s | %d | %.1f MB, 4000×3000 | %s | %s | %s | %s | %s | %.1f |\n", a.db.Dialect, load, up.Requests,
				float64(len(photo))/(1<<20), worker, msStr(up.P50), msStr(up.P95), msStr(up.P99), msStr(up.Max), up.PerSecond())
		}
		stopProfile, err := startProfile(uploadProfile)
		if err != nil {
			return err
		}
		burst := bench.UploadBursts(ctx, base, catID, center, photo, uploadClients, max(1, uploads/uploadClients), time.Second)
		stopProfile()
		if burst.Errors > 0 {
			return fmt.Errorf("%d of %d uploads failed; first: %s", burst.Errors, burst.Requests, burst.FirstError)
		}
		row(fmt.Sprintf("%d rounds of %d simultaneous uploads", max(1, uploads/uploadClients), uploadClients), burst)
		// The disk's own floor, in the same run, on the same file system
		// as the photos (where they are in a folder).
		var floor, recv bench.LoadResult
		if !strings.Contains(a.cfg.Photos, "://") {
			dir, err := os.MkdirTemp(filepath.Dir(filepath.Clean(a.cfg.Photos)), "disk-floor-")
			if err != nil {
				return err
			}
			floor = bench.DiskFloor(ctx, dir, photo, uploadClients, max(1, uploads/uploadClients), time.Second)
			if floor.Errors > 0 {
				os.RemoveAll(dir)
				return fmt.Errorf("disk floor: %d of %d writes failed; first: %s", floor.Errors, floor.Requests, floor.FirstError)
			}
			recv, err = bench.ReceiveFloor(ctx, dir, catID, center, photo, uploadClients, max(1, uploads/uploadClients), time.Second)
			os.RemoveAll(dir)
			if err != nil {
				return err
			}
			if recv.Errors > 0 {
				return fmt.Errorf("receive floor: %d of %d uploads failed; first: %s", recv.Errors, recv.Requests, recv.FirstError)
			}
		}
		up := bench.UploadLoad(ctx, base, catID, center, photo, uploadClients, uploads)
		if up.Errors > 0 {
			return fmt.Errorf("%d of %d uploads failed; first: %s", up.Errors, up.Requests, up.FirstError)
		}
		ackDone := time.Now()
		row(fmt.Sprintf("%d uploaders without pause (saturated)", uploadClients), up)
		if floor.Requests > 0 {
			fmt.Fprintf(stdout, "\ndisk floor: %d rounds of %d simultaneous durable writes of the same photo (temporary file, fdatasync, rename, directory fsync; no HTTP, no database): p50 %s ms, p99 %s ms; the uploads' ack p99 is %.2f× the floor's\n",
				max(1, uploads/uploadClients), uploadClients, msStr(floor.P50), msStr(floor.P99), float64(burst.P99)/float64(floor.P99))
			fmt.Fprintf(stdout, "receive floor: the same rounds of the same requests to a bare HTTP server that only receives each body and stores its photo the same way (no checks, no hashing, no database): p50 %s ms, p99 %s ms; the uploads' ack p99 is %.2f× this floor's\n",
				msStr(recv.P50), msStr(recv.P99), float64(burst.P99)/float64(recv.P99))
		}
		uploads *= 2
		if noWorker {
			return nil
		}
		// Then the worker catches up with the queue.
		for {
			var left int
			if err := a.db.Reader().QueryRow(ctx, `SELECT count(*) FROM photo_jobs`).Scan(&left); err != nil {
				return err
			}
			if left == 0 {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		drain := time.Since(ackDone)
		fmt.Fprintf(stdout, "\nderivative worker: queue drained %.1f s after the last acknowledgement (%d photos in %.1f s from the first upload: %.1f photos/s)\n",
			drain.Seconds(), uploads+queuedBefore, (up.Elapsed + drain).Seconds(), float64(uploads+queuedBefore)/(up.Elapsed+drain).Seconds())
		return nil
	})
}

func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// runSustained files reports without photos through Open311 for the
// duration and compares the rate with raw durable inserts.
func runSustained(ctx context.Context, a *app, stdout io.Writer, skip bool, profile, base, key, catCode string, center [2]float64, clients int, duration time.Duration) error {
	if skip {
		return nil
	}
	{
		raw, err := bench.RawInserts(ctx, a.db, clients, duration)
		if err != nil {
			return err
		}
		stopProfile, err := startProfile(profile)
		if err != nil {
			return err
		}
		res := bench.Open311Load(ctx, base, key, catCode, center, clients, duration)
		stopProfile()
		if res.Errors > 0 {
			return fmt.Errorf("%d of %d Open311 reports failed; first: %s", res.Errors, res.Requests, res.FirstError)
		}
		fmt.Fprintln(stdout, "| engine | path | clients | reports | reports/s | p50 ms | p99 ms | raw durable inserts/s | ratio |")
		fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|---|---|")
		fmt.Fprintf(stdout, "| %s | Open311 POST requests.json (no photo) | %d | %d | %.0f | %s | %s | %.0f | %.2f |\n",
			a.db.Dialect, clients, res.Requests, res.PerSecond(), msStr(res.P50), msStr(res.P99), raw, res.PerSecond()/raw)

		return nil
	}
}

func msStr(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

// serveLoopback serves the product's HTTP face (without serve's
// background work) on a free loopback port, for the benches that drive
// it as clients do; stop closes it.
func (a *app) serveLoopback(ctx context.Context) (base string, stop func(), err error) {
	srv, ln, err := a.benchListener(ctx)
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	sctx, stopSealer := context.WithCancel(ctx)
	sealed := a.runSealer(sctx)
	return "http://" + ln.Addr().String(), func() { hs.Close(); stopSealer(); <-sealed }, nil
}

// benchListener is the product's HTTP face and a free loopback port for
// the benches, which sign in as the demo's staff with passwords.
func (a *app) benchListener(ctx context.Context) (http.Handler, net.Listener, error) {
	a.cfg.TwoFactor = ""
	srv, err := a.webServer(ctx)
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	return srv, ln, err
}

// benchPlace is where a bench's reports go: the demo city's middle and
// its first public category.
type benchPlace struct {
	center  [2]float64
	catID   int64
	catCode string
}

// benchCity loads the demo city with cases reports into an empty
// database (a filled one is used as it is), with the rate limits off (the
// load comes from one address), and says where the reports go.
func (a *app) benchCity(ctx context.Context, cases int, out io.Writer) (benchPlace, error) {
	p := benchPlace{center: [2]float64{25.0, 102.75}}
	a.cfg.PublicReportsPerHour, a.cfg.PublicReadsPerMinute = 0, 0
	regions, err := a.orgs.Regions(ctx)
	if err != nil {
		return p, err
	}
	if len(regions) == 0 {
		fmt.Fprintf(out, "loading the demo city (%d cases)...\n", cases)
		if _, err := demo.Load(ctx, a.orgs, a.flow, demo.Options{Cases: cases, Grid: a.grid}); err != nil {
			return p, err
		}
	}
	if err := a.grid.Reload(ctx); err != nil {
		return p, err
	}
	if b, ok, err := a.grid.Bounds(ctx); err != nil {
		return p, err
	} else if ok {
		p.center = [2]float64{(b.Min.Lat + b.Max.Lat) / 2, (b.Min.Lon + b.Max.Lon) / 2}
	}
	if err := a.db.Reader().QueryRow(ctx, `SELECT id, code FROM categories WHERE parent_id IS NOT NULL AND active = TRUE AND staff_only = FALSE ORDER BY code LIMIT 1`).Scan(&p.catID, &p.catCode); err != nil {
		return p, fmt.Errorf("a public category: %w", err)
	}
	return p, nil
}
