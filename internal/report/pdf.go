package report

import (
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/assess"
	"chuangwen/internal/pdfdoc"
)

// The printed documents: the same content as the JSON and the workbooks,
// laid out on A4 by pdfdoc with the charts drawn as vectors. Words come
// from t, the message catalogue in the reader's language.

func pdfRank(n int) string {
	if n == 0 {
		return "—"
	}
	return strconv.Itoa(n)
}

func ratFloat(r *big.Rat) float64 {
	if r == nil {
		return 0
	}
	f, _ := r.Float64()
	return f
}

// docDate is the document's date from a printed time (RFC 3339 or
// "2006-01-02 15:04"), for the file's metadata; equal documents give
// equal files.
func docDate(s string) time.Time {
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Unix(0, 0)
}

func day(s string) string {
	t := docDate(s)
	if t.Unix() == 0 {
		return s
	}
	return t.Format("2006-01-02")
}

// WritePDF writes the bulletin: the districts' index with a chart, the
// units' assessment, the quarter's mock inspections and the red and
// black lists, over the issuer's seal area.
func (d Doc) WritePDF(w io.Writer, t func(string) string, issuer string) error {
	title := strings.ReplaceAll(t("report.ui.bulletin"), "{quarter}", d.Quarter)
	p := pdfdoc.New(title, issuer+"  "+title, docDate(d.Cutoff))
	p.Title(title, d.From+" — "+d.To+"  "+t("report.ui.cutoff")+" "+day(d.Cutoff))
	p.Text(strings.NewReplacer("{field}", d.Settings.Field, "{survey}", d.Settings.Survey, "{documents}", d.Settings.Documents).Replace(t("report.ui.weights")))

	p.Heading(t("report.sheet_districts"))
	rows := [][]string{}
	var bars []pdfdoc.Bar
	for _, x := range d.Districts {
		rows = append(rows, []string{pdfRank(x.Rank), x.Name, assess.Points(x.Index.Rat), assess.Percent(x.Field.Rat), assess.Percent(x.Survey.Rat), assess.Percent(x.Documents.Rat),
			strconv.Itoa(x.Rounds), assess.Points(x.PreviousIndex.Rat), assess.Change(x.Change.Rat, false)})
		if x.Index.Rat != nil {
			bars = append(bars, pdfdoc.Bar{Label: x.Name, Value: ratFloat(x.Index.Rat), Text: assess.Points(x.Index.Rat)})
		}
	}
	p.Table([]pdfdoc.Col{{Title: t("report.rank"), Width: 0.8, Align: "C"}, {Title: t("report.district"), Width: 2, Align: "L"},
		{Title: t("report.index"), Width: 1.2, Align: "R"}, {Title: t("report.field"), Width: 1.2, Align: "R"}, {Title: t("report.survey"), Width: 1.2, Align: "R"},
		{Title: t("report.documents"), Width: 1.2, Align: "R"}, {Title: t("report.rounds"), Width: 1, Align: "R"},
		{Title: t("report.previous_index"), Width: 1.2, Align: "R"}, {Title: t("report.change"), Width: 1, Align: "R"}}, rows, t("ui.none"))
	p.Bars(t("report.index"), bars, 100)

	p.Heading(t("report.sheet_units"))
	rows = rows[:0]
	bars = nil
	for _, u := range d.Units {
		rows = append(rows, []string{pdfRank(u.Rank), u.Name, assess.Points(u.Score.Rat), assess.Change(u.Change.Rat, false), strconv.Itoa(u.Dispatched), strconv.Itoa(u.Due),
			assess.Percent(u.OnTimeHandlingRate.Rat), assess.Percent(u.ClosureRate.Rat), assess.Percent(u.ReworkRate.Rat), assess.Percent(u.OverdueRate.Rat)})
		if u.Score.Rat != nil {
			bars = append(bars, pdfdoc.Bar{Label: u.Name, Value: ratFloat(u.Score.Rat), Text: assess.Points(u.Score.Rat)})
		}
	}
	p.Table([]pdfdoc.Col{{Title: t("report.rank"), Width: 0.8, Align: "C"}, {Title: t("report.unit"), Width: 2.4, Align: "L"},
		{Title: t("report.score"), Width: 1.1, Align: "R"}, {Title: t("report.change"), Width: 1, Align: "R"}, {Title: t("report.dispatched"), Width: 0.9, Align: "R"},
		{Title: t("report.due"), Width: 0.9, Align: "R"}, {Title: t("report.on_time_handling_rate"), Width: 1.2, Align: "R"},
		{Title: t("report.closure_rate"), Width: 1.1, Align: "R"}, {Title: t("report.rework_rate"), Width: 1.1, Align: "R"},
		{Title: t("report.overdue_rate"), Width: 1.1, Align: "R"}}, rows, t("ui.none"))
	p.Text(strings.ReplaceAll(t("report.ui.min_due"), "{n}", strconv.Itoa(d.Settings.MinDue)))
	if len(bars) > 30 {
		bars = bars[:30]
	}
	p.Bars(t("report.score"), bars, 100)

	p.Heading(t("report.sheet_rounds"))
	rows = rows[:0]
	for _, r := range d.Rounds {
		rows = append(rows, []string{r.Code, r.Name, r.Date, assess.RoundString(r.Score.Rat, 2), assess.RoundString(r.Max.Rat, 2), assess.Percent(r.Rate.Rat)})
	}
	p.Table([]pdfdoc.Col{{Title: t("report.round"), Width: 1.4, Align: "L"}, {Title: t("report.name"), Width: 3, Align: "L"}, {Title: t("report.date"), Width: 1.4, Align: "C"},
		{Title: t("report.score"), Width: 1, Align: "R"}, {Title: t("report.max"), Width: 1, Align: "R"}, {Title: t("report.rate"), Width: 1, Align: "R"}}, rows, t("report.ui.no_rounds"))

	p.Heading(t("report.sheet_lists"))
	rows = rows[:0]
	kind := map[string]string{"district": t("report.district"), "unit": t("report.kind_unit")}
	for _, l := range []struct {
		key     string
		entries []ListEntry
	}{{"report.red_list", d.RedList}, {"report.black_list", d.BlackList}} {
		for _, e := range l.entries {
			rows = append(rows, []string{t(l.key), kind[e.Kind], e.Name, e.Round})
		}
	}
	p.Table([]pdfdoc.Col{{Title: t("report.list"), Width: 1, Align: "C"}, {Title: t("report.kind"), Width: 1.2, Align: "C"}, {Title: t("report.name"), Width: 3, Align: "L"},
		{Title: t("report.round"), Width: 1.6, Align: "L"}}, rows, t("ui.none"))
	volunteerTable(p, t, d.Volunteers)
	p.Seal(issuer, day(d.Cutoff), t("notice.ui.seal"))
	return p.Write(w)
}

// volunteerTable prints the volunteer service section, if any.
func volunteerTable(p *pdfdoc.Doc, t func(string) string, v *VolunteerDoc) {
	if v != nil {
		p.Heading(t("report.sheet_volunteers"))
		var rows [][]string
		for _, x := range append(v.Districts, v.City) {
			share := "—"
			if x.Population > 0 {
				share = strconv.FormatFloat(x.Share*100, 'f', 2, 64) + "%"
			}
			rows = append(rows, []string{x.Name, strconv.FormatInt(x.Registered, 10), share, strconv.FormatInt(x.Active, 10), strconv.FormatInt(x.Activities, 10),
				strconv.FormatFloat(x.Hours, 'f', 1, 64), strconv.FormatFloat(x.PerCapita, 'f', 2, 64), strconv.FormatFloat(x.Change, 'f', 1, 64)})
		}
		p.Table([]pdfdoc.Col{{Title: t("report.district"), Width: 1.4, Align: "L"}, {Title: t("vol.stat.registered"), Width: 1, Align: "R"}, {Title: t("vol.stat.share"), Width: 1.1, Align: "R"},
			{Title: t("vol.stat.active"), Width: 1, Align: "R"}, {Title: t("vol.stat.activities"), Width: 1, Align: "R"}, {Title: t("vol.stat.hours"), Width: 1.2, Align: "R"},
			{Title: t("vol.stat.per_capita"), Width: 1.1, Align: "R"}, {Title: t("report.change"), Width: 1, Align: "R"}}, rows, t("ui.none"))
	}
}

// WritePDF writes the month's scheduling report: the city's figures, the
// trend and district charts, progress by district and unit, the worst
// units, the top categories and hotspots, and the listed cases.
func (d MonthDoc) WritePDF(w io.Writer, t func(string) string, issuer string) error {
	title := strings.ReplaceAll(t("report.ui.monthly"), "{month}", d.Month)
	p := pdfdoc.New(title, issuer+"  "+title, docDate(d.Cutoff))
	p.Title(title, d.From+" — "+d.To+"  "+t("report.ui.cutoff")+" "+day(d.Cutoff))
	c := d.City
	p.Text(t("report.reported") + " " + strconv.Itoa(c.Reported) + "  " + t("report.accepted") + " " + strconv.Itoa(c.Accepted) + "  " +
		t("report.dispatched") + " " + strconv.Itoa(c.Dispatched) + "  " + t("report.closed") + " " + strconv.Itoa(c.Closed) + "  " +
		t("report.overdue") + " " + strconv.Itoa(c.Overdue) + "  " + t("report.on_time_closure_rate") + " " + assess.Percent(c.OnTimeClosureRate.Rat) +
		"  " + t("report.change") + " " + assess.Change(c.Change.Rat, true))
	if d.LatestRound != nil {
		p.Text(strings.ReplaceAll(t("report.ui.latest_round"), "{round}", d.LatestRound.Code+" "+d.LatestRound.Name) + ": " + assess.Percent(d.RoundRate.Rat))
	}
	xs := make([]string, len(d.Trend))
	rep, closed := make([]float64, len(d.Trend)), make([]float64, len(d.Trend))
	for i, x := range d.Trend {
		xs[i], rep[i], closed[i] = x.Month, float64(x.Reported), float64(x.Closed)
	}
	p.Lines(t("report.sheet_month_trend"), xs, []pdfdoc.Series{
		{Name: t("report.reported"), Values: rep, Color: [3]int{200, 50, 45}}, {Name: t("report.closed"), Values: closed, Color: [3]int{40, 90, 180}}})

	progress := func(heading, nameKey string, xs []ProgressDoc, chart bool) {
		p.Heading(heading)
		rows := [][]string{}
		var bars []pdfdoc.Bar
		for _, x := range xs {
			rows = append(rows, []string{x.Name, strconv.Itoa(x.Reported), strconv.Itoa(x.Dispatched), strconv.Itoa(x.Due), strconv.Itoa(x.Closed),
				strconv.Itoa(x.Overdue), assess.Percent(x.OnTimeHandlingRate.Rat), assess.Percent(x.OnTimeClosureRate.Rat), assess.Change(x.Change.Rat, true)})
			if x.OnTimeClosureRate.Rat != nil {
				bars = append(bars, pdfdoc.Bar{Label: x.Name, Value: ratFloat(x.OnTimeClosureRate.Rat), Text: assess.Percent(x.OnTimeClosureRate.Rat)})
			}
		}
		p.Table([]pdfdoc.Col{{Title: t(nameKey), Width: 2.4, Align: "L"}, {Title: t("report.reported"), Width: 0.9, Align: "R"},
			{Title: t("report.dispatched"), Width: 0.9, Align: "R"}, {Title: t("report.due"), Width: 0.9, Align: "R"}, {Title: t("report.closed"), Width: 0.9, Align: "R"},
			{Title: t("report.overdue"), Width: 0.9, Align: "R"}, {Title: t("report.on_time_handling_rate"), Width: 1.2, Align: "R"},
			{Title: t("report.on_time_closure_rate"), Width: 1.2, Align: "R"}, {Title: t("report.change"), Width: 1, Align: "R"}}, rows, t("ui.none"))
		if chart {
			p.Bars(t("report.on_time_closure_rate"), bars, 1)
		}
	}
	progress(t("report.sheet_month_districts"), "report.district", d.Districts, true)
	progress(t("report.sheet_month_units"), "report.unit", d.Units, false)
	progress(t("report.ui.worst_units"), "report.unit", d.WorstUnits, false)

	counts := func(heading string, xs []CountDoc, region bool) {
		p.Heading(heading)
		rows := [][]string{}
		for _, x := range xs {
			row := []string{x.Category}
			if region {
				row = append(row, x.Region)
			}
			rows = append(rows, append(row, strconv.Itoa(x.Count), strconv.Itoa(x.Previous)))
		}
		cols := []pdfdoc.Col{{Title: t("report.category"), Width: 3, Align: "L"}}
		if region {
			cols = append(cols, pdfdoc.Col{Title: t("report.region"), Width: 3, Align: "L"})
		}
		p.Table(append(cols, pdfdoc.Col{Title: t("report.count"), Width: 1, Align: "R"}, pdfdoc.Col{Title: t("report.previous_count"), Width: 1, Align: "R"}), rows, t("ui.none"))
	}
	counts(t("report.ui.top_categories"), d.TopCategories, false)
	counts(t("report.ui.hotspots"), d.Hotspots, true)

	p.Heading(t("report.section_listed"))
	p.Table(caseCols(t), caseRows(d.Listed), t("ui.none"))
	volunteerTable(p, t, d.Volunteers)
	p.Seal(issuer, day(d.Cutoff), t("notice.ui.seal"))
	return p.Write(w)
}

func caseCols(t func(string) string) []pdfdoc.Col {
	return []pdfdoc.Col{{Title: t("report.case_no"), Width: 1.9, Align: "L"}, {Title: t("report.category"), Width: 1.4, Align: "L"},
		{Title: t("report.region"), Width: 1.4, Align: "L"}, {Title: t("report.deadline"), Width: 1.5, Align: "C"}, {Title: t("report.description"), Width: 3.2, Align: "L"}}
}

// siteCols are the columns of a notice's sites.
func siteCols(t func(string) string) []pdfdoc.Col {
	return []pdfdoc.Col{{Title: t("report.round"), Width: 1.3, Align: "L"}, {Title: t("report.site_code"), Width: 1.2, Align: "L"},
		{Title: t("report.site"), Width: 2, Align: "L"}, {Title: t("report.address"), Width: 3.4, Align: "L"}, {Title: t("report.rechecked_at"), Width: 1.5, Align: "C"}}
}

func caseRows(cs []NoticeCase) [][]string {
	rows := make([][]string, 0, len(cs))
	for _, c := range cs {
		rows = append(rows, []string{c.No, c.Category, c.Region, c.Deadline, c.Description})
	}
	return rows
}

// WriteNoticesPDF writes notices, each starting on its own page: the
// unit, the office's words, a table per section, the unit's standing in
// the latest mock inspection, the issuer and the seal area.
func WriteNoticesPDF(w io.Writer, docs []NoticeDoc, t func(string) string, title string) error {
	date := time.Unix(0, 0)
	if len(docs) > 0 {
		date = docDate(docs[0].IssuedAt)
	}
	p := pdfdoc.New(title, title, date)
	if len(docs) == 0 {
		p.Title(title, "")
		p.Text(t("ui.none"))
	}
	for i, d := range docs {
		if i > 0 {
			p.NewPage()
		}
		no := d.No
		if no == "" {
			no = t("report.ui.draft")
		}
		sub := t("notice.ui.no") + ": " + no
		if d.Escalated {
			sub += "  " + t("notice.ui.escalated")
		}
		p.Title(t("notice.ui.doc_title"), sub)
		p.Text(d.UnitName + ":")
		if d.Note != "" {
			p.Text(d.Note)
		}
		if c := d.Case; c != nil {
			p.Text(t("notice.ui.about_case") + c.No + " " + c.Category + " · " + c.Region + " · " + c.Description)
		}
		p.Text(strings.ReplaceAll(t("notice.ui.body"), "{week}", d.Week))
		if len(d.Unacknowledged) > 0 {
			p.Text(t("notice.ui.unsigned_before") + strings.Join(d.Unacknowledged, "、"))
		}
		for _, sec := range []struct {
			key   string
			cases []NoticeCase
		}{{"report.section_overdue", d.Overdue}, {"report.section_due_soon", d.DueSoon}, {"report.section_listed", d.Listed},
			{"report.section_reworks", d.Reworks}, {"report.section_extensions", d.ExtensionsPending},
			{"report.section_relapses", d.Relapses}, {"report.section_recurrences", d.Recurrences}} {
			if len(sec.cases) == 0 {
				continue
			}
			p.Heading(t(sec.key) + " (" + strconv.Itoa(len(sec.cases)) + ")")
			p.Table(caseCols(t), caseRows(sec.cases), "")
		}
		if len(d.FailedRechecks) > 0 {
			p.Heading(t("report.section_failed_rechecks") + " (" + strconv.Itoa(len(d.FailedRechecks)) + ")")
			var rows [][]string
			for _, k := range d.FailedRechecks {
				rows = append(rows, []string{k.Round, k.Site, k.SiteName, k.Address, k.At})
			}
			p.Table(siteCols(t), rows, "")
		}
		if len(d.OverdueMilestones) > 0 {
			p.Heading(t("report.section_overdue_milestones") + " (" + strconv.Itoa(len(d.OverdueMilestones)) + ")")
			var rows [][]string
			for _, m := range d.OverdueMilestones {
				rows = append(rows, []string{m.Task, m.TaskTitle, m.Milestone, m.Due})
			}
			p.Table([]pdfdoc.Col{{Title: t("report.task_code"), Width: 1.2, Align: "L"}, {Title: t("report.task"), Width: 3.6, Align: "L"},
				{Title: t("report.milestone"), Width: 3.2, Align: "L"}, {Title: t("report.due"), Width: 1.4, Align: "C"}}, rows, "")
		}
		if r := d.Recheck; r != nil {
			p.Text(strings.NewReplacer("{from}", r.From, "{revisited}", strconv.Itoa(r.Revisited), "{relapses}", strconv.Itoa(r.Relapses), "{rate}", r.RelapseRate).Replace(t("notice.ui.recheck")))
		}
		if a := d.Assessment; a != nil {
			p.Text(strings.NewReplacer("{round}", a.Round, "{rank}", strconv.Itoa(a.Rank), "{of}", strconv.Itoa(a.Of), "{lost}", a.Lost).Replace(t("notice.ui.assessment")) +
				" " + t("assess.card_"+a.Card))
		}
		p.Seal(d.Issuer, d.IssuedAt, t("notice.ui.seal"))
	}
	return p.Write(w)
}
