package report

import (
	"context"
	"math/big"
	"sort"
	"strings"
	"sync"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/assess"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/tasks"
	"chuangwen/internal/volunteer"
	"chuangwen/internal/workflow"
)

// Service drafts, publishes and verifies bulletins.
type Service struct {
	DB       *store.DB
	Flow     *workflow.Service
	Assess   *assess.Service
	Location *time.Location
	Now      func() time.Time // nil: the wall clock
	// Volunteer, when set, gives the bulletin its volunteer section.
	Volunteer *volunteer.Service
	// Tasks, when set, gives the weekly notices the units' overdue
	// milestones of the campaign's task list.
	Tasks *tasks.Service
	// Text gives a message of the catalogue in the office's language, for
	// what is sent without a reader (the robots' messages); nil sends the
	// keys.
	Text func(key string, args ...string) string
	// ConsoleURL is the console's address as people reach it, for links
	// in sent messages ("" sends none).
	ConsoleURL string

	leaderOnce sync.Once
	leader     *leaderCache
	oversight  oversightCache
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

// Clock is the service's time now.
func (s *Service) Clock() time.Time { return s.now() }

func (s *Service) loc() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.UTC
}

// Settings are the office's formula for a bulletin, kept with each
// published one: the civilization index's weights, the weights that turn
// a unit's rates into its score, and the fewest due dispatches a unit
// needs to be ranked. Weights are exact decimals.
type Settings struct {
	Field     string `json:"field"`
	Survey    string `json:"survey"`
	Documents string `json:"documents"`
	// Unit score weights: on-time handling (按期处置率) and closure (结案率)
	// count as they are, rework (返工率) and overdue (超期率) as 1 − rate.
	OnTimeHandling string `json:"on_time_handling"`
	Closure        string `json:"closure"`
	Rework         string `json:"rework"`
	Overdue        string `json:"overdue"`
	MinDue         int    `json:"min_due"`
	// Volunteers weighs the volunteer component of the index (registered
	// volunteers' share of the residents ÷ VolunteerTarget, at most 1);
	// empty or 0: none, the assessment's formula as it is.
	Volunteers      string `json:"volunteers,omitempty"`
	VolunteerTarget string `json:"volunteer_target,omitempty"`
}

// DefaultSettings: index 60/40/0, unit score 40/30/15/15, ranked from 5
// due dispatches.
func DefaultSettings() Settings {
	return Settings{Field: "60", Survey: "40", Documents: "0", OnTimeHandling: "40", Closure: "30", Rework: "15", Overdue: "15", MinDue: 5}
}

const settingsKey = "report.settings"

func (st Settings) rat(v string) *big.Rat {
	r, ok := assess.ParseDecimal(v)
	if !ok {
		return new(big.Rat)
	}
	return r
}

func (st Settings) check() error {
	for field, v := range map[string]string{"field": st.Field, "survey": st.Survey, "documents": st.Documents,
		"on_time_handling": st.OnTimeHandling, "closure": st.Closure, "rework": st.Rework, "overdue": st.Overdue} {
		if _, ok := assess.ParseDecimal(v); !ok {
			return apperr.New(apperr.Invalid, "report.bad_setting", "field", field)
		}
	}
	if st.MinDue < 0 {
		return apperr.New(apperr.Invalid, "report.bad_setting", "field", "min_due")
	}
	for field, v := range map[string]string{"volunteers": st.Volunteers, "volunteer_target": st.VolunteerTarget} {
		if _, ok := assess.ParseDecimal(v); v != "" && !ok {
			return apperr.New(apperr.Invalid, "report.bad_setting", "field", field)
		}
	}
	if st.volunteerWeight().Sign() > 0 && st.rat(st.VolunteerTarget).Sign() <= 0 {
		return apperr.New(apperr.Invalid, "report.bad_setting", "field", "volunteer_target")
	}
	return nil
}

// volunteerWeight is the volunteer component's weight (0 when unset).
func (st Settings) volunteerWeight() *big.Rat {
	if st.Volunteers == "" {
		return new(big.Rat)
	}
	return st.rat(st.Volunteers)
}

// Settings returns the stored settings, the defaults where none are.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	return store.ReadSetting(ctx, s.DB.Reader(), settingsKey, DefaultSettings())
}

// SaveSettings stores the settings (the administrator's), with a trail
// entry; published bulletins keep the settings they used.
func (s *Service) SaveSettings(ctx context.Context, actor org.Actor, st Settings) error {
	if actor.Role != org.RoleAdmin && actor.Role != org.RoleSystem {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	if err := st.check(); err != nil {
		return err
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.WriteSetting(ctx, tx, settingsKey, st); err != nil {
			return err
		}
		return appendTrail(ctx, tx, actor, s.now(), "report.settings", st)
	})
}

// canRead: the office reads bulletins (drafts and published ones).
func canRead(a org.Actor) error {
	switch a.Role {
	case org.RoleAdmin, org.RoleAcceptor, org.RoleLeader, org.RoleSystem:
		if a.Scope == org.ScopeCity {
			return nil
		}
	}
	return apperr.New(apperr.Forbidden, "forbidden")
}

// Inputs are what a bulletin is computed from; a published bulletin keeps
// them, and its verification recomputes from them.
type Inputs struct {
	Quarter string `json:"quarter"`
	// Cutoff is when the unit figures were taken (unix ms): they are the
	// figures of the dispatches of the quarter (and of the quarter before,
	// for the changes) as known at that time.
	Cutoff int64 `json:"cutoff"`
	// Rounds and PreviousRounds are the closed mock rounds of the quarter
	// and of the quarter before, by code.
	Rounds         []string `json:"rounds"`
	PreviousRounds []string `json:"previous_rounds"`
	Settings       Settings `json:"settings"`
}

// Bulletin is a computed bulletin: its document and its inputs.
type Bulletin struct {
	Doc    Doc
	Inputs Inputs
}

// Draft computes the bulletin of a quarter now, from the closed mock
// rounds whose inspection date falls in it and the unit figures as known
// now.
func (s *Service) Draft(ctx context.Context, actor org.Actor, quarter string) (Bulletin, error) {
	q, st, err := begin(ctx, s, actor, ParseQuarter, quarter)
	if err != nil {
		return Bulletin{}, err
	}
	in := Inputs{Quarter: q.String(), Cutoff: store.Ms(s.now()), Settings: st}
	rounds, err := s.Assess.Rounds(ctx, org.System)
	if err != nil {
		return Bulletin{}, err
	}
	in.Rounds, in.PreviousRounds = closedIn(rounds, q), closedIn(rounds, q.Prev())
	doc, err := s.compute(ctx, in, s.sqlFigures, false)
	return Bulletin{Doc: doc, Inputs: in}, err
}

// closedIn lists, by code, the closed mock rounds inspected in q.
func closedIn(rounds []assess.Round, q Quarter) []string {
	out := []string{}
	for _, rd := range rounds {
		if rd.Kind == assess.KindMock && rd.State == assess.RoundClosed && q.Contains(rd.Date) {
			out = append(out, rd.Code)
		}
	}
	sort.Strings(out)
	return out
}

// latestClosed is the latest closed mock round of rounds (as
// assess.Service.Rounds lists them: newest first); nil when none.
func latestClosed(rounds []assess.Round) *assess.Round {
	for i, rd := range rounds {
		if rd.Kind == assess.KindMock && rd.State == assess.RoundClosed {
			return &rounds[i]
		}
	}
	return nil
}

// figureSource gives each unit's figures over a period as known at a
// time: from the dispatches (a draft, at now) or replayed from the trail
// (a verification, at a published bulletin's cut-off).
type figureSource func(ctx context.Context, p workflow.Period, at time.Time) (map[int64]workflow.Figures, error)

func (s *Service) sqlFigures(ctx context.Context, p workflow.Period, at time.Time) (map[int64]workflow.Figures, error) {
	rows, err := s.Flow.UnitPerformanceAt(ctx, p, at)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]workflow.Figures, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Figures
	}
	return out, nil
}

func (s *Service) trailFigures(ctx context.Context, p workflow.Period, at time.Time) (map[int64]workflow.Figures, error) {
	set, err := s.Flow.TrailFiguresAt(ctx, p, at)
	return set.Units, err
}

// compute builds the document from the inputs.
// compute computes a bulletin from its inputs: the units' figures from
// figures, the index from the parts each closed round stored (a draft) or
// from the rounds' observations scored again (rescore: a verification,
// which must see an input changed behind the program's back).
func (s *Service) compute(ctx context.Context, in Inputs, figures figureSource, rescore bool) (Doc, error) {
	q, err := ParseQuarter(in.Quarter)
	if err != nil {
		return Doc{}, err
	}
	loc := s.loc()
	cutoff := store.Time(in.Cutoff)
	st := in.Settings
	doc := Doc{Quarter: q.String(), From: q.Start(loc).Format(time.DateOnly), To: q.End(loc).AddDate(0, 0, -1).Format(time.DateOnly),
		Cutoff: cutoff.In(loc).Format(time.RFC3339), Settings: st, Formula: formulaOf(st),
		Districts: []DistrictDoc{}, Units: []UnitDoc{}, Rounds: []RoundDoc{}, RedList: []ListEntry{}, BlackList: []ListEntry{}}

	regions, err := s.regionNames(ctx)
	if err != nil {
		return doc, err
	}
	// The civilization index, this quarter and the one before.
	idx, err := s.index(ctx, in.Rounds, st, rescore, q)
	if err != nil {
		return doc, err
	}
	prevIdx, err := s.index(ctx, in.PreviousRounds, st, rescore, q.Prev())
	if err != nil {
		return doc, err
	}
	prevBy := map[string]assess.DistrictIndex{}
	for _, d := range prevIdx {
		prevBy[d.District] = d
	}
	seen := map[string]bool{}
	for _, d := range idx {
		seen[d.District] = true
		dd := DistrictDoc{Code: d.District, Name: regions.names[d.District], Index: Points2{d.Index}, Rank: d.Rank, Rounds: d.Rounds,
			Field: assess.JSONRate{Rat: d.Field.Rate()}, Survey: assess.JSONRate{Rat: d.Survey.Rate()}, Documents: assess.JSONRate{Rat: d.Documents.Rate()}}
		if d.Volunteers != nil {
			dd.Volunteers = &assess.JSONRate{Rat: d.Volunteers}
		}
		if p, ok := prevBy[d.District]; ok && p.Index != nil {
			dd.PreviousIndex = Points2{p.Index}
			if d.Index != nil {
				dd.Change = Points2{new(big.Rat).Sub(d.Index, p.Index)}
			}
		}
		doc.Districts = append(doc.Districts, dd)
	}
	for _, code := range regions.districts {
		if !seen[code] {
			doc.Districts = append(doc.Districts, DistrictDoc{Code: code, Name: regions.names[code]})
		}
	}

	// The units' assessment over the quarter's dispatches.
	units, err := s.units(ctx)
	if err != nil {
		return doc, err
	}
	cur, err := figures(ctx, workflow.Period{From: q.Start(loc), To: q.End(loc)}, cutoff)
	if err != nil {
		return doc, err
	}
	prev, err := figures(ctx, workflow.Period{From: q.Prev().Start(loc), To: q.Prev().End(loc)}, cutoff)
	if err != nil {
		return doc, err
	}
	prevScores := map[int64]*big.Rat{}
	for id, f := range prev {
		if sc := unitScore(f, st); sc != nil && ranked(f, st) {
			prevScores[id] = sc
		}
	}
	for id, f := range cur {
		u := units[id]
		ud := newUnitDoc(u.code, u.name, f)
		if sc := unitScore(f, st); sc != nil && ranked(f, st) {
			ud.Score = Points2{sc}
			if p := prevScores[id]; p != nil {
				ud.PreviousScore, ud.Change = Points2{p}, Points2{new(big.Rat).Sub(sc, p)}
			}
		}
		doc.Units = append(doc.Units, ud)
	}
	rankUnits(doc.Units)

	// The mock inspections of the quarter, and the red and black lists
	// (红黑榜) from the cards of its latest round.
	var latest string
	var latestDate string
	for _, code := range in.Rounds {
		rd, err := s.Assess.Round(ctx, org.System, code)
		if err != nil {
			return doc, err
		}
		var tot assess.Totals
		if rescore {
			sc, err := s.Assess.Scores(ctx, org.System, code, "")
			if err != nil {
				return doc, err
			}
			tot = assess.Totals{Score: sc.Scores.Score, Max: sc.Scores.Max, Rate: sc.Scores.Rate}
		} else if tot, err = s.Assess.RoundTotals(ctx, org.System, code); err != nil {
			return doc, err
		}
		doc.Rounds = append(doc.Rounds, RoundDoc{Code: rd.Code, Name: rd.Name, Date: rd.Date,
			Score: assess.JSONPoints{Rat: tot.Score}, Max: assess.JSONPoints{Rat: tot.Max}, Rate: assess.JSONRate{Rat: tot.Rate}})
		if rd.Date >= latestDate {
			latest, latestDate = rd.Code, rd.Date
		}
	}
	if latest != "" {
		rk, err := s.Assess.Rankings(ctx, org.System, latest)
		if err != nil {
			return doc, err
		}
		unitNames := map[string]string{}
		for _, u := range units {
			unitNames[u.code] = u.name
		}
		add := func(kind string, xs []assess.Standing, name func(string) string) {
			for _, x := range xs {
				e := ListEntry{Kind: kind, Code: x.Code, Name: name(x.Code), Card: string(x.Card), Round: latest}
				switch x.Card {
				case assess.CardGreen:
					doc.RedList = append(doc.RedList, e)
				case assess.CardRed:
					doc.BlackList = append(doc.BlackList, e)
				}
			}
		}
		add("district", rk.Districts, func(c string) string { return regions.names[c] })
		add("unit", rk.Units, func(c string) string { return unitNames[c] })
	}
	if doc.Volunteers, err = s.volunteers(ctx, q); err != nil {
		return doc, err
	}
	return doc, nil
}

// formulaOf is the formula of a bulletin made with st: the volunteer
// component is named only when it weighs.
func formulaOf(st Settings) string {
	if st.volunteerWeight().Sign() == 0 {
		return formula
	}
	return formula + "; the index's components include volunteers = min(1, registered volunteers ÷ (residents × volunteer_target)) at the quarter's end, weighed by volunteers"
}

// formula says how the figures are made, in the document itself.
const formula = "index = 100 × Σ w·component ÷ Σ w over the components with an assessed standard (component = Σ score ÷ Σ max over the quarter's closed mock rounds); " +
	"unit score = 100 × Σ w·r ÷ Σ w over the rates that exist, r = on-time handling rate, closure rate, 1 − rework rate, 1 − overdue rate; " +
	"a unit with fewer due dispatches (net of postponed ones) than min_due is not ranked"

// index computes the civilization index from the given rounds.
// index is the civilization index over rounds: from the parts each
// closed round stored, or scored again from its observations (rescore).
func (s *Service) index(ctx context.Context, rounds []string, st Settings, rescore bool, q Quarter) ([]assess.DistrictIndex, error) {
	read := s.Assess.RoundIndexParts
	if rescore {
		read = s.Assess.ScoreIndexParts
	}
	byDistrict := map[string][]assess.IndexParts{}
	for _, code := range rounds {
		parts, err := read(ctx, org.System, code)
		if err != nil {
			return nil, err
		}
		for d, p := range parts {
			byDistrict[d] = append(byDistrict[d], p)
		}
	}
	w := assess.Weights{Field: st.rat(st.Field), Survey: st.rat(st.Survey), Documents: st.rat(st.Documents), Volunteers: st.volunteerWeight()}
	vols, err := s.volunteerComponents(ctx, st, q)
	if err != nil {
		return nil, err
	}
	return assess.IndexWith(byDistrict, w, vols)
}

// volunteerComponents are the districts' volunteer components for quarter
// q, exact: min(1, registered ÷ (population × target)), for districts
// with a population; nil when the component does not weigh or there is
// no volunteer service.
func (s *Service) volunteerComponents(ctx context.Context, st Settings, q Quarter) (map[string]*big.Rat, error) {
	target := st.rat(st.VolunteerTarget)
	if st.volunteerWeight().Sign() == 0 || target.Sign() <= 0 || s.Volunteer == nil {
		return nil, nil
	}
	loc := s.loc()
	stats, err := s.Volunteer.Stats(ctx, org.Actor{Role: org.RoleLeader, Scope: org.ScopeCity, Name: "report"}, q.Start(loc), q.End(loc))
	if err != nil {
		return nil, err
	}
	one := big.NewRat(1, 1)
	out := map[string]*big.Rat{}
	for _, d := range stats.Districts {
		if d.Population <= 0 {
			continue
		}
		c := new(big.Rat).SetFrac64(d.Registered, d.Population)
		c.Quo(c, target)
		if c.Cmp(one) > 0 {
			c = one
		}
		out[d.Code] = c
	}
	return out, nil
}

type regionNames struct {
	names     map[string]string
	districts []string
}

func (s *Service) regionNames(ctx context.Context) (regionNames, error) {
	rows, err := store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (x [3]string, err error) {
		return x, r.Scan(&x[0], &x[1], &x[2])
	}, `SELECT code, name, level FROM regions ORDER BY code`)
	out := regionNames{names: map[string]string{}}
	for _, x := range rows {
		out.names[x[0]] = x[1]
		if x[2] == "district" {
			out.districts = append(out.districts, x[0])
		}
	}
	return out, err
}

type unitName struct{ code, name string }

func (s *Service) units(ctx context.Context) (map[int64]unitName, error) {
	rows, err := store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (x struct {
		id int64
		unitName
	}, err error) {
		return x, r.Scan(&x.id, &x.code, &x.name)
	}, `SELECT id, code, name FROM units`)
	out := make(map[int64]unitName, len(rows))
	for _, x := range rows {
		out[x.id] = x.unitName
	}
	return out, err
}

// ratio is a ÷ b exactly, nil when b ≤ 0.
func ratio(a, b int) *big.Rat {
	if b <= 0 {
		return nil
	}
	return big.NewRat(int64(a), int64(b))
}

// unitRates are the rates of docs/performance.md, exact.
func unitRates(f workflow.Figures) (onTime, closure, onTimeClosure, rework, overdue, extension, ret *big.Rat) {
	dueNet := f.Due - f.Postponed
	return ratio(f.HandledOnTime, dueNet), ratio(f.ClosedCounted, dueNet), ratio(f.ClosedOnTime, dueNet),
		ratio(f.Reworks, f.Handled), ratio(f.Overdue, f.Due), ratio(f.Extended, f.Due), ratio(f.Returns, f.Dispatched)
}

// unitScore is 100 × Σ w·r ÷ Σ w over the rates that exist; nil when none
// does.
func unitScore(f workflow.Figures, st Settings) *big.Rat {
	onTime, closure, _, rework, overdue, _, _ := unitRates(f)
	one := big.NewRat(1, 1)
	inv := func(r *big.Rat) *big.Rat {
		if r == nil {
			return nil
		}
		return new(big.Rat).Sub(one, r)
	}
	sum, weights := new(big.Rat), new(big.Rat)
	for _, p := range []struct {
		r *big.Rat
		w string
	}{{onTime, st.OnTimeHandling}, {closure, st.Closure}, {inv(rework), st.Rework}, {inv(overdue), st.Overdue}} {
		w := st.rat(p.w)
		if p.r == nil || w.Sign() == 0 {
			continue
		}
		sum.Add(sum, new(big.Rat).Mul(w, p.r))
		weights.Add(weights, w)
	}
	if weights.Sign() == 0 {
		return nil
	}
	sum.Quo(sum, weights)
	return sum.Mul(sum, big.NewRat(100, 1))
}

func ranked(f workflow.Figures, st Settings) bool { return f.Due-f.Postponed >= st.MinDue }

// rankUnits sorts the units: scored ones by score (printed, 2 decimals),
// highest first, sharing ranks on ties; then the unranked by code.
func rankUnits(us []UnitDoc) {
	key := func(u UnitDoc) *big.Rat {
		if u.Score.Rat == nil {
			return nil
		}
		r, _ := new(big.Rat).SetString(assess.RoundString(u.Score.Rat, assess.PointPlaces))
		return r
	}
	sort.SliceStable(us, func(i, j int) bool {
		a, b := key(us[i]), key(us[j])
		if (a == nil) != (b == nil) {
			return a != nil
		}
		if a != nil {
			if c := a.Cmp(b); c != 0 {
				return c > 0
			}
		}
		return us[i].Code < us[j].Code
	})
	for i := range us {
		k := key(us[i])
		switch {
		case k == nil:
			us[i].Rank = 0
		case i > 0 && key(us[i-1]) != nil && key(us[i-1]).Cmp(k) == 0:
			us[i].Rank = us[i-1].Rank
		default:
			us[i].Rank = i + 1
		}
	}
}

// Doc is the bulletin as `report quarterly --format json` prints it.
type Doc struct {
	Quarter   string        `json:"quarter"`
	From      string        `json:"from"` // first day, in the city's zone
	To        string        `json:"to"`   // last day
	Cutoff    string        `json:"cutoff"`
	Settings  Settings      `json:"settings"`
	Formula   string        `json:"formula"`
	Districts []DistrictDoc `json:"districts"`
	Units     []UnitDoc     `json:"units"`
	Rounds    []RoundDoc    `json:"rounds"`
	RedList   []ListEntry   `json:"red_list"`
	BlackList []ListEntry   `json:"black_list"`
	// Volunteers is the volunteer service section (absent without it).
	Volunteers *VolunteerDoc `json:"volunteers,omitempty"`
}

// DistrictDoc is a district's civilization index.
type DistrictDoc struct {
	Code      string          `json:"code"`
	Name      string          `json:"name"`
	Index     Points2         `json:"index"` // null when nothing was assessed
	Rank      int             `json:"rank"`  // 0: unranked
	Field     assess.JSONRate `json:"field"`
	Survey    assess.JSONRate `json:"survey"`
	Documents assess.JSONRate `json:"documents"`
	// Volunteers is the volunteer component, when the settings weigh it.
	Volunteers    *assess.JSONRate `json:"volunteers,omitempty"`
	Rounds        int              `json:"rounds"`
	PreviousIndex Points2          `json:"previous_index"`
	Change        Points2          `json:"change"`
}

// UnitDoc is a unit's assessment: the figures and rates of
// docs/performance.md over the quarter's dispatches, its score and rank.
type UnitDoc struct {
	Code               string          `json:"code"`
	Name               string          `json:"name"`
	Dispatched         int             `json:"dispatched"`
	Returns            int             `json:"returns"`
	Due                int             `json:"due"`
	Handled            int             `json:"handled"`
	HandledOnTime      int             `json:"handled_on_time"`
	Closed             int             `json:"closed"`
	ClosedCounted      int             `json:"closed_counted"` // closed and not postponed: the closure rate's numerator
	ClosedOnTime       int             `json:"closed_on_time"`
	Reworks            int             `json:"reworks"`
	Overdue            int             `json:"overdue"`
	Extended           int             `json:"extended"`
	Postponed          int             `json:"postponed"`
	OnTimeHandlingRate assess.JSONRate `json:"on_time_handling_rate"`
	ClosureRate        assess.JSONRate `json:"closure_rate"`
	OnTimeClosureRate  assess.JSONRate `json:"on_time_closure_rate"`
	ReworkRate         assess.JSONRate `json:"rework_rate"`
	OverdueRate        assess.JSONRate `json:"overdue_rate"`
	ExtensionRate      assess.JSONRate `json:"extension_rate"`
	ReturnRate         assess.JSONRate `json:"return_rate"`
	Score              Points2         `json:"score"` // null: not ranked
	Rank               int             `json:"rank"`
	PreviousScore      Points2         `json:"previous_score"`
	Change             Points2         `json:"change"`
}

func newUnitDoc(code, name string, f workflow.Figures) UnitDoc {
	onTime, closure, onTimeClosure, rework, overdue, ext, ret := unitRates(f)
	return UnitDoc{Code: code, Name: name, Dispatched: f.Dispatched, Returns: f.Returns, Due: f.Due, Handled: f.Handled,
		HandledOnTime: f.HandledOnTime, Closed: f.Closed, ClosedCounted: f.ClosedCounted, ClosedOnTime: f.ClosedOnTime, Reworks: f.Reworks,
		Overdue: f.Overdue, Extended: f.Extended, Postponed: f.Postponed,
		OnTimeHandlingRate: assess.JSONRate{Rat: onTime}, ClosureRate: assess.JSONRate{Rat: closure}, OnTimeClosureRate: assess.JSONRate{Rat: onTimeClosure},
		ReworkRate: assess.JSONRate{Rat: rework}, OverdueRate: assess.JSONRate{Rat: overdue}, ExtensionRate: assess.JSONRate{Rat: ext}, ReturnRate: assess.JSONRate{Rat: ret}}
}

// RoundDoc is a mock inspection of the quarter, the city's total.
type RoundDoc struct {
	Code  string            `json:"code"`
	Name  string            `json:"name"`
	Date  string            `json:"date"`
	Score assess.JSONPoints `json:"score"`
	Max   assess.JSONPoints `json:"max"`
	Rate  assess.JSONRate   `json:"rate"`
}

// ListEntry is a line of the red list (红榜: green cards) or the black
// list (黑榜: red cards).
type ListEntry struct {
	Kind  string `json:"kind"` // district or unit
	Code  string `json:"code"`
	Name  string `json:"name"`
	Card  string `json:"card"`
	Round string `json:"round"`
}

// Points2 is a figure printed with 2 decimals; nil prints null.
type Points2 struct{ Rat *big.Rat }

// MarshalJSON implements json.Marshaler.
func (p Points2) MarshalJSON() ([]byte, error) {
	if p.Rat == nil {
		return []byte("null"), nil
	}
	return []byte(assess.RoundJSON(p.Rat, assess.PointPlaces)), nil
}

// UnmarshalJSON reads a printed figure back.
func (p *Points2) UnmarshalJSON(b []byte) error {
	if strings.TrimSpace(string(b)) == "null" {
		p.Rat = nil
		return nil
	}
	var x assess.JSONPoints
	if err := x.UnmarshalJSON(b); err != nil {
		return err
	}
	p.Rat = x.Rat
	return nil
}
