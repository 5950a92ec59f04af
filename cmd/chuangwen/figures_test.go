package main

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/demo"

	_ "modernc.org/sqlite"
)

// TestAuditFigures proves a demo city's figures from its trail, then
// finds a hand edit of one task row.
func TestAuditFigures(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	d := "--data=" + data
	// The demo city's cases without its grid (whose import is most of a
	// demo load's time, and no part of the figures).
	err := withApp(context.Background(), "test", []string{d}, io.Discard, nil, func(a *app) error {
		_, err := demo.Load(context.Background(), a.orgs, a.flow, demo.Options{Cases: 15, Days: 20})
		return err
	})
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	now := time.Now().In(mustZone(t))
	today, from := now.Format(time.DateOnly), now.AddDate(0, 0, -30).Format(time.DateOnly)
	out, err := runCmd(t, "audit", "figures", d, "--from", from, "--to", today)
	if err != nil || !strings.Contains(out, "OK: the figures of ") {
		t.Fatalf("audit figures: %v\n%s", err, out)
	}
	t.Log(out)

	for _, args := range [][]string{
		{"--from", from},
		{"--from", "2026-13-01", "--to", today},
		{"--from", today, "--to", from},
	} {
		if out, err := runCmd(t, append([]string{"audit", "figures", d}, args...)...); err == nil {
			t.Errorf("audit figures %v: no error\n%s", args, out)
		}
	}

	// A hand edit of one task: an extension the trail never granted.
	db, err := sql.Open("sqlite", filepath.Join(data, "chuangwen.db"))
	if err != nil {
		t.Fatal(err)
	}
	// A dispatch the figures count as due and not yet extended: one that
	// already had an extension would stay "extended" (the first version
	// of this test picked such a one when the demo's clock made it so).
	res, err := db.Exec(`UPDATE dispatches SET extensions = 1 WHERE id = (SELECT MIN(id) FROM dispatches
		WHERE handled_at > 0 AND voided_at = 0 AND returned_at = 0 AND extensions = 0)`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("tamper: %d rows changed", n)
	}
	db.Close()
	out, err = runCmd(t, "audit", "figures", d, "--from", from, "--to", today)
	var ec exitCode
	if !errors.As(err, &ec) || ec != 1 || !strings.Contains(out, "DIFFERENT: ") || !strings.Contains(out, "extended") {
		t.Fatalf("audit figures after tampering: %v\n%s", err, out)
	}
	t.Log(out)
}

func mustZone(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// The command's days are whole days in the city's zone, the last one
// included: the period is [first day 00:00, day after the last 00:00).
func TestFiguresPeriod(t *testing.T) {
	loc := mustZone(t)
	p, err := figuresPeriod("2026-10-01", "2026-12-31", loc)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 10, 1, 0, 0, 0, 0, loc); !p.From.Equal(want) {
		t.Errorf("from = %s, want %s", p.From, want)
	}
	if want := time.Date(2027, 1, 1, 0, 0, 0, 0, loc); !p.To.Equal(want) {
		t.Errorf("to = %s, want %s", p.To, want)
	}
	if p, err := figuresPeriod("2026-11-16", "2026-11-16", loc); err != nil || p.To.Sub(p.From) != 24*time.Hour {
		t.Errorf("one day = %v, %v", p, err)
	}
}
