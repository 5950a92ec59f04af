package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"chuangwen/internal/audit"
	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

// fill writes n single entries and a batch of n more.
func fill(t *testing.T, db *store.DB, n int) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	err := db.WithTx(ctx, func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			if _, err := audit.Append(ctx, tx, &audit.Entry{At: at, ActorName: "甲", ActorRole: "acceptor", Action: "accept", CaseID: int64(i + 1), Opinion: fmt.Sprint("同意", i)}); err != nil {
				return err
			}
		}
		var batch []*audit.Entry
		for i := 0; i < n; i++ {
			batch = append(batch, &audit.Entry{At: at, ActorName: "乙", ActorRole: "handler", Action: "feedback", CaseID: int64(i + 1), Data: `{"k":1}`})
		}
		return audit.AppendBatch(ctx, tx, batch)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func dropTriggers(t *testing.T, db *store.DB) {
	t.Helper()
	q := []string{"DROP TRIGGER events_no_update", "DROP TRIGGER events_no_delete", "DROP TRIGGER audit_seals_no_update", "DROP TRIGGER audit_seals_no_delete",
		"DROP TRIGGER audit_seals_in_order"}
	if db.Dialect == store.Postgres {
		q = []string{"DROP TRIGGER events_no_update ON events", "DROP TRIGGER audit_seals_no_update ON audit_seals", "DROP TRIGGER audit_seals_in_order ON audit_seals"}
	}
	for _, s := range q {
		if _, err := db.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	tamper := []struct {
		name      string
		sql       []string
		seq, link int64
		unsealed  bool // tamper before the entries are sealed
	}{
		{"altered opinion", []string{"UPDATE events SET opinion = '伪造' WHERE seq = 7"}, 7, 7, false},
		{"altered actor in a batch row", []string{"UPDATE events SET actor_name = '丙' WHERE seq = 15"}, 15, 15, false},
		{"altered time", []string{"UPDATE events SET at = at + 1000 WHERE seq = 3"}, 3, 3, false},
		{"deleted middle row", []string{"DELETE FROM events WHERE seq = 10"}, 10, 10, false},
		{"deleted tail", []string{"DELETE FROM events WHERE seq = 20"}, 20, 20, false},
		{"deleted row and its seal", []string{"DELETE FROM events WHERE seq = 10", "DELETE FROM audit_seals WHERE link = 10"}, 0, 10, false},
		{"relinked seal", []string{"UPDATE audit_seals SET prev_hash = 'x' WHERE link = 2"}, 2, 2, false},
		{"seal rehashed", []string{"UPDATE audit_seals SET hash = 'x' WHERE link = 4"}, 4, 4, false},
		{"a seal far beyond the head for a queued entry", []string{"INSERT INTO audit_seals (link, seq, prev_hash, hash) VALUES (1000000, 12, '', '')", "DELETE FROM audit_pending WHERE seq = 12"}, 0, 20, true},
		{"queued row dropped before its sealing", []string{"DELETE FROM audit_pending WHERE seq = 12"}, 12, 0, true},
		{"queued entry removed before its sealing", []string{"DELETE FROM events WHERE seq = 9"}, 9, 0, true},
		{"queued entry altered before its sealing", []string{"UPDATE events SET opinion = '伪造' WHERE seq = 5"}, 0, 0, true},
	}
	for _, tc := range tamper {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Both(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				fill(t, db, 10)
				if !tc.unsealed {
					rep, err := audit.Verify(ctx, db)
					if err != nil || !rep.OK || rep.Entries != 20 || rep.HeadSeq != 20 {
						t.Fatalf("before tampering: %+v %v", rep, err)
					}
				}
				dropTriggers(t, db)
				for _, q := range tc.sql {
					if _, err := db.Exec(ctx, q); err != nil {
						t.Fatal(err)
					}
				}
				rep, err := audit.Verify(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				if tc.seq == 0 && tc.link == 0 {
					// Altered before it was chained: the chain holds the
					// altered entry (the window between commit and seal is
					// what the queue cannot cover); it must be whole.
					if !rep.OK || rep.Entries != 20 {
						t.Fatalf("after %s: %+v", tc.sql, rep)
					}
					return
				}
				if rep.OK || rep.BrokenSeq != tc.seq || rep.BrokenLink != tc.link {
					t.Fatalf("after %s: %+v, want broken at entry %d, position %d", tc.sql, rep, tc.seq, tc.link)
				}
			})
		})
	}
}

// Entries are chained after their commit, in batches, and each exactly
// once: sealing twice changes nothing; what commits between two sealings
// goes on from the head.
func TestSealChainsEachEntryOnce(t *testing.T) {
	storetest.Both(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fill(t, db, 5)
		var queued int
		if err := db.Reader().QueryRow(ctx, `SELECT count(*) FROM audit_pending`).Scan(&queued); err != nil || queued != 10 {
			t.Fatalf("queued %d %v, want 10", queued, err)
		}
		if n, err := audit.Seal(ctx, db); err != nil || n != 10 {
			t.Fatalf("sealed %d %v", n, err)
		}
		if n, err := audit.Seal(ctx, db); err != nil || n != 0 {
			t.Fatalf("sealed again %d %v", n, err)
		}
		fill(t, db, 3)
		rep, err := audit.Verify(ctx, db)
		if err != nil || !rep.OK || rep.Entries != 16 || rep.HeadSeq != 16 || rep.Pending != 0 {
			t.Fatalf("%+v %v", rep, err)
		}
		var seals, pending int
		if err := db.Reader().QueryRow(ctx, `SELECT (SELECT count(*) FROM audit_seals), (SELECT count(*) FROM audit_pending)`).Scan(&seals, &pending); err != nil || seals != 16 || pending != 0 {
			t.Fatalf("seals %d, queued %d (%v)", seals, pending, err)
		}
		// Seals are append-only like the trail, and only ever the next link.
		for _, q := range []string{`UPDATE audit_seals SET hash = 'x' WHERE link = 1`, `DELETE FROM audit_seals WHERE link = 1`,
			`INSERT INTO audit_seals (link, seq, prev_hash, hash) VALUES (1000, 1000, '', '')`} {
			if _, err := db.Exec(ctx, q); err == nil {
				t.Errorf("%s: allowed", q)
			}
		}
	})
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	storetest.Both(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		errs := make(chan error, 8)
		for w := 0; w < 8; w++ {
			go func() {
				for i := 0; i < 25; i++ {
					err := db.WithTx(ctx, func(tx *store.Tx) error {
						_, err := audit.Append(ctx, tx, &audit.Entry{At: time.Now(), ActorName: "w", ActorRole: "system", Action: "x"})
						return err
					})
					if err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		for w := 0; w < 8; w++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		rep, err := audit.Verify(ctx, db)
		if err != nil || !rep.OK || rep.Entries != 200 || rep.HeadSeq != 200 {
			t.Fatalf("%+v %v", rep, err)
		}
	})
}
