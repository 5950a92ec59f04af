// Command chuangwen is the civilized-city campaign platform: one binary
// with an embedded SQLite database (or PostgreSQL), serving the console
// and the API, and the administrative subcommands around it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"chuangwen/internal/basemap"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/backup"
	"chuangwen/internal/blob"
	"chuangwen/internal/demo"
	"chuangwen/internal/grid"
	"chuangwen/internal/i18n"
	"chuangwen/internal/intake"
	"chuangwen/internal/notify"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/privacy"
	"chuangwen/internal/ratelimit"
	"chuangwen/internal/report"
	"chuangwen/internal/store"
	"chuangwen/internal/volunteer"
	"chuangwen/internal/web"
	"chuangwen/internal/workflow"
)

const usage = `chuangwen — 创文闭环管理平台 (civilized-city campaign platform)

Usage: chuangwen <command> [flags]

Commands:
  serve            run the web console and API (add --demo to load the demo city into an empty database)
  migrate          apply database migrations
  demo             load the demo city (--cases N, --days D, --seed S)
  user add         add a user: --username U --role R [--unit CODE] [--scope city|region|unit] [--region CODE] [--name NAME]
  user reset       reset a password: --username U (prints a new one-time password)
  user reset-2fa   turn off a user's two-factor sign-in (a lost phone; an unreadable data key): --username U
  token create     create an API token: --name NAME [--unit CODE] (the token is on the last line); a name
                   names one client system, and a second live token of the same name is refused
  token rotate     a new token for the client system of the live token named --name NAME (same role, unit
                   and scope; the token is on the last line); the old one stays valid until revoked
  audit verify     walk the hash-chained trail; exit status 1 if it is broken
  audit figures    recompute a period's unit and region figures from the trail and print every difference
                   from the stored ones: --from YYYY-MM-DD --to YYYY-MM-DD (both days included, in --tz);
                   exit status 1 on any difference
  assess           the assessment (测评): import-tree, import-sites, round create, round sites,
                   import-observations, import-results, scores, ledger ("chuangwen assess help")
  report           the campaign's documents: quarterly (季度通报), publish, verify ("chuangwen report help")
  backup           a consistent copy of the database, the photos and (--with-key) the data key into a new folder:
                   --out DIR; safe while serve runs (see docs/deploy.md)
  restore          put a backup back into an empty installation: --from DIR (the common flags name the target)
  copy             move a SQLite installation to PostgreSQL: --to postgres://… (an empty database); the trail
                   is verified on the target
  optimize         bring the query planner's statistics up to date (after a restore or a bulk SQL import)
  reindex          rebuild the case search index from the cases (after an upgrade that changes how it reads text)
  bench-intake     intake throughput and upload acknowledgement over loopback HTTP (see docs/benchmarks.md)
  bench-grow       grow a city through Open311 while serving; time the console pages over HTTP as it grows
  bench soak       serve under a day's mix of work for --minutes N (public reports with photos, Open311, staff
                   actions, console reads): a row a minute with throughput, p99 and memory; the trail verified
                   at the end (see docs/benchmarks.md)
  bench            time lists, queues, counters, performance figures and transitions at scale
                   (--cases 1000000; default data folder ./data/bench; see docs/benchmarks.md)

Every command takes the common flags (run "chuangwen serve -h" to see them).
`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "chuangwen:", err)
		var ec exitCode
		if errors.As(err, &ec) {
			os.Exit(int(ec))
		}
		os.Exit(1)
	}
}

type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// commands maps each command line's first words to its function.
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"serve":            cmdServe,
	"migrate":          cmdMigrate,
	"demo":             cmdDemo,
	"user add":         cmdUserAdd,
	"user reset":       cmdUserReset,
	"user reset-2fa":   cmdUserResetTwoFactor,
	"token create":     cmdTokenCreate,
	"token rotate":     cmdTokenRotate,
	"audit verify":     cmdAuditVerify,
	"audit figures":    cmdAuditFigures,
	"bench":            cmdBench,
	"bench soak":       cmdBenchSoak,
	"bench-intake":     cmdBenchIntake,
	"bench-grow":       cmdBenchGrow,
	"bench-volunteers": cmdBenchVolunteers,
	"assess":           cmdAssess,
	"report":           cmdReport,
	"reindex":          cmdReindex,
	"optimize":         cmdOptimize,
	"backup":           cmdBackup,
	"restore":          cmdRestore,
	"copy":             cmdCopy,
}

// cmdOptimize brings the planner's statistics up to date (after loading
// data behind the program's back: a restore, a bulk SQL import).
func cmdOptimize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withApp(ctx, "optimize", args, stderr, nil, func(a *app) error {
		start := time.Now()
		if err := a.db.Optimize(ctx); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "statistics brought up to date in %s\n", time.Since(start).Round(time.Millisecond))
		return nil
	})
}

// cmdReindex rebuilds the case search index from the cases.
func cmdReindex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withApp(ctx, "reindex", args, stderr, nil, func(a *app) error {
		start := time.Now()
		if err := a.flow.ResetSearchIndex(ctx); err != nil {
			return err
		}
		n, err := a.flow.IndexBacklog(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "search index rebuilt: %d cases in %s\n", n, time.Since(start).Round(time.Millisecond))
		return nil
	})
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withApp(ctx, "migrate", args, stderr, nil, func(a *app) error {
		fmt.Fprintln(stdout, "migrations applied")
		return nil
	})
}

// run is main without the process: tests call it with their own args and
// writers.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cmd, rest := args[0], args[1:]
	if (cmd == "user" || cmd == "token" || cmd == "audit" || cmd == "bench" && len(rest) > 0 && rest[0] == "soak") && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	if run, ok := commands[cmd]; ok {
		return run(ctx, rest, stdout, stderr)
	}
	return fmt.Errorf("unknown command %q\n\n%s", strings.Join(args[:min(2, len(args))], " "), usage)
}

// app is the wired program: configuration, database, domain services.
type app struct {
	cfg  Config
	log  *slog.Logger
	db   *store.DB
	loc  *time.Location
	orgs *org.Store
	flow *workflow.Service
	grid *grid.Store
	vol  *volunteer.Service
}

// withApp parses the common flags plus any the command adds, opens and
// migrates the database, runs fn and closes everything.
func withApp(ctx context.Context, name string, args []string, stderr io.Writer, extra func(fs *flag.FlagSet), fn func(a *app) error) error {
	cfg, log, err := parseConfig(name, args, stderr, extra)
	if err != nil {
		return err
	}
	// Opening a backup's database would migrate and change it, and the
	// backup would no longer match its manifest.
	if _, err := os.Stat(filepath.Join(cfg.Data, backup.ManifestFile)); err == nil && !store.IsPostgres(cfg.DB) {
		return fmt.Errorf("%s is a backup folder, not a data folder: restore it first (chuangwen restore --from %s --data NEW)", cfg.Data, cfg.Data)
	}
	loc, _ := time.LoadLocation(cfg.TimeZone)
	db, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	for _, m := range applied {
		log.Info("migration applied", "migration", m)
	}
	if cfg.DBReplica != "" {
		if err := db.AttachStandby(cfg.DBReplica); err != nil {
			return fmt.Errorf("--db-replica: %w", err)
		}
	}
	blobs, err := blob.Open(cfg.Photos)
	if err != nil {
		return fmt.Errorf("--photos: %w", err)
	}
	photos := &photo.Store{Blobs: blobs, MaxBytes: int64(cfg.MaxPhotoMB) << 20}
	a := &app{cfg: cfg, log: log, db: db, loc: loc, orgs: &org.Store{DB: db}, flow: workflow.NewService(db, photos, loc, log)}
	a.flow.AutoAccept = nil
	for _, src := range strings.Split(cfg.AutoAccept, ",") {
		if src = strings.TrimSpace(src); src != "" {
			a.flow.AutoAccept = append(a.flow.AutoAccept, src)
		}
	}
	a.grid = grid.New(db, log)
	a.grid.FallbackM = float64(cfg.GridFallbackM)
	a.flow.Locator = a.grid
	return fn(a)
}

// parseConfig parses the common flags plus any the command adds and
// checks them, for commands that open the database their own way.
func parseConfig(name string, args []string, stderr io.Writer, extra func(fs *flag.FlagSet)) (Config, *slog.Logger, error) {
	cfg := defaults()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.register(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return cfg, nil, err
	}
	if fs.NArg() > 0 {
		return cfg, nil, fmt.Errorf("%s: unexpected argument %q", name, fs.Arg(0))
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, err
	}
	level, _ := cfg.level()
	return cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})), nil
}

// volunteerService is the app's volunteer service, its data key read
// (or made, on first start) when first needed.
func (a *app) volunteerService() (*volunteer.Service, error) {
	if a.vol != nil {
		return a.vol, nil
	}
	key, err := volunteer.LoadKey(a.cfg.DataKey, a.cfg.DataKeyFile)
	if err != nil {
		return nil, fmt.Errorf("--data-key-file: %w", err)
	}
	seal, err := volunteer.NewSealer(key)
	if err != nil {
		return nil, err
	}
	// The same key seals the accounts' two-factor secrets (checked
	// against the database just below, with the volunteers' numbers).
	a.orgs.SecretKey = key
	vol := volunteer.New(a.db, a.orgs, seal, a.loc, a.log)
	if err := vol.CheckKey(context.Background()); err != nil {
		return nil, err
	}
	a.vol = vol
	return a.vol, nil
}

// seedAdmin creates the first administrator on an empty database, with a
// one-time password that must be changed at first login.
func (a *app) seedAdmin(ctx context.Context, out io.Writer) error {
	users, err := a.orgs.Users(ctx)
	if err != nil || len(users) > 0 {
		return err
	}
	pw := os.Getenv("CHUANGWEN_ADMIN_PASSWORD")
	if pw == "" {
		pw = oneTimePassword()
	}
	_, err = a.orgs.CreateUser(ctx, org.System, org.NewUser{Username: "admin", DisplayName: "系统管理员", Password: pw, Role: org.RoleAdmin, Scope: org.ScopeCity, MustChange: true, SkipPolicy: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nFirst start: created administrator \"admin\" with one-time password: %s\n(it must be changed at first login)\n\n", pw)
	return nil
}

// oneTimePassword returns a random password that passes the policy.
func oneTimePassword() string {
	return "Cw-" + org.RandomToken(9) + "7a"
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var loadDemo bool
	return withApp(ctx, "serve", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&loadDemo, "demo", false, "load the demo city first if the database is empty")
	}, func(a *app) error {
		if loadDemo && !a.cfg.twoFactorSet {
			// The demo's accounts are shared and printed: nobody's phone
			// holds their codes. Set --two-factor to try it on the demo.
			a.cfg.TwoFactor = ""
		}
		if loadDemo {
			regions, err := a.orgs.Regions(ctx)
			if err != nil {
				return err
			}
			if len(regions) == 0 {
				if err := a.loadDemo(ctx, demo.Options{}, stdout); err != nil {
					return err
				}
			}
		}
		if err := a.seedAdmin(ctx, stdout); err != nil {
			return err
		}
		// From here on (never while the demo loads: its reporters'
		// numbers are made up) residents get status messages when a
		// gateway is configured.
		if out := a.smsOutbox(); out != nil {
			if loadDemo {
				return errors.New("--sms-url with --demo: the demo's reporters have made-up numbers; serve the demo without an SMS gateway")
			}
			a.flow.Notifier = out
		}
		srv, err := a.webServer(ctx)
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", a.cfg.Addr)
		if err != nil {
			return err
		}
		return serve(ctx, a, srv, ln, stdout)
	})
}

// serve runs the HTTP server and the deadline watch until SIGINT/SIGTERM
// or ctx ends, then finishes requests in flight and returns.
func serve(ctx context.Context, a *app, h http.Handler, ln net.Listener, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute, WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute}
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		a.flow.Watch(ctx, a.cfg.WatchInterval)
	}()
	// The photo worker makes the derived versions; its queue is in the
	// database, so photos queued before a restart are picked up now.
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		host, _ := os.Hostname()
		a.flow.PhotoJobs.Run(ctx, fmt.Sprintf("%s-%d", host, os.Getpid()), 5*time.Second)
	}()
	// The trail's entries are chained a moment after their commit.
	sealDone := a.runSealer(ctx)
	// Cases filed before the search index existed are indexed in the
	// background; searches find them as the batches commit.
	// The planner's statistics kept true as the data grows (on
	// PostgreSQL also where autovacuum is off).
	// The standby takes the list reads while it is caught up.
	go a.db.WatchStandby(ctx, time.Second, a.log)
	statsDone := make(chan struct{})
	go func() {
		defer close(statsDone)
		a.db.KeepOptimized(ctx, 30*time.Minute, func(format string, args ...any) { a.log.Warn(fmt.Sprintf(format, args...)) })
	}()
	backlogDone := make(chan struct{})
	go func() {
		defer close(backlogDone)
		if n, err := a.flow.IndexBacklog(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("search index", "err", err)
		} else if n > 0 {
			a.log.Info("search index: older cases indexed", "cases", n)
		}
	}()
	// Another replica may import grid cells: reload them now and then.
	go a.grid.Watch(ctx, time.Minute)
	// The weekly supervision notices go out at their day and hour; each
	// unit gets one whichever replica issues it.
	noticesDone := make(chan struct{})
	go func() {
		defer close(noticesDone)
		a.reportService().RunWeekly(ctx, time.Minute, func(format string, args ...any) { a.log.Info(fmt.Sprintf(format, args...)) })
	}()
	// Each Monday a share of last week's closures is drawn for a revisit
	// (回访); a week is drawn once whichever replica draws it.
	revisitsDone := make(chan struct{})
	go func() {
		defer close(revisitsDone)
		a.flow.RunRevisits(ctx, time.Minute)
	}()
	// Residents' status messages, when an SMS gateway is configured.
	smsDone := make(chan struct{})
	go func() {
		defer close(smsDone)
		if out := a.smsOutbox(); out != nil {
			out.Run(ctx, 15*time.Second)
		}
	}()
	// Personal data past its retention is erased every hour.
	privacyDone := make(chan struct{})
	go func() {
		defer close(privacyDone)
		a.privacyService().Run(ctx, time.Hour)
	}()
	// Webhook deliveries of the notices, retried with backoff.
	hooksDone := make(chan struct{})
	go func() {
		defer close(hooksDone)
		a.reportService().RunDeliveries(ctx, 15*time.Second, func(format string, args ...any) { a.log.Warn(fmt.Sprintf(format, args...)) })
	}()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	a.log.Info("serving", "addr", ln.Addr().String(), "db", a.cfg.redactedDB(), "data", a.cfg.Data)
	fmt.Fprintf(stdout, "Chuangwen is serving at http://%s/\n", ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := hs.Shutdown(sctx)
	<-watchDone
	<-workerDone
	<-noticesDone
	<-revisitsDone
	<-privacyDone
	<-smsDone
	<-hooksDone
	<-backlogDone
	<-statsDone
	<-sealDone
	return err
}

// sealInterval is how often the server chains the trail's new entries
// (audit.RunSealer): short enough that an entry waits for its seal no
// longer than a blink, long enough that a busy server seals many in one
// transaction.
const sealInterval = 50 * time.Millisecond

// runSealer chains the trail's entries until ctx ends; the channel closes
// when it has stopped.
func (a *app) runSealer(ctx context.Context) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		audit.RunSealer(ctx, a.db, sealInterval, func(format string, args ...any) { a.log.Error(fmt.Sprintf(format, args...)) })
	}()
	return done
}

// webServer builds the HTTP face with everything the product serves.
func (a *app) webServer(ctx context.Context) (*web.Server, error) {
	msg, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	in, err := intake.New(ctx, a.flow)
	if err != nil {
		return nil, err
	}
	in.RewardFirstOnly = a.cfg.RewardFirstOnly
	city, err := a.cityName(ctx)
	if err != nil {
		return nil, err
	}
	vol, err := a.volunteerService()
	if err != nil {
		return nil, err
	}
	ws := &web.Server{DB: a.db, Org: a.orgs, Flow: a.flow, Assess: a.assessService(), Report: a.reportService(), Tasks: a.tasksService(), Privacy: a.privacyService(), Volunteer: vol, Msg: msg, Log: a.log, Location: a.loc, SecureCookies: a.cfg.SecureCookies,
		Grid: a.grid, Basemap: &basemap.Store{DB: a.db}, Intake: in, City: city, Open311Jurisdiction: a.cfg.Open311Jurisdiction, Open311ExtendedStatuses: a.cfg.Open311ExtendedStatuses, TrustProxy: a.cfg.TrustProxy, ProxyHeader: a.cfg.ProxyHeader, MetricsToken: a.cfg.MetricsToken, PublicURL: a.cfg.PublicURL,
		PublicWriteLimit:    ratelimit.New(a.cfg.PublicReportsPerHour, time.Hour, 5),
		VolunteerWriteLimit: ratelimit.New(a.cfg.VolunteerWritesPerHour, time.Hour, 1000),
		PublicReadLimit:     ratelimit.New(a.cfg.PublicReadsPerMinute, time.Minute, 60)}
	ws.TwoFactorRoles = a.cfg.twoFactorRoles()
	if a.cfg.TileURL != "" {
		ws.Tiles = &web.TileConfig{URL: a.cfg.TileURL, Datum: a.cfg.TileDatum, Attribution: a.cfg.TileAttribution, MaxZoom: 18}
	}
	return web.New(ws)
}

// smsOutbox is the residents' status messages' outbox, nil without a
// gateway.
func (a *app) smsOutbox() *notify.Outbox {
	if a.cfg.SMSURL == "" {
		return nil
	}
	tpl, _ := notify.ParseTemplates(a.cfg.SMSTemplates) // checked by Validate
	return &notify.Outbox{DB: a.db, Gateway: notify.HTTPGateway{URL: a.cfg.SMSURL, Token: a.cfg.SMSToken}, SignName: a.cfg.SMSSign, Templates: tpl, Log: a.log}
}

// privacyService erases personal data past its retention and keeps the
// access log.
func (a *app) privacyService() *privacy.Service {
	return &privacy.Service{DB: a.db, Log: a.log}
}

// cityName is the name of the root region (the city), for the public page.
func (a *app) cityName(ctx context.Context) (string, error) {
	regions, err := a.orgs.Regions(ctx)
	if err != nil {
		return "", err
	}
	for _, r := range regions {
		if r.ParentID == 0 {
			return r.Name, nil
		}
	}
	return "", nil
}

func (a *app) loadDemo(ctx context.Context, opts demo.Options, out io.Writer) error {
	fmt.Fprintln(out, "Loading the demo city (a fictional city, demo data only)...")
	start := time.Now()
	opts.Log = func(format string, args ...any) { fmt.Fprintf(out, "  "+format+"\n", args...) }
	opts.Grid = a.grid
	opts.Basemap = &basemap.Store{DB: a.db}
	// The demo's assessment goes through the service the assess commands
	// use; Load runs it on the demo's clock.
	opts.Assess = a.assessService()
	vol, err := a.volunteerService()
	if err != nil {
		return err
	}
	opts.Volunteer = vol
	opts.Tasks = a.tasksService()
	accounts, err := demo.Load(ctx, a.orgs, a.flow, opts)
	if err != nil {
		return err
	}
	// the planner's statistics for the city just loaded
	if err := a.db.Optimize(ctx); err != nil {
		return err
	}
	// The last quarter's bulletin, published and public, so that the
	// bulletins have one to show and verify.
	rs := a.reportService()
	now := time.Now().In(a.loc)
	last := report.Quarter{Year: now.Year(), Q: (int(now.Month())-1)/3 + 1}.Prev()
	if p, err := rs.Publish(ctx, org.System, last.String()); err != nil {
		return fmt.Errorf("demo bulletin: %w", err)
	} else if err := rs.SetPublic(ctx, org.System, p.Code, true); err != nil {
		return fmt.Errorf("demo bulletin: %w", err)
	} else {
		opts.Log("bulletin %s published (public at /bulletins/%s)", p.Code, p.Code)
	}
	// The public oversight page with every part shown, the exposure list
	// of listed cases a week overdue included.
	if err := rs.SaveOversightSettings(ctx, org.System, report.OversightSettings{Stats: true, Bulletins: true, Honour: true, Exposure: true, ExposureDays: 7}); err != nil {
		return fmt.Errorf("demo oversight page: %w", err)
	}
	fmt.Fprintf(out, "Demo city loaded in %s. Demo accounts (demo passwords, for trying the product only):\n", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(out, "  %-16s %-14s %-10s %s\n", "username", "password", "role", "unit")
	for _, acc := range accounts {
		fmt.Fprintf(out, "  %-16s %-14s %-10s %s\n", acc.Username, acc.Password, acc.Role, acc.Unit)
	}
	return nil
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var opts demo.Options
	return withApp(ctx, "demo", args, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&opts.Cases, "cases", 2000, "number of demo cases")
		fs.IntVar(&opts.Days, "days", 120, "spread cases over the last N days")
		fs.Int64Var(&opts.Seed, "seed", 1, "random seed")
	}, func(a *app) error {
		return a.loadDemo(ctx, opts, stdout)
	})
}

func cmdUserAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var username, role, unit, scope, region, name, password string
	return withApp(ctx, "user add", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "login name (required)")
		fs.StringVar(&role, "role", "", "admin, acceptor, handler, inspector, grid, leader or volunteer (required)")
		fs.StringVar(&unit, "unit", "", "unit code (required for handlers)")
		fs.StringVar(&scope, "scope", "", "city, region or unit (default by role)")
		fs.StringVar(&region, "region", "", "region code for --scope region")
		fs.StringVar(&name, "name", "", "display name")
		fs.StringVar(&password, "password", "", "initial password (default: a random one-time password, printed)")
	}, func(a *app) error {
		nu := org.NewUser{Username: username, DisplayName: name, Role: org.Role(role), Scope: org.Scope(scope), MustChange: true}
		if unit != "" {
			u, err := a.orgs.UnitByCode(ctx, unit)
			if err != nil {
				return fmt.Errorf("--unit %s: no such unit", unit)
			}
			nu.UnitID = u.ID
		}
		if region != "" {
			rs, err := a.orgs.Regions(ctx)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if r.Code == region {
					nu.ScopeRegionID = r.ID
				}
			}
			if nu.ScopeRegionID == 0 {
				return fmt.Errorf("--region %s: no such region", region)
			}
		}
		nu.Password = password
		if password == "" {
			nu.Password = oneTimePassword()
		}
		u, err := a.orgs.CreateUser(ctx, org.System, nu)
		if err != nil {
			return explain(err)
		}
		fmt.Fprintf(stdout, "user %s (%s) created; one-time password (change at first login):\n%s\n", u.Username, u.Role, nu.Password)
		return nil
	})
}

func cmdUserReset(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var username string
	return withApp(ctx, "user reset", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "login name (required)")
	}, func(a *app) error {
		u, err := a.orgs.UserByName(ctx, username)
		if err != nil {
			return fmt.Errorf("--username %q: no such user", username)
		}
		pw := oneTimePassword()
		if err := a.orgs.SetPassword(ctx, org.System, u.ID, pw, true, ""); err != nil {
			return explain(err)
		}
		fmt.Fprintf(stdout, "password of %s reset; one-time password (change at first login):\n%s\n", u.Username, pw)
		return nil
	})
}

// cmdUserResetTwoFactor turns a user's two-factor sign-in off: a lost
// phone when no administrator can sign in, or secrets sealed with a data
// key that is gone.
func cmdUserResetTwoFactor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var username string
	return withApp(ctx, "user reset-2fa", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "login name (required)")
	}, func(a *app) error {
		u, err := a.orgs.UserByName(ctx, username)
		if err != nil {
			return fmt.Errorf("--username %q: no such user", username)
		}
		if err := a.orgs.ResetTOTP(ctx, org.System, u.ID); err != nil {
			return explain(err)
		}
		fmt.Fprintf(stdout, "two-factor sign-in of %s turned off and their sessions ended; they enrol again at the next sign-in\n", u.Username)
		return nil
	})
}

func cmdTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var name, unit, scope string
	return withApp(ctx, "token create", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "what the token is for, e.g. 12345-hotline (required)")
		fs.StringVar(&unit, "unit", "", "unit code: the token then acts as that unit's handler")
		fs.StringVar(&scope, "scope", "", "what the token may do: open311 (the Open311 endpoints only; the default without --unit), file (Open311 and filing cases on the staff API, no reading), read (the staff API's reads, city-wide), unit (the default with --unit)")
	}, func(a *app) error {
		var unitID int64
		if unit != "" {
			u, err := a.orgs.UnitByCode(ctx, unit)
			if err != nil {
				return fmt.Errorf("--unit %s: no such unit", unit)
			}
			unitID = u.ID
		}
		t, err := a.orgs.CreateScopedToken(ctx, org.System, name, unitID, scope)
		if err != nil {
			return explain(err)
		}
		fmt.Fprintf(stdout, "API token %q created (role %s, scope %s). Send it as \"Authorization: Bearer <token>\". It is shown only once:\n%s\n", t.Name, t.Role, t.Scope, t.Secret)
		return nil
	})
}

func cmdTokenRotate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var name string
	return withApp(ctx, "token rotate", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "the name of the live token to rotate (required)")
	}, func(a *app) error {
		ts, err := a.orgs.Tokens(ctx)
		if err != nil {
			return err
		}
		var id int64
		for _, t := range ts {
			if t.Name == strings.TrimSpace(name) && !t.Revoked {
				id = t.ID // the newest, listed last
			}
		}
		if id == 0 {
			return fmt.Errorf("--name %q: no live token of that name", name)
		}
		t, err := a.orgs.RotateToken(ctx, org.System, id)
		if err != nil {
			return explain(err)
		}
		fmt.Fprintf(stdout, "API token %q rotated (role %s, scope %s); the old one stays valid until it is revoked in the console. It is shown only once:\n%s\n", t.Name, t.Role, t.Scope, t.Secret)
		return nil
	})
}

func cmdAuditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withApp(ctx, "audit verify", args, stderr, nil, func(a *app) error {
		rep, err := audit.Verify(ctx, a.db)
		if err != nil {
			return err
		}
		if !rep.OK {
			fmt.Fprintf(stdout, "BROKEN: entry %d, chain position %d: %s (%d entries checked before it)\n", rep.BrokenSeq, rep.BrokenLink, rep.Problem, max(rep.Entries-1, 0))
			return exitCode(1)
		}
		fmt.Fprintf(stdout, "OK: %d entries, chain intact; head %d %s\n(keep this head hash outside the database to detect a rewrite of the whole chain)\n", rep.Entries, rep.HeadSeq, rep.HeadHash)
		if rep.Pending > 0 {
			fmt.Fprintf(stdout, "%d entries committed during the check are queued for the chain (checked at the next run)\n", rep.Pending)
		}
		return nil
	})
}

// explain renders a domain error in English for the command line.
func explain(err error) error {
	msg, lerr := i18n.Load()
	if lerr != nil {
		return err
	}
	if e, ok := apperr.As(err); ok {
		return errors.New(msg.T("en", e.Key, e.Args...))
	}
	return err
}
