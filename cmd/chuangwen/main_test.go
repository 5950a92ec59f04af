package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String() + errb.String(), err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestCommands runs the administrative subcommands against one data
// folder, the way an operator would, ending with a hand edit of the trail
// that audit verify must catch.
func TestCommands(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	d := "--data=" + data
	if out, err := runCmd(t, "migrate", d); err != nil || !strings.Contains(out, "migrations applied") {
		t.Fatalf("migrate: %v %s", err, out)
	}
	out, err := runCmd(t, "demo", d, "--cases", "30")
	if err != nil || !strings.Contains(out, "acceptor1") || !strings.Contains(out, "published (public at /bulletins/") {
		t.Fatalf("demo: %v %s", err, out)
	}
	// The demo's bulletin verifies.
	code := regexp.MustCompile(`bulletin (\S+) published`).FindStringSubmatch(out)
	if code == nil {
		t.Fatalf("no bulletin in %s", out)
	}
	if out, err := runCmd(t, "report", "verify", d, "--bulletin", code[1]); err != nil || !strings.Contains(out, "every figure recomputes") {
		t.Errorf("verify the demo's bulletin: %v %s", err, out)
	}
	if _, err := runCmd(t, "demo", d, "--cases", "30"); err == nil {
		t.Fatal("a second demo load into the same database succeeded")
	}
	out, err = runCmd(t, "token", "create", d, "--name", "12345热线")
	if err != nil || !strings.HasPrefix(lastLine(out), "cw_") {
		t.Fatalf("token create: %v %s", err, out)
	}
	if _, err := runCmd(t, "token", "create", d, "--name", "x", "--unit", "NOPE"); err == nil {
		t.Fatal("token for an unknown unit was created")
	}
	if out, err := runCmd(t, "token", "create", d, "--name", "12345热线"); err == nil || !strings.Contains(err.Error(), "rotate") {
		t.Fatalf("a second live token of one name: %v %s", err, out)
	}
	out, err = runCmd(t, "token", "rotate", d, "--name", "12345热线")
	if err != nil || !strings.HasPrefix(lastLine(out), "cw_") || !strings.Contains(out, "stays valid") {
		t.Fatalf("token rotate: %v %s", err, out)
	}
	if _, err := runCmd(t, "token", "rotate", d, "--name", "无此令牌"); err == nil {
		t.Fatal("rotated a token that does not exist")
	}
	out, err = runCmd(t, "user", "add", d, "--username", "newbie", "--role", "inspector")
	if err != nil || !strings.Contains(out, "one-time password") {
		t.Fatalf("user add: %v %s", err, out)
	}
	if out, err := runCmd(t, "user", "add", d, "--username", "h2", "--role", "handler"); err == nil || !strings.Contains(err.Error(), "unit") {
		t.Fatalf("handler without unit: %v %s", err, out)
	}
	if out, err := runCmd(t, "user", "reset", d, "--username", "newbie"); err != nil || len(lastLine(out)) < 10 {
		t.Fatalf("user reset: %v %s", err, out)
	}
	if out, err := runCmd(t, "audit", "verify", d); err != nil || !strings.HasPrefix(out, "OK:") {
		t.Fatalf("audit verify: %v %s", err, out)
	}
	if _, err := runCmd(t, "serve", d, "--log-level", "loud"); err == nil || !strings.Contains(err.Error(), "log-level") {
		t.Fatalf("bad log level accepted: %v", err)
	}
	if _, err := runCmd(t, "frobnicate"); err == nil {
		t.Fatal("unknown command accepted")
	}

	backupDrill(t, data)

	// A hand edit in the database breaks the chain.
	db, err := sql.Open("sqlite", filepath.Join(data, "chuangwen.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TRIGGER events_no_update", "UPDATE events SET opinion = '已整改' WHERE seq = (SELECT MIN(seq) FROM events WHERE case_id IS NOT NULL)"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	out, err = runCmd(t, "audit", "verify", d)
	var ec exitCode
	if !errors.As(err, &ec) || ec != 1 || !strings.HasPrefix(out, "BROKEN: entry ") {
		t.Fatalf("audit verify after tampering: %v %s", err, out)
	}
}

// TestServeAndShutdown starts the program on a free port, checks that it
// answers, and stops it as SIGTERM would (by ending its context).
func TestServeAndShutdown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() { done <- run(ctx, []string{"serve", "--data", t.TempDir(), "--addr", addr}, &out, io.Discard) }()
	// A first start migrates a new database and hashes the admin's
	// password at the production cost, which under -race on a busy
	// 2-core machine takes seconds: wait for it, or for serve to fail.
	var res *http.Response
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if res, err = http.Get(fmt.Sprintf("http://%s/healthz", addr)); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended before answering: %v", err)
		default:
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("healthz: %d", res.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(out.String(), "one-time password") {
		t.Fatalf("first start did not print the admin's one-time password: %s", out.String())
	}
}
