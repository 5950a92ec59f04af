package assess

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
)

// Assignment is a sampled site of one of the actor's teams in a round
// that is not closed: the inspector's list for the day.
type Assignment struct {
	Round     string `json:"round"`
	RoundName string `json:"round_name"`
	Kind      string `json:"kind"`
	Date      string `json:"inspection_date"`
	Team      string `json:"team"`
	SiteCode  string `json:"site"`
	SiteName  string `json:"site_name"`
	Type      string `json:"type"`
	Address   string `json:"address"`
	Items     int    `json:"items"`    // checklist length
	Recorded  int    `json:"recorded"` // observations recorded
	Failed    int    `json:"failed"`
}

// MyAssignments lists the sites assigned to the actor's teams in rounds
// not yet closed, by inspection date, round and site code.
func (s *Service) MyAssignments(ctx context.Context, actor org.Actor) ([]Assignment, error) {
	if actor.UserID == 0 {
		return nil, apperr.New(apperr.Forbidden, "forbidden")
	}
	q := s.DB.Reader()
	type row struct {
		Assignment
		editionID, siteID, roundID int64
		version                    int
		edition                    string
	}
	rows, err := store.Collect(ctx, q, func(r store.Scanner) (x row, err error) {
		return x, r.Scan(&x.Round, &x.RoundName, &x.Kind, &x.Date, &x.Team, &x.SiteCode, &x.SiteName, &x.Type, &x.Address,
			&x.editionID, &x.edition, &x.version, &x.siteID, &x.roundID, &x.Recorded, &x.Failed)
	}, `SELECT r.code, r.name, r.kind, r.inspection_date, t.name, s.code, s.name, st.name, s.address,
			e.id, e.code, e.version, s.id, r.id,
			(SELECT COUNT(*) FROM assess_observations o WHERE o.round_id = r.id AND o.site_id = s.id),
			(SELECT COUNT(*) FROM assess_observations o WHERE o.round_id = r.id AND o.site_id = s.id AND o.result = 'fail')
		FROM assess_team_members m JOIN assess_teams t ON t.id = m.team_id JOIN assess_rounds r ON r.id = t.round_id
		JOIN assess_editions e ON e.id = r.edition_id
		JOIN assess_round_sites x ON x.round_id = r.id AND x.team_id = t.id
		JOIN assess_sites s ON s.id = x.site_id JOIN assess_site_types st ON st.id = x.site_type_id
		WHERE m.user_id = ? AND r.state <> ?
		ORDER BY r.inspection_date, r.code, s.code`, actor.UserID, RoundClosed)
	if err != nil {
		return nil, err
	}
	editions := map[int64]Edition{}
	out := make([]Assignment, len(rows))
	for i, x := range rows {
		ed, ok := editions[x.editionID]
		if !ok {
			if ed, err = s.loadEdition(ctx, q, EditionInfo{ID: x.editionID, Code: x.edition, Version: x.version}); err != nil {
				return nil, err
			}
			editions[x.editionID] = ed
		}
		x.Items = len(checkItems(ed, x.Type))
		out[i] = x.Assignment
	}
	return out, nil
}

// CheckItem is one line of a site's checklist: a standard observed at
// sites of the site's type, or a negative-list item, with what the round
// holds for it so far.
type CheckItem struct {
	Code       string       `json:"code"`
	Name       string       `json:"name"`
	Project    string       `json:"project,omitempty"`
	Content    string       `json:"content,omitempty"`
	Points     string       `json:"points,omitempty"`
	Rule       Rule         `json:"rule,omitempty"`
	PerProblem string       `json:"per_problem,omitempty"`
	Negative   bool         `json:"negative"`
	Recorded   *RecordedObs `json:"recorded,omitempty"`
	standard   Standard
}

// RecordedObs is an observation as stored.
type RecordedObs struct {
	ID        int64  `json:"id"`
	Result    string `json:"result"`
	Problems  int    `json:"problems"`
	Note      string `json:"note"`
	Source    string `json:"source"`
	CaseID    int64  `json:"case_id,omitempty"`
	CaseNo    string `json:"case_no,omitempty"`
	UpdatedAt int64  `json:"updated_at"`
}

func checkItems(ed Edition, siteType string) []CheckItem {
	var out []CheckItem
	for _, p := range ed.Projects {
		for _, c := range p.Contents {
			for _, st := range c.Standards {
				if !st.Rule.Observed() || !st.AppliesTo(siteType) {
					continue
				}
				it := CheckItem{Code: st.Code, Name: st.Name, Project: p.Name, Content: c.Name, Rule: st.Rule, standard: st}
				it.Points, _ = FormatDecimal(st.Points)
				if st.PerProblem != nil {
					it.PerProblem, _ = FormatDecimal(st.PerProblem)
				}
				out = append(out, it)
			}
		}
	}
	for _, n := range ed.Negative {
		if n.AppliesTo(siteType) {
			out = append(out, CheckItem{Code: n.Code, Name: n.Name, Negative: true})
		}
	}
	return out
}

// Checklist is a sampled site of a round with the items to check there.
type Checklist struct {
	Round    Round       `json:"round"`
	Site     SiteRow     `json:"site"`
	Team     string      `json:"team,omitempty"`
	Items    []CheckItem `json:"items"`
	siteID   int64
	regionID int64
	unitID   int64
	ed       Edition
}

// Checklist returns a site's checklist in a round, for a member of the
// team the site is assigned to, or for the office.
func (s *Service) Checklist(ctx context.Context, actor org.Actor, roundCode, siteCode string) (Checklist, error) {
	return s.checklist(ctx, s.DB.Reader(), actor, roundCode, siteCode)
}

func (s *Service) checklist(ctx context.Context, q store.Queryer, actor org.Actor, roundCode, siteCode string) (Checklist, error) {
	return s.checklistWith(ctx, q, actor, roundCode, siteCode, nil)
}

// checklistWith is checklist with the round's edition when the caller
// has it already (nil: it is loaded).
func (s *Service) checklistWith(ctx context.Context, q store.Queryer, actor org.Actor, roundCode, siteCode string, ed *Edition) (Checklist, error) {
	rd, err := roundByCode(ctx, q, roundCode)
	if err != nil {
		return Checklist{}, err
	}
	cl := Checklist{Round: rd}
	var lat, lon sql.NullFloat64
	err = q.QueryRow(ctx, `SELECT s.id, s.code, s.name, st.name, g.code, x.region_id, s.lat, s.lon, s.address, COALESCE(u.code, ''), COALESCE(x.unit_id, 0), s.chief, COALESCE(t.name, '')
		FROM assess_round_sites x JOIN assess_sites s ON s.id = x.site_id JOIN assess_site_types st ON st.id = x.site_type_id
		JOIN regions g ON g.id = x.region_id LEFT JOIN units u ON u.id = x.unit_id LEFT JOIN assess_teams t ON t.id = x.team_id
		WHERE x.round_id = ? AND s.code = ?`, rd.ID, strings.TrimSpace(siteCode)).Scan(
		&cl.siteID, &cl.Site.Code, &cl.Site.Name, &cl.Site.Type, &cl.Site.Region, &cl.regionID, &lat, &lon, &cl.Site.Address, &cl.Site.Unit, &cl.unitID, &cl.Site.Chief, &cl.Team)
	if errors.Is(err, sql.ErrNoRows) {
		return Checklist{}, apperr.New(apperr.NotFound, "assess.not_sampled", "site", siteCode)
	}
	if err != nil {
		return Checklist{}, err
	}
	cl.Site.ID, cl.Site.RegionID, cl.Site.Active = cl.siteID, cl.regionID, true
	if lat.Valid && lon.Valid {
		cl.Site.Lat, cl.Site.Lon = &lat.Float64, &lon.Float64
	}
	ok, err := member(ctx, q, actor, rd.ID, cl.siteID)
	if err != nil {
		return Checklist{}, err
	}
	if !ok && canRead(actor) != nil {
		return Checklist{}, apperr.New(apperr.Forbidden, "assess.not_your_site")
	}
	if ed != nil {
		cl.ed = *ed
	} else if cl.ed, err = s.loadEdition(ctx, q, EditionInfo{ID: rd.EditionID, Code: rd.Edition, Version: rd.EditionVersion}); err != nil {
		return Checklist{}, err
	}
	cl.Items = checkItems(cl.ed, cl.Site.Type)
	recorded, err := store.Collect(ctx, q, func(r store.Scanner) (x struct {
		code string
		RecordedObs
	}, err error) {
		return x, r.Scan(&x.code, &x.ID, &x.Result, &x.Problems, &x.Note, &x.Source, &x.CaseID, &x.CaseNo, &x.UpdatedAt)
	}, `SELECT o.standard, o.id, o.result, o.problems, o.note, o.source, COALESCE(o.case_id, 0), COALESCE(c.no, ''), o.updated_at
		FROM assess_observations o LEFT JOIN cases c ON c.id = o.case_id WHERE o.round_id = ? AND o.site_id = ?`, rd.ID, cl.siteID)
	if err != nil {
		return Checklist{}, err
	}
	for _, x := range recorded {
		for i := range cl.Items {
			if cl.Items[i].Code == x.code {
				obs := x.RecordedObs
				cl.Items[i].Recorded = &obs
			}
		}
	}
	return cl, nil
}

// Submission is one observation sent from the phone view or the API.
type Submission struct {
	Round    string
	Site     string
	Standard string
	Result   string // pass, fail or na
	Problems int
	Note     string
	// Key is the client's key for this submission (a phone resends the
	// same key when it did not see the answer): a key already stored for
	// the pair returns the stored observation and changes nothing.
	Key    string
	Photos []photo.File // a failed observation's photos, stored with its case
}

// Submitted is the stored observation and the case it raised.
type Submitted struct {
	Observation RecordedObs `json:"observation"`
	Replayed    bool        `json:"replayed"` // the key was already stored: nothing changed
	// NoCategory is set when a failed observation could raise no case
	// because its standard has no category and no default is set.
	NoCategory bool `json:"no_category,omitempty"`
}

// MaxKeyLen bounds a submission's client key.
const MaxKeyLen = 100

// Submit records one observation at a sampled site (pass, fail or not
// applicable), for a member of the site's team or the office's
// administrator. The pair (site, standard) holds one observation: a new
// submission replaces it. A fail raises a case for the unit that must fix
// it (see raise), in the same transaction, with the photos; a fail that
// already has its case keeps it and adds the new photos to it.
func (s *Service) Submit(ctx context.Context, actor org.Actor, sub Submission) (Submitted, error) {
	sub.Note = strings.TrimSpace(sub.Note)
	sub.Key = strings.TrimSpace(sub.Key)
	switch {
	case sub.Result != string(Pass) && sub.Result != string(Fail) && sub.Result != string(NotApplicable):
		return Submitted{}, apperr.New(apperr.Invalid, "assess.bad_result", "value", sub.Result)
	case sub.Problems < 0 || sub.Problems > 1000:
		return Submitted{}, apperr.New(apperr.Invalid, "assess.bad_problems", "value", strconv.Itoa(sub.Problems))
	case utf8.RuneCountInString(sub.Note) > MaxTextLen:
		return Submitted{}, apperr.New(apperr.Invalid, "assess.too_long", "field", "field.note", "max", strconv.Itoa(MaxTextLen))
	case len(sub.Key) > MaxKeyLen:
		return Submitted{}, apperr.New(apperr.Invalid, "assess.bad_key")
	case len(sub.Photos) > 0 && sub.Result != string(Fail):
		return Submitted{}, apperr.New(apperr.Invalid, "assess.photos_on_fail")
	}
	if sub.Result != string(Fail) {
		sub.Problems = 0
	}
	// Everything a case needs that does not need the transaction.
	cl, err := s.checklist(ctx, s.DB.Reader(), actor, sub.Round, sub.Site)
	if err != nil {
		return Submitted{}, err
	}
	if ok, err := member(ctx, s.DB.Reader(), actor, cl.Round.ID, cl.siteID); err != nil || !ok {
		if err == nil {
			err = apperr.New(apperr.Forbidden, "assess.not_your_site")
		}
		return Submitted{}, err
	}
	var it *CheckItem
	for i := range cl.Items {
		if cl.Items[i].Code == sub.Standard {
			it = &cl.Items[i]
		}
	}
	if it == nil {
		return Submitted{}, apperr.New(apperr.Invalid, "assess.type_excluded", "standard", sub.Standard, "type", cl.Site.Type)
	}
	var prepared *preparedCase
	if sub.Result == string(Fail) && (it.Recorded == nil || it.Recorded.CaseID == 0) {
		if prepared, err = s.prepareCase(ctx, nil, cl, *it, sub.Problems, sub.Note, sub.Photos); err != nil {
			return Submitted{}, err
		}
	}
	var out Submitted
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		rd, err := openRound(ctx, tx, cl.Round.Code)
		if err != nil {
			return err
		}
		var cur RecordedObs
		var key string
		err = tx.QueryRow(ctx, `SELECT o.id, o.result, o.problems, o.note, o.source, COALESCE(o.case_id, 0), COALESCE(c.no, ''), o.updated_at, o.client_key
			FROM assess_observations o LEFT JOIN cases c ON c.id = o.case_id
			WHERE o.round_id = ? AND o.site_id = ? AND o.standard = ?`, rd.ID, cl.siteID, it.Code).Scan(
			&cur.ID, &cur.Result, &cur.Problems, &cur.Note, &cur.Source, &cur.CaseID, &cur.CaseNo, &cur.UpdatedAt, &key)
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if exists && sub.Key != "" && key == sub.Key {
			out.Observation, out.Replayed = cur, true
			return nil
		}
		now := store.Ms(s.now())
		if exists {
			if _, err := tx.Exec(ctx, `UPDATE assess_observations SET result = ?, problems = ?, note = ?, source = ?, created_by = ?, updated_at = ?, client_key = ? WHERE id = ?`,
				sub.Result, sub.Problems, sub.Note, SourcePhone, nullID(actor.UserID), now, sub.Key, cur.ID); err != nil {
				return err
			}
		} else {
			if cur.ID, err = store.InsertID(ctx, tx, `INSERT INTO assess_observations (round_id, site_id, standard, result, problems, note, source, created_by, created_at, updated_at, client_key)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, rd.ID, cl.siteID, it.Code, sub.Result, sub.Problems, sub.Note, SourcePhone, nullID(actor.UserID), now, now, sub.Key); err != nil {
				return err
			}
		}
		cur.Result, cur.Problems, cur.Note, cur.Source, cur.UpdatedAt = sub.Result, sub.Problems, sub.Note, SourcePhone, now
		switch {
		case sub.Result != string(Fail):
		case cur.CaseID != 0:
			if err := s.Cases.PhotoJobs.Insert(ctx, tx, cur.CaseID, "before", 0, s.now(), sub.Photos); err != nil {
				return err
			}
		case prepared == nil:
			out.NoCategory = true
		default:
			if cur.CaseID, err = s.fileCase(ctx, tx, prepared, cur.ID); err != nil {
				return err
			}
			if cur.CaseID == 0 {
				out.NoCategory = true
			}
		}
		if cur.CaseID != 0 && cur.CaseNo == "" { // a case filed just now
			if err := tx.QueryRow(ctx, `SELECT no FROM cases WHERE id = ?`, cur.CaseID).Scan(&cur.CaseNo); err != nil {
				return err
			}
		}
		if rd.State == RoundDraft {
			if _, err := tx.Exec(ctx, `UPDATE assess_rounds SET state = ? WHERE id = ? AND state = ?`, RoundInProgress, rd.ID, RoundDraft); err != nil {
				return err
			}
		}
		out.Observation = cur
		return s.trail(ctx, tx, actor, "assess.observation", map[string]any{
			"round": rd.Code, "site": cl.Site.Code, "standard": it.Code, "result": sub.Result, "problems": sub.Problems,
			"observation": cur.ID, "case": cur.CaseID, "photos": len(sub.Photos),
		})
	})
	if err != nil {
		return Submitted{}, err
	}
	return out, nil
}
