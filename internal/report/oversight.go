package report

import (
	"context"
	"sync"
	"time"
	"unicode/utf8"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/workflow"
)

// The public's eyes (畅通群众监督渠道): one page anyone may read, with the
// figures of the last twelve months per district, the month-by-month
// trend, the bulletins the office made public, an honour roll (红榜) of
// the best units of the latest public bulletin and an exposure list
// (曝光台) of long-overdue listed cases. The office chooses which parts
// show. Nothing on it names a person: cases are shown by number,
// category, street and the start of their description, with derived
// photos only.

// OversightSettings say which parts of the public page show.
type OversightSettings struct {
	Stats     bool `json:"stats"`
	Bulletins bool `json:"bulletins"`
	Honour    bool `json:"honour"`
	Exposure  bool `json:"exposure"`
	// ExposureDays: a listed case overdue at least this many days is
	// exposed.
	ExposureDays int `json:"exposure_days"`
}

// DefaultOversight: the figures, bulletins and honour roll show; the
// exposure list waits for the office's decision.
func DefaultOversight() OversightSettings {
	return OversightSettings{Stats: true, Bulletins: true, Honour: true, ExposureDays: 10}
}

const oversightKey = "report.oversight"

// OversightSettings returns the stored settings.
func (s *Service) OversightSettings(ctx context.Context) (OversightSettings, error) {
	return store.ReadSetting(ctx, s.DB.Reader(), oversightKey, DefaultOversight())
}

// SaveOversightSettings stores them (the administrator's).
func (s *Service) SaveOversightSettings(ctx context.Context, actor org.Actor, st OversightSettings) error {
	if actor.Role != org.RoleAdmin && actor.Role != org.RoleSystem {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	if st.ExposureDays < 1 || st.ExposureDays > 365 {
		return apperr.New(apperr.Invalid, "report.bad_exposure_days")
	}
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := store.WriteSetting(ctx, tx, oversightKey, st); err != nil {
			return err
		}
		return appendTrail(ctx, tx, actor, s.now(), "report.oversight", st)
	})
	if err == nil {
		s.oversight.Lock()
		s.oversight.at = time.Time{} // shown at once
		s.oversight.Unlock()
	}
	return err
}

// PublicFigures are a district's (or the city's) figures on the page.
type PublicFigures struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Received int    `json:"received"` // reports received in the twelve months
	Closed   int    `json:"closed"`   // of them, closed
	// OnTimeRate is the on-time closure rate of the dispatches of the
	// period (docs/performance.md); nil without any due.
	OnTimeRate *float64 `json:"on_time_rate"`
	// AvgDays is the mean time from report to closing of the closed
	// ones, in days (one decimal); nil without any.
	AvgDays *float64 `json:"avg_days"`
	// Satisfaction is satisfied ÷ rated among the residents' ratings of
	// the period; nil without any.
	Satisfaction *float64 `json:"satisfaction"`
	Rated        int      `json:"rated"`
}

// ExposedCase is a long-overdue listed case on the exposure list.
type ExposedCase struct {
	No          string  `json:"no"`
	Category    string  `json:"category"`
	Region      string  `json:"region"`
	Description string  `json:"description"`
	Unit        string  `json:"unit"`
	OverdueDays int     `json:"overdue_days"`
	Photos      []int64 `json:"photos"` // derived versions only: /api/v1/public/photos/{no}/{id}/thumb
}

// Oversight is the public page's content.
type Oversight struct {
	Settings  OversightSettings `json:"settings"`
	From      string            `json:"from"`
	To        string            `json:"to"`
	City      *PublicFigures    `json:"city,omitempty"`
	Districts []PublicFigures   `json:"districts,omitempty"`
	Trend     []TrendDoc        `json:"trend,omitempty"`
	Bulletins []PublicBulletin  `json:"bulletins,omitempty"`
	Honour    *Honour           `json:"honour,omitempty"`
	Exposure  []ExposedCase     `json:"exposure,omitempty"`
	Updated   string            `json:"updated"`
}

// PublicBulletin is a bulletin the office made public.
type PublicBulletin struct {
	Code        string `json:"code"`
	Quarter     string `json:"quarter"`
	PublishedAt int64  `json:"published_at"`
}

// Honour is the honour roll: the best-ranked units of the latest public
// bulletin, and the units and districts it gave a green card.
type Honour struct {
	Bulletin string      `json:"bulletin"`
	Quarter  string      `json:"quarter"`
	Units    []UnitDoc   `json:"units"`
	Green    []ListEntry `json:"green"`
}

// oversightCache holds the page for a few minutes: it is public, and its
// figures read a year of cases.
type oversightCache struct {
	sync.Mutex
	at  time.Time
	doc Oversight
}

const oversightTTL = 5 * time.Minute

// Oversight returns the public page's content (anyone may read it).
func (s *Service) Oversight(ctx context.Context) (Oversight, error) {
	s.oversight.Lock()
	defer s.oversight.Unlock()
	now := s.now()
	if !s.oversight.at.IsZero() && now.Sub(s.oversight.at) < oversightTTL {
		return s.oversight.doc, nil
	}
	doc, err := s.composeOversight(ctx, now)
	if err != nil {
		return doc, err
	}
	s.oversight.doc, s.oversight.at = doc, now
	return doc, nil
}

func (s *Service) composeOversight(ctx context.Context, now time.Time) (Oversight, error) {
	st, err := s.OversightSettings(ctx)
	if err != nil {
		return Oversight{}, err
	}
	loc := s.loc()
	local := now.In(loc)
	m := Month{local.Year(), local.Month()}
	first := m
	for range 11 {
		first = first.Prev()
	}
	from := first.Start(loc)
	doc := Oversight{Settings: st, From: from.Format("2006-01-02"), To: local.Format("2006-01-02"), Updated: local.Format("2006-01-02 15:04")}
	if st.Stats {
		if err := s.publicFigures(ctx, &doc, workflow.Period{From: from, To: now}); err != nil {
			return doc, err
		}
		if doc.Trend, err = s.trend(ctx, m, 12); err != nil {
			return doc, err
		}
	}
	if st.Bulletins || st.Honour {
		list, err := store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (b PublicBulletin, err error) {
			return b, r.Scan(&b.Code, &b.Quarter, &b.PublishedAt)
		}, `SELECT code, quarter, published_at FROM bulletins WHERE public = TRUE ORDER BY published_at DESC, id DESC LIMIT 12`)
		if err != nil {
			return doc, err
		}
		if st.Bulletins {
			doc.Bulletins = list
		}
		if st.Honour && len(list) > 0 {
			p, err := s.Bulletin(ctx, org.System, list[0].Code)
			if err != nil {
				return doc, err
			}
			h := &Honour{Bulletin: p.Code, Quarter: p.Quarter, Units: []UnitDoc{}, Green: []ListEntry{}}
			for _, u := range p.Doc.Units {
				if u.Score.Rat != nil && u.Rank <= 5 {
					h.Units = append(h.Units, u)
				}
			}
			h.Green = append(h.Green, p.Doc.RedList...) // 红榜: the green cards
			doc.Honour = h
		}
	}
	if st.Exposure {
		if doc.Exposure, err = s.exposure(ctx, now, st.ExposureDays); err != nil {
			return doc, err
		}
	}
	return doc, nil
}

// publicFigures fills the city's and each district's figures.
func (s *Service) publicFigures(ctx context.Context, doc *Oversight, p workflow.Period) error {
	q := s.DB.Reader()
	regs, err := org.LoadRegions(ctx, q)
	if err != nil {
		return err
	}
	tree := org.NewRegionTree(regs)
	type acc struct {
		PublicFigures
		handling         int64
		satisfied, rated int
	}
	figs := map[string]*acc{}
	city := &acc{PublicFigures: PublicFigures{Code: "", Name: ""}}
	for _, r := range regs {
		if r.Level == "district" {
			figs[r.Code] = &acc{PublicFigures: PublicFigures{Code: r.Code, Name: r.Name}}
		}
		if r.Level == "city" {
			city.Code, city.Name = r.Code, r.Name
		}
	}
	type row struct {
		region           int64
		received, closed int
		handling         int64
	}
	rows, err := store.Collect(ctx, q, func(r store.Scanner) (x row, err error) {
		return x, r.Scan(&x.region, &x.received, &x.closed, &x.handling)
	}, `SELECT COALESCE(region_id, 0), COUNT(*), SUM(CASE WHEN state = 'closed' THEN 1 ELSE 0 END),
			SUM(CASE WHEN state = 'closed' THEN closed_at - reported_at ELSE 0 END)
		FROM cases WHERE reported_at >= ? AND reported_at < ? AND state NOT IN ('merged', 'voided') GROUP BY region_id`, store.Ms(p.From), store.Ms(p.To))
	if err != nil {
		return err
	}
	// targets are the city and the district a case's region counts for.
	targets := func(region int64) []*acc {
		if d, ok := tree.At(region, "district"); ok {
			return []*acc{city, figs[d.Code]}
		}
		return []*acc{city}
	}
	for _, x := range rows {
		for _, a := range targets(x.region) {
			a.Received += x.received
			a.Closed += x.closed
			a.handling += x.handling
		}
	}
	type rating struct {
		region           int64
		rated, satisfied int
	}
	ratings, err := store.Collect(ctx, q, func(r store.Scanner) (x rating, err error) {
		return x, r.Scan(&x.region, &x.rated, &x.satisfied)
	}, `SELECT COALESCE(c.region_id, 0), COUNT(*), SUM(CASE WHEN r.rating = 'satisfied' THEN 1 ELSE 0 END)
		FROM receipts r JOIN cases c ON c.id = r.case_id WHERE r.rated_at >= ? AND r.rated_at < ? AND r.rating <> '' GROUP BY c.region_id`,
		store.Ms(p.From), store.Ms(p.To))
	if err != nil {
		return err
	}
	for _, x := range ratings {
		for _, a := range targets(x.region) {
			a.rated += x.rated
			a.satisfied += x.satisfied
		}
	}
	perf, err := s.Flow.RegionPerformance(ctx, p, "district")
	if err != nil {
		return err
	}
	var all workflow.Figures
	for _, r := range perf {
		if a := figs[r.Code]; a != nil {
			a.OnTimeRate = r.Rates.OnTimeClosure
		}
		all.Add(r.Figures)
	}
	city.OnTimeRate = all.Rates().OnTimeClosure
	finish := func(a *acc) PublicFigures {
		f := a.PublicFigures
		if a.Closed > 0 {
			d := float64(a.handling) / float64(a.Closed) / float64(24*time.Hour/time.Millisecond)
			d = float64(int(d*10+0.5)) / 10
			f.AvgDays = &d
		}
		if a.rated > 0 {
			v := float64(a.satisfied) / float64(a.rated)
			f.Satisfaction, f.Rated = &v, a.rated
		}
		return f
	}
	c := finish(city)
	doc.City = &c
	for _, r := range regs {
		if a := figs[r.Code]; a != nil {
			doc.Districts = append(doc.Districts, finish(a))
		}
	}
	return nil
}

// exposure lists the listed (挂牌) open cases overdue at least days, the
// longest overdue first, at most 30, of categories the public may see.
func (s *Service) exposure(ctx context.Context, now time.Time, days int) ([]ExposedCase, error) {
	cut := now.Add(-time.Duration(days) * 24 * time.Hour)
	type row struct {
		ExposedCase
		id, overdueAt int64
	}
	rows, err := store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (x row, err error) {
		return x, r.Scan(&x.id, &x.No, &x.Category, &x.Region, &x.Description, &x.Unit, &x.overdueAt)
	}, `SELECT c.id, c.no, cat.name, COALESCE(g.name, ''), c.description, COALESCE(u.name, ''), c.overdue_at
		FROM cases c JOIN categories cat ON cat.id = c.category_id LEFT JOIN regions g ON g.id = c.region_id LEFT JOIN units u ON u.id = c.lead_unit_id
		WHERE c.supervised = TRUE AND c.overdue = TRUE AND c.state IN ('dispatched', 'in_progress') AND c.overdue_at > 0 AND c.overdue_at <= ? AND cat.staff_only = FALSE
		ORDER BY c.overdue_at, c.id LIMIT 30`, store.Ms(cut))
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, x := range rows {
		ids = append(ids, x.id)
	}
	photos, err := s.Flow.PhotosOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]ExposedCase, 0, len(rows))
	for _, x := range rows {
		e := x.ExposedCase
		if utf8.RuneCountInString(e.Description) > 60 {
			e.Description = string([]rune(e.Description)[:60]) + "…"
		}
		e.OverdueDays = int(now.Sub(store.Time(x.overdueAt)).Hours() / 24)
		e.Photos = []int64{}
		for _, p := range photos[x.id] {
			if p.Kind == "before" && p.Ready {
				e.Photos = append(e.Photos, p.ID)
			}
		}
		out = append(out, e)
	}
	return out, nil
}
