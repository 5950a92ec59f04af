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
	q := []string{"DROP TRIGGER events_no_update", "DROP TRIGGER events_no_delete"}
	if db.Dialect == store.Postgres {
		q = []string{"DROP TRIGGER events_no_update ON events"}
	}
	for _, s := range q {
		if _, err := db.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	tamper := []struct {
		name   string
		sql    string
		broken int64
	}{
		{"altered opinion", "UPDATE events SET opinion = '伪造' WHERE seq = 7", 7},
		{"altered actor in a batch row", "UPDATE events SET actor_name = '丙' WHERE seq = 15", 15},
		{"altered time", "UPDATE events SET at = at + 1000 WHERE seq = 3", 3},
		{"deleted middle row", "DELETE FROM events WHERE seq = 10", 11},
		{"deleted tail", "DELETE FROM events WHERE seq = 20", 20},
		{"relinked row", "UPDATE events SET prev_hash = 'x' WHERE seq = 2", 2},
	}
	for _, tc := range tamper {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Both(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				fill(t, db, 10)
				rep, err := audit.Verify(ctx, db.Reader())
				if err != nil || !rep.OK || rep.Entries != 20 {
					t.Fatalf("before tampering: %+v %v", rep, err)
				}
				dropTriggers(t, db)
				if _, err := db.Exec(ctx, tc.sql); err != nil {
					t.Fatal(err)
				}
				rep, err = audit.Verify(ctx, db.Reader())
				if err != nil {
					t.Fatal(err)
				}
				if rep.OK || rep.BrokenSeq != tc.broken {
					t.Fatalf("after %s: %+v, want broken at %d", tc.sql, rep, tc.broken)
				}
			})
		})
	}
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
		rep, err := audit.Verify(ctx, db.Reader())
		if err != nil || !rep.OK || rep.Entries != 200 {
			t.Fatalf("%+v %v", rep, err)
		}
	})
}
