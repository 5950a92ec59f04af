package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// The outgoing queues (the SMS outbox, the webhook deliveries) are tables
// whose rows are sent one at a time, by any number of replicas, with a
// retry schedule. A row has the columns id, status ('pending' until it is
// done or has failed for good), attempts, next_at (when it is due),
// lease_until (a replica is sending it until then) and last_error. Claim
// and Settle are the two halves of one attempt; the caller sends between
// them, outside any transaction.

// Claim leases one due row until until. query selects it, its WHERE
// asking for a pending row that is due and whose lease has run out,
// ordered by when it is due; scan reads the row and returns its id (scan
// first, then return the id: Go does not order a return's operands
// against a call among them). On PostgreSQL the row is read FOR UPDATE
// SKIP LOCKED, so that replicas claiming at once get different rows;
// SQLite has one writer. ok is false when no row is due.
func (db *DB) Claim(ctx context.Context, table string, until time.Time, scan func(Scanner) (int64, error), query string, args ...any) (ok bool, err error) {
	err = db.WithTx(ctx, func(tx *Tx) error {
		id, err := scan(tx.QueryRow(ctx, query+db.Dialect.SkipLocked(), args...))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE `+table+` SET lease_until = ? WHERE id = ?`, Ms(until), id)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Col is a column and the value an UPDATE gives it.
type Col struct {
	Name  string
	Value any
}

// Settle ends the attempt at a row that Claim leased and releases the
// lease. attempts counts this attempt. Without failure the row's status
// becomes done; with one it is tried again after schedule[attempts-1],
// or, once the schedule is spent, its status becomes 'failed'. last_error
// keeps failure's words (CleanText, at most 500 characters; empty on
// success), and set's columns take their values in every case (what the
// attempt saw, when the row was done).
func (db *DB) Settle(ctx context.Context, table string, id, attempts int64, failure error, done string, now time.Time, schedule []time.Duration, set ...Col) error {
	cols := []string{"attempts = ?", "lease_until = 0", "last_error = ?"}
	args := []any{attempts, ""}
	switch {
	case failure == nil:
		cols, args = append(cols, "status = ?"), append(args, done)
	case int(attempts) > len(schedule):
		args[1] = CleanText(failure.Error(), 500)
		cols = append(cols, "status = 'failed'")
	default:
		args[1] = CleanText(failure.Error(), 500)
		cols, args = append(cols, "next_at = ?"), append(args, Ms(now.Add(schedule[attempts-1])))
	}
	for _, c := range set {
		cols, args = append(cols, c.Name+" = ?"), append(args, c.Value)
	}
	_, err := db.Exec(ctx, `UPDATE `+table+` SET `+strings.Join(cols, ", ")+` WHERE id = ?`, append(args, id)...)
	return err
}

// CleanText is a text from outside (a remote server's error, a browser's
// user agent) as the store keeps it: valid UTF-8 without NUL bytes, which
// PostgreSQL refuses, cut to at most max characters.
func CleanText(s string, max int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "?")
	if r := []rune(s); len(r) > max {
		s = string(r[:max])
	}
	return s
}
