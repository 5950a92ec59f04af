package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/assess"
	"chuangwen/internal/privacy"
	"chuangwen/internal/sheet"
	"chuangwen/internal/workflow"
)

// The case list exports to CSV and XLSX with the list's filters and the
// caller's scope, streamed: rows go out as they are read, so memory does
// not grow with the number of cases.

func (s *Server) exportRoutes() []route {
	return []route{
		{method: "GET", path: "/cases/export", h: s.exportCases},
		{method: "GET", path: "/api/v1/cases/export", api: true, summary: "The case list with its filters as CSV (UTF-8 with BOM, for Excel) or XLSX, streamed", query: append([]string{"format"}, workflow.FilterParams...), resp: "binary", h: s.exportCases},
	}
}

// caseRow is one case as the export writes it, into row (reused).
func (s *Server) caseRow(t func(string) string, c *workflow.ExportRow, row []string) []string {
	row = append(row[:0], c.No, t("source."+c.Source), c.Category, c.Description, c.Address, c.Region,
		t("state."+string(c.State)), c.LeadUnit, s.exportTime(c.Deadline), strconv.Itoa(c.Warning), strconv.FormatBool(c.Overdue),
		strconv.FormatBool(c.Supervised), strconv.Itoa(c.Reworks), s.exportTime(c.ReportedAt), s.exportTime(c.ClosedAt), c.ReporterName, c.ReporterPhone)
	return row
}

// exportTime is a time in the city's zone as 2006-01-02 15:04, "" for
// none; written by hand, as a million rows call it three times each.
func (s *Server) exportTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(s.Location)
	y, mo, d := t.Date()
	h, mi, _ := t.Clock()
	if y < 0 || y > 9999 {
		return t.Format("2006-01-02 15:04")
	}
	b := [16]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + int(mo)/10), byte('0' + int(mo)%10), '-', byte('0' + d/10), byte('0' + d%10), ' ',
		byte('0' + h/10), byte('0' + h%10), ':', byte('0' + mi/10), byte('0' + mi%10)}
	return string(b[:])
}

func (s *Server) exportCases(w http.ResponseWriter, r *http.Request) {
	f, err := s.filterFrom(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := s.lang(r)
	// The few words a row repeats (sources, states) are looked up once.
	memo := map[string]string{}
	t := func(k string) string {
		v, ok := memo[k]
		if !ok {
			v = s.Msg.T(lang, k)
			memo[k] = v
		}
		return v
	}
	header := []string{t("export.no"), t("export.source"), t("export.category"), t("export.description"), t("export.address"), t("export.region"),
		t("export.state"), t("export.unit"), t("export.deadline"), t("export.warning"), t("export.overdue"), t("export.supervised"),
		t("export.reworks"), t("export.reported_at"), t("export.closed_at"), t("export.reporter"), t("export.phone")}
	a := actorOf(r)
	if a.CanSeeReporter() {
		s.accessed(r, privacy.KindCaseExport, 0, r.URL.RawQuery)
	}
	// The file is streamed as the cases are read. What fails before the
	// first byte (begin) is answered as an error; what fails after it
	// cuts the connection (http.ErrAbortHandler), so that the client
	// reports a failed download instead of keeping a short file.
	var started bool
	read := func(ctx context.Context, begin func() error, emit func(*workflow.ExportRow) error) error {
		return s.Flow.EachExportRow(ctx, a, f, begin, emit)
	}
	switch r.URL.Query().Get("format") {
	case "", "csv":
		bw := bufio.NewWriterSize(w, 64<<10)
		cw := csv.NewWriter(bw)
		var row []string
		err = readAhead(r.Context(), read, func() error {
			started = true
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="cases.csv"`)
			w.Header().Set("Cache-Control", "no-store")
			bw.WriteString("\ufeff") // Excel reads UTF-8 when the file starts with a BOM
			return cw.Write(header)
		}, func(c *workflow.ExportRow) error {
			row = sheet.SafeCSV(s.caseRow(t, c, row))
			return cw.Write(row)
		})
		if err == nil {
			cw.Flush()
			if err = cw.Error(); err == nil {
				err = bw.Flush()
			}
		}
	case "xlsx":
		var sw *sheet.Writer
		var row []string
		err = readAhead(r.Context(), read, func() error {
			started = true
			w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
			w.Header().Set("Content-Disposition", `attachment; filename="cases.xlsx"`)
			w.Header().Set("Cache-Control", "no-store")
			var err error
			if sw, err = sheet.New(w, t("export.sheet")); err != nil {
				return err
			}
			return sw.Row(header)
		}, func(c *workflow.ExportRow) error {
			row = s.caseRow(t, c, row)
			return sw.Row(row)
		})
		if sw != nil {
			if err == nil {
				err = sw.Close()
			} else {
				sw.Abort()
			}
		}
	default:
		err = apperr.New(apperr.Invalid, "export.bad_format")
	}
	switch {
	case err == nil:
	case !started:
		s.fail(w, r, err)
	default:
		s.Log.Warn("export cases: cut short", "err", err)
		panic(http.ErrAbortHandler)
	}
}

// readAhead runs read (which calls begin once its query runs, then emit
// for each row) on a goroutine of its own and hands the rows over in
// batches, so that reading the cases and writing the file overlap: each is
// about half of an export's work. begin and write run on the caller's
// goroutine. At most a few batches wait, so memory stays flat.
func readAhead(ctx context.Context, read func(ctx context.Context, begin func() error, emit func(*workflow.ExportRow) error) error,
	begin func() error, write func(*workflow.ExportRow) error) error {
	type batch struct {
		rows  []workflow.ExportRow
		begin bool
	}
	const size = 512
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan batch, 4)
	done := make(chan error, 1)
	go func() {
		defer close(batches)
		send := func(b batch) error {
			select {
			case batches <- b:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		cur := make([]workflow.ExportRow, 0, size)
		err := read(ctx, func() error { return send(batch{begin: true}) }, func(e *workflow.ExportRow) error {
			if cur = append(cur, *e); len(cur) == size {
				if err := send(batch{rows: cur}); err != nil {
					return err
				}
				cur = make([]workflow.ExportRow, 0, size)
			}
			return nil
		})
		if err == nil && len(cur) > 0 {
			err = send(batch{rows: cur})
		}
		done <- err
	}()
	stop := func(err error) error {
		cancel()
		for range batches { // let the reader see the cancellation and end
		}
		<-done
		return err
	}
	for b := range batches {
		if b.begin {
			if err := begin(); err != nil {
				return stop(err)
			}
			continue
		}
		for i := range b.rows {
			if err := write(&b.rows[i]); err != nil {
				return stop(err)
			}
		}
	}
	return <-done
}

// sendTable sends a console table as CSV (UTF-8 with a BOM, so that
// Excel reads it) or XLSX, as name's extension says; numeric columns are
// numbers in the workbook. The tables it serves are bounded by the
// city's size (units, districts, a round's ledger); the case list, which
// is not, streams (exportCases).
func (s *Server) sendTable(w http.ResponseWriter, r *http.Request, name, sheetName string, rows [][]string, numeric ...int) {
	var buf bytes.Buffer
	format := assess.FormatXLSX
	if strings.HasSuffix(name, ".csv") {
		format = assess.FormatCSV
		buf.WriteString("\ufeff")
		cw := csv.NewWriter(&buf)
		for _, row := range rows {
			_ = cw.Write(sheet.SafeCSV(slices.Clone(row)))
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			s.fail(w, r, err)
			return
		}
	} else if err := assess.WriteTable(&buf, sheetName, rows, numeric...); err != nil {
		s.fail(w, r, err)
		return
	}
	download(w, name, format, buf.Bytes())
}
