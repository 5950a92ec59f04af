package workflow

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Searching cases (案件检索) by a few typed characters: a part of the case
// number, words of the address or description, a receipt code (查询码),
// or for the office the reporter's phone number.
//
// Chinese is written without spaces between words, so the index holds
// overlapping pairs of characters (bigrams) rather than words: 井盖缺失
// is indexed as 井盖 盖缺 缺失 失, and a query of two or more characters
// is the phrase of its pairs (井盖缺 → "井盖 盖缺", adjacent), one
// character a prefix (缺 → 缺*, which the pair 缺失 or a closing 缺
// begins). Runs of Latin letters and digits are indexed as every suffix
// of the run, so that any part of a number is the prefix of one of its
// terms (2026-000123 → 000123 00123 … 3; query 0012 → 0012*). The
// engines' own full-text indexes do the rest: FTS5 on SQLite, a GIN
// index over a tsvector on PostgreSQL.

// searchMaxRunes bounds a query; searchMaxGroups the groups it may make.
const (
	searchMaxRunes  = 64
	searchMaxGroups = 8
	// suffixRun bounds the Latin run whose suffixes are indexed (a longer
	// one, a URL say, is indexed as itself).
	suffixRun = 32
)

// run is a stretch of text of one kind: Han and other non-Latin letters
// (paired), or Latin letters and digits (suffixed).
type run struct {
	text  []rune
	latin bool
}

// runsOf folds full-width forms and case and splits text into runs;
// everything but letters and digits separates them.
func runsOf(text string) []run {
	text = strings.ToLower(width.Fold.String(text))
	var out []run
	var cur run
	flush := func() {
		if len(cur.text) > 0 {
			out = append(out, cur)
		}
		cur = run{}
	}
	for _, r := range text {
		switch {
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if !cur.latin {
				flush()
				cur.latin = true
			}
			cur.text = append(cur.text, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if cur.latin {
				flush()
			}
			cur.text = append(cur.text, r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// SearchTerms is the text the index holds for a case: the sequence part
// of its number (the year would match every case of the year; a whole
// number is looked up directly), address and description.
func SearchTerms(no, description, address string) string {
	var b strings.Builder
	add := func(text string) {
		for _, r := range runsOf(text) {
			if r.latin {
				if len(r.text) > suffixRun {
					b.WriteString(string(r.text) + " ")
					continue
				}
				for i := range r.text {
					b.WriteString(string(r.text[i:]) + " ")
				}
				continue
			}
			for i := 0; i+1 < len(r.text); i++ {
				b.WriteString(string(r.text[i:i+2]) + " ")
			}
			b.WriteString(string(r.text[len(r.text)-1:]) + " ")
		}
	}
	if _, seq, ok := strings.Cut(no, "-"); ok {
		no = seq
	}
	add(no)
	add(address)
	add(description)
	return strings.TrimSpace(b.String())
}

// searchGroups turns a query into the groups Dialect.SearchQuery writes;
// none when it holds no letter or digit.
func searchGroups(q string) (groups [][]string, prefix []bool) {
	if rs := []rune(q); len(rs) > searchMaxRunes {
		q = string(rs[:searchMaxRunes])
	}
	for _, r := range runsOf(q) {
		if len(groups) == searchMaxGroups {
			break
		}
		switch {
		case r.latin:
			groups, prefix = append(groups, []string{string(r.text)}), append(prefix, true)
		case len(r.text) == 1:
			groups, prefix = append(groups, []string{string(r.text)}), append(prefix, true)
		default:
			var g []string
			for i := 0; i+1 < len(r.text); i++ {
				g = append(g, string(r.text[i:i+2]))
			}
			groups, prefix = append(groups, g), append(prefix, false)
		}
	}
	// A lone character beside longer groups (the 号 of 120号) narrows
	// almost nothing and costs a scan of every case holding it.
	if len(groups) > 1 {
		var g [][]string
		var p []bool
		for i := range groups {
			if len(groups[i]) == 1 && utf8.RuneCountInString(groups[i][0]) == 1 {
				continue
			}
			g, p = append(g, groups[i]), append(p, prefix[i])
		}
		if len(g) > 0 {
			groups, prefix = g, p
		}
	}
	return groups, prefix
}

// On PostgreSQL a case's terms also hold a token for each unit it is
// dispatched to, lead or cooperating ("#u" and the unit's id: a '#' no
// query can contain), so that the index itself narrows a handler's
// search to the unit's cases. Without it, a word found in 33,000 cases of
// a million, of which a unit holds a thousand, made the engine read and
// check all 33,000. The tokens follow every action that changes a case's
// units (indexUnits); the scope condition still decides what a reader
// sees.

// UnitTokensSQL is the unit tokens (PostgreSQL) of the case whose id is
// the SQL expression id, from its lead and cooperating units as its rows
// hold them, as a tsvector. With a placeholder for id, the id is bound
// twice.
func UnitTokensSQL(id string) string {
	return `array_to_tsvector(ARRAY(SELECT '#u' || c.lead_unit_id FROM cases c WHERE c.id = ` + id + ` AND c.lead_unit_id IS NOT NULL
		UNION SELECT '#u' || cu.unit_id FROM case_coop_units cu WHERE cu.case_id = ` + id + `))`
}

// searchUnits sets the unit tokens of one indexed case (its id bound).
// Migration 0030 ran the same over every case.
var searchUnits = `UPDATE case_search s SET terms = ts_delete(s.terms, ARRAY(SELECT lexeme FROM unnest(s.terms) WHERE lexeme LIKE '#u%'))
	|| ` + UnitTokensSQL("s.case_id") + ` WHERE s.case_id = ?`

// indexUnits brings the unit tokens of an indexed case up to date, in tx
// (PostgreSQL; nothing on SQLite).
func indexUnits(ctx context.Context, tx *store.Tx, id int64) error {
	if tx.Dialect() != store.Postgres {
		return nil
	}
	if err := tx.Defer(ctx, searchUnits, id); err != nil {
		return fmt.Errorf("index the units of case %d: %w", id, err)
	}
	return nil
}

// unitToken is the search token of a unit's cases (PostgreSQL), as a
// tsquery literal.
func unitToken(unitID int64) string { return "'#u" + strconv.FormatInt(unitID, 10) + "'" }

// indexNewCase indexes a case filed in tx at the transaction's end (Late):
// outside the savepoints of the intake's group commit, so that the
// batch's cases make one FTS5 segment instead of one each. Its unit
// tokens (PostgreSQL) are written with it: the actions that set its units
// in the meantime leave them to it. no is read then: on PostgreSQL the
// case gets its number at the end of its report.
func indexNewCase(ctx context.Context, tx *store.Tx, id int64, no *string, description, address string) {
	tx.Late(func() error {
		return indexCase(ctx, tx, id, *no, description, address)
	})
}

// indexCase adds a case to the search index in tx; on PostgreSQL with its
// unit tokens as its rows hold them now, in the same insert (an update
// after it wrote every term's GIN entry a second time: 357 µs a new case,
// and seconds a batch for a backlog run over a large city).
func indexCase(ctx context.Context, tx *store.Tx, id int64, no, description, address string) error {
	q, args := tx.Dialect().SearchInsert(1), []any{id, SearchTerms(no, description, address)}
	if tx.Dialect() == store.Postgres {
		q, args = searchInsertWithUnits, append(args, id, id)
	}
	if err := tx.Defer(ctx, q, args...); err != nil {
		return fmt.Errorf("index case %s: %w", no, err)
	}
	return nil
}

// searchInsertWithUnits adds a case to the search index (PostgreSQL) with
// its unit tokens, or writes its row again.
var searchInsertWithUnits = `INSERT INTO case_search (case_id, terms) VALUES (?, to_tsvector('simple', ?) || ` + UnitTokensSQL("?") + `)
	ON CONFLICT (case_id) DO UPDATE SET terms = EXCLUDED.terms`

// PhoneQuery tells whether a search is a phone number, which the office's
// roles search reporters by (and the access log records).
func PhoneQuery(q string) bool { return phoneDigits(q) != "" }

// phoneDigits returns the digits of a query that is a phone number as
// typed (spaces, dashes, a +86 prefix), else "".
func phoneDigits(q string) string {
	q = strings.TrimPrefix(strings.TrimSpace(width.Fold.String(q)), "+86")
	var b strings.Builder
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
		default:
			return ""
		}
	}
	if n := b.Len(); n < 7 || n > 12 {
		return ""
	}
	return b.String()
}

// caseNo returns the query as a whole case number (2026-000123, the dash
// optional), else "".
func caseNo(q string) string {
	q = strings.ReplaceAll(strings.TrimSpace(width.Fold.String(q)), "-", "")
	if len(q) != 10 || strings.Trim(q, "0123456789") != "" {
		return ""
	}
	return q[:4] + "-" + q[4:]
}

// ReceiptAlphabet is the alphabet of receipt codes (查询码): no look-alike
// characters (0/O, 1/I/L).
const ReceiptAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// ReceiptLen is the length of a receipt code: 31^10 ≈ 8×10^14 codes, so
// guessing one is hopeless under the status page's rate limit.
const ReceiptLen = 10

// NormalizeReceipt reads a receipt code as typed: any case, with spaces
// or dashes.
func NormalizeReceipt(code string) (string, bool) {
	code = strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
	if len(code) != ReceiptLen || strings.Trim(code, ReceiptAlphabet) != "" {
		return "", false
	}
	return code, true
}

// searchCond is the list condition of a search: the case a receipt code
// names, or those reported from a phone number (for the roles that see
// reporters), else the cases whose terms match. A query with nothing to
// search matches nothing.
func (s *Service) searchCond(ctx context.Context, actor org.Actor, q string) (string, []any, error) {
	r := s.DB.Reader()
	if code, ok := NormalizeReceipt(width.Fold.String(q)); ok {
		ids, err := store.Int64s(ctx, r, `SELECT case_id FROM receipts WHERE code = ?`, code)
		if err != nil {
			return "", nil, fmt.Errorf("search receipts: %w", err)
		}
		if len(ids) > 0 {
			return "c.id IN (" + idList(ids) + ")", nil, nil
		}
	}
	if no := caseNo(q); no != "" {
		ids, err := store.Int64s(ctx, r, `SELECT id FROM cases WHERE no = ?`, no)
		if err != nil {
			return "", nil, fmt.Errorf("search numbers: %w", err)
		}
		if len(ids) > 0 {
			return "c.id IN (" + idList(ids) + ")", nil, nil
		}
	}
	if phone := phoneDigits(q); phone != "" && actor.CanSeeReporter() {
		ids, err := store.Int64s(ctx, r, `SELECT id FROM cases WHERE reporter_phone = ? AND reporter_phone <> '' LIMIT 1000`, phone)
		if err != nil {
			return "", nil, fmt.Errorf("search phones: %w", err)
		}
		if len(ids) > 0 {
			return "c.id IN (" + idList(ids) + ")", nil, nil
		}
	}
	groups, prefix := searchGroups(q)
	if len(groups) == 0 {
		return "1 = 0", nil, nil
	}
	match := s.DB.Dialect.SearchQuery(groups, prefix)
	if s.DB.Dialect == store.SQLite {
		// The index drives the list (see resolved.driven): FTS5 gives its
		// matches in rowid order, so a page of the newest stops after a
		// page of matches instead of collecting all of them first.
		return searchMatch, []any{match}, nil
	}
	if actor.Scope == org.ScopeUnit && actor.UnitID != 0 {
		return pgUnitCond(pgSearch), []any{match, unitToken(actor.UnitID)}, nil
	}
	return pgSearch, []any{match}, nil
}

// The conditions of a search on PostgreSQL: for a count (the planner's
// choice), and for a page when the count found few matches or many.
const (
	pgSearch     = "c.id IN (SELECT case_id FROM case_search WHERE terms @@ " + pgTSQuery + ")"
	pgSearchFew  = "c.id = ANY(ARRAY(SELECT case_id FROM case_search WHERE terms @@ " + pgTSQuery + "))"
	pgSearchMany = "(SELECT s.terms FROM case_search s WHERE s.case_id = c.id) @@ " + pgTSQuery
	pgTSQuery    = "to_tsquery('simple', ?)"
)

// pgUnitCond is a PostgreSQL search condition narrowed to one unit's
// cases by their token (its second argument).
func pgUnitCond(cond string) string {
	return strings.Replace(cond, pgTSQuery, "("+pgTSQuery+" && ?::tsquery)", 1)
}

// isPGSearch says cond is the count's PostgreSQL search condition, with
// or without a unit's token.
func isPGSearch(cond string) bool { return cond == pgSearch || cond == pgUnitCond(pgSearch) }

// pgAs is the PostgreSQL search condition of kind k narrowed as cond is.
func pgAs(k, cond string) string {
	if strings.Contains(cond, "?::tsquery") {
		return pgUnitCond(k)
	}
	return k
}

// searchMatch is the condition of an index-driven search (SQLite): the
// list reads FROM case_search s CROSS JOIN cases c.
const searchMatch = "s.case_search MATCH ? AND c.id = s.rowid"

// IndexBacklog indexes the cases filed before the search index existed,
// newest first, a batch a transaction, and returns how many it indexed.
// Each batch lowers the mark (counters.search_backfill) in the
// transaction that indexes it, so a restart goes on where it stopped and
// replicas running it together take turns on the locked mark.
func (s *Service) IndexBacklog(ctx context.Context) (int, error) {
	const batch = 2000
	total := 0
	for {
		n := 0
		err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
			var mark int64
			err := tx.QueryRow(ctx, `SELECT value FROM counters WHERE name = 'search_backfill'`+tx.Dialect().ForUpdate()).Scan(&mark)
			if errors.Is(err, sql.ErrNoRows) || err == nil && mark <= 0 {
				return nil
			}
			if err != nil {
				return err
			}
			type row struct {
				id                int64
				no, desc, address string
			}
			rows, err := store.Collect(ctx, tx, func(sc store.Scanner) (r row, err error) {
				return r, sc.Scan(&r.id, &r.no, &r.desc, &r.address)
			}, `SELECT id, no, description, address FROM cases WHERE id <= ? ORDER BY id DESC LIMIT ?`+lockShare(tx), mark, batch)
			if err != nil {
				return err
			}
			next := int64(0)
			for _, r := range rows {
				if err := indexCase(ctx, tx, r.id, r.no, r.desc, r.address); err != nil {
					return err
				}
				next = r.id - 1
			}
			n = len(rows)
			_, err = tx.Exec(ctx, `UPDATE counters SET value = ? WHERE name = 'search_backfill'`, next)
			return err
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("index the backlog: %w", err)
		}
		if n == 0 {
			return total, nil
		}
	}
}

// lockShare is the clause that holds the cases a backlog batch reads
// until it commits (PostgreSQL): an action changing one of them meanwhile
// waits, so that the batch's unit tokens (IndexUnits) are not read before
// the action's change commits and written after it. (SQLite's writer is
// one.)
func lockShare(tx *store.Tx) string {
	if tx.Dialect() == store.Postgres {
		return " FOR SHARE"
	}
	return ""
}

// ResetSearchIndex empties the search index and marks every case to be
// indexed again by IndexBacklog: for when the rules that derive the terms
// change.
func (s *Service) ResetSearchIndex(ctx context.Context) error {
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		clear := `DELETE FROM case_search`
		if tx.Dialect() == store.SQLite {
			clear = `INSERT INTO case_search (case_search) VALUES ('delete-all')`
		}
		if _, err := tx.Exec(ctx, clear); err != nil {
			return fmt.Errorf("empty the search index: %w", err)
		}
		_, err := tx.Exec(ctx, `UPDATE counters SET value = (SELECT COALESCE(MAX(id), 0) FROM cases) WHERE name = 'search_backfill'`)
		return err
	})
}
