// Package audit keeps the trail: one append-only table of events (every
// action on a case and every administrative change) linked into a hash
// chain. Each link carries the hash of the one before it, so changing,
// inserting or removing an event anywhere breaks the chain, and Verify
// finds the first broken link. The chain makes tampering evident, not
// impossible: someone able to rewrite the whole trail and its head can
// forge it, which is why Verify also prints the head hash for the
// operator to keep outside the database.
//
// Writers do not build the chain themselves. Append adds the event and a
// trigger queues it (audit_pending) in the same transaction; Seal, run by
// the server every few milliseconds and by Verify first, takes the head's
// lock once for everything queued, gives each event the next position of
// the chain (its link) with the previous hash and its own, and moves the
// head (audit_seals, audit_head). Writers therefore never wait for one
// another on the head, and the chain's order is the order in which the
// sealer found the events committed. Between its commit and its seal an
// event is covered by the queue: Verify seals first, and reports an event
// that is neither sealed nor queued.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"chuangwen/internal/store"
)

// Entry is one event of the trail.
type Entry struct {
	Seq         int64     `json:"seq"`
	At          time.Time `json:"at"`
	ActorID     int64     `json:"actor_id,omitempty"`
	ActorName   string    `json:"actor_name"`
	ActorRole   string    `json:"actor_role"`
	ActorUnitID int64     `json:"actor_unit_id,omitempty"`
	Action      string    `json:"action"`
	CaseID      int64     `json:"case_id,omitempty"`
	FromState   string    `json:"from_state,omitempty"`
	ToState     string    `json:"to_state,omitempty"`
	Opinion     string    `json:"opinion,omitempty"`
	// Data is a JSON object with the action's particulars (units,
	// deadlines, photo hashes, changed fields).
	Data string `json:"data,omitempty"`
	// PrevHash and Hash are the entry's chain link, set by Seal and read
	// by Verify (not by the trail's readers).
	PrevHash string `json:"-"`
	Hash     string `json:"-"`
}

// hash computes the entry's hash over its previous hash and every field,
// each length-prefixed so that no two different entries encode alike.
func (e *Entry) hash() string {
	h := sha256.New()
	var buf [8]byte
	put := func(s string) {
		binary.BigEndian.PutUint64(buf[:], uint64(len(s)))
		h.Write(buf[:])
		h.Write([]byte(s))
	}
	num := func(n int64) { put(strconv.FormatInt(n, 10)) }
	put(e.PrevHash)
	num(e.Seq)
	num(store.Ms(e.At))
	num(e.ActorID)
	put(e.ActorName)
	put(e.ActorRole)
	num(e.ActorUnitID)
	put(e.Action)
	num(e.CaseID)
	put(e.FromState)
	put(e.ToState)
	put(e.Opinion)
	put(e.Data)
	return hex.EncodeToString(h.Sum(nil))
}

// Append adds e to the trail inside tx and returns its sequence number.
// The entry is sealed into the chain after the commit (Seal); a trigger
// queues it for that in the same transaction.
func Append(ctx context.Context, tx *store.Tx, e *Entry) (int64, error) {
	q, args := insertEntry(tx.Dialect(), e)
	if err := tx.QueryRow(ctx, q+` RETURNING seq`, args...).Scan(&e.Seq); err != nil {
		return 0, fmt.Errorf("audit append: %w", err)
	}
	return e.Seq, nil
}

// AppendDeferred adds e to the trail inside tx as Append does, when the
// caller needs no sequence number: on PostgreSQL the insert waits for the
// transaction's next round trip (store.Tx.Defer). e.Seq is not set.
func AppendDeferred(ctx context.Context, tx *store.Tx, e *Entry) error {
	q, args := insertEntry(tx.Dialect(), e)
	if err := tx.Defer(ctx, q, args...); err != nil {
		return fmt.Errorf("audit append: %w", err)
	}
	return nil
}

// insertEntry is the INSERT of one entry, unchained, and its arguments.
// PostgreSQL numbers it from the events' sequence; SQLite, with one
// writer at a time, takes the highest number so far plus one.
func insertEntry(d store.Dialect, e *Entry) (string, []any) {
	e.At = e.At.UTC().Truncate(time.Millisecond)
	e.PrevHash, e.Hash = "", ""
	q := `INSERT INTO events (at, actor_id, actor_name, actor_role, actor_unit_id, action, case_id, from_state, to_state, opinion, data, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '')`
	if d == store.SQLite {
		q = `INSERT INTO events (seq, at, actor_id, actor_name, actor_role, actor_unit_id, action, case_id, from_state, to_state, opinion, data, prev_hash, hash)
		VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM events), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '')`
	}
	return q, []any{store.Ms(e.At), nullID(e.ActorID), e.ActorName, e.ActorRole, nullID(e.ActorUnitID), e.Action, nullID(e.CaseID),
		e.FromState, e.ToState, e.Opinion, e.Data}
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

var columns = entryColumns("", false)

func scan(rows store.Scanner) (Entry, error) {
	var e Entry
	var at int64
	err := rows.Scan(&e.Seq, &at, &e.ActorID, &e.ActorName, &e.ActorRole, &e.ActorUnitID, &e.Action, &e.CaseID, &e.FromState, &e.ToState, &e.Opinion, &e.Data)
	e.At = store.Time(at)
	return e, err
}

// ForCase returns the trail of one case, oldest first.
func ForCase(ctx context.Context, q store.Queryer, caseID int64) ([]Entry, error) {
	out, err := list(ctx, q, `SELECT `+columns+` FROM events WHERE case_id = ? ORDER BY seq`, caseID)
	if err != nil {
		return nil, fmt.Errorf("trail of case %d: %w", caseID, err)
	}
	return out, nil
}

// Recent returns the newest n entries not tied to a case (administration).
func Recent(ctx context.Context, q store.Queryer, n int) ([]Entry, error) {
	return list(ctx, q, `SELECT `+columns+` FROM events WHERE case_id IS NULL ORDER BY seq DESC LIMIT ?`, n)
}

func list(ctx context.Context, q store.Queryer, query string, args ...any) ([]Entry, error) {
	return store.Collect(ctx, q, scan, query, args...)
}
