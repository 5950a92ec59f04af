// Package audit keeps the trail: one append-only table of events (every
// action on a case and every administrative change) linked into a hash
// chain. Each entry carries the hash of the one before it, so changing,
// inserting or removing a row anywhere breaks the chain, and Verify finds
// the first broken link. The chain makes tampering evident, not impossible:
// someone able to rewrite the whole table and its head can forge it, which
// is why Verify also prints the head hash for the operator to keep outside
// the database.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
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
	Data     string `json:"data,omitempty"`
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
// Taking the head row's lock first makes concurrent writers queue, so the
// chain order is the commit order.
func Append(ctx context.Context, tx *store.Tx, e *Entry) (int64, error) {
	var seq int64
	var prev string
	err := tx.QueryRow(ctx, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`).Scan(&seq, &prev)
	if err != nil {
		return 0, fmt.Errorf("audit head: %w", err)
	}
	e.Seq = seq
	e.PrevHash = prev
	e.At = e.At.UTC().Truncate(time.Millisecond)
	e.Hash = e.hash()
	_, err = tx.Exec(ctx, `INSERT INTO events (seq, at, actor_id, actor_name, actor_role, actor_unit_id, action, case_id, from_state, to_state, opinion, data, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, store.Ms(e.At), nullID(e.ActorID), e.ActorName, e.ActorRole, nullID(e.ActorUnitID), e.Action, nullID(e.CaseID),
		e.FromState, e.ToState, e.Opinion, e.Data, e.PrevHash, e.Hash)
	if err != nil {
		return 0, fmt.Errorf("audit append: %w", err)
	}
	// The events_move_head trigger moves the head's hash to this entry.
	return seq, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

const columns = `seq, at, COALESCE(actor_id, 0), actor_name, actor_role, COALESCE(actor_unit_id, 0), action, COALESCE(case_id, 0), from_state, to_state, opinion, data, prev_hash, hash`

func scan(rows store.Scanner) (Entry, error) {
	var e Entry
	var at int64
	err := rows.Scan(&e.Seq, &at, &e.ActorID, &e.ActorName, &e.ActorRole, &e.ActorUnitID, &e.Action, &e.CaseID, &e.FromState, &e.ToState, &e.Opinion, &e.Data, &e.PrevHash, &e.Hash)
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

// Report is the result of Verify.
type Report struct {
	Entries  int64  `json:"entries"`
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	OK       bool   `json:"ok"`
	// BrokenSeq is the first entry whose link or content does not check
	// out (0 when OK); Problem says what is wrong with it.
	BrokenSeq int64  `json:"broken_seq,omitempty"`
	Problem   string `json:"problem,omitempty"`
}

// Verify walks the whole trail in order, recomputing every hash, and
// checks the head against the last entry.
func Verify(ctx context.Context, q store.Queryer) (Report, error) {
	var r Report
	if err := q.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&r.HeadSeq, &r.HeadHash); err != nil {
		return r, fmt.Errorf("audit head: %w", err)
	}
	const page = 5000
	var after int64
	prev := ""
	wantSeq := int64(1)
	for {
		// Entries committed after the head was read are left for the next
		// check, so a busy system does not look truncated.
		rows, err := q.Query(ctx, `SELECT `+columns+` FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`, after, r.HeadSeq, page)
		if err != nil {
			return r, fmt.Errorf("audit verify: %w", err)
		}
		n := 0
		for rows.Next() {
			e, err := scan(rows)
			if err != nil {
				rows.Close()
				return r, err
			}
			n++
			r.Entries++
			after = e.Seq
			problem := ""
			switch {
			case e.Seq != wantSeq:
				problem = fmt.Sprintf("sequence gap: expected %d, found %d (entries removed)", wantSeq, e.Seq)
			case e.PrevHash != prev:
				problem = "previous-hash link does not match the entry before it"
			case e.hash() != e.Hash:
				problem = "content does not match its hash (entry altered)"
			}
			if problem != "" {
				rows.Close()
				r.BrokenSeq = e.Seq
				r.Problem = problem
				return r, nil
			}
			prev = e.Hash
			wantSeq++
		}
		if err := rows.Close(); err != nil {
			return r, err
		}
		if err := rows.Err(); err != nil {
			return r, err
		}
		if n < page {
			break
		}
	}
	if r.HeadSeq != wantSeq-1 || r.HeadHash != prev {
		r.BrokenSeq = wantSeq
		r.Problem = fmt.Sprintf("head says %d entries ending in %.12s, trail has %d ending in %.12s (entries removed from the end)", r.HeadSeq, r.HeadHash, wantSeq-1, prev)
		return r, nil
	}
	r.OK = true
	return r, nil
}

// AppendBatch adds many entries in one go (bulk loaders): the head is read
// and locked once, the hashes are chained in memory, and rows are written
// with multi-row INSERTs.
func AppendBatch(ctx context.Context, tx *store.Tx, entries []*Entry) error {
	if len(entries) == 0 {
		return nil
	}
	var seq int64
	var prev string
	err := tx.QueryRow(ctx, `UPDATE audit_head SET seq = seq + ? WHERE id = 1 RETURNING seq, hash`, len(entries)).Scan(&seq, &prev)
	if err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	seq -= int64(len(entries))
	for _, e := range entries {
		seq++
		e.Seq, e.PrevHash = seq, prev
		e.At = e.At.UTC().Truncate(time.Millisecond)
		e.Hash = e.hash()
		prev = e.Hash
	}
	const perStmt = 500 // 14 columns × 500 rows stays under every engine's parameter limit
	for start := 0; start < len(entries); start += perStmt {
		chunk := entries[start:min(start+perStmt, len(entries))]
		var b strings.Builder
		b.WriteString(`INSERT INTO events (seq, at, actor_id, actor_name, actor_role, actor_unit_id, action, case_id, from_state, to_state, opinion, data, prev_hash, hash) VALUES `)
		args := make([]any, 0, len(chunk)*14)
		for i, e := range chunk {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
			args = append(args, e.Seq, store.Ms(e.At), nullID(e.ActorID), e.ActorName, e.ActorRole, nullID(e.ActorUnitID), e.Action, nullID(e.CaseID),
				e.FromState, e.ToState, e.Opinion, e.Data, e.PrevHash, e.Hash)
		}
		if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("audit append batch: %w", err)
		}
	}
	return nil // the events_move_head trigger left the head on the last entry
}
