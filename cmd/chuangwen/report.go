package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"chuangwen/internal/i18n"
	"chuangwen/internal/org"
	"chuangwen/internal/report"
	"chuangwen/internal/tasks"
)

const reportUsage = `Usage: chuangwen report <command> [flags]   (docs/reports.md)

  weekly --week 2026-W49 [--unit CODE] --format json|pdf|xlsx [--out F]
                                                             the week's supervision notices (督办单): those
                                                             issued, and drafts for units with anything due
  monthly --month 2026-11 --format json|pdf|xlsx [--out F]  the month's scheduling report (调度)
  quarterly --quarter 2026Q4 --format json|pdf|xlsx [--out F]
                                                             draft the quarter's bulletin (季度通报)
  publish --quarter 2026Q4                                   publish it frozen; last line: the bulletin id
  verify --bulletin ID                                       recompute a published bulletin from the stored data;
                                                             exit status 0 when every figure matches, else each
                                                             difference and exit status 1

PDF documents are A4 with the font embedded; workbooks open in Excel.
Every command takes the common flags (--data, --db, ...).
`

// cmdReport runs the report subcommands as the system actor.
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var quarter, format, out, bulletin, week, unit, month string
	var name string
	// A document command's flags: its own, then --format and --out.
	document := func(own func(fs *flag.FlagSet)) func(fs *flag.FlagSet) {
		return func(fs *flag.FlagSet) {
			own(fs)
			fs.StringVar(&format, "format", "json", "json, pdf or xlsx")
			fs.StringVar(&out, "out", "", "write to this file (default: standard output)")
		}
	}
	// emit streams a document to standard output, or to --out through a
	// temporary file renamed into place once complete (a failed run
	// leaves no half-written document).
	emit := func(gen func(w io.Writer) error) error {
		if out == "" {
			bw := bufio.NewWriterSize(stdout, 256<<10)
			if err := gen(bw); err != nil {
				return err
			}
			return bw.Flush()
		}
		tmp, err := os.CreateTemp(filepath.Dir(out), ".report-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		bw := bufio.NewWriterSize(tmp, 256<<10)
		err = gen(bw)
		if err == nil {
			err = bw.Flush()
		}
		if err == nil {
			err = tmp.Chmod(0o644)
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		return os.Rename(tmp.Name(), out)
	}
	// write prints a document as JSON, as the workbook xlsx writes or as
	// the PDF pdf writes (signed by the office's name).
	write := func(svc *report.Service, doc any, xlsx func(w io.Writer, t func(string) string) error,
		pdf func(w io.Writer, t func(string) string, issuer string) error) error {
		switch format {
		case "json":
			return emit(func(w io.Writer) error { return json.NewEncoder(w).Encode(doc) })
		case "xlsx", "pdf":
			msg, err := i18n.Load()
			if err != nil {
				return err
			}
			t := func(k string) string { return msg.T("zh-CN", k) }
			if format == "xlsx" {
				return emit(func(w io.Writer) error { return xlsx(w, t) })
			}
			st, err := svc.NoticeSettings(ctx)
			if err != nil {
				return err
			}
			return emit(func(w io.Writer) error { return pdf(w, t, st.Issuer) })
		}
		return fmt.Errorf("%s: --format %q: want json, pdf or xlsx", name, format)
	}
	lookup := func(sub string) (subcommand[*report.Service], bool) {
		name = "report " + sub
		switch sub {
		case "quarterly":
			return subcommand[*report.Service]{flags: document(func(fs *flag.FlagSet) { fs.StringVar(&quarter, "quarter", "", "the quarter, e.g. 2026Q4 (required)") }),
				required: []string{"quarter"}, run: func(svc *report.Service) error {
					b, err := svc.Draft(ctx, org.System, quarter)
					if err != nil {
						return explain(err)
					}
					return write(svc, b.Doc, b.Doc.WriteXLSX, b.Doc.WritePDF)
				}}, true
		case "weekly":
			return subcommand[*report.Service]{flags: document(func(fs *flag.FlagSet) {
				fs.StringVar(&week, "week", "", "the ISO week, e.g. 2026-W49 (required)")
				fs.StringVar(&unit, "unit", "", "one unit's notice (its code)")
			}), required: []string{"week"}, run: func(svc *report.Service) error {
				docs, err := svc.WeekNotices(ctx, org.System, week, unit)
				if err != nil {
					return explain(err)
				}
				if docs == nil {
					docs = []report.NoticeDoc{}
				}
				return write(svc, map[string]any{"week": week, "notices": docs}, func(w io.Writer, t func(string) string) error {
					return report.WriteNoticesXLSX(w, docs, t)
				}, func(w io.Writer, t func(string) string, _ string) error {
					return report.WriteNoticesPDF(w, docs, t, t("notice.ui.doc_title")+" "+week)
				})
			}}, true
		case "monthly":
			return subcommand[*report.Service]{flags: document(func(fs *flag.FlagSet) { fs.StringVar(&month, "month", "", "the month, e.g. 2026-11 (required)") }),
				required: []string{"month"}, run: func(svc *report.Service) error {
					doc, err := svc.Monthly(ctx, org.System, month)
					if err != nil {
						return explain(err)
					}
					return write(svc, doc, doc.WriteXLSX, doc.WritePDF)
				}}, true
		case "publish":
			return subcommand[*report.Service]{flags: func(fs *flag.FlagSet) { fs.StringVar(&quarter, "quarter", "", "the quarter, e.g. 2026Q4 (required)") },
				required: []string{"quarter"}, run: func(svc *report.Service) error {
					p, err := svc.Publish(ctx, org.System, quarter)
					if err != nil {
						return explain(err)
					}
					fmt.Fprintf(stdout, "bulletin %s of %s published; sha256 %s\n%s\n", p.Code, p.Quarter, p.SHA256, p.Code)
					return nil
				}}, true
		case "verify":
			return subcommand[*report.Service]{flags: func(fs *flag.FlagSet) { fs.StringVar(&bulletin, "bulletin", "", "the bulletin id (required)") },
				required: []string{"bulletin"}, run: func(svc *report.Service) error {
					diffs, err := svc.Verify(ctx, org.System, bulletin)
					if err != nil {
						return explain(err)
					}
					for _, d := range diffs {
						fmt.Fprintf(stdout, "%s: published %s, recomputed %s\n", d.Path, d.Published, d.Recomputed)
					}
					return differences(stdout, "bulletin "+bulletin, len(diffs), "every figure recomputes")
				}}, true
		}
		return subcommand[*report.Service]{}, false
	}
	return runGroup(ctx, "report", reportUsage, nil, args, stdout, stderr, (*app).reportService, lookup)
}

// reportService is the app's report service.
// tasksService is the campaign's task list, its attachments beside the
// photos.
func (a *app) tasksService() *tasks.Service {
	return &tasks.Service{DB: a.db, Blobs: a.flow.Photos.Blobs, Location: a.loc, Calendar: a.flow.Calendar, Log: a.log}
}

func (a *app) reportService() *report.Service {
	rs := &report.Service{DB: a.db, Flow: a.flow, Assess: a.assessService(), Tasks: a.tasksService(), Location: a.loc, ConsoleURL: a.cfg.PublicURL}
	if msg, err := i18n.Load(); err == nil {
		rs.Text = func(key string, args ...string) string { return msg.T("zh-CN", key, args...) }
	}
	if vol, err := a.volunteerService(); err == nil {
		rs.Volunteer = vol
	} else {
		a.log.Warn("bulletins without their volunteer section", "err", err)
	}
	return rs
}
