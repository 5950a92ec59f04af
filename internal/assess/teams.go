package assess

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Team is an inspection team (测评组) of a round: its members and the
// number of sampled sites assigned to it.
type Team struct {
	ID      int64        `json:"id"`
	Name    string       `json:"name"`
	Members []TeamMember `json:"members"`
	Sites   int          `json:"sites"`
}

// TeamMember is an account of a team.
type TeamMember struct {
	UserID   int64  `json:"user_id"`
	Username string `json:"username"`
	Name     string `json:"name"`
}

// Teams lists a round's teams by name.
func (s *Service) Teams(ctx context.Context, actor org.Actor, roundCode string) ([]Team, error) {
	q, rd, err := s.readRound(ctx, actor, roundCode)
	if err != nil {
		return nil, err
	}
	return roundTeams(ctx, q, rd.ID)
}

func roundTeams(ctx context.Context, q store.Queryer, roundID int64) ([]Team, error) {
	teams, err := store.Collect(ctx, q, func(r store.Scanner) (t Team, err error) {
		return t, r.Scan(&t.ID, &t.Name, &t.Sites)
	}, `SELECT t.id, t.name, (SELECT COUNT(*) FROM assess_round_sites x WHERE x.team_id = t.id) FROM assess_teams t WHERE t.round_id = ? ORDER BY t.name`, roundID)
	if err != nil {
		return nil, err
	}
	members, err := store.Collect(ctx, q, func(r store.Scanner) (x struct {
		team int64
		TeamMember
	}, err error) {
		return x, r.Scan(&x.team, &x.UserID, &x.Username, &x.Name)
	}, `SELECT m.team_id, u.id, u.username, u.display_name FROM assess_team_members m JOIN users u ON u.id = m.user_id
		JOIN assess_teams t ON t.id = m.team_id WHERE t.round_id = ? ORDER BY u.username`, roundID)
	if err != nil {
		return nil, err
	}
	for i := range teams {
		teams[i].Members = []TeamMember{}
		for _, m := range members {
			if m.team == teams[i].ID {
				teams[i].Members = append(teams[i].Members, m.TeamMember)
			}
		}
	}
	return teams, nil
}

// SaveTeam creates a round's team, or replaces the members of the team of
// that name. Members are usernames of active inspectors or leaders (a
// leader's supervision visit is a team too).
func (s *Service) SaveTeam(ctx context.Context, actor org.Actor, roundCode, name string, usernames []string) (Team, error) {
	if err := canWrite(actor); err != nil {
		return Team{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return Team{}, apperr.New(apperr.Invalid, "assess.name_required")
	}
	var out Team
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		rd, err := openRound(ctx, tx, roundCode)
		if err != nil {
			return err
		}
		var ids []int64
		for _, u := range usernames {
			u = strings.TrimSpace(u)
			if u == "" {
				continue
			}
			var id int64
			var role string
			var active bool
			err := tx.QueryRow(ctx, `SELECT id, role, NOT disabled FROM users WHERE username = ?`, u).Scan(&id, &role, &active)
			if errors.Is(err, sql.ErrNoRows) || err == nil && !active {
				return apperr.New(apperr.Invalid, "assess.unknown_user", "user", u)
			}
			if err != nil {
				return err
			}
			if role != string(org.RoleInspector) && role != string(org.RoleLeader) && role != string(org.RoleAdmin) {
				return apperr.New(apperr.Invalid, "assess.not_inspector", "user", u)
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		var teamID int64
		err = tx.QueryRow(ctx, `SELECT id FROM assess_teams WHERE round_id = ? AND name = ?`, rd.ID, name).Scan(&teamID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if teamID, err = store.InsertID(ctx, tx, `INSERT INTO assess_teams (round_id, name, created_at) VALUES (?, ?, ?)`, rd.ID, name, store.Ms(s.now())); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if _, err := tx.Exec(ctx, `DELETE FROM assess_team_members WHERE team_id = ?`, teamID); err != nil {
				return err
			}
		}
		for _, id := range ids {
			if _, err := tx.Exec(ctx, `INSERT INTO assess_team_members (team_id, user_id) VALUES (?, ?)`, teamID, id); err != nil {
				return err
			}
		}
		if err := s.trail(ctx, tx, actor, "assess.team_save", map[string]any{"round": rd.Code, "team": name, "members": usernames}); err != nil {
			return err
		}
		teams, err := roundTeams(ctx, tx, rd.ID)
		for _, t := range teams {
			if t.ID == teamID {
				out = t
			}
		}
		return err
	})
	return out, err
}

// AssignSites gives the named sampled sites to a team ("" takes them from
// their team). An unknown or unsampled code refuses the whole list.
func (s *Service) AssignSites(ctx context.Context, actor org.Actor, roundCode, team string, siteCodes []string) (int, error) {
	if err := canWrite(actor); err != nil {
		return 0, err
	}
	n := 0
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		rd, err := openRound(ctx, tx, roundCode)
		if err != nil {
			return err
		}
		var teamID int64
		if team = strings.TrimSpace(team); team != "" {
			err := tx.QueryRow(ctx, `SELECT id FROM assess_teams WHERE round_id = ? AND name = ?`, rd.ID, team).Scan(&teamID)
			if errors.Is(err, sql.ErrNoRows) {
				return apperr.New(apperr.NotFound, "assess.no_team", "team", team)
			}
			if err != nil {
				return err
			}
		}
		sample, err := codeMap(ctx, tx, `SELECT s.code, s.id FROM assess_round_sites x JOIN assess_sites s ON s.id = x.site_id WHERE x.round_id = ?`, rd.ID)
		if err != nil {
			return err
		}
		for _, c := range siteCodes {
			c = strings.TrimSpace(c)
			if c == "" {
				continue
			}
			id := sample[c]
			if id == 0 {
				return apperr.New(apperr.Invalid, "assess.not_sampled", "site", c)
			}
			if _, err := tx.Exec(ctx, `UPDATE assess_round_sites SET team_id = ? WHERE round_id = ? AND site_id = ?`, nullID(teamID), rd.ID, id); err != nil {
				return err
			}
			n++
		}
		return s.trail(ctx, tx, actor, "assess.sites_assign", map[string]any{"round": rd.Code, "team": team, "sites": n})
	})
	return n, err
}

// AssignByDistrict gives every unassigned sampled site to a team: the
// districts, in code order, are dealt to the teams in name order, so that
// each team works in as few districts as possible. It returns the number
// of sites assigned.
func (s *Service) AssignByDistrict(ctx context.Context, actor org.Actor, roundCode string) (int, error) {
	if err := canWrite(actor); err != nil {
		return 0, err
	}
	q := s.DB.Reader()
	rd, err := roundByCode(ctx, q, roundCode)
	if err != nil {
		return 0, err
	}
	teams, err := roundTeams(ctx, q, rd.ID)
	if err != nil {
		return 0, err
	}
	if len(teams) == 0 {
		return 0, apperr.New(apperr.Invalid, "assess.no_teams")
	}
	regions, err := loadRegions(ctx, q)
	if err != nil {
		return 0, err
	}
	type free struct {
		code   string
		region int64
	}
	rows, err := store.Collect(ctx, q, func(r store.Scanner) (f free, err error) {
		return f, r.Scan(&f.code, &f.region)
	}, `SELECT s.code, x.region_id FROM assess_round_sites x JOIN assess_sites s ON s.id = x.site_id WHERE x.round_id = ? AND x.team_id IS NULL`, rd.ID)
	if err != nil {
		return 0, err
	}
	byDistrict := map[string][]string{}
	for _, f := range rows {
		d := regions.place(f.region).District
		byDistrict[d] = append(byDistrict[d], f.code)
	}
	districts := make([]string, 0, len(byDistrict))
	for d := range byDistrict {
		districts = append(districts, d)
	}
	slices.Sort(districts)
	n := 0
	for i, d := range districts {
		k, err := s.AssignSites(ctx, actor, rd.Code, teams[i%len(teams)].Name, byDistrict[d])
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// member tells whether actor belongs to a team of the round that the site
// is assigned to; the office's administrator may record at any site.
func member(ctx context.Context, q store.Queryer, actor org.Actor, roundID, siteID int64) (bool, error) {
	if canWrite(actor) == nil {
		return true, nil
	}
	if actor.UserID == 0 {
		return false, nil
	}
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM assess_round_sites x JOIN assess_team_members m ON m.team_id = x.team_id
		WHERE x.round_id = ? AND x.site_id = ? AND m.user_id = ?`, roundID, siteID, actor.UserID).Scan(&n)
	return n > 0, err
}
