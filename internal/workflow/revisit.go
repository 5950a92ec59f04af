package workflow

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
)

// Re-checks that stop relapse (动态管理, 防止反弹): revisits (回访) of closed
// cases and recurrences (复发) of closed problems. docs/rechecks.md tells
// the rules; docs/performance.md the figures they feed.

// Revisit states.
const (
	RevisitPending = "pending" // 待回访
	RevisitPassed  = "passed"  // 回访通过
	RevisitFailed  = "failed"  // 反弹
)

// RecheckSettings are the office's choices for revisits and recurrences.
type RecheckSettings struct {
	// RevisitShare is the share of each unit's dispatches closed in a week
	// drawn for a revisit the next week (0 draws none, 1 all).
	RevisitShare float64 `json:"revisit_share"`
	// RevisitDays is how many working days a drawn revisit has.
	RevisitDays int `json:"revisit_days"`
	// RecurrenceDays is how long after closing a new report of the same
	// category within the category's duplicate radius is a recurrence;
	// 0 turns the check off.
	RecurrenceDays int `json:"recurrence_days"`
}

// DefaultRecheckSettings: a tenth of the closures, five working days to
// revisit, recurrences within 30 days.
func DefaultRecheckSettings() RecheckSettings {
	return RecheckSettings{RevisitShare: 0.1, RevisitDays: 5, RecurrenceDays: 30}
}

const recheckKey = "recheck"

// RecheckSettings returns the stored settings.
func (s *Service) RecheckSettings(ctx context.Context) (RecheckSettings, error) {
	return store.ReadSetting(ctx, s.DB.Reader(), recheckKey, DefaultRecheckSettings())
}

// SaveRecheckSettings stores the settings (the administrator's), with a
// trail entry.
func (s *Service) SaveRecheckSettings(ctx context.Context, actor org.Actor, st RecheckSettings) error {
	if actor.Role != org.RoleAdmin {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	if math.IsNaN(st.RevisitShare) || st.RevisitShare < 0 || st.RevisitShare > 1 {
		return apperr.New(apperr.Invalid, "recheck.bad_share")
	}
	if st.RevisitDays < 1 || st.RevisitDays > 60 {
		return apperr.New(apperr.Invalid, "recheck.bad_days", "max", "60")
	}
	if st.RecurrenceDays < 0 || st.RecurrenceDays > 366 {
		return apperr.New(apperr.Invalid, "recheck.bad_recurrence_days", "max", "366")
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.WriteSetting(ctx, tx, recheckKey, st); err != nil {
			return err
		}
		return s.logAdmin(ctx, tx, actor, "recheck.settings", st)
	})
}

// RevisitCandidate is a dispatch closed in the week before a draw.
type RevisitCandidate struct {
	DispatchID, CaseID, UnitID int64
}

// revisitRank is a candidate's place in the draw: the HMAC-SHA-256 of the
// week and the dispatch under the city's draw seed, read as a number.
// Each candidate's rank is its own, so adding or removing another
// candidate changes how many are drawn, never their order.
func revisitRank(seed []byte, week string, dispatchID int64) uint64 {
	m := hmac.New(sha256.New, seed)
	m.Write([]byte(week + "/" + strconv.FormatInt(dispatchID, 10)))
	return binary.BigEndian.Uint64(m.Sum(nil))
}

// revisitCount is how many of n candidates a share draws: the share
// rounded up, so that a unit with any closure in the week has at least
// one revisit when the share is above 0.
func revisitCount(share float64, n int) int {
	if share <= 0 || n == 0 {
		return 0
	}
	k := int(math.Ceil(share*float64(n) - 1e-9))
	return min(max(k, 1), n)
}

// SampleRevisits draws the week's revisits from the candidates: for each
// unit, the share of its candidates with the lowest ranks. It is a pure
// function of its arguments, so anyone holding the seed can draw the same
// sample again. The answer is ordered by unit, then rank.
func SampleRevisits(seed []byte, week string, share float64, cands []RevisitCandidate) []RevisitCandidate {
	type ranked struct {
		c    RevisitCandidate
		rank uint64
	}
	byUnit := map[int64][]ranked{}
	for _, c := range cands {
		byUnit[c.UnitID] = append(byUnit[c.UnitID], ranked{c, revisitRank(seed, week, c.DispatchID)})
	}
	var out []RevisitCandidate
	for _, unit := range slices.Sorted(maps.Keys(byUnit)) {
		rs := byUnit[unit]
		slices.SortFunc(rs, func(a, b ranked) int {
			if a.rank != b.rank {
				if a.rank < b.rank {
					return -1
				}
				return 1
			}
			return int(a.c.DispatchID - b.c.DispatchID)
		})
		for _, r := range rs[:revisitCount(share, len(rs))] {
			out = append(out, r.c)
		}
	}
	return out
}

// RevisitWeek is the ISO week label ("2026-W49") of a week's Monday.
func RevisitWeek(monday time.Time) string {
	y, w := monday.ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

// WeekMonday is the Monday 00:00, in loc, of the week holding t.
func WeekMonday(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	d := (int(t.Weekday()) + 6) % 7
	return time.Date(t.Year(), t.Month(), t.Day()-d, 0, 0, 0, 0, loc)
}

const revisitSeedKey = "recheck.seed"

// revisitSeed returns the city's draw seed, made on the first draw. It
// stays in the settings table, which only the administrator's tools
// read: a unit that knew it could tell which closures will be revisited.
func revisitSeed(ctx context.Context, tx *store.Tx) ([]byte, error) {
	seed, err := store.ReadSetting(ctx, tx, revisitSeedKey, "")
	if err != nil {
		return nil, err
	}
	if seed == "" {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		seed = hex.EncodeToString(b)
		if err := store.WriteSetting(ctx, tx, revisitSeedKey, seed); err != nil {
			return nil, err
		}
	}
	return hex.DecodeString(seed)
}

// SetRevisitSeed sets the city's draw seed (at least 16 bytes): an office
// that wants its draws checked by others announces a seed in advance
// (drawn in public, say) instead of the random one made on the first
// draw; the demo city sets its own so that its loads repeat. The trail
// keeps the seed's SHA-256, not the seed. The administrator's.
func (s *Service) SetRevisitSeed(ctx context.Context, actor org.Actor, seed []byte) error {
	if actor.Role != org.RoleAdmin && actor.Role != org.RoleSystem {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	if len(seed) < 16 {
		return apperr.New(apperr.Invalid, "recheck.short_seed")
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.WriteSetting(ctx, tx, revisitSeedKey, hex.EncodeToString(seed)); err != nil {
			return err
		}
		sum := sha256.Sum256(seed)
		return s.logAdmin(ctx, tx, actor, "recheck.seed", map[string]string{"sha256": hex.EncodeToString(sum[:])})
	})
}

// RevisitDraw is one week's draw.
type RevisitDraw struct {
	Week       string  `json:"week"`
	Share      float64 `json:"share"`
	Candidates int     `json:"candidates"`
	Drawn      int     `json:"drawn"`
	DrawnAt    int64   `json:"drawn_at"`
	// New is false when the week had been drawn already.
	New bool `json:"new"`
}

// revisitCandidates are the dispatches closed in [from, to) whose case is
// still closed on them, not voided and not relapsed.
func revisitCandidates(ctx context.Context, q store.Queryer, from, to time.Time) ([]RevisitCandidate, error) {
	return store.Collect(ctx, q, func(r store.Scanner) (c RevisitCandidate, err error) {
		return c, r.Scan(&c.DispatchID, &c.CaseID, &c.UnitID)
	}, `SELECT d.id, d.case_id, d.unit_id FROM dispatches d JOIN cases c ON c.id = d.case_id
		WHERE d.closed_at >= ? AND d.closed_at < ? AND d.voided_at = 0 AND d.relapsed_at = 0
		AND c.state = 'closed' AND c.dispatch_id = d.id ORDER BY d.id`, store.Ms(from), store.Ms(to))
}

// DrawRevisits draws the revisits of the week that starts on monday (in
// the city's zone) from the dispatches closed in the week before it. A
// week is drawn once: a second call, or a second replica, gets the first
// draw back. The administrator or the system draws.
func (s *Service) DrawRevisits(ctx context.Context, actor org.Actor, monday time.Time) (RevisitDraw, error) {
	if actor.Role != org.RoleAdmin && actor.Role != org.RoleSystem {
		return RevisitDraw{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	st, err := s.RecheckSettings(ctx)
	if err != nil {
		return RevisitDraw{}, err
	}
	cal, err := s.Calendar(ctx)
	if err != nil {
		return RevisitDraw{}, err
	}
	now := s.now()
	if monday.IsZero() {
		monday = now
	}
	monday = WeekMonday(monday, s.Location)
	week := RevisitWeek(monday)
	d := RevisitDraw{Week: week, Share: st.RevisitShare, DrawnAt: store.Ms(now), New: true}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `INSERT INTO revisit_draws (week, share, candidates, drawn, drawn_at) VALUES (?, ?, 0, 0, ?) ON CONFLICT (week) DO NOTHING`,
			week, strconv.FormatFloat(st.RevisitShare, 'f', -1, 64), d.DrawnAt)
		if err != nil {
			return fmt.Errorf("claim revisit draw %s: %w", week, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			d.New = false
			return nil
		}
		seed, err := revisitSeed(ctx, tx)
		if err != nil {
			return err
		}
		cands, err := revisitCandidates(ctx, tx, monday.AddDate(0, 0, -7), monday)
		if err != nil {
			return err
		}
		picks := SampleRevisits(seed, week, st.RevisitShare, cands)
		due := cal.AddWorkingMinutes(now, st.RevisitDays*cal.MinutesPerDay())
		// Several hundred rows a statement: a city's week is thousands of
		// revisits, drawn in the write lock other writers wait for.
		for i := 0; i < len(picks); i += 200 {
			chunk := picks[i:min(i+200, len(picks))]
			var args []any
			for _, p := range chunk {
				args = append(args, week, p.CaseID, p.DispatchID, p.UnitID, store.Ms(due))
			}
			if _, err := tx.Exec(ctx, `INSERT INTO revisits (week, case_id, dispatch_id, unit_id, due_at) VALUES `+
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", len(chunk)), ", "), args...); err != nil {
				return fmt.Errorf("insert revisits: %w", err)
			}
		}
		d.Candidates, d.Drawn = len(cands), len(picks)
		if _, err := tx.Exec(ctx, `UPDATE revisit_draws SET candidates = ?, drawn = ? WHERE week = ?`, d.Candidates, d.Drawn, week); err != nil {
			return err
		}
		return s.logAdmin(ctx, tx, actor, "recheck.draw", d)
	})
	if err != nil || d.New {
		return d, err
	}
	var share string
	err = s.DB.Reader().QueryRow(ctx, `SELECT share, candidates, drawn, drawn_at FROM revisit_draws WHERE week = ?`, week).Scan(&share, &d.Candidates, &d.Drawn, &d.DrawnAt)
	d.Share, _ = strconv.ParseFloat(share, 64)
	return d, err
}

// RevisitDraws lists the weeks drawn, newest first.
func (s *Service) RevisitDraws(ctx context.Context, limit int) ([]RevisitDraw, error) {
	return store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (d RevisitDraw, err error) {
		var share string
		err = r.Scan(&d.Week, &share, &d.Candidates, &d.Drawn, &d.DrawnAt)
		d.Share, _ = strconv.ParseFloat(share, 64)
		return d, err
	}, `SELECT week, share, candidates, drawn, drawn_at FROM revisit_draws ORDER BY week DESC LIMIT ?`, limit)
}

// RunRevisits draws each week's revisits once its Monday has come,
// checking every interval until ctx ends (the draw is idempotent, so a
// restart or a second replica draws nothing twice).
func (s *Service) RunRevisits(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	done := ""
	for {
		monday := WeekMonday(s.now(), s.Location)
		if wk := RevisitWeek(monday); wk != done {
			d, err := s.DrawRevisits(ctx, org.System, monday)
			if err != nil && ctx.Err() == nil {
				s.Log.Error("revisit draw", "week", wk, "err", err)
			} else if err == nil {
				done = wk
				if d.New {
					s.Log.Info("revisit draw", "week", wk, "candidates", d.Candidates, "drawn", d.Drawn)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RevisitItem is a revisit as its lists show it.
type RevisitItem struct {
	ID          int64     `json:"id"`
	Week        string    `json:"week"`
	CaseID      int64     `json:"case_id"`
	CaseNo      string    `json:"case_no"`
	CaseState   State     `json:"case_state"`
	Category    string    `json:"category"`
	Region      string    `json:"region"`
	Address     string    `json:"address"`
	Description string    `json:"description"`
	Lat         *float64  `json:"lat,omitempty"`
	Lon         *float64  `json:"lon,omitempty"`
	UnitID      int64     `json:"unit_id"`
	Unit        string    `json:"unit"`
	ClosedAt    time.Time `json:"closed_at"`
	DueAt       time.Time `json:"due_at"`
	State       string    `json:"state"`
	DoneAt      time.Time `json:"done_at,omitzero"`
	DoneBy      string    `json:"done_by,omitempty"`
	Note        string    `json:"note,omitempty"`
	// Late: pending past its due time.
	Late bool `json:"late"`
	// Moot: pending, but the case was reopened or voided since the draw
	// (and perhaps closed again, by another dispatch).
	Moot bool `json:"moot"`
}

// RevisitFilter narrows a list of revisits.
type RevisitFilter struct {
	ID     int64  // one revisit
	State  string // "" = any
	Week   string // "" = any
	UnitID int64
	Limit  int
}

// mayRevisit: the roles that record revisits.
func mayRevisit(r org.Role) bool {
	return r == org.RoleInspector || r == org.RoleGrid || r == org.RoleAcceptor
}

// Revisits lists the revisits of the cases actor sees: pending first by
// due time, then done, newest first. Inspectors, grid workers and
// acceptors record them; the administrator and leaders read them; a
// unit's handler reads its own unit's (the cases it led).
func (s *Service) Revisits(ctx context.Context, actor org.Actor, f RevisitFilter) ([]RevisitItem, error) {
	switch actor.Role {
	case org.RoleInspector, org.RoleGrid, org.RoleAcceptor, org.RoleAdmin, org.RoleLeader, org.RoleHandler:
	default:
		return nil, apperr.New(apperr.Forbidden, "forbidden")
	}
	q := s.DB.Reader()
	cond, args := actor.CaseScope(q.Dialect())
	where := []string{cond}
	if actor.Role == org.RoleHandler {
		// A unit reads its own closures' revisits once they are done,
		// wherever the case went since (a relapse leaves it with no
		// unit); a pending one would tell it which closures will be
		// looked at.
		if f.State == RevisitPending {
			return []RevisitItem{}, nil
		}
		where, args = []string{"v.unit_id = ?", "v.done_at > 0"}, []any{actor.UnitID}
	}
	if f.State != "" {
		if !slices.Contains([]string{RevisitPending, RevisitPassed, RevisitFailed}, f.State) {
			return nil, apperr.New(apperr.Invalid, "revisit.bad_state")
		}
		where = append(where, "v.state = ?")
		args = append(args, f.State)
	}
	if f.Week != "" {
		where = append(where, "v.week = ?")
		args = append(args, f.Week)
	}
	if f.ID != 0 {
		where = append(where, "v.id = ?")
		args = append(args, f.ID)
	}
	if f.UnitID != 0 {
		where = append(where, "v.unit_id = ?")
		args = append(args, f.UnitID)
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	now := s.now()
	scan := func(r store.Scanner) (it RevisitItem, err error) {
		var closed, due, done int64
		var state string
		var current bool
		var lat, lon sql.NullFloat64
		err = r.Scan(&it.ID, &it.Week, &it.CaseID, &it.CaseNo, &state, &it.Category, &it.Region, &it.Address, &it.Description, &lat, &lon,
			&it.UnitID, &it.Unit, &closed, &due, &it.State, &done, &it.DoneBy, &it.Note, &current)
		it.CaseState = State(state)
		if lat.Valid && lon.Valid {
			it.Lat, it.Lon = &lat.Float64, &lon.Float64
		}
		it.ClosedAt, it.DueAt, it.DoneAt = store.Time(closed), store.Time(due), store.Time(done)
		it.Late = it.State == RevisitPending && now.After(it.DueAt)
		it.Moot = it.State == RevisitPending && (it.CaseState != Closed || !current)
		return it, err
	}
	// Pending ones by due time, the others newest first, each in its own
	// query: an order the index revisits_state (state, due_at) gives, so
	// that a city of thousands of pending revisits reads only a page.
	list := func(pending bool, n int) ([]RevisitItem, error) {
		w, a := slices.Clone(where), slices.Clone(args)
		order := "v.due_at, v.id"
		if pending {
			w = append(w, "v.state = 'pending'")
		} else {
			w = append(w, "v.done_at > 0") // passed or failed: the index revisits_done
			order = "v.done_at DESC, v.id"
		}
		return store.Collect(ctx, q, scan, `SELECT v.id, v.week, c.id, c.no, c.state, COALESCE(cat.name, ''), COALESCE(rg.name, ''), c.address, c.description, c.lat, c.lon,
			v.unit_id, u.name, d.closed_at, v.due_at, v.state, v.done_at, COALESCE(us.display_name, ''), v.note,
			CASE WHEN c.dispatch_id = v.dispatch_id THEN TRUE ELSE FALSE END
			FROM revisits v JOIN cases c ON c.id = v.case_id JOIN dispatches d ON d.id = v.dispatch_id JOIN units u ON u.id = v.unit_id
			LEFT JOIN categories cat ON cat.id = c.category_id LEFT JOIN regions rg ON rg.id = c.region_id LEFT JOIN users us ON us.id = v.done_by
			WHERE `+strings.Join(w, " AND ")+` ORDER BY `+order+` LIMIT ?`, append(a, n)...)
	}
	var items []RevisitItem
	var err error
	if f.State == "" || f.State == RevisitPending {
		if items, err = list(true, limit); err != nil {
			return nil, err
		}
	}
	if f.State != RevisitPending && len(items) < limit {
		done, err := list(false, limit-len(items))
		if err != nil {
			return nil, err
		}
		items = append(items, done...)
	}
	return items, err
}

// RevisitOf returns one revisit actor may see (404 otherwise).
func (s *Service) RevisitOf(ctx context.Context, actor org.Actor, id int64) (RevisitItem, error) {
	items, err := s.Revisits(ctx, actor, RevisitFilter{ID: id})
	if err != nil {
		return RevisitItem{}, err
	}
	if len(items) == 0 {
		return RevisitItem{}, apperr.New(apperr.NotFound, "revisit.not_found")
	}
	return items[0], nil
}

// RevisitResult is what a revisit found.
type RevisitResult struct {
	// Pass: the problem stayed fixed. Otherwise it is back: a relapse,
	// with a note and photos as evidence.
	Pass   bool
	Note   string
	Photos []photo.File
	// Version, when set, is the case version the recorder saw.
	Version int
}

// RecordRevisit records the result of revisit id by actor (an inspector,
// grid worker or acceptor who sees the case): a pass writes 回访通过 on
// the case's trail; a failure reopens the case as a relapse (反弹) with
// the evidence, waiting for the dispatcher. Either marks the closed
// dispatch for the unit's figures, in the same transaction.
func (s *Service) RecordRevisit(ctx context.Context, actor org.Actor, id int64, in RevisitResult) (*Case, error) {
	if !mayRevisit(actor.Role) {
		return nil, apperr.New(apperr.Forbidden, "forbidden")
	}
	var caseID int64
	err := s.DB.Reader().QueryRow(ctx, `SELECT case_id FROM revisits WHERE id = ?`, id).Scan(&caseID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "revisit.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("revisit %d: %w", id, err)
	}
	act := ActInput{Action: Revisit, Opinion: in.Note, Photos: in.Photos, RevisitID: id, Version: in.Version}
	if !in.Pass {
		act.Action = Relapse
	}
	c, err := s.Act(ctx, actor, caseID, act)
	if apperr.Is(err, apperr.NotFound) {
		// Out of the recorder's scope: the revisit is not theirs to see.
		return nil, apperr.New(apperr.NotFound, "revisit.not_found")
	}
	return c, err
}

// takeRevisit checks that the revisit the action records is pending and
// is the one of this case's closed dispatch, and marks it done.
func (a *actCtx) takeRevisit(state string) error {
	var caseID, dispatchID, unitID int64
	var cur, week string
	err := a.tx.QueryRow(a.ctx, `SELECT case_id, dispatch_id, unit_id, state, week FROM revisits WHERE id = ?`, a.in.RevisitID).
		Scan(&caseID, &dispatchID, &unitID, &cur, &week)
	if errors.Is(err, sql.ErrNoRows) || err == nil && caseID != a.c.ID {
		return apperr.New(apperr.Invalid, "revisit.not_found")
	}
	if err != nil {
		return fmt.Errorf("revisit %d: %w", a.in.RevisitID, err)
	}
	if cur != RevisitPending {
		return apperr.New(apperr.Conflict, "revisit.done", "state", "revisit.state."+cur)
	}
	if dispatchID != a.c.DispatchID {
		return apperr.New(apperr.Conflict, "revisit.moot")
	}
	res, err := a.tx.Exec(a.ctx, `UPDATE revisits SET state = ?, done_at = ?, done_by = ?, note = ? WHERE id = ? AND state = 'pending'`,
		state, store.Ms(a.now), nullable(a.actor.UserID), a.in.Opinion, a.in.RevisitID)
	if err != nil {
		return fmt.Errorf("record revisit: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.New(apperr.Conflict, "revisit.done", "state", "revisit.state."+RevisitPassed)
	}
	a.data["revisit_week"] = week
	a.data["unit_id"] = unitID
	return nil
}

// Recurrence is a report flagged as the return of a problem closed not
// long before (复发): same category, within the category's duplicate
// radius.
type Recurrence struct {
	CaseID     int64     `json:"case_id"`
	CaseNo     string    `json:"case_no"`
	EarlierID  int64     `json:"earlier_id"`
	EarlierNo  string    `json:"earlier_no"`
	DistanceM  int       `json:"distance_m"`
	ClosedAt   time.Time `json:"closed_at"`
	FoundAt    time.Time `json:"found_at"`
	UnitName   string    `json:"unit,omitempty"`
	ReportedAt time.Time `json:"reported_at"`
}

// findRecurrence links a new report to the nearest case of its category
// closed within the recurrence window, within the category's duplicate
// radius (the most recently closed on a tie), and returns the earlier
// case's number ("" when none).
func (s *Service) findRecurrence(ctx context.Context, tx *store.Tx, caseID int64, cat Category, lat, lon float64, now time.Time) (string, error) {
	st, err := store.ReadSetting(ctx, tx, recheckKey, DefaultRecheckSettings())
	if err != nil || st.RecurrenceDays <= 0 {
		return "", err
	}
	radius := float64(cat.DupRadiusM)
	if radius <= 0 {
		radius = DefaultDupRadiusM
	}
	dLat := radius / metresPerDegLat
	dLon := radius / (metresPerDegLat * math.Max(0.01, math.Cos(lat*math.Pi/180)))
	since := now.Add(-time.Duration(st.RecurrenceDays) * 24 * time.Hour)
	// The partial index cases_recur holds closed cases by (category, lat,
	// lon, closed_at): only the cases in the box and the window are read.
	type near struct {
		id, unit int64
		no       string
		dist     float64
		closedAt int64
	}
	cands, err := store.Collect(ctx, tx, func(r store.Scanner) (n near, err error) {
		var la, lo float64
		err = r.Scan(&n.id, &n.no, &la, &lo, &n.closedAt, &n.unit)
		n.dist = distanceM(lat, lon, la, lo)
		return n, err
	}, `SELECT id, no, lat, lon, closed_at, COALESCE(lead_unit_id, 0) FROM cases
		WHERE category_id = ? AND lat BETWEEN ? AND ? AND lon BETWEEN ? AND ? AND state = 'closed' AND closed_at >= ? AND id <> ?`,
		cat.ID, lat-dLat, lat+dLat, lon-dLon, lon+dLon, store.Ms(since), caseID)
	if err != nil {
		return "", fmt.Errorf("recurrence: %w", err)
	}
	var best *near
	for i := range cands {
		n := &cands[i]
		if n.dist > radius {
			continue
		}
		if best == nil || n.dist < best.dist || n.dist == best.dist && n.closedAt > best.closedAt {
			best = n
		}
	}
	if best == nil {
		return "", nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO case_recurrences (case_id, earlier_id, earlier_unit_id, distance_m, found_at) VALUES (?, ?, ?, ?, ?)`,
		caseID, best.id, nullable(best.unit), int(math.Round(best.dist)), store.Ms(now)); err != nil {
		return "", fmt.Errorf("link recurrence: %w", err)
	}
	return best.no, nil
}

// Recurrences returns the recurrence links of a case actor sees: the
// earlier case it repeats (Of, nil when none) and the later reports that
// repeat it (Later), each only when actor sees that case too.
func (s *Service) Recurrences(ctx context.Context, actor org.Actor, id int64) (of *Recurrence, later []Recurrence, err error) {
	q := s.DB.Reader()
	if _, err := s.load(ctx, q, actor, id); err != nil {
		return nil, nil, err
	}
	cond, args := actor.CaseScope(q.Dialect())
	scan := func(r store.Scanner) (x Recurrence, err error) {
		var closed, found, reported int64
		err = r.Scan(&x.CaseID, &x.CaseNo, &x.EarlierID, &x.EarlierNo, &x.DistanceM, &closed, &found, &reported)
		x.ClosedAt, x.FoundAt, x.ReportedAt = store.Time(closed), store.Time(found), store.Time(reported)
		return x, err
	}
	// c is the case in the actor's scope: the earlier one for "of", the
	// later one for "later".
	ofs, err := store.Collect(ctx, q, scan, `SELECT r.case_id, n.no, c.id, c.no, r.distance_m, c.closed_at, r.found_at, n.reported_at
		FROM case_recurrences r JOIN cases n ON n.id = r.case_id JOIN cases c ON c.id = r.earlier_id
		WHERE r.case_id = ? AND `+cond, append([]any{id}, args...)...)
	if err != nil {
		return nil, nil, err
	}
	if len(ofs) > 0 {
		of = &ofs[0]
	}
	later, err = store.Collect(ctx, q, scan, `SELECT c.id, c.no, r.earlier_id, e.no, r.distance_m, e.closed_at, r.found_at, c.reported_at
		FROM case_recurrences r JOIN cases c ON c.id = r.case_id JOIN cases e ON e.id = r.earlier_id
		WHERE r.earlier_id = ? AND `+cond+` ORDER BY c.id`, append([]any{id}, args...)...)
	return of, later, err
}

// RelapsesByUnit returns, for the supervision notices of units (their
// ids), the cases whose dispatch by one of them relapsed in [from, to)
// (反弹), and the reports linked in [from, to) as recurrences of cases
// one of them had closed (复发), each by unit and case. The description
// is cut to descRunes characters.
func (s *Service) RelapsesByUnit(ctx context.Context, units []int64, from, to time.Time, descRunes int) (relapses, recurrences []UnitWork, err error) {
	if len(units) == 0 {
		return nil, nil, nil
	}
	q := s.DB.Reader()
	cats, err := names(ctx, q, "categories")
	if err != nil {
		return nil, nil, err
	}
	regions, err := names(ctx, q, "regions")
	if err != nil {
		return nil, nil, err
	}
	scan := func(r store.Scanner) (w UnitWork, err error) {
		var state string
		var deadline, cat, region int64
		err = r.Scan(&w.UnitID, &w.ID, &w.No, &cat, &region, &w.Description, &state, &deadline)
		w.State, w.Category, w.Region = State(state), cats[cat], regions[region]
		if deadline > 0 {
			w.Deadline = store.Time(deadline)
		}
		return w, err
	}
	cols := `c.id, c.no, c.category_id, COALESCE(c.region_id, 0), substr(c.description, 1, ` + strconv.Itoa(descRunes+1) + `), c.state, c.deadline`
	relapses, err = store.Collect(ctx, q, scan, `SELECT d.unit_id, `+cols+`
		FROM dispatches d JOIN cases c ON c.id = d.case_id
		WHERE d.relapsed_at >= ? AND d.relapsed_at < ? AND d.relapsed_at > 0 AND d.unit_id IN (`+idList(units)+`)
		ORDER BY d.unit_id, c.id`, store.Ms(from), store.Ms(to))
	if err != nil {
		return nil, nil, fmt.Errorf("relapses by unit: %w", err)
	}
	recurrences, err = store.Collect(ctx, q, scan, `SELECT r.earlier_unit_id, `+cols+`
		FROM case_recurrences r JOIN cases c ON c.id = r.case_id
		WHERE r.found_at >= ? AND r.found_at < ? AND r.earlier_unit_id IN (`+idList(units)+`)
		ORDER BY r.earlier_unit_id, c.id`, store.Ms(from), store.Ms(to))
	if err != nil {
		return nil, nil, fmt.Errorf("recurrences by unit: %w", err)
	}
	return relapses, recurrences, nil
}
