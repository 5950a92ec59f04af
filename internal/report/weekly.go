package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/assess"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/tasks"
	"chuangwen/internal/workflow"
)

// The weekly supervision notice (督办单): each week, at the configured day
// and hour in the city's zone, every unit with anything due gets one: its
// overdue cases, those due within the next working days, its listed cases
// (挂牌督办) until closed, its reworks and pending extensions, and its
// card and rank in the latest closed mock inspection. A unit acknowledges
// (签收) its notice; a notice left unacknowledged is named on the next one,
// which is marked escalated. The office may issue a notice to a unit, or
// about one case, at any time (即时督办).

// Week is an ISO week, 2026-W49.
type Week struct{ Year, W int }

var weekRe = regexp.MustCompile(`^(\d{4})-W(\d{2})$`)

// ParseWeek reads "2026-W49".
func ParseWeek(s string) (Week, error) {
	m := weekRe.FindStringSubmatch(s)
	if m == nil {
		return Week{}, apperr.New(apperr.Invalid, "report.bad_week", "week", s)
	}
	y, _ := strconv.Atoi(m[1])
	w, _ := strconv.Atoi(m[2])
	wk := Week{y, w}
	if w < 1 || w > 53 || WeekOf(wk.Start(time.UTC), time.UTC) != wk {
		return Week{}, apperr.New(apperr.Invalid, "report.bad_week", "week", s)
	}
	return wk, nil
}

// WeekOf is the ISO week of t in loc.
func WeekOf(t time.Time, loc *time.Location) Week {
	y, w := t.In(loc).ISOWeek()
	return Week{y, w}
}

func (w Week) String() string { return fmt.Sprintf("%d-W%02d", w.Year, w.W) }

// Start is the Monday 00:00 of the week in loc.
func (w Week) Start(loc *time.Location) time.Time {
	// 4 January is always in week 1.
	jan4 := time.Date(w.Year, 1, 4, 0, 0, 0, 0, loc)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	return monday.AddDate(0, 0, 7*(w.W-1))
}

// NoticeSettings are when the weekly notices go out and what counts as
// due soon.
type NoticeSettings struct {
	Weekday int    `json:"weekday"` // 1 Monday … 7 Sunday
	Hour    int    `json:"hour"`    // 0–23, in the city's zone
	DueDays int    `json:"due_days"`
	Issuer  string `json:"issuer"` // the office, as the notices name it
}

// DefaultNoticeSettings: Monday 09:00, due within 2 working days.
func DefaultNoticeSettings() NoticeSettings {
	return NoticeSettings{Weekday: 1, Hour: 9, DueDays: 2, Issuer: "创建全国文明城市工作领导小组办公室"}
}

const noticeSettingsKey = "report.notices"

// NoticeSettings returns the stored notice settings.
func (s *Service) NoticeSettings(ctx context.Context) (NoticeSettings, error) {
	return store.ReadSetting(ctx, s.DB.Reader(), noticeSettingsKey, DefaultNoticeSettings())
}

// SaveNoticeSettings stores the notice settings (the administrator's).
func (s *Service) SaveNoticeSettings(ctx context.Context, actor org.Actor, st NoticeSettings) error {
	if actor.Role != org.RoleAdmin && actor.Role != org.RoleSystem {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	st.Issuer = strings.TrimSpace(st.Issuer)
	if st.Weekday < 1 || st.Weekday > 7 || st.Hour < 0 || st.Hour > 23 || st.DueDays < 0 || st.DueDays > 30 || st.Issuer == "" {
		return apperr.New(apperr.Invalid, "report.bad_setting", "field", "notices")
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.WriteSetting(ctx, tx, noticeSettingsKey, st); err != nil {
			return err
		}
		return appendTrail(ctx, tx, actor, s.now(), "report.notice_settings", st)
	})
}

// NoticeCase is a case on a notice.
type NoticeCase struct {
	ID               int64  `json:"id"`
	No               string `json:"no"`
	Category         string `json:"category"`
	Region           string `json:"region"`
	Description      string `json:"description"`
	State            string `json:"state"`
	Deadline         string `json:"deadline,omitempty"` // in the city's zone
	Overdue          bool   `json:"overdue"`
	Supervised       bool   `json:"supervised"`
	Reworks          int    `json:"reworks"`
	ExtensionPending bool   `json:"extension_pending"`
}

// UnitStanding is the unit's place in the latest closed mock inspection.
type UnitStanding struct {
	Round string `json:"round"`
	Card  string `json:"card"`
	Rank  int    `json:"rank"` // 1: lost the most
	Of    int    `json:"of"`
	Lost  string `json:"lost"`
}

// UnitRecheck is the unit's revisit figures over the quarter so far
// (docs/performance.md: revisited, relapses, relapse rate).
type UnitRecheck struct {
	From        string `json:"from"` // the quarter's first day
	Revisited   int    `json:"revisited"`
	Relapses    int    `json:"relapses"`
	RelapseRate string `json:"relapse_rate"` // percent, one decimal
}

// NoticeSite is a site on a notice.
type NoticeSite struct {
	Round    string `json:"round"`
	Site     string `json:"site"`
	SiteName string `json:"site_name"`
	Address  string `json:"address"`
	At       string `json:"at"` // when the re-inspection was recorded, in the city's zone
}

// NoticeDoc is a notice's content, as issued.
type NoticeDoc struct {
	No                string       `json:"no"` // "" for a draft
	Kind              string       `json:"kind"`
	Week              string       `json:"week"`
	Unit              string       `json:"unit"`
	UnitName          string       `json:"unit_name"`
	Issuer            string       `json:"issuer"`
	IssuedAt          string       `json:"issued_at"`
	Note              string       `json:"note,omitempty"`
	Case              *NoticeCase  `json:"case,omitempty"`
	Overdue           []NoticeCase `json:"overdue"`
	DueSoon           []NoticeCase `json:"due_soon"`
	Listed            []NoticeCase `json:"listed"`
	Reworks           []NoticeCase `json:"reworks"`
	ExtensionsPending []NoticeCase `json:"extensions_pending"`
	// Relapses are the unit's closed cases found back on a revisit in the
	// seven days before the notice (反弹); Recurrences the new reports
	// linked in those days to cases the unit had closed (疑似复发).
	Relapses    []NoticeCase `json:"relapses"`
	Recurrences []NoticeCase `json:"recurrences"`
	Recheck     *UnitRecheck `json:"recheck,omitempty"`
	// FailedRechecks are the unit's sites that failed their
	// re-inspection (复查) after a round, in the seven days before.
	FailedRechecks []NoticeSite `json:"failed_rechecks"`
	// OverdueMilestones are the milestones of the tasks the unit leads in
	// the campaign's task list that are past due and not accepted.
	OverdueMilestones []tasks.OverdueMilestone `json:"overdue_milestones"`
	Assessment        *UnitStanding            `json:"assessment,omitempty"`
	Unacknowledged    []string                 `json:"unacknowledged"` // earlier notices not signed
	Escalated         bool                     `json:"escalated"`
}

// due tells whether the notice has anything for the unit to do.
func (d NoticeDoc) due() bool {
	return len(d.Overdue)+len(d.DueSoon)+len(d.Listed)+len(d.Reworks)+len(d.ExtensionsPending)+len(d.Relapses)+len(d.FailedRechecks)+len(d.OverdueMilestones) > 0
}

// Notice is a stored notice.
type Notice struct {
	ID             int64     `json:"id"`
	Doc            NoticeDoc `json:"doc"`
	AcknowledgedAt int64     `json:"acknowledged_at,omitempty"`
	AcknowledgedBy string    `json:"acknowledged_by,omitempty"`
}

// openStates are the states in which a case is the unit's to work on.
var openStates = []workflow.State{workflow.Dispatched, workflow.InProgress, workflow.Postponed, workflow.Verifying}

// noticeDescRunes is how much of a description a notice prints. The
// cases_notice index (migration 0013) holds the start of descriptions
// cut to this + 1 characters: change both together.
const noticeDescRunes = 60

func (s *Service) noticeCase(c workflow.UnitWork) NoticeCase {
	d := c.Description
	if utf8.RuneCountInString(d) > noticeDescRunes {
		d = string([]rune(d)[:noticeDescRunes]) + "…"
	}
	nc := NoticeCase{ID: c.ID, No: c.No, Category: c.Category, Region: c.Region, Description: d, State: string(c.State),
		Overdue: c.Overdue, Supervised: c.Supervised, Reworks: c.Reworks, ExtensionPending: c.ExtPending}
	if !c.Deadline.IsZero() {
		nc.Deadline = c.Deadline.In(s.loc()).Format("2006-01-02 15:04")
	}
	return nc
}

// caseWork is a full case as a notice lists it.
func caseWork(c *workflow.Case) workflow.UnitWork {
	return workflow.UnitWork{UnitID: c.LeadUnitID, ID: c.ID, No: c.No, Category: c.CategoryName, Region: c.RegionName, Description: c.Description,
		State: c.State, Deadline: c.Deadline, Overdue: c.Overdue, Supervised: c.Supervised, Reworks: c.ReworkCount, ExtPending: c.ExtPending}
}

// compose builds a unit's weekly notice as of now.
func (s *Service) compose(unit unitName, cases []workflow.UnitWork, week Week, st NoticeSettings, now, soon time.Time, standing map[string]UnitStanding) NoticeDoc {
	d := NoticeDoc{Kind: "weekly", Week: week.String(), Unit: unit.code, UnitName: unit.name, Issuer: st.Issuer,
		IssuedAt: now.In(s.loc()).Format("2006-01-02 15:04"),
		Overdue:  []NoticeCase{}, DueSoon: []NoticeCase{}, Listed: []NoticeCase{}, Reworks: []NoticeCase{}, ExtensionsPending: []NoticeCase{},
		Relapses: []NoticeCase{}, Recurrences: []NoticeCase{}, FailedRechecks: []NoticeSite{}, OverdueMilestones: []tasks.OverdueMilestone{}, Unacknowledged: []string{}}
	for _, c := range cases {
		nc := s.noticeCase(c)
		waiting := c.State == workflow.Dispatched || c.State == workflow.InProgress
		switch {
		case waiting && !c.Deadline.IsZero() && !c.Deadline.After(now):
			d.Overdue = append(d.Overdue, nc)
		case waiting && !c.Deadline.IsZero() && !c.Deadline.After(soon):
			d.DueSoon = append(d.DueSoon, nc)
		}
		if c.Supervised {
			d.Listed = append(d.Listed, nc)
		}
		if c.Reworks > 0 && waiting {
			d.Reworks = append(d.Reworks, nc)
		}
		if c.ExtPending {
			d.ExtensionsPending = append(d.ExtensionsPending, nc)
		}
	}
	if sd, ok := standing[unit.code]; ok {
		d.Assessment = &sd
	}
	return d
}

// dueSoon is the end of the due-soon window from now.
func (s *Service) dueSoon(ctx context.Context, now time.Time, st NoticeSettings) (time.Time, error) {
	cal, err := s.Flow.Calendar(ctx)
	if err != nil {
		return now, err
	}
	return cal.AddWorkingMinutes(now, st.DueDays*cal.MinutesPerDay()), nil
}

// standings are the units' places in the latest closed mock round.
func (s *Service) standings(ctx context.Context) (map[string]UnitStanding, error) {
	rounds, err := s.Assess.Rounds(ctx, org.System)
	if err != nil {
		return nil, err
	}
	out := map[string]UnitStanding{}
	rd := latestClosed(rounds)
	if rd == nil {
		return out, nil
	}
	rk, err := s.Assess.Rankings(ctx, org.System, rd.Code)
	if err != nil {
		return nil, err
	}
	for _, u := range rk.Units {
		out[u.Code] = UnitStanding{Round: rd.Code, Card: string(u.Card), Rank: u.Rank, Of: len(rk.Units), Lost: assess.RoundString(u.Lost, assess.PointPlaces)}
	}
	return out, nil
}

// WeeklyDrafts composes the week's notices as of now, without storing
// them: every active unit with anything due (or only unitCode).
func (s *Service) WeeklyDrafts(ctx context.Context, actor org.Actor, week string, unitCode string) ([]NoticeDoc, error) {
	if err := canRead(actor); err != nil {
		return nil, err
	}
	return s.weekly(ctx, week, unitCode, nil)
}

// weekly composes the week's notices as of now for every active unit with
// anything due (or only unitCode), but those in skip (by code: issued
// already).
func (s *Service) weekly(ctx context.Context, week, unitCode string, skip map[string]bool) ([]NoticeDoc, error) {
	wk, err := ParseWeek(week)
	if err != nil {
		return nil, err
	}
	st, err := s.NoticeSettings(ctx)
	if err != nil {
		return nil, err
	}
	standing, err := s.standings(ctx)
	if err != nil {
		return nil, err
	}
	units, err := s.activeUnits(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	soon, err := s.dueSoon(ctx, now, st)
	if err != nil {
		return nil, err
	}
	var todo []activeUnit
	var ids []int64
	for _, u := range units {
		if (unitCode == "" || u.code == unitCode) && !skip[u.code] {
			todo = append(todo, u)
			ids = append(ids, u.id)
		}
	}
	work, err := s.Flow.OpenByUnit(ctx, ids, soon, noticeDescRunes)
	if err != nil {
		return nil, err
	}
	byUnit := map[int64][]workflow.UnitWork{}
	for _, w := range work {
		byUnit[w.UnitID] = append(byUnit[w.UnitID], w)
	}
	rc, err := s.rechecks(ctx, ids, now)
	if err != nil {
		return nil, err
	}
	var out []NoticeDoc
	for _, u := range todo {
		d := s.compose(u.unitName, byUnit[u.id], wk, st, now, soon, standing)
		rc.fill(&d, u.id, s)
		if d.due() || unitCode != "" {
			out = append(out, d)
		}
	}
	if unitCode != "" && len(out) == 0 && !skip[unitCode] {
		return nil, apperr.New(apperr.NotFound, "report.no_unit", "unit", unitCode)
	}
	return out, nil
}

// unitRechecks are the relapse sections of the notices, by unit id.
type unitRechecks struct {
	relapses, recurrences map[int64][]workflow.UnitWork
	sites                 map[int64][]assess.Recheck
	milestones            map[int64][]tasks.OverdueMilestone
	figures               map[int64]workflow.Figures
	from                  string
}

// rechecks reads the relapses and recurrences of the seven days before
// now, and the quarter's revisit figures, for the units' notices.
func (s *Service) rechecks(ctx context.Context, units []int64, now time.Time) (unitRechecks, error) {
	rc := unitRechecks{relapses: map[int64][]workflow.UnitWork{}, recurrences: map[int64][]workflow.UnitWork{}, figures: map[int64]workflow.Figures{}}
	rel, rec, err := s.Flow.RelapsesByUnit(ctx, units, now.AddDate(0, 0, -7), now, noticeDescRunes)
	if err != nil {
		return rc, err
	}
	for _, w := range rel {
		rc.relapses[w.UnitID] = append(rc.relapses[w.UnitID], w)
	}
	for _, w := range rec {
		rc.recurrences[w.UnitID] = append(rc.recurrences[w.UnitID], w)
	}
	if s.Assess != nil {
		if rc.sites, err = s.Assess.FailedRechecks(ctx, now.AddDate(0, 0, -7), now); err != nil {
			return rc, err
		}
	}
	if s.Tasks != nil {
		if rc.milestones, err = s.Tasks.OverdueByUnit(ctx, units, now); err != nil {
			return rc, err
		}
	}
	local := now.In(s.loc())
	qs := time.Date(local.Year(), time.Month((int(local.Month())-1)/3*3+1), 1, 0, 0, 0, 0, s.loc())
	rc.from = qs.Format("2006-01-02")
	rows, err := s.Flow.UnitPerformance(ctx, workflow.Period{From: qs, To: now})
	if err != nil {
		return rc, err
	}
	for _, r := range rows {
		rc.figures[r.ID] = r.Figures
	}
	return rc, nil
}

// fill adds the unit's relapse sections to its notice.
func (rc unitRechecks) fill(d *NoticeDoc, unit int64, s *Service) {
	for _, w := range rc.relapses[unit] {
		d.Relapses = append(d.Relapses, s.noticeCase(w))
	}
	for _, w := range rc.recurrences[unit] {
		// A new report the unit was never sent: its number, category and
		// place, not the resident's words.
		nc := s.noticeCase(w)
		nc.Description = ""
		d.Recurrences = append(d.Recurrences, nc)
	}
	for _, k := range rc.sites[unit] {
		d.FailedRechecks = append(d.FailedRechecks, NoticeSite{Round: k.Round, Site: k.Site, SiteName: k.SiteName, Address: k.Address,
			At: k.DoneAt.In(s.loc()).Format("2006-01-02 15:04")})
	}
	d.OverdueMilestones = append(d.OverdueMilestones, rc.milestones[unit]...)
	if f := rc.figures[unit]; f.Revisited > 0 {
		d.Recheck = &UnitRecheck{From: rc.from, Revisited: f.Revisited, Relapses: f.Relapses,
			RelapseRate: strconv.FormatFloat(float64(f.Relapses)*100/float64(f.Revisited), 'f', 1, 64) + "%"}
	}
}

type activeUnit struct {
	id int64
	unitName
}

func (s *Service) activeUnits(ctx context.Context) ([]activeUnit, error) {
	return store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (u activeUnit, err error) {
		return u, r.Scan(&u.id, &u.code, &u.name)
	}, `SELECT id, code, name FROM units WHERE active = TRUE ORDER BY code`)
}

// IssueWeekly issues the week's notices to every active unit with anything
// due that has none for the week yet, and returns how many it issued. Two
// replicas issuing at once give one notice per unit: the second insert
// meets the first's row and is dropped.
func (s *Service) IssueWeekly(ctx context.Context, actor org.Actor, week string) (int, error) {
	if actor.Role != org.RoleAdmin && actor.Role != org.RoleSystem {
		return 0, apperr.New(apperr.Forbidden, "forbidden")
	}
	wk, err := ParseWeek(week)
	if err != nil {
		return 0, err
	}
	// Units issued already are not composed again (the run after a
	// restart, the second replica).
	issued, err := store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (code string, err error) {
		return code, r.Scan(&code)
	}, `SELECT u.code FROM notices n JOIN units u ON u.id = n.unit_id WHERE n.kind = 'weekly' AND n.week = ?`, wk.String())
	if err != nil {
		return 0, err
	}
	skip := map[string]bool{}
	for _, code := range issued {
		skip[code] = true
	}
	docs, err := s.weekly(ctx, wk.String(), "", skip)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range docs {
		ok, err := s.store(ctx, actor, d, 0)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// store numbers and stores a notice with a trail entry; false when the
// unit already has the week's notice.
func (s *Service) store(ctx context.Context, actor org.Actor, d NoticeDoc, caseID int64) (bool, error) {
	stored := false
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var unitID int64
		if err := tx.QueryRow(ctx, `SELECT id FROM units WHERE code = ?`, d.Unit).Scan(&unitID); err != nil {
			return err
		}
		if d.Kind == "weekly" {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM notices WHERE kind = 'weekly' AND week = ? AND unit_id = ?`, d.Week, unitID).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
		}
		prev, err := store.Collect(ctx, tx, func(r store.Scanner) (no string, err error) { return no, r.Scan(&no) },
			`SELECT no FROM notices WHERE unit_id = ? AND acknowledged_at = 0 ORDER BY issued_at, id`, unitID)
		if err != nil {
			return err
		}
		d.Unacknowledged, d.Escalated = nonNilStrings(prev), len(prev) > 0
		var seq int64
		if err := tx.QueryRow(ctx, `INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`, "notice_"+d.Week).Scan(&seq); err != nil {
			return err
		}
		d.No = fmt.Sprintf("%s-%03d", d.Week, seq)
		b, _ := json.Marshal(d)
		id, err := store.InsertID(ctx, tx, `INSERT INTO notices (no, kind, week, unit_id, case_id, doc, escalated, issued_at, issued_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.No, d.Kind, d.Week, unitID, nullID(caseID), string(b), d.Escalated, store.Ms(s.now()), nullID(actor.UserID))
		if err != nil {
			return err
		}
		if err := s.enqueue(ctx, tx, id, unitID, b); err != nil {
			return err
		}
		if err := workflow.AlertUnit(ctx, tx, s.now(), workflow.AlertNotice, unitID, caseID, d.No); err != nil {
			return err
		}
		stored = true
		return appendTrail(ctx, tx, actor, s.now(), "notice.issue", map[string]any{"notice": d.No, "kind": d.Kind, "unit": d.Unit, "escalated": d.Escalated})
	})
	if err != nil && store.IsUniqueViolation(err) {
		return false, nil // another replica issued it
	}
	return stored, err
}

func nonNilStrings(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// Instant issues a notice now (即时督办): to a unit (unitCode), or about
// one case (caseNo) to the unit leading it, with the office's note. The
// office's (administrator, acceptor).
func (s *Service) Instant(ctx context.Context, actor org.Actor, unitCode, caseNo, note string) (NoticeDoc, error) {
	if actor.Role != org.RoleAdmin && actor.Role != org.RoleAcceptor && actor.Role != org.RoleSystem {
		return NoticeDoc{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > 2000 {
		return NoticeDoc{}, apperr.New(apperr.Invalid, "report.note_too_long")
	}
	st, err := s.NoticeSettings(ctx)
	if err != nil {
		return NoticeDoc{}, err
	}
	now := s.now()
	var caseID int64
	var about *NoticeCase
	if caseNo = strings.TrimSpace(caseNo); caseNo != "" {
		page, err := s.Flow.List(ctx, org.System, workflow.Filter{No: caseNo, Limit: 1})
		if err != nil {
			return NoticeDoc{}, err
		}
		if len(page.Cases) == 0 || page.Cases[0].LeadUnitID == 0 {
			return NoticeDoc{}, apperr.New(apperr.Invalid, "report.case_no_unit", "case", caseNo)
		}
		c := page.Cases[0]
		nc := s.noticeCase(caseWork(c))
		about, caseID = &nc, c.ID
		if err := s.DB.Reader().QueryRow(ctx, `SELECT code FROM units WHERE id = ?`, c.LeadUnitID).Scan(&unitCode); err != nil {
			return NoticeDoc{}, err
		}
	}
	units, err := s.activeUnits(ctx)
	if err != nil {
		return NoticeDoc{}, err
	}
	for _, u := range units {
		if u.code != unitCode {
			continue
		}
		standing, err := s.standings(ctx)
		if err != nil {
			return NoticeDoc{}, err
		}
		soon, err := s.dueSoon(ctx, now, st)
		if err != nil {
			return NoticeDoc{}, err
		}
		work, err := s.Flow.OpenByUnit(ctx, []int64{u.id}, soon, noticeDescRunes)
		if err != nil {
			return NoticeDoc{}, err
		}
		d := s.compose(u.unitName, work, WeekOf(now, s.loc()), st, now, soon, standing)
		d.Kind, d.Note, d.Case = "instant", note, about
		if _, err := s.store(ctx, actor, d, caseID); err != nil {
			return NoticeDoc{}, err
		}
		list, err := s.notices(ctx, `n.unit_id = ? AND n.kind = 'instant'`, u.id)
		if err != nil || len(list) == 0 {
			return NoticeDoc{}, err
		}
		return list[0].Doc, nil
	}
	return NoticeDoc{}, apperr.New(apperr.NotFound, "report.no_unit", "unit", unitCode)
}

// Notices lists notices, newest first: a unit's handler sees its unit's,
// the office all of them (week narrows the list when given).
func (s *Service) Notices(ctx context.Context, actor org.Actor, week string) ([]Notice, error) {
	cond, args := "1 = 1", []any{}
	switch {
	case actor.Role == org.RoleHandler && actor.UnitID != 0:
		cond, args = "n.unit_id = ?", append(args, actor.UnitID)
	case canRead(actor) == nil:
	default:
		return nil, apperr.New(apperr.Forbidden, "forbidden")
	}
	if week != "" {
		wk, err := ParseWeek(week)
		if err != nil {
			return nil, err
		}
		cond, args = cond+" AND n.week = ?", append(args, wk.String())
	}
	return s.notices(ctx, cond, args...)
}

func (s *Service) notices(ctx context.Context, cond string, args ...any) ([]Notice, error) {
	return store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (n Notice, err error) {
		var doc string
		if err = r.Scan(&n.ID, &doc, &n.AcknowledgedAt, &n.AcknowledgedBy); err == nil {
			err = json.Unmarshal([]byte(doc), &n.Doc)
		}
		return n, err
	}, `SELECT n.id, n.doc, n.acknowledged_at, COALESCE(u.display_name, '') FROM notices n LEFT JOIN users u ON u.id = n.acknowledged_by
		WHERE `+cond+` ORDER BY n.issued_at DESC, n.id DESC`, args...)
}

// Acknowledge signs a notice (签收): its unit's handler, once.
func (s *Service) Acknowledge(ctx context.Context, actor org.Actor, no string) error {
	if actor.Role != org.RoleHandler || actor.UnitID == 0 {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var unit, acked int64
		err := tx.QueryRow(ctx, `SELECT unit_id, acknowledged_at FROM notices WHERE no = ?`, no).Scan(&unit, &acked)
		if errors.Is(err, sql.ErrNoRows) || err == nil && unit != actor.UnitID {
			return apperr.New(apperr.NotFound, "report.no_notice", "no", no)
		}
		if err != nil {
			return err
		}
		if acked != 0 {
			return apperr.New(apperr.Conflict, "report.notice_acknowledged", "no", no)
		}
		if _, err := tx.Exec(ctx, `UPDATE notices SET acknowledged_at = ?, acknowledged_by = ? WHERE no = ?`, store.Ms(s.now()), nullID(actor.UserID), no); err != nil {
			return err
		}
		return appendTrail(ctx, tx, actor, s.now(), "notice.acknowledge", map[string]any{"notice": no})
	})
}

// RunWeekly issues the weekly notices when their time comes, checking
// every interval until ctx ends; after a restart it catches up on the
// current week. Several replicas may run it: each unit gets one notice.
func (s *Service) RunWeekly(ctx context.Context, interval time.Duration, logf func(format string, args ...any)) {
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	done := ""
	for {
		if wk, due := s.weeklyDue(ctx); due && wk != done {
			n, err := s.IssueWeekly(ctx, org.System, wk)
			if err != nil {
				logf("weekly notices %s: %v", wk, err)
			} else {
				done = wk
				if n > 0 {
					logf("weekly notices %s: %d issued", wk, n)
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

// weeklyDue tells the current week and whether its notices' time has
// come.
func (s *Service) weeklyDue(ctx context.Context) (string, bool) {
	st, err := s.NoticeSettings(ctx)
	if err != nil {
		return "", false
	}
	now := s.now().In(s.loc())
	wk := WeekOf(now, s.loc())
	at := wk.Start(s.loc()).AddDate(0, 0, st.Weekday-1).Add(time.Duration(st.Hour) * time.Hour)
	return wk.String(), !now.Before(at)
}

// WeekNotices returns the week's notices by unit code: each unit's issued
// weekly notice and, for the units with anything due and none issued yet,
// a draft composed now (its number empty). unitCode narrows to one unit.
func (s *Service) WeekNotices(ctx context.Context, actor org.Actor, week, unitCode string) ([]NoticeDoc, error) {
	if err := canRead(actor); err != nil {
		return nil, err
	}
	wk, err := ParseWeek(week)
	if err != nil {
		return nil, err
	}
	issued, err := s.notices(ctx, `n.kind = 'weekly' AND n.week = ?`, wk.String())
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	var out []NoticeDoc
	for _, n := range issued {
		if unitCode == "" || n.Doc.Unit == unitCode {
			out = append(out, n.Doc)
			have[n.Doc.Unit] = true
		}
	}
	drafts, err := s.weekly(ctx, wk.String(), unitCode, have)
	if err != nil && !(unitCode != "" && have[unitCode]) {
		return nil, err
	}
	for _, d := range drafts {
		if !have[d.Unit] {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Unit < out[j].Unit })
	return out, nil
}

// Notice returns one notice for a reader allowed to see it.
func (s *Service) Notice(ctx context.Context, actor org.Actor, no string) (Notice, error) {
	cond, args := "n.no = ?", []any{no}
	switch {
	case actor.Role == org.RoleHandler && actor.UnitID != 0:
		cond, args = cond+" AND n.unit_id = ?", append(args, actor.UnitID)
	case canRead(actor) == nil:
	default:
		return Notice{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	list, err := s.notices(ctx, cond, args...)
	if err != nil {
		return Notice{}, err
	}
	if len(list) == 0 {
		return Notice{}, apperr.New(apperr.NotFound, "report.no_notice", "no", no)
	}
	return list[0], nil
}
