package report

import (
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	"chuangwen/internal/assess"
)

// WriteXLSX writes the bulletin as a workbook, its words by t (the
// message catalogue in the reader's language): the districts' index, the
// units' assessment, the quarter's mock inspections and the red and black
// lists, a sheet each. Figures are numbers, printed as the JSON prints
// them; a figure that does not exist is an empty cell.
func (d Doc) WriteXLSX(w io.Writer, t func(key string) string) error {
	return writeSheets(w, []sheetRows{
		{t("report.sheet_districts"), d.districtRows(t)},
		{t("report.sheet_units"), d.unitRows(t)},
		{t("report.sheet_rounds"), d.roundRows(t)},
		{t("report.sheet_lists"), d.listRows(t)},
		{t("report.sheet_volunteers"), d.volunteerRows(t)},
	})
}

// sheetRows is a worksheet: its name and its rows of cells.
type sheetRows struct {
	name string
	rows [][]any
}

// writeSheets writes a workbook of the sheets, in order.
func writeSheets(w io.Writer, sheets []sheetRows) error {
	f := excelize.NewFile()
	defer f.Close()
	for i, sh := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sh.name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(sh.name); err != nil {
			return err
		}
		for r, row := range sh.rows {
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(sh.name, cell, &row); err != nil {
				return err
			}
		}
	}
	return f.Write(w)
}

// num is a figure as a cell: a number with the printed decimals, or
// empty.
func num(s string) any {
	if s == "" {
		return nil
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return v
	}
	return s
}

func p2(p Points2) any {
	if p.Rat == nil {
		return nil
	}
	return num(assess.RoundString(p.Rat, assess.PointPlaces))
}

func r4(r assess.JSONRate) any {
	if r.Rat == nil {
		return nil
	}
	return num(assess.RoundString(r.Rat, assess.RatePlaces))
}

func (d Doc) districtRows(t func(string) string) [][]any {
	rows := [][]any{{t("report.bulletin"), d.Quarter, t("report.cutoff"), d.Cutoff}, {t("report.rank"), t("report.district_code"), t("report.district"), t("report.index"), t("report.field"), t("report.survey"), t("report.documents"), t("report.rounds"), t("report.previous_index"), t("report.change")}}
	for _, x := range d.Districts {
		rank := any(x.Rank)
		if x.Rank == 0 {
			rank = nil
		}
		rows = append(rows, []any{rank, x.Code, x.Name, p2(x.Index), r4(x.Field), r4(x.Survey), r4(x.Documents), x.Rounds, p2(x.PreviousIndex), p2(x.Change)})
	}
	return rows
}

func (d Doc) unitRows(t func(string) string) [][]any {
	rows := [][]any{{t("report.rank"), t("report.unit_code"), t("report.unit"), t("report.dispatched"), t("report.returns"), t("report.due"), t("report.handled"), t("report.handled_on_time"), t("report.closed"), t("report.closed_on_time"), t("report.reworks"), t("report.overdue"), t("report.extended"), t("report.postponed"),
		t("report.on_time_handling_rate"), t("report.closure_rate"), t("report.on_time_closure_rate"), t("report.rework_rate"), t("report.overdue_rate"), t("report.extension_rate"), t("report.return_rate"), t("report.score"), t("report.previous_score"), t("report.change")}}
	for _, u := range d.Units {
		rank := any(u.Rank)
		if u.Rank == 0 {
			rank = nil
		}
		rows = append(rows, []any{rank, u.Code, u.Name, u.Dispatched, u.Returns, u.Due, u.Handled, u.HandledOnTime, u.ClosedCounted, u.ClosedOnTime,
			u.Reworks, u.Overdue, u.Extended, u.Postponed, r4(u.OnTimeHandlingRate), r4(u.ClosureRate), r4(u.OnTimeClosureRate), r4(u.ReworkRate),
			r4(u.OverdueRate), r4(u.ExtensionRate), r4(u.ReturnRate), p2(u.Score), p2(u.PreviousScore), p2(u.Change)})
	}
	return rows
}

func (d Doc) roundRows(t func(string) string) [][]any {
	rows := [][]any{{t("report.round"), t("report.name"), t("report.date"), t("report.score"), t("report.max"), t("report.rate")}}
	for _, r := range d.Rounds {
		rows = append(rows, []any{r.Code, r.Name, r.Date, num(assess.RoundString(r.Score.Rat, 2)), num(assess.RoundString(r.Max.Rat, 2)), r4(r.Rate)})
	}
	return rows
}

func (d Doc) listRows(t func(string) string) [][]any {
	rows := [][]any{{t("report.list"), t("report.kind"), t("report.code"), t("report.name"), t("report.card"), t("report.round")}}
	kind := map[string]string{"district": t("report.district"), "unit": t("report.kind_unit")}
	card := map[string]string{"green": t("report.card_green"), "red": t("report.card_red")}
	for _, e := range d.RedList {
		rows = append(rows, []any{t("report.red_list"), kind[e.Kind], e.Code, e.Name, card[e.Card], e.Round})
	}
	for _, e := range d.BlackList {
		rows = append(rows, []any{t("report.black_list"), kind[e.Kind], e.Code, e.Name, card[e.Card], e.Round})
	}
	return rows
}

// WriteNoticesXLSX writes the cases of notices as one sheet, a row per
// case and section (overdue, due soon, listed, rework, extension
// pending), for the office's follow-up.
func WriteNoticesXLSX(w io.Writer, docs []NoticeDoc, t func(key string) string) error {
	rows := [][]any{{t("report.notice_no"), t("report.unit_code"), t("report.unit"), t("report.section"), t("report.case_no"),
		t("report.category"), t("report.region"), t("report.deadline"), t("report.description")}}
	for _, d := range docs {
		for _, sec := range []struct {
			key   string
			cases []NoticeCase
		}{{"report.section_overdue", d.Overdue}, {"report.section_due_soon", d.DueSoon}, {"report.section_listed", d.Listed},
			{"report.section_reworks", d.Reworks}, {"report.section_extensions", d.ExtensionsPending},
			{"report.section_relapses", d.Relapses}, {"report.section_recurrences", d.Recurrences}} {
			for _, c := range sec.cases {
				rows = append(rows, []any{d.No, d.Unit, d.UnitName, t(sec.key), c.No, c.Category, c.Region, c.Deadline, c.Description})
			}
		}
		// A site failing its re-inspection: the round in the case column,
		// the site in the description.
		for _, m := range d.OverdueMilestones {
			rows = append(rows, []any{d.No, d.Unit, d.UnitName, t("report.section_overdue_milestones"), m.Task, "", "", m.Due, m.TaskTitle + " · " + m.Milestone})
		}
		for _, k := range d.FailedRechecks {
			rows = append(rows, []any{d.No, d.Unit, d.UnitName, t("report.section_failed_rechecks"), k.Round, "", "", k.At, k.Site + " " + k.SiteName + " " + k.Address})
		}
	}
	return writeSheets(w, []sheetRows{{t("report.sheet_notices"), rows}})
}

// WriteXLSX writes the monthly report as a workbook: districts, units,
// categories and hotspots, listed cases and the trend, a sheet each.
func (d MonthDoc) WriteXLSX(w io.Writer, t func(key string) string) error {
	progress := func(xs []ProgressDoc) [][]any {
		rows := [][]any{{t("report.code"), t("report.name"), t("report.reported"), t("report.accepted"), t("report.dispatched"), t("report.due"), t("report.closed"),
			t("report.overdue"), t("report.on_time_handling_rate"), t("report.on_time_closure_rate"), t("report.overdue_rate"), t("report.previous_rate"), t("report.change")}}
		for _, x := range xs {
			rows = append(rows, []any{x.Code, x.Name, x.Reported, x.Accepted, x.Dispatched, x.Due, x.Closed, x.Overdue,
				r4(x.OnTimeHandlingRate), r4(x.OnTimeClosureRate), r4(x.OverdueRate), r4(x.PreviousRate), r4(x.Change)})
		}
		return rows
	}
	counts := [][]any{{t("report.category"), t("report.region"), t("report.count"), t("report.previous_count")}}
	for _, c := range append(append([]CountDoc{}, d.TopCategories...), d.Hotspots...) {
		counts = append(counts, []any{c.Category, c.Region, c.Count, c.Previous})
	}
	listed := [][]any{{t("report.case_no"), t("report.category"), t("report.region"), t("report.deadline"), t("report.description")}}
	for _, c := range d.Listed {
		listed = append(listed, []any{c.No, c.Category, c.Region, c.Deadline, c.Description})
	}
	trend := [][]any{{t("report.month"), t("report.reported"), t("report.closed")}}
	for _, x := range d.Trend {
		trend = append(trend, []any{x.Month, x.Reported, x.Closed})
	}
	return writeSheets(w, []sheetRows{
		{t("report.sheet_month_districts"), progress(d.Districts)}, {t("report.sheet_month_units"), progress(d.Units)},
		{t("report.sheet_month_categories"), counts}, {t("report.section_listed"), listed}, {t("report.sheet_month_trend"), trend},
		{t("report.sheet_volunteers"), d.Volunteers.rows(t)},
	})
}
