package assess

import (
	"context"
	"encoding/json"
	"io"
	"math/big"
	"strconv"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Columns of the observations and results files (CSV with a header).
var (
	ObservationColumns = []string{"site", "standard", "result", "problems", "note"}
	ResultColumns      = []string{"region", "standard", "value"}
)

// Observation sources.
const (
	SourceImport = "import" // a file (import-observations)
	SourcePhone  = "phone"  // the inspector's phone view
)

// openRound finds a round that still takes observations and values.
func openRound(ctx context.Context, q store.Queryer, code string) (Round, error) {
	rd, err := roundByCode(ctx, q, code)
	if err != nil {
		return rd, err
	}
	if rd.State == RoundClosed {
		return rd, apperr.New(apperr.Conflict, "assess.round_closed", "round", rd.Code)
	}
	return rd, nil
}

// item is what checking an observation or value needs of an edition's
// standard or negative-list item.
type item struct {
	negative bool
	rule     Rule
	points   *big.Rat
	types    map[string]bool // where it applies; nil: any type (a negative item listing none)
}

// importTarget checks that actor may import into the round and loads the
// round and the items of its edition.
func (s *Service) importTarget(ctx context.Context, actor org.Actor, q store.Queryer, roundCode string) (Round, map[string]item, error) {
	if err := canWrite(actor); err != nil {
		return Round{}, nil, err
	}
	rd, err := openRound(ctx, q, roundCode)
	if err != nil {
		return Round{}, nil, err
	}
	ed, err := s.loadEdition(ctx, q, EditionInfo{ID: rd.EditionID, Code: rd.Edition, Version: rd.EditionVersion})
	if err != nil {
		return Round{}, nil, err
	}
	return rd, editionItems(ed), nil
}

func editionItems(ed Edition) map[string]item {
	out := map[string]item{}
	set := func(ts []string) map[string]bool {
		if len(ts) == 0 {
			return nil
		}
		m := make(map[string]bool, len(ts))
		for _, t := range ts {
			m[t] = true
		}
		return m
	}
	for _, s := range ed.Standards() {
		it := item{rule: s.Rule, points: s.Points, types: set(s.SiteTypes)}
		if it.types == nil {
			it.types = map[string]bool{} // document and survey standards apply at no site
		}
		out[s.Code] = it
	}
	for _, n := range ed.Negative {
		out[n.Code] = item{negative: true, types: set(n.SiteTypes)}
	}
	return out
}

type obsIn struct {
	siteID   int64
	standard string
	result   string
	problems int
	note     string
}

// obsKey identifies an observation within a round.
type obsKey struct {
	site     int64
	standard string
}

// ImportObservations reads a round's observations from CSV (columns site,
// standard, result, problems, note; site, standard and result required)
// and stores them: a site and standard already recorded in the round is
// replaced by the file's row. Every row is checked first: the site must
// be in the round's sample, the standard a field or call standard (or a
// negative-list item) of the round's edition that applies to the site's
// type, the result pass, fail or na, problems a whole number ≥ 0 (empty:
// 0), and a site and standard may appear once. A file with any problem
// stores nothing. A draft round's first import puts it in progress; a
// closed round takes none.
func (s *Service) ImportObservations(ctx context.Context, actor org.Actor, roundCode string, r io.Reader) (ImportReport, []Problem, error) {
	q := s.DB.Reader()
	rd, items, err := s.importTarget(ctx, actor, q, roundCode)
	if err != nil {
		return ImportReport{}, nil, err
	}
	type sampled struct {
		id  int64
		typ string
	}
	sample := map[string]sampled{}
	rows, err := store.Collect(ctx, q, func(r store.Scanner) (x struct {
		code string
		sampled
	}, err error) {
		return x, r.Scan(&x.code, &x.id, &x.typ)
	}, `SELECT s.code, s.id, t.name FROM assess_round_sites x JOIN assess_sites s ON s.id = x.site_id
		JOIN assess_site_types t ON t.id = x.site_type_id WHERE x.round_id = ?`, rd.ID)
	if err != nil {
		return ImportReport{}, nil, err
	}
	for _, x := range rows {
		sample[x.code] = x.sampled
	}
	var known map[string]int64 // every site code, read only when a row names a site outside the sample

	pl := &problemList{}
	t := csvTable(r, pl, ObservationColumns, []string{"site", "standard", "result"})
	if t == nil {
		ps := pl.done()
		return ImportReport{}, ps, problemsError(ps)
	}
	cSite, cStd, cRes := t.col["site"], t.col["standard"], t.col["result"]
	cProb, hasProb := t.col["problems"]
	cNote, hasNote := t.col["note"]
	var obs []obsIn
	first := map[obsKey]int{}
	n := 0
	for {
		rec, row, err := t.next()
		if err == io.EOF || err == errStop {
			break
		}
		n++
		o := obsIn{standard: rec[cStd], result: rec[cRes]}
		ok := true
		bad := func(col, key string, args ...string) {
			t.add(row, col, key, args...)
			ok = false
		}
		site := rec[cSite]
		sm, inSample := sample[site]
		switch {
		case site == "":
			bad("site", "assess.missing", "field", "site")
		case !inSample:
			if known == nil {
				if known, err = codeMap(ctx, q, `SELECT code, id FROM assess_sites`); err != nil {
					return ImportReport{}, nil, err
				}
			}
			if known[site] == 0 {
				bad("site", "assess.unknown_site", "site", site)
			} else {
				bad("site", "assess.not_sampled", "site", site)
			}
		default:
			o.siteID = sm.id
		}
		it, found := items[o.standard]
		switch {
		case o.standard == "":
			bad("standard", "assess.missing", "field", "standard")
		case !found:
			bad("standard", "assess.unknown_standard", "standard", o.standard)
		case !it.negative && !it.rule.Observed():
			bad("standard", "assess.not_observed", "standard", o.standard, "rule", string(it.rule))
		case inSample && it.types != nil && !it.types[sm.typ]:
			bad("standard", "assess.type_excluded", "standard", o.standard, "type", sm.typ)
		}
		switch o.result {
		case "pass", "fail", "na":
		case "":
			bad("result", "assess.missing", "field", "result")
		default:
			bad("result", "assess.bad_result", "value", o.result)
		}
		if hasProb && rec[cProb] != "" {
			p, err := strconv.Atoi(rec[cProb])
			if err != nil || p < 0 {
				bad("problems", "assess.bad_problems", "value", rec[cProb])
			}
			o.problems = p
		}
		if hasNote {
			o.note = rec[cNote]
			if len(o.note) > MaxTextLen && utf8.RuneCountInString(o.note) > MaxTextLen {
				bad("note", "assess.too_long", "field", "note", "max", strconv.Itoa(MaxTextLen))
			}
		}
		if o.siteID != 0 && found {
			k := obsKey{o.siteID, o.standard}
			if at, dup := first[k]; dup {
				bad("", "assess.dup_row", "key", site+" "+o.standard, "first_row", strconv.Itoa(at))
			} else {
				first[k] = row
			}
		}
		if ok && !pl.any() {
			obs = append(obs, o)
		}
	}
	if ps, err := t.end(pl, n); err != nil {
		return ImportReport{}, ps, err
	}
	rep := ImportReport{Rows: n}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		// The round as the transaction sees it: closed meanwhile?
		cur, err := openRound(ctx, tx, rd.Code)
		if err != nil {
			return err
		}
		existing, err := store.Collect(ctx, tx, func(r store.Scanner) (k obsKey, err error) {
			return k, r.Scan(&k.site, &k.standard)
		}, `SELECT site_id, standard FROM assess_observations WHERE round_id = ?`, rd.ID)
		if err != nil {
			return err
		}
		if len(existing) > 0 {
			have := make(map[obsKey]bool, len(existing))
			for _, k := range existing {
				have[k] = true
			}
			for _, o := range obs {
				if have[obsKey{o.siteID, o.standard}] {
					rep.Updated++
				}
			}
		}
		rep.Created = len(obs) - rep.Updated
		if err := insertObservations(ctx, tx, rd.ID, actor.UserID, store.Ms(s.now()), SourceImport, obs); err != nil {
			return err
		}
		if cur.State == RoundDraft {
			if _, err := tx.Exec(ctx, `UPDATE assess_rounds SET state = ? WHERE id = ? AND state = ?`, RoundInProgress, rd.ID, RoundDraft); err != nil {
				return err
			}
		}
		return s.trail(ctx, tx, actor, "assess.observations_import", map[string]any{
			"round": rd.Code, "rows": rep.Rows, "created": rep.Created, "updated": rep.Updated,
		})
	})
	if err != nil {
		return ImportReport{}, nil, err
	}
	return rep, nil, nil
}

// insertObservations writes observations; a site and standard already
// recorded in the round is replaced. The rows travel as one JSON array
// parameter per statement, which the engine unpacks (json_each,
// json_array_elements): parsing a statement of thousands of VALUES rows
// costs the pure-Go SQLite more than storing them. The columns every row
// shares are literals.
func insertObservations(ctx context.Context, tx *store.Tx, roundID, userID, now int64, source string, obs []obsIn) error {
	const perStmt = 10000
	consts := strconv.FormatInt(roundID, 10)
	shared := "'" + source + "', " + sqlID(userID) + ", " + strconv.FormatInt(now, 10) + ", " + strconv.FormatInt(now, 10)
	var q string
	if tx.Dialect() == store.Postgres {
		q = `INSERT INTO assess_observations (round_id, site_id, standard, result, problems, note, source, created_by, created_at, updated_at)
			SELECT ` + consts + `, (j->>0)::bigint, j->>1, j->>2, (j->>3)::integer, j->>4, ` + shared + ` FROM json_array_elements(?::json) AS j`
	} else {
		q = `INSERT INTO assess_observations (round_id, site_id, standard, result, problems, note, source, created_by, created_at, updated_at)
			SELECT ` + consts + `, j.value->>0, j.value->>1, j.value->>2, j.value->>3, j.value->>4, ` + shared + ` FROM json_each(?) AS j WHERE true`
	}
	q += ` ON CONFLICT (round_id, site_id, standard) DO UPDATE SET result = excluded.result, problems = excluded.problems,
		note = excluded.note, source = excluded.source, updated_at = excluded.updated_at`
	buf := make([]byte, 0, 64<<10)
	for start := 0; start < len(obs); start += perStmt {
		chunk := obs[start:min(start+perStmt, len(obs))]
		buf = append(buf[:0], '[')
		for i, o := range chunk {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, '[')
			buf = strconv.AppendInt(buf, o.siteID, 10)
			buf = append(buf, ',')
			buf = appendJSONString(buf, o.standard)
			buf = append(buf, ',')
			buf = appendJSONString(buf, o.result)
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, int64(o.problems), 10)
			buf = append(buf, ',')
			buf = appendJSONString(buf, o.note)
			buf = append(buf, ']')
		}
		buf = append(buf, ']')
		if _, err := tx.Exec(ctx, q, string(buf)); err != nil {
			return err
		}
	}
	return nil
}

// appendJSONString appends s (valid UTF-8) as a JSON string.
func appendJSONString(buf []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		buf = append(buf, '"')
		buf = append(buf, s...)
		return append(buf, '"')
	}
	b, _ := json.Marshal(s)
	return append(buf, b...)
}

// ImportResults reads the values of a round's survey and document
// standards from CSV (columns region, standard, value): region a district
// code, or empty for the whole city; value an exact decimal, a rate in
// [0, 1] for a survey standard and points in [0, the standard's points]
// for a graded one. A region and standard already valued in the round is
// replaced. A file with any problem stores nothing.
func (s *Service) ImportResults(ctx context.Context, actor org.Actor, roundCode string, r io.Reader) (ImportReport, []Problem, error) {
	q := s.DB.Reader()
	rd, items, err := s.importTarget(ctx, actor, q, roundCode)
	if err != nil {
		return ImportReport{}, nil, err
	}
	regions, err := loadRegions(ctx, q)
	if err != nil {
		return ImportReport{}, nil, err
	}
	pl := &problemList{}
	t := csvTable(r, pl, ResultColumns, ResultColumns)
	if t == nil {
		ps := pl.done()
		return ImportReport{}, ps, problemsError(ps)
	}
	type valueIn struct {
		regionID int64
		standard string
		value    string
	}
	var values []valueIn
	first := map[[2]string]int{}
	n := 0
	for {
		rec, row, err := t.next()
		if err == io.EOF || err == errStop {
			break
		}
		n++
		v := valueIn{standard: t.get(rec, "standard"), value: t.get(rec, "value")}
		ok := true
		bad := func(col, key string, args ...string) {
			t.add(row, col, key, args...)
			ok = false
		}
		code := t.get(rec, "region")
		if code != "" {
			g := regions.byCode[code]
			switch {
			case g == nil:
				bad("region", "assess.unknown_region", "region", code)
			case g.Level != LevelDistrict:
				bad("region", "assess.not_district", "region", code)
			default:
				v.regionID = g.ID
			}
		}
		it, found := items[v.standard]
		switch {
		case v.standard == "":
			bad("standard", "assess.missing", "field", "standard")
		case !found:
			bad("standard", "assess.unknown_standard", "standard", v.standard)
		case it.negative || it.rule.Observed():
			rule := string(it.rule)
			if it.negative {
				rule = "negative_list"
			}
			bad("standard", "assess.not_valued", "standard", v.standard, "rule", rule)
		}
		if v.value == "" {
			bad("value", "assess.missing", "field", "value")
		} else if x, isNum := ParseDecimal(v.value); !isNum {
			bad("value", "assess.bad_number", "field", "value", "value", v.value)
		} else if found && !it.negative && !it.rule.Observed() {
			upper := big.NewRat(1, 1)
			if it.rule == RuleGraded {
				upper = it.points
			}
			if x.Sign() < 0 || x.Cmp(upper) > 0 {
				u, _ := FormatDecimal(upper)
				bad("value", "assess.value_range", "value", v.value, "max", u)
			} else {
				v.value, _ = FormatDecimal(x)
			}
		}
		k := [2]string{code, v.standard}
		if at, dup := first[k]; dup {
			key := v.standard
			if code != "" {
				key = code + " " + v.standard
			}
			bad("", "assess.dup_row", "key", key, "first_row", strconv.Itoa(at))
		} else {
			first[k] = row
		}
		if ok {
			values = append(values, v)
		}
	}
	if ps, err := t.end(pl, n); err != nil {
		return ImportReport{}, ps, err
	}
	rep := ImportReport{Rows: n}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := openRound(ctx, tx, rd.Code); err != nil {
			return err
		}
		now := store.Ms(s.now())
		for _, v := range values {
			res, err := tx.Exec(ctx, `DELETE FROM assess_results WHERE round_id = ? AND COALESCE(region_id, 0) = ? AND standard = ?`, rd.ID, v.regionID, v.standard)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k > 0 {
				rep.Updated++
			} else {
				rep.Created++
			}
			if _, err := tx.Exec(ctx, `INSERT INTO assess_results (round_id, region_id, standard, value, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				rd.ID, nullID(v.regionID), v.standard, v.value, nullID(actor.UserID), now); err != nil {
				return err
			}
		}
		return s.trail(ctx, tx, actor, "assess.results_import", map[string]any{
			"round": rd.Code, "rows": rep.Rows, "created": rep.Created, "updated": rep.Updated,
		})
	})
	if err != nil {
		return ImportReport{}, nil, err
	}
	return rep, nil, nil
}
