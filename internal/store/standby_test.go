package store_test

import (
	"context"
	"testing"
	"time"

	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

// TestStandbyRefusals: a standby is only for PostgreSQL, and a server that
// is not in recovery (a second primary, or a promoted standby) never takes
// the reads: they stay on the primary. (Reads reaching a real standby,
// and not for a request marked Primary, are TestFailoverToStandby's, in
// cmd/chuangwen.)
func TestStandbyRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lite := storetest.SQLite(t)
	if err := lite.AttachStandby("postgres://postgres@127.0.0.1:5432/test"); err == nil {
		t.Error("a SQLite database took a standby")
	}
	if lite.Standby(ctx) == nil || lite.HasStandby() || lite.StandbyInUse() {
		t.Error("without a standby, Standby must be the read pool")
	}

	pg := storetest.Postgres(t)
	if err := pg.AttachStandby("/tmp/not-postgres.db"); err == nil {
		t.Error("a SQLite path taken as a standby")
	}
	other := storetest.EmptyPostgres(t) // a primary of its own, not in recovery
	if err := pg.AttachStandby(other); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	pg.WatchStandby(wctx, 200*time.Millisecond, nil)
	if !pg.HasStandby() || pg.StandbyInUse() {
		t.Errorf("a server not in recovery was taken as a caught-up standby (in use: %v)", pg.StandbyInUse())
	}
	// the reads stay on the primary: the database the test created its
	// table in
	if _, err := pg.Exec(ctx, `CREATE TABLE standby_probe (x INT)`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pg.Standby(ctx).QueryRow(ctx, `SELECT count(*) FROM standby_probe`).Scan(&n); err != nil {
		t.Errorf("a read through Standby did not reach the primary: %v", err)
	}
	if err := pg.Standby(store.Primary(ctx)).QueryRow(ctx, `SELECT count(*) FROM standby_probe`).Scan(&n); err != nil {
		t.Errorf("a read marked Primary: %v", err)
	}
}

// TestStandbyFailsBetweenChecks: a standby that was caught up at its last
// check and then goes away (here: nothing listens at its address) fails
// the next read sent to it; the read is answered by the primary all the
// same, and the standby is out of use until a check finds it again.
func TestStandbyFailsBetweenChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := storetest.Postgres(t)
	if err := pg.AttachStandby("postgres://postgres@127.0.0.1:1/test"); err != nil {
		t.Fatal(err)
	}
	pg.MarkStandbyCaughtUp(time.Minute)
	if !pg.StandbyInUse() {
		t.Fatal("the standby marked caught up is not in use")
	}
	if _, err := pg.Exec(ctx, `CREATE TABLE standby_gone (x INT)`); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Exec(ctx, `INSERT INTO standby_gone (x) VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	var x int
	if err := pg.Standby(ctx).QueryRow(ctx, `SELECT x FROM standby_gone`).Scan(&x); err != nil || x != 7 {
		t.Fatalf("a read while the standby is gone: %d, %v (want the primary's 7)", x, err)
	}
	if pg.StandbyInUse() {
		t.Error("the standby stays in use after a failed read")
	}
	rows, err := pg.Standby(ctx).Query(ctx, `SELECT x FROM standby_gone`)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
}
