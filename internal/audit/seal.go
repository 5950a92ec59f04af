package audit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"chuangwen/internal/store"
)

// sealBatch bounds the events one sealing transaction takes.
const sealBatch = 2000

// queued reads the queue's first entries (up to sealBatch), then their
// events by key, in the queue's order. Two statements, so that the
// planner sees how many keys it looks up: as one join (or one IN with a
// subquery), PostgreSQL planned for the queue its statistics remembered,
// which under a load were taken while thousands of events waited, and so
// merged the queue with the trail's whole key from its first entry, or
// scanned the trail (16 ms a tick at 67,000 events, a third of a core
// under the intake's load, and growing with the trail:
// TestSealerReadsTheQueueByKey).
func queued(ctx context.Context, tx *store.Tx) ([]Entry, error) {
	seqs, err := store.Int64s(ctx, tx, `SELECT seq FROM audit_pending ORDER BY seq LIMIT ?`, sealBatch)
	if err != nil || len(seqs) == 0 {
		return nil, err
	}
	q, args := queuedEvents(tx.Dialect(), seqs)
	return store.Collect(ctx, tx, scan, q, args...)
}

// queuedEvents is the read of the events with the given keys: an array
// on PostgreSQL (one statement text whatever their number), a list on
// SQLite.
func queuedEvents(d store.Dialect, seqs []int64) (string, []any) {
	cols := `SELECT ` + entryColumns("e.", false) + ` FROM events e WHERE `
	if d == store.Postgres {
		return cols + `e.seq = ANY(?) ORDER BY e.seq`, []any{seqs}
	}
	args := make([]any, len(seqs))
	for i, s := range seqs {
		args[i] = s
	}
	return cols + `e.seq IN ` + store.In(len(seqs)) + ` ORDER BY e.seq`, args
}

// Seal gives every queued event its place in the chain (see the package
// comment) and returns how many it sealed. Concurrent sealers (several
// server processes on one PostgreSQL) queue on the head's lock; the
// second finds the queue emptied by the first.
func Seal(ctx context.Context, db *store.DB) (int, error) {
	total := 0
	for {
		n, err := sealOnce(ctx, db)
		total += n
		if err != nil || n < sealBatch {
			return total, err
		}
	}
}

func sealOnce(ctx context.Context, db *store.DB) (int, error) {
	n := 0
	err := db.WithTx(ctx, func(tx *store.Tx) error {
		n = 0
		var link int64
		var prev string
		// The head's lock first: sealers take their turns here.
		if err := tx.QueryRow(ctx, `UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash`).Scan(&link, &prev); err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
		batch, err := queued(ctx, tx)
		if err != nil {
			return fmt.Errorf("audit seal: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		type seal struct {
			link, seq  int64
			prev, hash string
		}
		seals := make([]seal, len(batch))
		for i := range batch {
			e := &batch[i]
			e.PrevHash = prev
			link++
			prev = e.hash()
			seals[i] = seal{link, e.Seq, e.PrevHash, prev}
		}
		const perStmt = 500
		for start := 0; start < len(seals); start += perStmt {
			chunk := seals[start:min(start+perStmt, len(seals))]
			var b strings.Builder
			b.WriteString(`INSERT INTO audit_seals (link, seq, prev_hash, hash) VALUES `)
			args := make([]any, 0, 4*len(chunk))
			seqs := make([]any, 0, len(chunk))
			for i, s := range chunk {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString("(?,?,?,?)")
				args = append(args, s.link, s.seq, s.prev, s.hash)
				seqs = append(seqs, s.seq)
			}
			if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
				return fmt.Errorf("audit seal: %w", err)
			}
			if _, err := tx.Exec(ctx, `DELETE FROM audit_pending WHERE seq IN `+store.In(len(seqs)), seqs...); err != nil {
				return fmt.Errorf("audit seal: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, link, prev); err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
		n = len(batch)
		return nil
	})
	return n, err
}

// RunSealer seals queued events every interval until ctx ends: a cheap
// look at the queue first, a sealing transaction only when it holds
// something, so an idle server writes nothing. logf reports failures
// (the events stay queued and the next round tries again).
func RunSealer(ctx context.Context, db *store.DB, interval time.Duration, logf func(format string, args ...any)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		var queued bool
		err := db.Reader().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_pending)`).Scan(&queued)
		if err == nil && queued {
			_, err = Seal(ctx, db)
		}
		if err != nil && ctx.Err() == nil && logf != nil {
			logf("audit seal: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// entryColumns lists the events' columns that scan reads, as a select
// list with each column prefixed by p; outer wraps every column for the
// NULLs of a LEFT JOIN's missing row.
func entryColumns(p string, outer bool) string {
	names := []string{"seq", "at", "actor_id", "actor_name", "actor_role", "actor_unit_id", "action", "case_id", "from_state", "to_state", "opinion", "data"}
	out := make([]string, len(names))
	for i, c := range names {
		ref := p + c
		switch c {
		case "actor_id", "actor_unit_id", "case_id":
			ref = "COALESCE(" + ref + ", 0)"
		case "seq", "at":
			if outer {
				ref = "COALESCE(" + ref + ", 0)"
			}
		default:
			if outer {
				ref = "COALESCE(" + ref + ", '')"
			}
		}
		out[i] = ref
	}
	return strings.Join(out, ", ")
}

// Report is the result of Verify.
type Report struct {
	Entries int64 `json:"entries"`
	// HeadSeq is the head's position in the chain (the link of the last
	// sealed entry); HeadHash its hash.
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	OK       bool   `json:"ok"`
	// BrokenSeq is the first entry (its seq) whose link or content does
	// not check out, and BrokenLink its position in the chain (0 when
	// OK, or when what is missing has no seq or no position); Problem
	// says what is wrong with it.
	BrokenSeq  int64  `json:"broken_seq,omitempty"`
	BrokenLink int64  `json:"broken_link,omitempty"`
	Problem    string `json:"problem,omitempty"`
	// Pending counts the entries committed after the sealing that Verify
	// did first, queued for the next (checked to be queued, not yet
	// chained).
	Pending int64 `json:"pending,omitempty"`
}

// Verify seals what is queued, then walks the whole chain in order,
// recomputing every hash, checks the head against the last link, and
// checks that every entry of the trail is in the chain or queued for it.
// The walk reads from db's read side.
func Verify(ctx context.Context, db *store.DB) (Report, error) {
	var r Report
	if _, err := Seal(ctx, db); err != nil {
		return r, err
	}
	q := db.Reader()
	// The head and the chain's last link in one statement (one
	// snapshot): no seal may lie beyond the head, where the walk below
	// would not go (it would mark its entry as chained without checking
	// it; the engines refuse such a seal since migration 0033, and this
	// finds one made behind their back). Gaps up to the head are the
	// walk's to find.
	var maxLink int64
	if err := q.QueryRow(ctx, `SELECT h.seq, h.hash, (SELECT COALESCE(MAX(link), 0) FROM audit_seals)
		FROM audit_head h WHERE h.id = 1`).Scan(&r.HeadSeq, &r.HeadHash, &maxLink); err != nil {
		return r, fmt.Errorf("audit head: %w", err)
	}
	if maxLink > r.HeadSeq {
		r.BrokenLink = r.HeadSeq + 1
		r.Problem = fmt.Sprintf("the head is at position %d but the chain has links up to %d (links added outside the sealer)", r.HeadSeq, maxLink)
		return r, nil
	}
	const page = 5000
	var after int64
	prev := ""
	want := int64(1)
	for {
		// Links sealed after the head was read are left for the next
		// check, so a busy system does not look truncated.
		rows, err := q.Query(ctx, `SELECT s.link, s.seq, s.prev_hash, s.hash, e.seq IS NOT NULL, `+entryColumns("e.", true)+`
			FROM audit_seals s LEFT JOIN events e ON e.seq = s.seq
			WHERE s.link > ? AND s.link <= ? ORDER BY s.link LIMIT ?`, after, r.HeadSeq, page)
		if err != nil {
			return r, fmt.Errorf("audit verify: %w", err)
		}
		n := 0
		for rows.Next() {
			var link, seq int64
			var sPrev, sHash string
			var present bool
			var e Entry
			var at int64
			if err := rows.Scan(&link, &seq, &sPrev, &sHash, &present, &e.Seq, &at, &e.ActorID, &e.ActorName, &e.ActorRole, &e.ActorUnitID,
				&e.Action, &e.CaseID, &e.FromState, &e.ToState, &e.Opinion, &e.Data); err != nil {
				rows.Close()
				return r, err
			}
			e.At = store.Time(at)
			n++
			r.Entries++
			after = link
			problem := ""
			switch {
			case link != want:
				problem = fmt.Sprintf("chain gap: expected position %d, found %d (entries removed)", want, link)
			case !present:
				problem = fmt.Sprintf("entry %d is sealed at position %d but no longer in the trail (entry removed)", seq, link)
			case sPrev != prev:
				problem = "previous-hash link does not match the entry before it"
			default:
				e.PrevHash = prev
				if e.hash() != sHash {
					problem = "content does not match its hash (entry altered)"
				}
			}
			if problem != "" {
				rows.Close()
				r.BrokenSeq, r.BrokenLink, r.Problem = seq, link, problem
				if link != want {
					r.BrokenSeq, r.BrokenLink = 0, want
				}
				return r, nil
			}
			prev = sHash
			want++
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
	if r.HeadSeq != want-1 || r.HeadHash != prev {
		r.BrokenLink = want
		r.Problem = fmt.Sprintf("head says %d entries ending in %.12s, chain has %d ending in %.12s (entries removed from the end)", r.HeadSeq, r.HeadHash, want-1, prev)
		return r, nil
	}
	// Every entry is chained or queued: an entry whose queue row was
	// removed before its sealing would otherwise escape the chain.
	var loose, first int64
	err := q.QueryRow(ctx, `SELECT count(*), COALESCE(MIN(e.seq), 0) FROM events e
		WHERE NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.seq = e.seq) AND NOT EXISTS (SELECT 1 FROM audit_pending p WHERE p.seq = e.seq)`).Scan(&loose, &first)
	if err != nil {
		return r, fmt.Errorf("audit verify: %w", err)
	}
	if loose == 0 {
		// A queue row without its entry: the entry was removed after its
		// commit and before its sealing.
		err := q.QueryRow(ctx, `SELECT count(*), COALESCE(MIN(p.seq), 0) FROM audit_pending p
			WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.seq = p.seq)`).Scan(&loose, &first)
		if err != nil {
			return r, fmt.Errorf("audit verify: %w", err)
		}
		if loose > 0 {
			r.BrokenSeq = first
			r.Problem = fmt.Sprintf("%d entries (the first: %d) were queued for the chain and are no longer in the trail (entries removed)", loose, first)
			return r, nil
		}
	}
	if loose > 0 {
		r.BrokenSeq = first
		r.Problem = fmt.Sprintf("%d entries (the first: %d) are neither in the chain nor queued for it (queue rows removed)", loose, first)
		return r, nil
	}
	if err := q.QueryRow(ctx, `SELECT count(*) FROM audit_pending`).Scan(&r.Pending); err != nil {
		return r, fmt.Errorf("audit verify: %w", err)
	}
	r.OK = true
	return r, nil
}

// AppendBatch adds many entries in one go (bulk loaders): their numbers
// are taken at once, and the rows are written with multi-row INSERTs
// (queued for sealing like any others).
func AppendBatch(ctx context.Context, tx *store.Tx, entries []*Entry) error {
	if len(entries) == 0 {
		return nil
	}
	seqs, err := nextSeqs(ctx, tx, len(entries))
	if err != nil {
		return err
	}
	for i, e := range entries {
		e.Seq, e.PrevHash, e.Hash = seqs[i], "", ""
		e.At = e.At.UTC().Truncate(time.Millisecond)
	}
	const perStmt = 500 // 12 columns × 500 rows stays under every engine's parameter limit
	for start := 0; start < len(entries); start += perStmt {
		chunk := entries[start:min(start+perStmt, len(entries))]
		var b strings.Builder
		b.WriteString(`INSERT INTO events (seq, at, actor_id, actor_name, actor_role, actor_unit_id, action, case_id, from_state, to_state, opinion, data, prev_hash, hash) VALUES `)
		args := make([]any, 0, len(chunk)*12)
		for i, e := range chunk {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,'','')")
			args = append(args, e.Seq, store.Ms(e.At), nullID(e.ActorID), e.ActorName, e.ActorRole, nullID(e.ActorUnitID), e.Action, nullID(e.CaseID),
				e.FromState, e.ToState, e.Opinion, e.Data)
		}
		if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("audit append batch: %w", err)
		}
	}
	return nil
}

// nextSeqs takes n event numbers: on SQLite (one writer) the next n after
// the highest, on PostgreSQL n from the sequence.
func nextSeqs(ctx context.Context, tx *store.Tx, n int) ([]int64, error) {
	out := make([]int64, 0, n)
	if tx.Dialect() == store.SQLite {
		var last int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&last); err != nil {
			return nil, fmt.Errorf("audit numbers: %w", err)
		}
		for i := 1; i <= n; i++ {
			out = append(out, last+int64(i))
		}
		return out, nil
	}
	seqs, err := store.Int64s(ctx, tx, `SELECT nextval(pg_get_serial_sequence('events', 'seq')) FROM generate_series(1, ?)`, n)
	if err != nil {
		return nil, fmt.Errorf("audit numbers: %w", err)
	}
	return seqs, nil
}
