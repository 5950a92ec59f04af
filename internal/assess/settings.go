package assess

import (
	"context"
	"database/sql"
	"errors"
	"math/big"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Settings are the office's choices for assessment rounds, kept in the
// settings table under one key.
type Settings struct {
	// CaseUnit says who leads the case a failed observation raises:
	// "site" (default) the site's responsible unit (包保单位), else the
	// standard's lead unit; "lead" the other way round. With neither, the
	// responsibility table routes the case like any report.
	CaseUnit string `json:"case_unit"`
	// DefaultCategory files a failed standard that has no mapped category
	// (0: such observations raise no case until one is mapped).
	DefaultCategory int64 `json:"default_category"`
	// SplitSite and SplitLead share an observation's lost points between
	// the site's unit and the standard's lead unit (docs/assessment.md),
	// as exact decimals; "1" and "0" by default.
	SplitSite string `json:"split_site"`
	SplitLead string `json:"split_lead"`
	// Cards: a district or street whose rate is at least GreenRate gets a
	// green card, at least YellowRate yellow, else red; a unit that lost
	// at least RedLost points gets red, at least YellowLost yellow, else
	// green. Exact decimals.
	GreenRate  string `json:"green_rate"`
	YellowRate string `json:"yellow_rate"`
	YellowLost string `json:"yellow_lost"`
	RedLost    string `json:"red_lost"`
	// RecheckDays is how many working days a site that failed in a round
	// has before its re-inspection (复查) is due; 0 opens none.
	RecheckDays int `json:"recheck_days"`
}

// DefaultSettings are the settings of a new city.
func DefaultSettings() Settings {
	return Settings{CaseUnit: "site", SplitSite: "1", SplitLead: "0",
		GreenRate: "0.9", YellowRate: "0.8", YellowLost: "1", RedLost: "3", RecheckDays: 10}
}

const settingsKey = "assess.settings"

// Split returns the ledger's split rule.
func (st Settings) Split() Split {
	site, ok1 := ParseDecimal(st.SplitSite)
	lead, ok2 := ParseDecimal(st.SplitLead)
	if !ok1 || !ok2 {
		return DefaultSplit()
	}
	return Split{Site: site, Lead: lead}
}

// Cards returns the card thresholds.
func (st Settings) Cards() Cards {
	d := DefaultSettings()
	get := func(v, def string) *big.Rat {
		if r, ok := ParseDecimal(v); ok {
			return r
		}
		r, _ := ParseDecimal(def)
		return r
	}
	return Cards{GreenRate: get(st.GreenRate, d.GreenRate), YellowRate: get(st.YellowRate, d.YellowRate),
		YellowLost: get(st.YellowLost, d.YellowLost), RedLost: get(st.RedLost, d.RedLost)}
}

func (st Settings) check() error {
	bad := func(field string) error {
		return apperr.New(apperr.Invalid, "assess.bad_setting", "field", field)
	}
	if st.CaseUnit != "site" && st.CaseUnit != "lead" {
		return bad("case_unit")
	}
	if st.DefaultCategory < 0 {
		return bad("default_category")
	}
	if st.RecheckDays < 0 || st.RecheckDays > 60 {
		return bad("recheck_days")
	}
	for field, v := range map[string]string{"split_site": st.SplitSite, "split_lead": st.SplitLead,
		"green_rate": st.GreenRate, "yellow_rate": st.YellowRate, "yellow_lost": st.YellowLost, "red_lost": st.RedLost} {
		if _, ok := ParseDecimal(v); !ok {
			return bad(field)
		}
	}
	if _, err := st.Split().normal(); err != nil {
		return bad("split_site")
	}
	c := st.Cards()
	if c.GreenRate.Cmp(c.YellowRate) < 0 || c.GreenRate.Cmp(big.NewRat(1, 1)) > 0 {
		return bad("green_rate")
	}
	if c.RedLost.Cmp(c.YellowLost) < 0 {
		return bad("red_lost")
	}
	return nil
}

// Settings returns the stored settings (the defaults where none are).
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	return loadSettings(ctx, s.DB.Reader())
}

func loadSettings(ctx context.Context, q store.Queryer) (Settings, error) {
	return store.ReadSetting(ctx, q, settingsKey, DefaultSettings())
}

// SaveSettings stores the settings (the administrator's), with a trail
// entry.
func (s *Service) SaveSettings(ctx context.Context, actor org.Actor, st Settings) error {
	if err := canWrite(actor); err != nil {
		return err
	}
	if err := st.check(); err != nil {
		return err
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if st.DefaultCategory != 0 {
			if err := leafCategory(ctx, tx, st.DefaultCategory); err != nil {
				return err
			}
		}
		if err := store.WriteSetting(ctx, tx, settingsKey, st); err != nil {
			return err
		}
		return s.trail(ctx, tx, actor, "assess.settings", st)
	})
}

// leafCategory checks that id is an active problem category of the
// second level (小类), the level cases are filed under.
func leafCategory(ctx context.Context, q store.Queryer, id int64) error {
	var parent int64
	var active bool
	err := q.QueryRow(ctx, `SELECT COALESCE(parent_id, 0), active FROM categories WHERE id = ?`, id).Scan(&parent, &active)
	if errors.Is(err, sql.ErrNoRows) || err == nil && (parent == 0 || !active) {
		return apperr.New(apperr.Invalid, "assess.bad_category", "id", itoa(id))
	}
	return err
}

// CategoryMap returns the mapping of standard codes to problem category
// ids.
func (s *Service) CategoryMap(ctx context.Context, actor org.Actor) (map[string]int64, error) {
	if err := canRead(actor); err != nil {
		return nil, err
	}
	return codeMap(ctx, s.DB.Reader(), `SELECT standard, category_id FROM assess_category_map`)
}

// MapCategories sets the category of each given standard code (0 removes
// the mapping), in one transaction with a trail entry.
func (s *Service) MapCategories(ctx context.Context, actor org.Actor, m map[string]int64) error {
	if err := canWrite(actor); err != nil {
		return err
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		for code, id := range m {
			if code == "" || !validCode(code) {
				return apperr.New(apperr.Invalid, "assess.bad_code", "code", code)
			}
			if id == 0 {
				if _, err := tx.Exec(ctx, `DELETE FROM assess_category_map WHERE standard = ?`, code); err != nil {
					return err
				}
				continue
			}
			if err := leafCategory(ctx, tx, id); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO assess_category_map (standard, category_id) VALUES (?, ?)
				ON CONFLICT (standard) DO UPDATE SET category_id = excluded.category_id`, code, id); err != nil {
				return err
			}
		}
		return s.trail(ctx, tx, actor, "assess.category_map", m)
	})
}
