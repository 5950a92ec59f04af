package assess

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Re-inspections (复查): every site that failed a standard in a round gets
// one when the round closes, due within the configured working days. The
// inspector checks each standard that failed there again; the result is
// kept beside the original observation and does not change the round's
// scores (a closed round's figures are frozen), but a site that fails
// again goes on its unit's weekly notice.

// Re-inspection states.
const (
	RecheckPending = "pending"
	RecheckPassed  = "passed"
	RecheckFailed  = "failed"
)

// Recheck is a site's re-inspection after a round.
type Recheck struct {
	ID        int64     `json:"id"`
	Round     string    `json:"round"`
	RoundName string    `json:"round_name"`
	Site      string    `json:"site"`
	SiteName  string    `json:"site_name"`
	Address   string    `json:"address"`
	Region    string    `json:"region"`
	Unit      string    `json:"unit,omitempty"`
	UnitName  string    `json:"unit_name,omitempty"`
	DueAt     time.Time `json:"due_at"`
	State     string    `json:"state"`
	DoneAt    time.Time `json:"done_at,omitzero"`
	DoneBy    string    `json:"done_by,omitempty"`
	Note      string    `json:"note,omitempty"`
	Failed    int       `json:"failed"` // standards that failed in the round
	Late      bool      `json:"late"`
	// Items are the failed standards with the round's observation and the
	// re-check's result (empty until recorded); RecheckOf fills them.
	Items []RecheckItem `json:"items,omitempty"`
	// unexported: the scope checks' facts
	roundID, siteID, unitID int64
	path                    string
}

// RecheckItem is one failed standard, the original beside the re-check.
type RecheckItem struct {
	Standard string      `json:"standard"`
	Name     string      `json:"name"`
	Original RecordedObs `json:"original"`
	Result   string      `json:"result,omitempty"` // pass or fail; "" until recorded
	Problems int         `json:"problems,omitempty"`
	Note     string      `json:"note,omitempty"`
}

// RecheckResult is the re-check of one failed standard.
type RecheckResult struct {
	Standard string `json:"standard"`
	Result   string `json:"result"` // pass or fail
	Problems int    `json:"problems"`
	Note     string `json:"note"`
}

// openRechecks opens the re-inspections of a closing round's failed
// sites, within tx, due days working days after now.
func (s *Service) openRechecks(ctx context.Context, tx *store.Tx, roundID int64, now time.Time) (int, error) {
	st, err := loadSettings(ctx, tx)
	if err != nil || st.RecheckDays <= 0 {
		return 0, err
	}
	due := now.AddDate(0, 0, st.RecheckDays)
	if s.Cases != nil {
		cal, err := s.Cases.Calendar(ctx)
		if err != nil {
			return 0, err
		}
		due = cal.AddWorkingMinutes(now, st.RecheckDays*cal.MinutesPerDay())
	}
	res, err := tx.Exec(ctx, `INSERT INTO assess_rechecks (round_id, site_id, due_at, created_at)
		SELECT DISTINCT round_id, site_id, CAST(? AS BIGINT), CAST(? AS BIGINT) FROM assess_observations WHERE round_id = ? AND result = 'fail'`,
		store.Ms(due), store.Ms(now), roundID)
	if err != nil {
		return 0, fmt.Errorf("open re-inspections: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// mayRecheck: the roles that record re-inspections (besides the round's
// team members).
func mayRecheck(r org.Role) bool {
	return r == org.RoleInspector || r == org.RoleGrid || r == org.RoleAdmin || r == org.RoleAcceptor
}

// recheckScope is the condition on the re-inspections actor sees: the
// office all, inspectors and grid workers those of their regions, a
// unit's handler its unit's sites.
func recheckScope(actor org.Actor) (string, []any, error) {
	switch actor.Role {
	case org.RoleAdmin, org.RoleSystem:
		return "1=1", nil, nil
	case org.RoleAcceptor, org.RoleLeader:
		if actor.Scope != org.ScopeRegion {
			return "1=1", nil, nil
		}
		return regionCond(actor)
	case org.RoleHandler:
		if actor.UnitID == 0 {
			return "1=0", nil, nil
		}
		return "x.unit_id = ?", []any{actor.UnitID}, nil
	case org.RoleInspector, org.RoleGrid:
		switch actor.Scope {
		case org.ScopeCity:
			return "1=1", nil, nil
		case org.ScopeRegion:
			return regionCond(actor)
		}
		return "1=0", nil, nil
	}
	return "", nil, apperr.New(apperr.Forbidden, "forbidden")
}

// regionCond limits to the sites of a region-scoped actor's regions.
func regionCond(actor org.Actor) (string, []any, error) {
	if len(actor.RegionIDs) > 0 {
		ids := make([]string, len(actor.RegionIDs))
		for i, id := range actor.RegionIDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		return "x.region_id IN (" + strings.Join(ids, ",") + ")", nil, nil
	}
	if actor.RegionPath != "" {
		return "g.path LIKE ?", []any{actor.RegionPath + "%"}, nil
	}
	return "1=0", nil, nil
}

// Rechecks lists the re-inspections actor sees (state "" = any): pending
// first by due time, then the recorded ones, newest first.
func (s *Service) Rechecks(ctx context.Context, actor org.Actor, state string) ([]Recheck, error) {
	return s.rechecks(ctx, s.DB.Reader(), actor, state, "", "")
}

func (s *Service) rechecks(ctx context.Context, q store.Queryer, actor org.Actor, state, round, site string) ([]Recheck, error) {
	cond, args, err := recheckScope(actor)
	if err != nil {
		return nil, err
	}
	where := []string{cond}
	switch state {
	case "":
	case RecheckPending, RecheckPassed, RecheckFailed:
		where = append(where, "k.state = ?")
		args = append(args, state)
	default:
		return nil, apperr.New(apperr.Invalid, "assess.bad_recheck_state")
	}
	if round != "" {
		where = append(where, "r.code = ? AND s.code = ?")
		args = append(args, round, site)
	}
	now := s.now()
	return store.Collect(ctx, q, func(sc store.Scanner) (k Recheck, err error) {
		var due, done int64
		err = sc.Scan(&k.ID, &k.Round, &k.RoundName, &k.Site, &k.SiteName, &k.Address, &k.Region, &k.Unit, &k.UnitName, &due, &k.State, &done, &k.DoneBy, &k.Note, &k.Failed,
			&k.roundID, &k.siteID, &k.unitID, &k.path)
		k.DueAt, k.DoneAt = store.Time(due), store.Time(done)
		k.Late = k.State == RecheckPending && now.After(k.DueAt)
		return k, err
	}, `SELECT k.id, r.code, r.name, s.code, s.name, s.address, g.name, COALESCE(u.code, ''), COALESCE(u.name, ''), k.due_at, k.state, k.done_at,
			COALESCE(us.display_name, ''), k.note,
			(SELECT COUNT(*) FROM assess_observations o WHERE o.round_id = k.round_id AND o.site_id = k.site_id AND o.result = 'fail'),
			k.round_id, k.site_id, COALESCE(x.unit_id, 0), g.path
		FROM assess_rechecks k JOIN assess_rounds r ON r.id = k.round_id JOIN assess_sites s ON s.id = k.site_id
		JOIN assess_round_sites x ON x.round_id = k.round_id AND x.site_id = k.site_id JOIN regions g ON g.id = x.region_id
		LEFT JOIN units u ON u.id = x.unit_id LEFT JOIN users us ON us.id = k.done_by
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY CASE WHEN k.state = 'pending' THEN 0 ELSE 1 END, CASE WHEN k.state = 'pending' THEN k.due_at ELSE -k.done_at END, k.id
		LIMIT 1000`, args...)
}

// RecheckOf returns one site's re-inspection after a round, with each
// failed standard's original observation beside the re-check.
func (s *Service) RecheckOf(ctx context.Context, actor org.Actor, round, site string) (Recheck, error) {
	return s.recheckOf(ctx, s.DB.Reader(), actor, round, site)
}

func (s *Service) recheckOf(ctx context.Context, q store.Queryer, actor org.Actor, round, site string) (Recheck, error) {
	ks, err := s.rechecks(ctx, q, actor, "", round, site)
	if err != nil {
		return Recheck{}, err
	}
	if len(ks) == 0 {
		return Recheck{}, apperr.New(apperr.NotFound, "assess.no_recheck", "round", round, "site", site)
	}
	k := ks[0]
	cl, err := s.checklistWith(ctx, q, org.System, round, site, nil)
	if err != nil {
		return Recheck{}, err
	}
	done, err := store.Collect(ctx, q, func(sc store.Scanner) (it RecheckItem, err error) {
		return it, sc.Scan(&it.Standard, &it.Result, &it.Problems, &it.Note)
	}, `SELECT standard, result, problems, note FROM assess_recheck_items WHERE recheck_id = ?`, k.ID)
	if err != nil {
		return Recheck{}, err
	}
	byStd := map[string]RecheckItem{}
	for _, it := range done {
		byStd[it.Standard] = it
	}
	for _, ci := range cl.Items {
		if ci.Recorded == nil || ci.Recorded.Result != string(Fail) {
			continue
		}
		it := byStd[ci.Code]
		it.Standard, it.Name, it.Original = ci.Code, ci.Name, *ci.Recorded
		k.Items = append(k.Items, it)
	}
	return k, nil
}

// RecordRecheck records a site's re-inspection: one result for each
// standard that failed there in the round, all at once. It passes when
// every one passes. Inspectors and grid workers of the site's region and
// the office record; once recorded it stays.
func (s *Service) RecordRecheck(ctx context.Context, actor org.Actor, round, site string, results []RecheckResult, note string) (Recheck, error) {
	if !mayRecheck(actor.Role) {
		return Recheck{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > MaxTextLen {
		return Recheck{}, apperr.New(apperr.Invalid, "assess.too_long", "field", "field.note", "max", strconv.Itoa(MaxTextLen))
	}
	var out Recheck
	now := s.now()
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		k, err := s.recheckOf(ctx, tx, actor, round, site)
		if err != nil {
			return err
		}
		if k.State != RecheckPending {
			return apperr.New(apperr.Conflict, "assess.recheck_done", "state", "assess.recheck_state."+k.State)
		}
		given := map[string]RecheckResult{}
		for _, r := range results {
			r.Standard, r.Note = strings.TrimSpace(r.Standard), strings.TrimSpace(r.Note)
			if _, dup := given[r.Standard]; dup {
				return apperr.New(apperr.Invalid, "assess.recheck_standard", "standard", r.Standard)
			}
			given[r.Standard] = r
		}
		passed := true
		var items []RecheckResult
		for _, it := range k.Items {
			r, ok := given[it.Standard]
			if !ok {
				return apperr.New(apperr.Invalid, "assess.recheck_missing", "standard", it.Standard, "name", it.Name)
			}
			delete(given, it.Standard)
			switch {
			case r.Result != string(Pass) && r.Result != string(Fail):
				return apperr.New(apperr.Invalid, "assess.bad_result", "value", r.Result)
			case r.Problems < 0 || r.Problems > 1000:
				return apperr.New(apperr.Invalid, "assess.bad_problems", "value", strconv.Itoa(r.Problems))
			case utf8.RuneCountInString(r.Note) > MaxTextLen:
				return apperr.New(apperr.Invalid, "assess.too_long", "field", "field.note", "max", strconv.Itoa(MaxTextLen))
			}
			if r.Result == string(Pass) {
				r.Problems = 0
			} else {
				passed = false
			}
			r.Standard = it.Standard
			items = append(items, r)
		}
		for std := range given {
			return apperr.New(apperr.Invalid, "assess.recheck_standard", "standard", std)
		}
		state := RecheckPassed
		if !passed {
			state = RecheckFailed
		}
		// The re-inspection is claimed before its items are written: of two
		// recorders at once, the second waits for the first's row and then
		// finds it done (409), instead of meeting its items' keys.
		if err := tx.Change(ctx, apperr.New(apperr.Conflict, "assess.recheck_done", "state", "assess.recheck_state."+RecheckPassed), `UPDATE assess_rechecks SET state = ?, done_at = ?, done_by = ?, note = ? WHERE id = ? AND state = 'pending'`,
			state, store.Ms(now), nullID(actor.UserID), note, k.ID); err != nil {
			return err
		}
		for _, r := range items {
			if _, err := tx.Exec(ctx, `INSERT INTO assess_recheck_items (recheck_id, standard, result, problems, note) VALUES (?, ?, ?, ?, ?)`,
				k.ID, r.Standard, r.Result, r.Problems, r.Note); err != nil {
				return fmt.Errorf("re-inspection item: %w", err)
			}
		}
		if err := s.trail(ctx, tx, actor, "assess.recheck", map[string]any{"round": round, "site": site, "state": state, "standards": len(k.Items)}); err != nil {
			return err
		}
		out, err = s.recheckOf(ctx, tx, org.System, round, site)
		return err
	})
	return out, err
}

// FailedRechecks returns the re-inspections recorded as failed in [from,
// to) by the site's unit id, for the weekly notices.
func (s *Service) FailedRechecks(ctx context.Context, from, to time.Time) (map[int64][]Recheck, error) {
	ks, err := store.Collect(ctx, s.DB.Reader(), func(sc store.Scanner) (k Recheck, err error) {
		var done int64
		err = sc.Scan(&k.Round, &k.Site, &k.SiteName, &k.Address, &done, &k.unitID)
		k.DoneAt, k.State = store.Time(done), RecheckFailed
		return k, err
	}, `SELECT r.code, s.code, s.name, s.address, k.done_at, x.unit_id
		FROM assess_rechecks k JOIN assess_rounds r ON r.id = k.round_id JOIN assess_sites s ON s.id = k.site_id
		JOIN assess_round_sites x ON x.round_id = k.round_id AND x.site_id = k.site_id
		WHERE k.state = 'failed' AND k.done_at >= ? AND k.done_at < ? AND x.unit_id IS NOT NULL ORDER BY k.done_at`, store.Ms(from), store.Ms(to))
	if err != nil {
		return nil, err
	}
	out := map[int64][]Recheck{}
	for _, k := range ks {
		out[k.unitID] = append(out[k.unitID], k)
	}
	return out, nil
}
