package assess

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
	"chuangwen/internal/workflow"
)

// A failed observation becomes a case (source inspection) for the unit
// that must fix it:
//
//   - the category is the one mapped to the standard's code
//     (assess_category_map), else the settings' default category; with
//     neither the observation raises no case until one is mapped, and
//     RaiseCases picks it up then;
//   - the lead unit is the site's responsible unit as drawn, else the
//     standard's lead unit (settings CaseUnit "site"); or the other way
//     round ("lead"); when the standard's lead unit leads, its cooperating
//     units cooperate. With no unit at all the responsibility table routes
//     the case like any report;
//   - the case is accepted and dispatched at once, with the category's
//     time limit, and filed by the system; the trail names the round, the
//     site, the standard and the observation, and the observation keeps
//     the case's id (both ways).

// preparedCase is a checked case ready to be written with its
// observation.
type preparedCase struct {
	p workflow.PreparedCase
}

// caseText is the description of a raised case (stored text, in the
// city's language like every description).
const caseText = "【%s %s】%s %s:%s(点位 %s %s,问题 %d 处)"

// caseRules are what filing a finding's case reads: the settings, the
// category map and the active units, read once for many cases.
type caseRules struct {
	st    Settings
	cats  map[string]int64
	units map[string]int64
}

func loadCaseRules(ctx context.Context, q store.Queryer) (*caseRules, error) {
	var c caseRules
	var err error
	if c.st, err = loadSettings(ctx, q); err != nil {
		return nil, err
	}
	if c.cats, err = codeMap(ctx, q, `SELECT standard, category_id FROM assess_category_map`); err != nil {
		return nil, err
	}
	if c.units, err = codeMap(ctx, q, `SELECT code, id FROM units WHERE active = TRUE`); err != nil {
		return nil, err
	}
	return &c, nil
}

func (s *Service) prepareCase(ctx context.Context, rules *caseRules, cl Checklist, it CheckItem, problems int, note string, photos []photo.File) (*preparedCase, error) {
	if s.Cases == nil {
		return nil, nil
	}
	if rules == nil {
		var err error
		if rules, err = loadCaseRules(ctx, s.DB.Reader()); err != nil {
			return nil, err
		}
	}
	st, units := rules.st, rules.units
	cat := rules.cats[it.Code]
	if cat == 0 {
		cat = st.DefaultCategory
	}
	if cat == 0 {
		return nil, nil
	}
	siteUnit, leadUnit := cl.unitID, units[it.standard.LeadUnit]
	lead := siteUnit
	if st.CaseUnit == "lead" && leadUnit != 0 || lead == 0 {
		lead = leadUnit
	}
	var coops []int64
	if lead != 0 && lead == leadUnit {
		for _, c := range it.standard.CoopUnits {
			if id := units[c]; id != 0 {
				coops = append(coops, id)
			}
		}
	}
	kind := "模拟测评"
	if cl.Round.Kind == KindSupervision {
		kind = "领导督导"
	}
	if problems < 1 {
		problems = 1
	}
	text := note
	if text == "" {
		text = it.Name
	}
	in := workflow.NewCase{
		Source: workflow.SourceInspection, CategoryID: cat,
		Description: fmt.Sprintf(caseText, kind, cl.Round.Code, it.Code, it.Name, text, cl.Site.Code, cl.Site.Name, problems),
		Lat:         cl.Site.Lat, Lon: cl.Site.Lon, Address: cl.Site.Address, RegionID: cl.regionID,
		LeadUnitID: lead, CoopUnitIDs: coops, Photos: photos,
		MaxDescription: workflow.MaxDescription + 200,
	}
	if in.Address == "" {
		in.Address = cl.Site.Name
	}
	p, err := s.Cases.PrepareReport(ctx, org.System, in)
	if err != nil {
		return nil, err
	}
	return &preparedCase{p: p}, nil
}

// fileCase writes a prepared case in tx and links it to the observation;
// 0 when the observation already has a case (another request won).
func (s *Service) fileCase(ctx context.Context, tx *store.Tx, pc *preparedCase, obsID int64) (int64, error) {
	c, err := s.Cases.ReportTx(ctx, tx, pc.p)
	if err != nil {
		return 0, err
	}
	res, err := tx.Exec(ctx, `UPDATE assess_observations SET case_id = ? WHERE id = ? AND case_id IS NULL`, c.ID, obsID)
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, errRaced
	}
	return c.ID, nil
}

var errRaced = apperr.New(apperr.Conflict, "assess.observation_changed")

// RaiseReport counts what RaiseCases did.
type RaiseReport struct {
	Raised     int `json:"raised"`
	NoCategory int `json:"no_category"` // failed observations whose standard has no category
}

// RaiseCases files a case for every failed observation of the round that
// has none (imported observations, or ones recorded before their
// standard had a category). Each case is its own transaction, so a
// repeated or interrupted run raises each case once.
func (s *Service) RaiseCases(ctx context.Context, actor org.Actor, roundCode string) (RaiseReport, error) {
	var rep RaiseReport
	if err := canWrite(actor); err != nil {
		return rep, err
	}
	if s.Cases == nil {
		return rep, fmt.Errorf("assess: no case service")
	}
	q := s.DB.Reader()
	rd, err := roundByCode(ctx, q, roundCode)
	if err != nil {
		return rep, err
	}
	type pending struct {
		id, problems   int64
		site, standard string
		note           string
	}
	rows, err := store.Collect(ctx, q, func(r store.Scanner) (x pending, err error) {
		return x, r.Scan(&x.id, &x.site, &x.standard, &x.problems, &x.note)
	}, `SELECT o.id, s.code, o.standard, o.problems, o.note FROM assess_observations o JOIN assess_sites s ON s.id = o.site_id
		WHERE o.round_id = ? AND o.result = 'fail' AND o.case_id IS NULL ORDER BY o.id`, rd.ID)
	if err != nil {
		return rep, err
	}
	rules, err := loadCaseRules(ctx, q)
	if err != nil {
		return rep, err
	}
	lists := map[string]Checklist{}
	var ed *Edition
	for _, x := range rows {
		cl, ok := lists[x.site]
		if !ok {
			if cl, err = s.checklistWith(ctx, q, org.System, rd.Code, x.site, ed); err != nil {
				return rep, err
			}
			ed = &cl.ed
			lists[x.site] = cl
		}
		var it *CheckItem
		for i := range cl.Items {
			if cl.Items[i].Code == x.standard {
				it = &cl.Items[i]
			}
		}
		if it == nil {
			continue
		}
		pc, err := s.prepareCase(ctx, rules, cl, *it, int(x.problems), x.note, nil)
		if err != nil {
			return rep, err
		}
		if pc == nil {
			rep.NoCategory++
			continue
		}
		err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
			_, err := s.fileCase(ctx, tx, pc, x.id)
			return err
		})
		switch {
		case errors.Is(err, errRaced):
		case err != nil:
			return rep, err
		default:
			rep.Raised++
		}
	}
	return rep, nil
}

// ObservationOfCase returns the observation that raised a case, for the
// case page's link back (ok false when the case came from elsewhere).
func (s *Service) ObservationOfCase(ctx context.Context, caseID int64) (round, site, standard string, ok bool, err error) {
	err = s.DB.Reader().QueryRow(ctx, `SELECT r.code, s.code, o.standard FROM assess_observations o
		JOIN assess_rounds r ON r.id = o.round_id JOIN assess_sites s ON s.id = o.site_id WHERE o.case_id = ?`, caseID).Scan(&round, &site, &standard)
	if err == nil {
		return round, site, standard, true, nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", "", false, nil
	}
	return "", "", "", false, err
}
