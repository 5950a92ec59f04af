package assess

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strings"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// EntryRow is one line of the ledger read in detail: a share of lost
// points, the unit charged and why, and the observation behind it with
// its site, its note, the case it raised and that case's photos, so that
// every lost point can be traced to what the inspector saw.
type EntryRow struct {
	Standard      string     `json:"standard"`
	StandardName  string     `json:"standard_name"`
	Unit          string     `json:"unit"` // "" when unattributed
	Via           Via        `json:"via"`
	Lost          JSONPoints `json:"lost"`
	ObservationID int64      `json:"observation_id,omitempty"`
	Site          string     `json:"site,omitempty"`
	SiteName      string     `json:"site_name,omitempty"`
	Result        string     `json:"result,omitempty"`
	Problems      int        `json:"problems,omitempty"`
	Note          string     `json:"note,omitempty"`
	CaseID        int64      `json:"case_id,omitempty"`
	CaseNo        string     `json:"case_no,omitempty"`
	PhotoIDs      []int64    `json:"photo_ids,omitempty"`
}

// EntryFilter narrows the ledger's entries: a region (the scope, "" the
// city), a unit code ("-" the unattributed), a standard code.
type EntryFilter struct {
	Region, Unit, Standard string
}

// Entries returns the ledger's entries of a round for a scope, narrowed by
// f, most lost first. The office reads any scope it sees; a unit's handler
// reads where its own unit lost points, across the city.
func (s *Service) Entries(ctx context.Context, actor org.Actor, code string, f EntryFilter) ([]EntryRow, error) {
	reader := actor
	if actor.Role == org.RoleHandler {
		var unit string
		err := s.DB.Reader().QueryRow(ctx, `SELECT code FROM units WHERE id = ?`, actor.UnitID).Scan(&unit)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if err != nil {
			return nil, apperr.New(apperr.Forbidden, "forbidden")
		}
		f.Unit, reader = unit, org.System
	}
	v, err := s.Open(ctx, reader, code)
	if err != nil {
		return nil, err
	}
	if !v.Round.Scored() {
		return nil, apperr.New(apperr.Invalid, "assess.not_scored", "round", v.Round.Code)
	}
	lg, err := v.Ledger(strings.TrimSpace(f.Region))
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, st := range v.l.ed.Standards() {
		names[st.Code] = st.Name
	}
	var out []EntryRow
	var obsIDs []int64
	for _, e := range lg.Entries {
		switch {
		case f.Unit == "-" && e.Unit != "", f.Unit != "" && f.Unit != "-" && e.Unit != f.Unit:
			continue
		case f.Standard != "" && e.Standard != f.Standard:
			continue
		}
		out = append(out, EntryRow{Standard: e.Standard, StandardName: names[e.Standard], Unit: e.Unit, Via: e.Via, Lost: JSONPoints{e.Lost}, ObservationID: e.ObservationID})
		if e.ObservationID != 0 {
			obsIDs = append(obsIDs, e.ObservationID)
		}
	}
	if err := s.entryDetails(ctx, s.DB.Reader(), out, obsIDs); err != nil {
		return nil, err
	}
	sortEntries(out)
	return out, nil
}

// sortEntries orders entries most lost first; equal shares by standard,
// then site.
func sortEntries(xs []EntryRow) {
	sort.SliceStable(xs, func(i, j int) bool { return entryLess(xs[i], xs[j]) })
}

func entryLess(a, b EntryRow) bool {
	if c := a.Lost.Rat.Cmp(b.Lost.Rat); c != 0 {
		return c > 0
	}
	if a.Standard != b.Standard {
		return a.Standard < b.Standard
	}
	return a.Site < b.Site
}

// entryDetails fills the observations' sites, notes, cases and photos,
// a thousand ids a query.
func (s *Service) entryDetails(ctx context.Context, q store.Queryer, rows []EntryRow, ids []int64) error {
	type detail struct {
		id                           int64
		site, siteName, result, note string
		problems                     int
		caseID                       int64
		caseNo                       string
	}
	details := map[int64]detail{}
	cases := map[int64][]int64{}
	for start := 0; start < len(ids); start += 1000 {
		chunk := ids[start:min(start+1000, len(ids))]
		in := idList(chunk)
		got, err := store.Collect(ctx, q, func(r store.Scanner) (d detail, err error) {
			return d, r.Scan(&d.id, &d.site, &d.siteName, &d.result, &d.problems, &d.note, &d.caseID, &d.caseNo)
		}, `SELECT o.id, s.code, s.name, o.result, o.problems, o.note, COALESCE(o.case_id, 0), COALESCE(c.no, '')
			FROM assess_observations o JOIN assess_sites s ON s.id = o.site_id LEFT JOIN cases c ON c.id = o.case_id
			WHERE o.id IN (`+in+`)`)
		if err != nil {
			return err
		}
		var caseIDs []int64
		for _, d := range got {
			details[d.id] = d
			if d.caseID != 0 {
				caseIDs = append(caseIDs, d.caseID)
			}
		}
		if len(caseIDs) > 0 {
			photos, err := store.Collect(ctx, q, func(r store.Scanner) (x [2]int64, err error) {
				return x, r.Scan(&x[0], &x[1])
			}, `SELECT case_id, id FROM photos WHERE kind = 'before' AND case_id IN (`+idList(caseIDs)+`) ORDER BY id`)
			if err != nil {
				return err
			}
			for _, x := range photos {
				cases[x[0]] = append(cases[x[0]], x[1])
			}
		}
	}
	for i := range rows {
		d, ok := details[rows[i].ObservationID]
		if !ok {
			continue
		}
		rows[i].Site, rows[i].SiteName, rows[i].Result, rows[i].Problems, rows[i].Note = d.site, d.siteName, d.result, d.problems, d.note
		rows[i].CaseID, rows[i].CaseNo, rows[i].PhotoIDs = d.caseID, d.caseNo, cases[d.caseID]
	}
	return nil
}

// idList writes ids as an SQL list of literals.
func idList(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(itoa(id))
	}
	return b.String()
}
