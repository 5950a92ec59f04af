package report_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/assess"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/report"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// TestWeeklyNoticeRelapses: a relapse found on a revisit in the week and a
// recurrence of a closed case go on the notice of the unit that closed
// them, with the unit's revisit figures of the quarter; a unit with
// nothing else due gets a notice for a relapse alone.
func TestWeeklyNoticeRelapses(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c, ctx := f.c, f.ctx
		sh := testcity.Shanghai
		lat, lon := 31.2304, 121.4737
		c.Clock.Set(time.Date(2026, 11, 23, 9, 0, 0, 0, sh))
		// Unit B closes three cases in W48, one of them with a place.
		var ids []int64
		for i := range 3 {
			in := workflow.NewCase{CategoryID: c.Cat4h.ID, Description: "垃圾", RegionID: c.Community1.ID}
			if i == 0 {
				in.Lat, in.Lon = &lat, &lon
			}
			cs, err := c.Flow.Report(ctx, c.Acceptor, in)
			f.must(err)
			f.act(c.Acceptor, cs.ID, workflow.ActInput{Action: workflow.Accept})
			f.act(c.Acceptor, cs.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: c.UnitB.ID})
			f.act(c.HandlerB, cs.ID, workflow.ActInput{Action: workflow.Acknowledge})
			f.act(c.HandlerB, cs.ID, workflow.ActInput{Action: workflow.Feedback, Opinion: "已清理", Photos: []photo.File{f.photo()}})
			f.act(c.Inspector, cs.ID, workflow.ActInput{Action: workflow.VerifyPass})
			ids = append(ids, cs.ID)
		}
		f.must(c.Flow.SaveRecheckSettings(ctx, c.Admin, workflow.RecheckSettings{RevisitShare: 1, RevisitDays: 5, RecurrenceDays: 30}))
		c.Clock.Set(time.Date(2026, 11, 30, 8, 0, 0, 0, sh))
		d, err := c.Flow.DrawRevisits(ctx, org.System, c.Clock.Now())
		f.must(err)
		if d.Drawn != 3 {
			t.Fatalf("draw %+v", d)
		}
		items, err := c.Flow.Revisits(ctx, c.Inspector, workflow.RevisitFilter{State: workflow.RevisitPending})
		f.must(err)
		c.Clock.Set(time.Date(2026, 12, 1, 10, 0, 0, 0, sh))
		var relapsed int64
		for i, it := range items {
			res := workflow.RevisitResult{Pass: i > 0, Note: "回访"}
			if i == 0 {
				res.Photos, relapsed = []photo.File{f.photo()}, it.CaseID
			}
			_, err := c.Flow.RecordRevisit(ctx, c.Inspector, it.ID, res)
			f.must(err)
		}
		// A new report at the first case's place: a recurrence, if it is still closed.
		again, err := c.Flow.Report(ctx, c.Acceptor, workflow.NewCase{CategoryID: c.Cat4h.ID, Description: "又有垃圾", RegionID: c.Community1.ID, Lat: &lat, Lon: &lon})
		f.must(err)

		c.Clock.Set(time.Date(2026, 12, 7, 9, 30, 0, 0, sh))
		docs, err := f.rs.WeeklyDrafts(ctx, c.Admin, "2026-W50", "")
		f.must(err)
		found := false
		for _, doc := range docs {
			if doc.Unit != c.UnitB.Code {
				if len(doc.Relapses)+len(doc.Recurrences) > 0 || doc.Recheck != nil {
					t.Errorf("unit %s got B's relapses: %+v", doc.Unit, doc)
				}
				continue
			}
			found = true
			if len(doc.Relapses) != 1 || doc.Relapses[0].ID != relapsed {
				t.Errorf("relapses %+v, want case %d", doc.Relapses, relapsed)
			}
			wantRec := 0
			if relapsed != ids[0] {
				wantRec = 1 // the first case is still closed: the new report repeats it
			}
			if len(doc.Recurrences) != wantRec || wantRec == 1 && doc.Recurrences[0].ID != again.ID {
				t.Errorf("recurrences %+v, want %d", doc.Recurrences, wantRec)
			}
			if r := doc.Recheck; r == nil || r.Revisited != 3 || r.Relapses != 1 || r.RelapseRate != "33.3%" || r.From != "2026-10-01" {
				t.Errorf("recheck %+v", doc.Recheck)
			}
		}
		if !found {
			t.Fatalf("no notice for unit B, which has a relapse: %+v", docs)
		}
		// A week later the relapse is old news; the quarter's figures stay.
		c.Clock.Set(time.Date(2026, 12, 14, 9, 30, 0, 0, sh))
		docs, err = f.rs.WeeklyDrafts(ctx, c.Admin, "2026-W51", c.UnitB.Code)
		f.must(err)
		if len(docs) != 1 || len(docs[0].Relapses) != 0 || docs[0].Recheck == nil {
			t.Fatalf("a week later: %+v", docs)
		}
	})
}

// TestWeeklyNoticeFailedRechecks: a site that fails its re-inspection goes
// on its unit's next notice, and makes one due.
func TestWeeklyNoticeFailedRechecks(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c, ctx := f.c, f.ctx
		sh := testcity.Shanghai
		if _, ps, err := f.as.ImportTree(ctx, c.Admin, strings.NewReader(tree), assess.FormatYAML); err != nil {
			t.Fatal(ps, err)
		}
		if _, ps, err := f.as.ImportSites(ctx, c.Admin, strings.NewReader(sites), assess.FormatCSV); err != nil {
			t.Fatal(ps, err)
		}
		c.Clock.Set(time.Date(2026, 11, 23, 9, 0, 0, 0, sh))
		f.round("2026-11-23", "S1,A1.1,fail\nS2,A1.1,fail\nS3,A1.1,pass\n", "330102,A1.2,0.8\n330105,A1.2,0.7\n")
		rd := "R2026-01"
		c.Clock.Set(time.Date(2026, 12, 2, 10, 0, 0, 0, sh))
		if _, err := f.as.RecordRecheck(ctx, c.Inspector, rd, "S1", []assess.RecheckResult{{Standard: "A1.1", Result: "fail", Note: "路面仍脏"}}, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.as.RecordRecheck(ctx, c.Inspector, rd, "S2", []assess.RecheckResult{{Standard: "A1.1", Result: "pass"}}, ""); err != nil {
			t.Fatal(err)
		}
		c.Clock.Set(time.Date(2026, 12, 7, 9, 30, 0, 0, sh))
		docs, err := f.rs.WeeklyDrafts(ctx, c.Admin, "2026-W50", "")
		f.must(err)
		var a *report.NoticeDoc
		for i := range docs {
			if docs[i].Unit == c.UnitA.Code {
				a = &docs[i]
			} else if len(docs[i].FailedRechecks) > 0 {
				t.Errorf("unit %s lists %+v", docs[i].Unit, docs[i].FailedRechecks)
			}
		}
		if a == nil || len(a.FailedRechecks) != 1 || a.FailedRechecks[0].Site != "S1" || a.FailedRechecks[0].At != "2026-12-02 10:00" {
			t.Fatalf("unit A's notice: %+v", a)
		}
		var pdf, xlsx bytes.Buffer
		tr := func(k string) string { return k }
		f.must(report.WriteNoticesPDF(&pdf, []report.NoticeDoc{*a}, tr, "督办单"))
		f.must(report.WriteNoticesXLSX(&xlsx, []report.NoticeDoc{*a}, tr))
		if pdf.Len() == 0 || xlsx.Len() == 0 {
			t.Fatal("empty documents")
		}
	})
}
