package audit

import (
	"context"
	"strings"
	"testing"

	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

// TestSealerReadsTheQueueByKey: on PostgreSQL, with statistics taken
// while 20,000 events waited in the queue (as under a load, where the
// queue's statistics are whatever the last ANALYZE saw) and a short queue
// now, the sealer reads the queued events through the trail's key, one
// by one, and never walks or scans the whole trail.
func TestSealerReadsTheQueueByKey(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := context.Background()
	if _, err := db.Exec(ctx, `INSERT INTO events (at, actor_name, actor_role, action, case_id, from_state, to_state, opinion, data, prev_hash, hash)
		SELECT 1764547200000 + i, '甲', 'acceptor', 'accept', i, '', '', '', '', '', '' FROM generate_series(1, 20000) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `ANALYZE events, audit_pending`); err != nil {
		t.Fatal(err)
	}
	if _, err := Seal(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO events (at, actor_name, actor_role, action, case_id, from_state, to_state, opinion, data, prev_hash, hash)
		SELECT 1764550000000 + i, '乙', 'handler', 'feedback', i, '', '', '', '', '', '' FROM generate_series(1, 30) AS i`); err != nil {
		t.Fatal(err)
	}
	var plan []string
	err := db.WithTx(ctx, func(tx *store.Tx) error {
		seqs, err := store.Int64s(ctx, tx, `SELECT seq FROM audit_pending ORDER BY seq LIMIT ?`, sealBatch)
		if err != nil {
			return err
		}
		if len(seqs) != 30 {
			t.Errorf("%d events queued, want 30", len(seqs))
		}
		q, args := queuedEvents(tx.Dialect(), seqs)
		plan, err = store.Collect(ctx, tx, func(r store.Scanner) (line string, err error) { return line, r.Scan(&line) }, `EXPLAIN `+q, args...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(plan, "\n")
	if !strings.Contains(got, "Index Scan using events_pkey on events") || strings.Contains(got, "Merge Join") || strings.Contains(got, "Seq Scan on events") {
		t.Errorf("the sealer's read:\n%s", got)
	}
}
