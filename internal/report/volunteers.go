package report

import (
	"context"
	"math"
	"time"

	"chuangwen/internal/org"
)

// VolunteerDoc is the bulletin's volunteer service section (志愿服务): per
// district, the volunteers registered, their share of the residents, the
// active ones, the activities and confirmed hours of the quarter, hours
// per volunteer, and the hours' change since the quarter before (the
// definitions of docs/volunteers.md). Figures are rounded as printed:
// hours to one decimal, shares and per-volunteer hours to four and two.
type VolunteerDoc struct {
	City      VolunteerRow   `json:"city"`
	Districts []VolunteerRow `json:"districts"`
}

// VolunteerRow is one area's volunteer figures.
type VolunteerRow struct {
	Code          string  `json:"code"`
	Name          string  `json:"name"`
	Registered    int64   `json:"registered"`
	Population    int64   `json:"population"`
	Share         float64 `json:"share"` // 0 without a population
	Active        int64   `json:"active"`
	Activities    int64   `json:"activities"`
	Hours         float64 `json:"hours"`
	PerCapita     float64 `json:"per_capita_hours"`
	PreviousHours float64 `json:"previous_hours"`
	Change        float64 `json:"change_hours"`
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// volunteers computes the section for quarter q (nil without the
// volunteer service).
func (s *Service) volunteers(ctx context.Context, q Quarter) (*VolunteerDoc, error) {
	if s.Volunteer == nil {
		return nil, nil
	}
	loc := s.loc()
	p := q.Prev()
	return s.volunteersIn(ctx, q.Start(loc), q.End(loc), p.Start(loc), p.End(loc))
}

// volunteersIn computes the section for [from, to), with the hours'
// change since [prevFrom, prevTo) (a quarter's or a month's).
func (s *Service) volunteersIn(ctx context.Context, from, to, prevFrom, prevTo time.Time) (*VolunteerDoc, error) {
	reader := org.Actor{Role: org.RoleLeader, Scope: org.ScopeCity, Name: "report"}
	cur, err := s.Volunteer.Stats(ctx, reader, from, to)
	if err != nil {
		return nil, err
	}
	prev, err := s.Volunteer.Stats(ctx, reader, prevFrom, prevTo)
	if err != nil {
		return nil, err
	}
	prevHours := map[int64]float64{prev.City.RegionID: prev.City.Hours}
	for _, d := range prev.Districts {
		prevHours[d.RegionID] = d.Hours
	}
	row := func(id int64, code, name string, reg, pop, active, acts int64, hours, share, per float64) VolunteerRow {
		ph := round(prevHours[id], 1)
		h := round(hours, 1)
		return VolunteerRow{Code: code, Name: name, Registered: reg, Population: pop, Share: round(share, 4), Active: active, Activities: acts,
			Hours: h, PerCapita: round(per, 2), PreviousHours: ph, Change: round(h-ph, 1)}
	}
	c := cur.City
	doc := &VolunteerDoc{City: row(c.RegionID, c.Code, c.Name, c.Registered, c.Population, c.Active, c.Activities, c.Hours, c.Share, c.PerCapita), Districts: []VolunteerRow{}}
	for _, d := range cur.Districts {
		doc.Districts = append(doc.Districts, row(d.RegionID, d.Code, d.Name, d.Registered, d.Population, d.Active, d.Activities, d.Hours, d.Share, d.PerCapita))
	}
	return doc, nil
}

func (d Doc) volunteerRows(t func(string) string) [][]any { return d.Volunteers.rows(t) }

// rows are the section as a worksheet's rows (the header alone without it).
func (v *VolunteerDoc) rows(t func(string) string) [][]any {
	rows := [][]any{{t("report.code"), t("report.district"), t("vol.stat.registered"), t("vol.stat.population"), t("vol.stat.share"), t("vol.stat.active"),
		t("vol.stat.activities"), t("vol.stat.hours"), t("vol.stat.per_capita"), t("report.vol_previous_hours"), t("report.change")}}
	if v == nil {
		return rows
	}
	for _, x := range append(v.Districts, v.City) {
		rows = append(rows, []any{x.Code, x.Name, x.Registered, x.Population, x.Share, x.Active, x.Activities, x.Hours, x.PerCapita, x.PreviousHours, x.Change})
	}
	return rows
}
