package assess

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Round states: a new round is a draft; its first observations put it in
// progress; a closed round takes no more observations or values.
const (
	RoundDraft      = "draft"
	RoundInProgress = "in_progress"
	RoundClosed     = "closed"
)

// Round kinds: a mock inspection is scored; a leader's supervision visit
// (领导督导) records problems, which become cases the same way, and no
// score.
const (
	KindMock        = "mock"
	KindSupervision = "supervision"
)

// Round is a stored inspection round (测评轮次).
type Round struct {
	ID             int64  `json:"id"`
	Code           string `json:"code"`
	Name           string `json:"name"`
	EditionID      int64  `json:"edition_id"`
	Edition        string `json:"edition"`
	EditionVersion int    `json:"edition_version"`
	Date           string `json:"inspection_date"` // YYYY-MM-DD in the city's zone
	Plan           string `json:"plan"`
	Seed           uint64 `json:"seed,string"`
	State          string `json:"state"`
	Kind           string `json:"kind"`       // mock or supervision
	CreatedAt      int64  `json:"created_at"` // unix ms
	ClosedAt       int64  `json:"closed_at,omitempty"`
	Sites          int    `json:"sites"` // the sample's size
}

// Scored tells whether the round has scores (a mock inspection).
func (rd Round) Scored() bool { return rd.Kind != KindSupervision }

// NewRound is what CreateRound needs.
type NewRound struct {
	Edition string  // an edition code: the round takes its latest version
	Name    string  // required
	Plan    string  // "all" (or empty) or "TYPE:N,..."
	Seed    *uint64 // nil: a random seed, stored with the round
	Date    string  // YYYY-MM-DD; empty: today in the city's zone
	Kind    string  // KindMock (default) or KindSupervision
}

// RoundSite is one site of a round's sample, as it was when drawn.
type RoundSite struct {
	SiteID int64  `json:"site_id"`
	Code   string `json:"code"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	Region string `json:"region"`         // region code
	Unit   string `json:"unit"`           // responsible unit code, "" when none
	Team   string `json:"team,omitempty"` // the team the site is assigned to
}

// MaxRandomSeed bounds the seeds CreateRound draws itself (2^53), so that
// a seed survives any JSON reader as a number.
const MaxRandomSeed = 1 << 53

func randomSeed() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) % MaxRandomSeed
}

// CreateRound creates a draft round on the latest version (draft or
// published) of an edition code and draws its sample from the active
// sites with assess.Sample. The sample keeps each site's type, region and
// responsible unit as they are now. The round's code is generated:
// R<year>-<n>, n counting the rounds of the inspection date's year.
func (s *Service) CreateRound(ctx context.Context, actor org.Actor, in NewRound) (Round, error) {
	if err := canWrite(actor); err != nil {
		return Round{}, err
	}
	rd := Round{Name: strings.TrimSpace(in.Name), Date: strings.TrimSpace(in.Date), State: RoundDraft, Kind: in.Kind, CreatedAt: store.Ms(s.now())}
	switch rd.Kind {
	case "":
		rd.Kind = KindMock
	case KindMock, KindSupervision:
	default:
		return Round{}, apperr.New(apperr.Invalid, "assess.bad_kind", "kind", rd.Kind)
	}
	if rd.Name == "" {
		return Round{}, apperr.New(apperr.Invalid, "assess.name_required")
	}
	if rd.Date == "" {
		rd.Date = s.now().In(s.loc()).Format(time.DateOnly)
	} else if _, err := time.Parse(time.DateOnly, rd.Date); err != nil {
		return Round{}, apperr.New(apperr.Invalid, "assess.bad_date", "date", rd.Date)
	}
	plan, err := ParsePlan(in.Plan)
	if err != nil {
		return Round{}, err
	}
	rd.Plan = plan.String()
	if in.Seed != nil {
		rd.Seed = *in.Seed
	} else {
		rd.Seed = randomSeed()
	}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		info, err := editionVersion(ctx, tx, strings.TrimSpace(in.Edition), 0)
		if err != nil {
			return err
		}
		rd.EditionID, rd.Edition, rd.EditionVersion = info.ID, info.Code, info.Version
		types, err := codeMap(ctx, tx, `SELECT t.name, t.id FROM assess_edition_site_types x JOIN assess_site_types t ON t.id = x.site_type_id WHERE x.edition_id = ?`, info.ID)
		if err != nil {
			return err
		}
		for _, qt := range plan.Quotas {
			if types[qt.Type] == 0 {
				return apperr.New(apperr.Invalid, "assess.plan_type", "type", qt.Type, "edition", info.Code)
			}
		}
		drawn, err := s.draw(ctx, tx, plan, rd.Seed)
		if err != nil {
			return err
		}
		if len(drawn) == 0 {
			return apperr.New(apperr.Invalid, "assess.empty_sample")
		}
		rd.Sites = len(drawn)
		year := rd.Date[:4]
		var n int64
		if err := tx.QueryRow(ctx, `INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`, "assess_round_"+year).Scan(&n); err != nil {
			return err
		}
		rd.Code = "R" + year + "-" + pad2(n)
		rd.ID, err = store.InsertID(ctx, tx, `INSERT INTO assess_rounds (code, name, edition_id, inspection_date, plan, seed, state, kind, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			rd.Code, rd.Name, rd.EditionID, rd.Date, rd.Plan, strconv.FormatUint(rd.Seed, 10), rd.State, rd.Kind, rd.CreatedAt, nullID(actor.UserID))
		if err != nil {
			if store.IsUniqueViolation(err) {
				return apperr.New(apperr.Conflict, "assess.round_code_taken", "code", rd.Code)
			}
			return err
		}
		const perStmt = 500
		for start := 0; start < len(drawn); start += perStmt {
			chunk := drawn[start:min(start+perStmt, len(drawn))]
			var b strings.Builder
			b.WriteString(`INSERT INTO assess_round_sites (round_id, site_id, site_type_id, region_id, unit_id) VALUES `)
			args := make([]any, 0, len(chunk)*4)
			for i, d := range chunk {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString("(" + strconv.FormatInt(rd.ID, 10) + ", ?, ?, ?, ?)")
				args = append(args, d.id, d.typeID, d.regionID, nullID(d.unitID))
			}
			if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
				return err
			}
		}
		return s.trail(ctx, tx, actor, "assess.round_create", map[string]any{
			"round": rd.Code, "name": rd.Name, "edition": rd.Edition, "version": rd.EditionVersion,
			"date": rd.Date, "plan": rd.Plan, "kind": rd.Kind, "seed": strconv.FormatUint(rd.Seed, 10), "sites": rd.Sites,
		})
	})
	if err != nil {
		return Round{}, err
	}
	return rd, nil
}

func pad2(n int64) string {
	s := strconv.FormatInt(n, 10)
	if len(s) < 2 {
		s = "0" + s
	}
	return s
}

// drawnSite is a site of the sample with what the round keeps of it.
type drawnSite struct {
	id, typeID, regionID, unitID int64
}

// draw reads the active sites and draws the sample. The order rows come
// back in does not matter: Sample orders the sites by code itself.
func (s *Service) draw(ctx context.Context, tx *store.Tx, plan Plan, seed uint64) ([]drawnSite, error) {
	regions, err := loadRegions(ctx, tx)
	if err != nil {
		return nil, err
	}
	type row struct {
		Site
		drawnSite
	}
	rows, err := store.Collect(ctx, tx, func(r store.Scanner) (x row, err error) {
		err = r.Scan(&x.drawnSite.id, &x.Code, &x.Type, &x.typeID, &x.regionID, &x.unitID)
		x.Site.ID = x.drawnSite.id
		return x, err
	}, `SELECT s.id, s.code, t.name, s.site_type_id, s.region_id, COALESCE(s.unit_id, 0)
		FROM assess_sites s JOIN assess_site_types t ON t.id = s.site_type_id WHERE s.active = TRUE ORDER BY s.id`)
	if err != nil {
		return nil, err
	}
	sites := make([]Site, len(rows))
	byID := make(map[int64]drawnSite, len(rows))
	for i := range rows {
		rows[i].District = regions.place(rows[i].regionID).District
		sites[i] = rows[i].Site
		byID[rows[i].drawnSite.id] = rows[i].drawnSite
	}
	chosen, err := Sample(sites, plan, seed)
	if err != nil {
		return nil, err
	}
	out := make([]drawnSite, len(chosen))
	for i, c := range chosen {
		out[i] = byID[c.ID]
	}
	return out, nil
}

const roundCols = `r.id, r.code, r.name, r.edition_id, e.code, e.version, r.inspection_date, r.plan, r.seed, r.state, r.kind, r.created_at, r.closed_at,
	(SELECT COUNT(*) FROM assess_round_sites x WHERE x.round_id = r.id)`

func scanRound(r store.Scanner) (rd Round, err error) {
	var seed string
	err = r.Scan(&rd.ID, &rd.Code, &rd.Name, &rd.EditionID, &rd.Edition, &rd.EditionVersion, &rd.Date, &rd.Plan, &seed, &rd.State, &rd.Kind, &rd.CreatedAt, &rd.ClosedAt, &rd.Sites)
	if err == nil {
		rd.Seed, err = strconv.ParseUint(seed, 10, 64)
	}
	return rd, err
}

func roundByCode(ctx context.Context, q store.Queryer, code string) (Round, error) {
	rd, err := scanRound(q.QueryRow(ctx, `SELECT `+roundCols+` FROM assess_rounds r JOIN assess_editions e ON e.id = r.edition_id WHERE r.code = ?`, strings.TrimSpace(code)))
	if errors.Is(err, sql.ErrNoRows) {
		return rd, apperr.New(apperr.NotFound, "assess.no_round", "code", code)
	}
	return rd, err
}

// readRound checks that actor reads the office's assessment data and
// finds a round, returning the reader it used.
func (s *Service) readRound(ctx context.Context, actor org.Actor, code string) (store.Queryer, Round, error) {
	if err := canRead(actor); err != nil {
		return nil, Round{}, err
	}
	q := s.DB.Reader()
	rd, err := roundByCode(ctx, q, code)
	return q, rd, err
}

// Round returns a round by its code.
func (s *Service) Round(ctx context.Context, actor org.Actor, code string) (Round, error) {
	if err := canRead(actor); err != nil {
		return Round{}, err
	}
	return roundByCode(ctx, s.DB.Reader(), code)
}

// Rounds lists the rounds, newest inspection date first.
func (s *Service) Rounds(ctx context.Context, actor org.Actor) ([]Round, error) {
	if err := canRead(actor); err != nil {
		return nil, err
	}
	return store.Collect(ctx, s.DB.Reader(), scanRound, `SELECT `+roundCols+` FROM assess_rounds r JOIN assess_editions e ON e.id = r.edition_id ORDER BY r.inspection_date DESC, r.id DESC`)
}

// RoundSites returns a round's sample, by site code (byte order, as
// Sample orders it).
func (s *Service) RoundSites(ctx context.Context, actor org.Actor, code string) ([]RoundSite, error) {
	q, rd, err := s.readRound(ctx, actor, code)
	if err != nil {
		return nil, err
	}
	out, err := store.Collect(ctx, q, func(r store.Scanner) (x RoundSite, err error) {
		return x, r.Scan(&x.SiteID, &x.Code, &x.Name, &x.Type, &x.Region, &x.Unit, &x.Team)
	}, `SELECT s.id, s.code, s.name, t.name, g.code, COALESCE(u.code, ''), COALESCE(m.name, '')
		FROM assess_round_sites x JOIN assess_sites s ON s.id = x.site_id JOIN assess_site_types t ON t.id = x.site_type_id
		JOIN regions g ON g.id = x.region_id LEFT JOIN units u ON u.id = x.unit_id LEFT JOIN assess_teams m ON m.id = x.team_id
		WHERE x.round_id = ?`, rd.ID)
	if err != nil {
		return nil, err
	}
	sortBy(out, func(x RoundSite) string { return x.Code })
	return out, nil
}
