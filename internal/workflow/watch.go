package workflow

import (
	"context"
	"fmt"
	"time"

	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// sweepBatch bounds one watch transaction, so that a backlog after a long
// outage is worked off in short transactions that do not stall users.
const sweepBatch = 500

// SweepDeadlines marks yellow warnings and overdue cases as of now and
// writes a trail event for each. Its state is the cases table itself, so
// it survives restarts; each update re-checks its condition on the row, so
// two replicas sweeping at once never mark a case twice.
func (s *Service) SweepDeadlines(ctx context.Context) (warned, overdue int, err error) {
	now := s.now()
	// Overdue first: a case past its deadline is marked red, not yellow.
	for _, red := range []bool{true, false} {
		for {
			n, err := s.sweep(ctx, now, red)
			if red {
				overdue += n
			} else {
				warned += n
			}
			if err != nil {
				return warned, overdue, err
			}
			if n < sweepBatch {
				break
			}
		}
	}
	return warned, overdue, nil
}

func (s *Service) sweep(ctx context.Context, now time.Time, red bool) (int, error) {
	var n int
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var q string
		if red {
			// overdue_at is the deadline itself: the moment the case became
			// overdue, not the moment the watch noticed.
			q = `UPDATE cases SET warning = 2, overdue = TRUE, overdue_at = deadline, version = version + 1, updated_at = ?
				WHERE id IN (SELECT id FROM cases WHERE state IN ('dispatched', 'in_progress') AND overdue = FALSE AND deadline > 0 AND deadline <= ? ORDER BY deadline LIMIT ?)
				AND state IN ('dispatched', 'in_progress') AND overdue = FALSE AND deadline > 0 AND deadline <= ?
				RETURNING id, state, COALESCE(dispatch_id, 0), deadline, COALESCE(lead_unit_id, 0)`
		} else {
			q = `UPDATE cases SET warning = 1, version = version + 1, updated_at = ?
				WHERE id IN (SELECT id FROM cases WHERE state IN ('dispatched', 'in_progress') AND warning = 0 AND warn_at > 0 AND warn_at <= ? ORDER BY warn_at LIMIT ?)
				AND state IN ('dispatched', 'in_progress') AND warning = 0 AND warn_at > 0 AND warn_at <= ?
				RETURNING id, state, COALESCE(dispatch_id, 0), deadline, COALESCE(lead_unit_id, 0)`
		}
		rows, err := tx.Query(ctx, q, store.Ms(now), store.Ms(now), sweepBatch, store.Ms(now))
		if err != nil {
			return fmt.Errorf("deadline sweep: %w", err)
		}
		type hit struct {
			id, dispatch, deadline, unit int64
			state                        string
		}
		var hits []hit
		for rows.Next() {
			var h hit
			if err := rows.Scan(&h.id, &h.state, &h.dispatch, &h.deadline, &h.unit); err != nil {
				rows.Close()
				return err
			}
			hits = append(hits, h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		action, alert := Warn, AlertWarned
		if red {
			action, alert = Overdue, AlertOverdue
		}
		for _, h := range hits {
			if red && h.dispatch != 0 {
				if _, err := tx.Exec(ctx, `UPDATE dispatches SET overdue = TRUE WHERE id = ?`, h.dispatch); err != nil {
					return err
				}
			}
			data := map[string]any{"deadline": store.Time(h.deadline)}
			if _, err := s.appendEvent(ctx, tx, org.System, now, h.id, action, State(h.state), State(h.state), "", data, false); err != nil {
				return err
			}
			if err := AlertUnit(ctx, tx, now, alert, h.unit, h.id, ""); err != nil {
				return err
			}
		}
		n = len(hits)
		return nil
	})
	return n, err
}

// Watch runs SweepDeadlines every interval until ctx ends.
func (s *Service) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		w, o, err := s.SweepDeadlines(ctx)
		if err != nil && ctx.Err() == nil {
			s.Log.Error("deadline watch", "err", err)
		} else if w+o > 0 {
			s.Log.Info("deadline watch", "warned", w, "overdue", o)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
