package tasks_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"chuangwen/internal/apperr"
	"chuangwen/internal/blob"
	"chuangwen/internal/store"
	"chuangwen/internal/tasks"
	"chuangwen/internal/testcity"
)

// table builds an XLSX task table from rows (the first is the header).
func table(t *testing.T, rows [][]any) io.Reader {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return &buf
}

var header = []any{"任务编号", "任务名称", "测评指标", "牵头单位", "配合单位", "节点", "完成时限", "成果形式"}

func newService(t *testing.T, db *store.DB) (*tasks.Service, *testcity.City) {
	c := testcity.New(t, db)
	dir := t.TempDir()
	return &tasks.Service{DB: db, Blobs: blob.Local{Dir: dir}, Location: testcity.Shanghai, Now: c.Clock.Now, Calendar: c.Flow.Calendar}, c
}

func TestImport(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		s, c := newService(t, db)
		ctx := context.Background()
		good := [][]any{header,
			{"T01", "背街小巷环境整治", "4.1.1、4.1.2", "A", "B", "完成摸底排查", "2026-03-31", "排查台账"},
			{"T01", "", "", "", "", "完成整治", "2026/6/30", "整治前后照片"},
			{},
			{"T02", "公益广告设置", "", "园林局", "", "完成设置", "2026年9月30日", ""},
		}
		bad := [][]any{header,
			{"T01", "背街小巷环境整治", "", "A", "无此单位", "完成摸底排查", "2026-02-30", ""},
			{"T01", "另一个名称", "", "", "", "", "2026-06-30", ""},
			{"T03", "", "", "", "", "节点", "明年", ""},
			{"T 04", "名称", "", "A", "A", "节点", "2026-01-01", ""},
		}
		rep, err := s.Import(ctx, c.Admin, 2026, table(t, bad))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range rep.Problems {
			got = append(got, strings.Join(append([]string{itoa(p.Row), p.Key}, p.Args...), " "))
		}
		want := []string{
			"2 task.import_bad_date value 2026-02-30",
			"2 task.import_unknown_unit unit 无此单位",
			"3 task.import_missing column 节点",
			"3 task.import_disagrees column 任务名称 code T01 row 2",
			"4 task.import_bad_date value 明年",
			"4 task.import_missing column 任务名称",
			"4 task.import_missing column 牵头单位",
			"5 task.import_bad_code code T 04",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if rep.Tasks != 0 || count(t, db, "plan_tasks")+count(t, db, "plan_milestones") != 0 {
			t.Fatalf("a refused import stored something: %+v", rep)
		}
		if _, err := s.Import(ctx, c.Acceptor, 2026, table(t, good)); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("acceptor imports: %v", err)
		}
		if _, err := s.Import(ctx, c.Admin, 2026, strings.NewReader("not a spreadsheet")); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("not XLSX: %v", err)
		}
		rep, err = s.Import(ctx, c.Admin, 2026, table(t, [][]any{{"任务", "名称"}, {"x", "y"}}))
		if err != nil || len(rep.Problems) != 5 || rep.Problems[0].Row != 1 {
			t.Errorf("no columns: %+v %v", rep, err)
		}
		rep, err = s.Import(ctx, c.Admin, 2026, table(t, good))
		if err != nil || len(rep.Problems) != 0 || rep.Tasks != 2 || rep.Milestones != 3 {
			t.Fatalf("import: %+v %v", rep, err)
		}
		list, err := s.Tasks(ctx, c.Leader, tasks.Filter{Year: 2026})
		if err != nil || len(list) != 2 {
			t.Fatalf("tasks %+v %v", list, err)
		}
		t1 := list[0]
		if t1.Code != "T01" || t1.Lead.Code != "A" || len(t1.Coops) != 1 || t1.Coops[0].Code != "B" || strings.Join(t1.Leaves, ",") != "4.1.1,4.1.2" ||
			len(t1.Milestones) != 2 || t1.Milestones[1].Due != "2026-06-30" || t1.Milestones[1].Deliverable != "整治前后照片" {
			t.Errorf("T01 %+v", t1)
		}
		if list[1].Lead.Code != c.UnitB.Code || list[1].Milestones[0].Due != "2026-09-30" {
			t.Errorf("T02 by the unit's name: %+v", list[1])
		}
		// Again: the codes exist in the year.
		rep, err = s.Import(ctx, c.Admin, 2026, table(t, good))
		if err != nil || len(rep.Problems) != 2 || rep.Problems[0].Key != "task.import_exists" {
			t.Errorf("second import %+v %v", rep, err)
		}
		// Another year takes the same codes.
		if rep, err := s.Import(ctx, c.Admin, 2027, table(t, good)); err != nil || rep.Tasks != 2 {
			t.Errorf("2027: %+v %v", rep, err)
		}
	})
}

func TestParseDate(t *testing.T) {
	for in, want := range map[string]string{"2026-03-31": "2026-03-31", "2026/3/5": "2026-03-05", "2026.12.1": "2026-12-01", "2026年3月31日": "2026-03-31",
		"03-31-26": "2026-03-31", "46112": "2026-03-31", "2026-02-29": "", "31/03/2026": "", "": "", "1999-01-01": ""} {
		got, ok := tasks.ParseDate(in)
		if got != want || ok != (want != "") {
			t.Errorf("ParseDate(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}

func TestProgress(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		s, c := newService(t, db)
		ctx := context.Background()
		// Monday 16 November 2026 09:00.
		c.Clock.Set(time.Date(2026, 11, 16, 9, 0, 0, 0, testcity.Shanghai))
		rep, err := s.Import(ctx, c.Admin, 2026, table(t, [][]any{header,
			{"T01", "背街小巷整治", "", "A", "B", "摸底", "2026-11-13", "台账"}, // overdue (last Friday)
			{"T01", "", "", "", "", "整治", "2026-11-19", ""},           // Thursday: 4 working days, at risk
			{"T01", "", "", "", "", "验收", "2026-12-31", ""},           // on track
			{"T02", "公益广告", "", "B", "", "设置", "2026-12-31", ""},
		}))
		if err != nil || rep.Tasks != 2 {
			t.Fatalf("import %+v %v", rep, err)
		}
		list, err := s.Tasks(ctx, c.HandlerA, tasks.Filter{})
		if err != nil || len(list) != 1 || list[0].Code != "T01" {
			t.Fatalf("handler A sees %+v %v", list, err)
		}
		ms := list[0].Milestones
		if ms[0].Status != tasks.Overdue || ms[1].Status != tasks.AtRisk || ms[2].Status != tasks.OnTrack || list[0].Status != tasks.Overdue {
			t.Fatalf("statuses %s %s %s, task %s", ms[0].Status, ms[1].Status, ms[2].Status, list[0].Status)
		}
		if ms[0].DaysLeft >= 0 || ms[1].DaysLeft != 4 {
			t.Errorf("days left %d, %d", ms[0].DaysLeft, ms[1].DaysLeft)
		}
		// B cooperates on T01 and leads T02: both; the volunteer officer none.
		if l, err := s.Tasks(ctx, c.HandlerB, tasks.Filter{}); err != nil || len(l) != 2 {
			t.Errorf("handler B sees %d (%v)", len(l), err)
		}
		if _, err := s.Tasks(ctx, c.Volunteer, tasks.Filter{}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("volunteer officer: %v", err)
		}
		t2, _ := s.Tasks(ctx, c.Admin, tasks.Filter{UnitID: c.UnitB.ID, Status: tasks.OnTrack})
		if len(t2) != 1 || t2[0].Code != "T02" {
			t.Errorf("B's tasks on track: %+v", t2)
		}
		if _, err := s.Task(ctx, c.HandlerA, t2[0].ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("handler A opens B's task: %v", err)
		}

		// A's handler reports the first milestone with a PDF; a text file is refused and leaves no file.
		pdf := []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
		if _, err := s.AddReport(ctx, c.HandlerA, ms[0].ID, "台账已完成", []tasks.Upload{{Name: "a.txt", R: strings.NewReader("hello")}}); !apperr.Is(err, apperr.Unsupported) {
			t.Errorf("text attachment: %v", err)
		}
		if _, err := s.AddReport(ctx, c.HandlerA, ms[0].ID, "  ", nil); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("empty report: %v", err)
		}
		if _, err := s.AddReport(ctx, c.HandlerB, t2[0].Milestones[0].ID+0, "x", nil); err != nil {
			t.Errorf("B reports on its own task: %v", err)
		}
		if _, err := s.AddReport(ctx, c.HandlerA, t2[0].Milestones[0].ID, "x", nil); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("A reports on B's task: %v", err)
		}
		r1, err := s.AddReport(ctx, c.HandlerA, ms[0].ID, "台账已完成", []tasks.Upload{{Name: `C:\报告\台账.pdf`, R: bytes.NewReader(pdf)}})
		if err != nil || len(r1.Files) != 1 || r1.Files[0].Name != "台账.pdf" || r1.Files[0].Mime != "application/pdf" {
			t.Fatalf("report %+v %v", r1, err)
		}
		// One report at a time waits for the office.
		if _, err := s.AddReport(ctx, c.HandlerA, ms[0].ID, "再报一次", nil); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("a second report while the first waits: %v", err)
		}
		if n := files(t, s); n != 1 {
			t.Errorf("%d files stored, want 1 (the refused one removed)", n)
		}
		// The office returns it with a reason; the milestone stays overdue, the unit reports again.
		if err := s.Decide(ctx, c.HandlerA, r1.ID, true, ""); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("handler decides: %v", err)
		}
		if err := s.Decide(ctx, c.Acceptor, r1.ID, false, ""); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("return without a reason: %v", err)
		}
		if err := s.Decide(ctx, c.Acceptor, r1.ID, false, "缺少照片"); err != nil {
			t.Fatal(err)
		}
		if err := s.Decide(ctx, c.Acceptor, r1.ID, true, ""); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("decided twice: %v", err)
		}
		// A returned report makes an on-track milestone at risk.
		r3, err := s.AddReport(ctx, c.HandlerA, ms[2].ID, "方案已报", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Decide(ctx, c.Admin, r3.ID, false, "方案不完整"); err != nil {
			t.Fatal(err)
		}
		r2, err := s.AddReport(ctx, c.HandlerA, ms[0].ID, "补充照片", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Decide(ctx, c.Admin, r2.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddReport(ctx, c.HandlerA, ms[0].ID, "再报", nil); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("report on a done milestone: %v", err)
		}
		task, err := s.Task(ctx, c.HandlerA, list[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		m := task.Milestones
		if m[0].Status != tasks.Done || len(m[0].Reports) != 2 || m[0].Reports[0].Decision != tasks.Returned || m[0].Reports[0].Note != "缺少照片" ||
			len(m[0].Reports[0].Files) != 1 || m[2].Status != tasks.AtRisk || !m[2].LastReturned || task.Done != 1 || task.Total != 3 || task.Status != tasks.AtRisk {
			t.Fatalf("after the decisions: %+v", task)
		}
		// The attachment opens for A and B (cooperating), not for another unit's task reader.
		f, rc, err := s.OpenFile(ctx, c.HandlerB, m[0].Reports[0].Files[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(b, pdf) || f.Name != "台账.pdf" {
			t.Errorf("file %q %d bytes", f.Name, len(b))
		}
		// The weekly notice's overdue milestones: none of A's now (done),
		// and the board.
		c.Clock.Set(time.Date(2026, 11, 20, 9, 0, 0, 0, testcity.Shanghai))
		od, err := s.OverdueByUnit(ctx, []int64{c.UnitA.ID, c.UnitB.ID}, c.Clock.Now())
		if err != nil || len(od[c.UnitA.ID]) != 1 || od[c.UnitA.ID][0].Milestone != "整治" || len(od[c.UnitB.ID]) != 0 {
			t.Errorf("overdue by unit %+v %v", od, err)
		}
		all, _ := s.Tasks(ctx, c.Admin, tasks.Filter{Year: 2026})
		bd := tasks.BoardOf(all)
		if bd.Tasks != 2 || bd.Milestones != 4 || bd.Done != 1 || len(bd.Units) != 2 || bd.Units[0].Overdue != 1 || bd.ByStatus[tasks.Overdue] != 1 {
			t.Errorf("board %+v", bd)
		}
	})
}

func count(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	if err := db.Reader().QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func files(t *testing.T, s *tasks.Service) int {
	t.Helper()
	n := 0
	_ = filepath.Walk(s.Blobs.(blob.Local).Dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && !strings.HasPrefix(fi.Name(), ".") {
			n++
		}
		return nil
	})
	return n
}

func itoa(n int) string { return strconv.Itoa(n) }
