package assess

import (
	"context"
	"encoding/json"
	"slices"
	"sort"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// A closed round keeps its figures as they were computed when it closed:
// for the city and every region where it has observations, the documents
// of `assess scores --json` and `assess ledger --json`, and in a row of
// its own each district's exact parts of the civilization index (the
// bulletins read those). Rankings, changes and the escalation ladder read
// these snapshots, and CheckRound
// recomputes every one from the stored observations and values to show
// that the round's figures are reproducible.

// snapshot is one scope's documents, as stored.
type snapshot struct {
	Scope  string
	Scores string
	Ledger string
}

// snapshots computes every scope's documents of an opened round: the city
// first (its code, or "" when the city has no region row), then the
// regions by code.
func (v *RoundView) snapshots() ([]snapshot, error) {
	scopes := append([]string{""}, v.Scopes()...)
	out := make([]snapshot, 0, len(scopes))
	for _, code := range scopes {
		sc, err := v.Scores(code)
		if err != nil {
			return nil, err
		}
		lg, err := v.Ledger(code)
		if err != nil {
			return nil, err
		}
		sb, err := json.Marshal(sc.Doc())
		if err != nil {
			return nil, err
		}
		lb, err := json.Marshal(lg.Doc(v.Round.Code))
		if err != nil {
			return nil, err
		}
		out = append(out, snapshot{Scope: sc.Scores.Scope.Code, Scores: string(sb), Ledger: string(lb)})
	}
	idx, err := v.indexSnapshot()
	if err != nil {
		return nil, err
	}
	return append(out, idx), nil
}

// CloseRound closes a round: it takes no more observations, values or
// team changes, and its figures are stored as computed now. Cases still
// owed to failed observations are raised first when a case service is
// set. The administrator's.
func (s *Service) CloseRound(ctx context.Context, actor org.Actor, code string) (Round, error) {
	if err := canWrite(actor); err != nil {
		return Round{}, err
	}
	rd, err := openRound(ctx, s.DB.Reader(), code)
	if err != nil {
		return Round{}, err
	}
	if s.Cases != nil {
		if _, err := s.RaiseCases(ctx, actor, rd.Code); err != nil {
			return Round{}, err
		}
	}
	before, err := roundMark(ctx, s.DB.Reader(), rd.ID)
	if err != nil {
		return Round{}, err
	}
	var snaps []snapshot
	split := ""
	if rd.Scored() {
		v, err := s.Open(ctx, org.System, rd.Code)
		if err != nil {
			return Round{}, err
		}
		if snaps, err = v.snapshots(); err != nil {
			return Round{}, err
		}
		site, err1 := FormatDecimal(v.split.Site)
		lead, err2 := FormatDecimal(v.split.Lead)
		if err1 == nil && err2 == nil {
			split = site + ":" + lead
		}
	}
	now := store.Ms(s.now())
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		// Observations that arrived after the figures were computed would
		// be missing from them: the round must not have moved meanwhile.
		after, err := roundMark(ctx, tx, rd.ID)
		if err != nil {
			return err
		}
		if after != before {
			return apperr.New(apperr.Conflict, "assess.round_moved", "round", rd.Code)
		}
		if err := tx.Change(ctx, apperr.New(apperr.Conflict, "assess.round_closed", "round", rd.Code), `UPDATE assess_rounds SET state = ?, closed_at = ?, closed_by = ?, split = ? WHERE id = ? AND state <> ?`,
			RoundClosed, now, nullID(actor.UserID), split, rd.ID, RoundClosed); err != nil {
			return err
		}
		rechecks, err := s.openRechecks(ctx, tx, rd.ID, store.Time(now))
		if err != nil {
			return err
		}
		for _, sn := range snaps {
			if _, err := tx.Exec(ctx, `INSERT INTO assess_snapshots (round_id, scope, scores, ledger) VALUES (?, ?, ?, ?)`, rd.ID, sn.Scope, sn.Scores, sn.Ledger); err != nil {
				return err
			}
		}
		data := map[string]any{"round": rd.Code, "scopes": len(snaps) - 1, "observations": before.observations, "split": split, "rechecks": rechecks} // the #index row is not a scope
		if len(snaps) > 0 {
			var doc ScoresDoc
			if err := json.Unmarshal([]byte(snaps[0].Scores), &doc); err == nil {
				data["score"], data["max"] = RoundString(doc.Score.Rat, PointPlaces), RoundString(doc.Max.Rat, PointPlaces)
			}
		}
		return s.trail(ctx, tx, actor, "assess.round_close", data)
	})
	if err != nil {
		return Round{}, err
	}
	return roundByCode(ctx, s.DB.Reader(), rd.Code)
}

// Difference is a scope whose recomputed document differs from the one
// stored when the round closed (or exists on one side only).
type Difference struct {
	Scope      string `json:"scope"`
	Document   string `json:"document"` // scores or ledger
	Stored     string `json:"stored"`
	Recomputed string `json:"recomputed"`
}

// CheckRound recomputes every scope's documents of a closed round from its
// stored observations and values and lists each difference from the
// snapshot taken when it closed; none means the figures are reproducible.
func (s *Service) CheckRound(ctx context.Context, actor org.Actor, code string) ([]Difference, error) {
	if err := canRead(actor); err != nil {
		return nil, err
	}
	if actor.Scope != org.ScopeCity {
		return nil, apperr.New(apperr.Forbidden, "forbidden")
	}
	q := s.DB.Reader()
	rd, err := roundByCode(ctx, q, code)
	if err != nil {
		return nil, err
	}
	if rd.State != RoundClosed {
		return nil, apperr.New(apperr.Conflict, "assess.round_not_closed", "round", rd.Code)
	}
	stored, err := loadSnapshots(ctx, q, rd.ID)
	if err != nil {
		return nil, err
	}
	var now []snapshot
	if rd.Scored() {
		v, err := s.Open(ctx, actor, rd.Code)
		if err != nil {
			return nil, err
		}
		if now, err = v.snapshots(); err != nil {
			return nil, err
		}
	}
	fresh := map[string]snapshot{}
	for _, sn := range now {
		fresh[sn.Scope] = sn
	}
	if !slices.ContainsFunc(stored, func(sn snapshot) bool { return sn.Scope == indexScope }) {
		delete(fresh, indexScope) // closed before rounds stored their index parts
	}
	var diffs []Difference
	for _, old := range stored {
		cur, ok := fresh[old.Scope]
		delete(fresh, old.Scope)
		if cur.Scores != old.Scores || !ok {
			diffs = append(diffs, Difference{Scope: old.Scope, Document: "scores", Stored: old.Scores, Recomputed: cur.Scores})
		}
		if cur.Ledger != old.Ledger || !ok {
			diffs = append(diffs, Difference{Scope: old.Scope, Document: "ledger", Stored: old.Ledger, Recomputed: cur.Ledger})
		}
	}
	for _, cur := range fresh {
		diffs = append(diffs, Difference{Scope: cur.Scope, Document: "scores", Recomputed: cur.Scores})
	}
	sort.SliceStable(diffs, func(i, j int) bool { return diffs[i].Scope < diffs[j].Scope })
	return diffs, nil
}

// mark tells whether a round's observations or values changed between
// two readings.
type mark struct {
	observations, lastObservation, values, lastValue int64
}

func roundMark(ctx context.Context, q store.Queryer, roundID int64) (m mark, err error) {
	err = q.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM assess_observations WHERE round_id = ?),
		(SELECT COALESCE(MAX(updated_at), 0) FROM assess_observations WHERE round_id = ?),
		(SELECT COUNT(*) FROM assess_results WHERE round_id = ?),
		(SELECT COALESCE(MAX(created_at), 0) FROM assess_results WHERE round_id = ?)`, roundID, roundID, roundID, roundID).Scan(
		&m.observations, &m.lastObservation, &m.values, &m.lastValue)
	return m, err
}

func loadSnapshots(ctx context.Context, q store.Queryer, roundID int64) ([]snapshot, error) {
	return store.Collect(ctx, q, func(r store.Scanner) (sn snapshot, err error) {
		return sn, r.Scan(&sn.Scope, &sn.Scores, &sn.Ledger)
	}, `SELECT scope, scores, ledger FROM assess_snapshots WHERE round_id = ? ORDER BY scope`, roundID)
}
