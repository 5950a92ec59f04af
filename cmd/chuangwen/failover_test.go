package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
	"chuangwen/internal/testcity"
)

// pgCluster is a PostgreSQL server of the test's own: initdb'd into a
// folder that the postgres user owns, listening on a port of its own.
type pgCluster struct {
	t    *testing.T
	bin  string // the server's programs
	dir  string // its data folder
	port int
	log  string
}

// pgTools finds the PostgreSQL server programs and checks that the test
// can run them as the postgres user (initdb refuses root); it skips the
// test otherwise, or fails it where CI says the machine has them
// (CHUANGWEN_REQUIRE_PGCLUSTER=1).
func pgTools(t *testing.T) string {
	t.Helper()
	missing := func(why string) {
		if os.Getenv("CHUANGWEN_REQUIRE_PGCLUSTER") != "" {
			t.Fatal(why + ", and CHUANGWEN_REQUIRE_PGCLUSTER is set")
		}
		t.Skip(why)
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		missing("no PostgreSQL server programs under /usr/lib/postgresql (Debian's postgresql package)")
	}
	if os.Geteuid() != 0 {
		missing("running a cluster of the test's own needs root (to run it as the postgres user)")
	}
	if _, err := exec.LookPath("runuser"); err != nil {
		missing("no runuser (util-linux) to run the cluster as the postgres user")
	}
	return filepath.Dir(bins[len(bins)-1])
}

// asPostgres runs one of the server's programs as the postgres user.
func asPostgres(bin string, args ...string) (string, error) {
	out, err := exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...).CombinedOutput()
	return string(out), err
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start starts the cluster and waits until it accepts connections.
func (c *pgCluster) start() {
	c.t.Helper()
	if out, err := asPostgres(filepath.Join(c.bin, "pg_ctl"), "-D", c.dir, "-l", c.log, "-w", "-t", "60", "start"); err != nil {
		logs, _ := os.ReadFile(c.log)
		c.t.Fatalf("pg_ctl start %s: %v\n%s\n%s", c.dir, err, out, logs)
	}
	c.t.Cleanup(func() {
		_, _ = asPostgres(filepath.Join(c.bin, "pg_ctl"), "-D", c.dir, "-m", "immediate", "-w", "stop")
	})
}

func (c *pgCluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s", c.port, db)
}

func (c *pgCluster) conf(lines ...string) {
	c.t.Helper()
	f, err := os.OpenFile(filepath.Join(c.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n" + strings.Join(lines, "\n") + "\n"); err != nil {
		c.t.Fatal(err)
	}
}

// TestFailoverToStandby: a primary and a standby on streaming replication
// with synchronous commit; one serve process whose --db names both hosts
// (target_session_attrs=read-write) and whose --db-replica is the
// standby. The list reads go to the standby while it is caught up, and
// to the primary for a browser that has just written (the cw_fresh
// cookie). Open311 clients file reports with idempotency keys while the
// primary is killed with SIGKILL and the standby is promoted, as a
// failover manager would; the program reconnects by itself, every
// acknowledged report is on the promoted server exactly once, and the
// trail verifies there.
func TestFailoverToStandby(t *testing.T) {
	storetest.Long(t)
	t.Parallel()
	bin := pgTools(t)
	root, err := os.MkdirTemp("", "chuangwen-failover-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if out, err := exec.Command("chown", "postgres:", root).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	primary := &pgCluster{t: t, bin: bin, dir: filepath.Join(root, "primary"), port: freePort(t), log: filepath.Join(root, "primary.log")}
	standby := &pgCluster{t: t, bin: bin, dir: filepath.Join(root, "standby"), port: freePort(t), log: filepath.Join(root, "standby.log")}
	if out, err := asPostgres(filepath.Join(bin, "initdb"), "-D", primary.dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	primary.conf(fmt.Sprintf("port = %d", primary.port), "listen_addresses = '127.0.0.1'", fmt.Sprintf("unix_socket_directories = '%s'", root),
		"wal_level = replica", "max_wal_senders = 4", "max_connections = 80", "shared_buffers = 32MB")
	primary.start()
	if out, err := asPostgres(filepath.Join(bin, "pg_basebackup"), "-h", "127.0.0.1", "-p", strconv.Itoa(primary.port), "-U", "postgres",
		"-D", standby.dir, "-R", "-X", "stream", "-c", "fast"); err != nil {
		t.Fatalf("pg_basebackup: %v\n%s", err, out)
	}
	// The standby logs every statement, so that the test sees which reads
	// reached it.
	standby.conf(fmt.Sprintf("port = %d", standby.port), "log_statement = 'all'")
	standby.start()

	ctx := context.Background()
	pdb, err := store.Open(ctx, primary.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	// Commits wait for the standby from now on: what is acknowledged is on
	// both servers.
	if _, err := pdb.Exec(ctx, `ALTER SYSTEM SET synchronous_standby_names = '*'`); err != nil {
		t.Fatal(err)
	}
	if _, err := pdb.Exec(ctx, `SELECT pg_reload_conf()`); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var state string
		_ = pdb.Reader().QueryRow(ctx, `SELECT sync_state FROM pg_stat_replication LIMIT 1`).Scan(&state)
		if state == "sync" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the standby did not become synchronous (%q)", state)
		}
	}
	if _, err := pdb.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	city := testcity.New(t, pdb)
	pdb.Close()

	both := fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/postgres?target_session_attrs=read-write", primary.port, standby.port)
	data := t.TempDir()
	token := func(args ...string) string {
		res, err := runCmd(t, append([]string{"token", "create", "--db", both, "--data", data}, args...)...)
		if err != nil {
			t.Fatal(err, res)
		}
		return lastLine(res)
	}
	key, reader := token("--name", "热线"), token("--name", "大屏", "--scope", "read")

	_, base, logs := startServe(t, "on both hosts", "--db", both, "--db-replica", standby.url("postgres"), "--data", data,
		"--log-level", "warn", "--public-reports-per-hour", "0", "--public-reads-per-minute", "0", "--watch-interval", "1s")
	get := func(path string, header ...string) (int, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if code, body := get("/metrics"); code == 200 && strings.Contains(body, "\nchuangwen_standby_in_use 1\n") {
			break
		}
		if time.Now().After(deadline) {
			code, body := get("/metrics")
			t.Fatalf("the standby was not taken into use: %d %.300s\n%s", code, body, logs.String())
		}
	}

	// The list reads go to the standby, but not for a browser that has
	// just written.
	standbyLog := func() string { b, _ := os.ReadFile(standby.log); return string(b) }
	const listQuery = "SELECT count(*) FROM (SELECT 1"
	before := strings.Count(standbyLog(), listQuery)
	if code, body := get("/api/v1/cases?limit=5", "Authorization", "Bearer "+reader); code != 200 {
		t.Fatalf("list: %d %s", code, body)
	}
	time.Sleep(300 * time.Millisecond) // the log is written by the server's backend
	onStandby := strings.Count(standbyLog(), listQuery)
	if onStandby <= before {
		t.Errorf("the list read did not reach the standby (%d statements before, %d after)\n%s", before, onStandby, standbyLog())
	}
	if code, body := get("/api/v1/cases?limit=5", "Authorization", "Bearer "+reader, "Cookie", "cw_fresh=1"); code != 200 {
		t.Fatalf("list: %d %s", code, body)
	}
	time.Sleep(300 * time.Millisecond)
	if n := strings.Count(standbyLog(), listQuery); n != onStandby {
		t.Errorf("a list read right after a write went to the standby (%d list statements there, %d before)", n, onStandby)
	}

	load := startReportLoad(t, 4, base, key, city.Cat4h.Code, "故障切换压测")
	load.waitFor(40, time.Minute)
	// The primary dies mid-load; the standby is promoted, as pg_auto_failover
	// or Patroni would do.
	pidFile, err := os.ReadFile(filepath.Join(primary.dir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(pidFile), "\n", 2)[0]))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killedAt := load.count()
	if out, err := asPostgres(filepath.Join(bin, "pg_ctl"), "-D", standby.dir, "-w", "-t", "60", "promote"); err != nil {
		t.Fatalf("promote: %v %s", err, out)
	}
	promoted := time.Now()
	load.waitFor(killedAt+60, 2*time.Minute)
	took := time.Since(promoted)
	load.finish()
	if t.Failed() {
		return
	}
	if load.count() < killedAt+60 {
		t.Fatalf("%d reports acknowledged after the failover, want 60: the program did not reconnect\n%s", load.count()-killedAt, logs.String())
	}
	t.Logf("%d reports acknowledged, %d before the primary was killed; %d failed attempts retried; 60 more acknowledged within %s of the promotion",
		load.count(), killedAt, load.failures.Load(), took.Round(time.Millisecond))

	// Every acknowledged report is on the promoted server, once.
	sdb, err := store.Open(ctx, standby.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	load.checkOnce(sdb)
	if res, err := runCmd(t, "audit", "verify", "--db", standby.url("postgres"), "--data", data); err != nil || !strings.HasPrefix(res, "OK:") {
		t.Errorf("audit verify on the promoted server: %v %s", err, res)
	}
}
