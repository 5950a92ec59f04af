package volunteer_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"chuangwen/internal/apperr"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/volunteer"
)

// workbook is an XLSX file of rows, the first the header.
func workbook(t *testing.T, rows [][]string) *bytes.Reader {
	t.Helper()
	f := excelize.NewFile()
	for i, row := range rows {
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := f.SetCellStr("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

// TestRosterImport: the national system's column names in any order;
// every row's problem by the spreadsheet's row number, duplicates within
// the file and against the stored volunteers; nothing stored on any
// error; then the whole roster, approved, with its identity numbers
// sealed and masked.
func TestRosterImport(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.register(e.teamA, "已注册") // volunteer number e.n
		header := []string{"志愿者编号", "姓名", "证件号码", "手机号码", "服务技能"}
		bad := [][]string{header,
			{"V001", "张三", idNumber(101), phone(101), "摄影"},
			{"", "", "", "", ""},                                     // blank: skipped, still counted
			{"V002", "李四", idNumber(101), phone(102), ""},            // same ID as row 2
			{"V003", "王五", idNumber(103)[:17] + "Z", phone(103), ""}, // bad check character
			{"V004", "赵六", idNumber(104), "12345", ""},
			{"V005", "孙七", idNumber(e.n), phone(105), ""}, // the stored volunteer's ID
		}
		before := e.count(`SELECT count(*) FROM volunteers`)
		rep, err := e.svc.ImportRosterXLSX(e.ctx, e.coordA, e.teamA.ID, workbook(t, bad))
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]string{4: "volunteer.import_dup_id", 5: "volunteer.id_checksum", 6: "volunteer.phone_bad"}
		got := map[int]string{}
		for _, p := range rep.Problems {
			got[p.Row] = p.Key
		}
		for row, key := range want {
			if got[row] != key {
				t.Errorf("row %d: %q, want %q (all: %+v)", row, got[row], key, rep.Problems)
			}
		}
		if rep.Stored != 0 || e.count(`SELECT count(*) FROM volunteers`) != before {
			t.Fatalf("stored %d with errors", rep.Stored)
		}
		for _, p := range rep.Problems {
			if p.Key == "volunteer.import_dup_id" && (len(p.Args) < 2 || p.Args[1] != "2") {
				t.Errorf("duplicate names the row %v, want 2", p.Args)
			}
		}
		// the file's own rows fixed: now the stored volunteer's number fails
		good := [][]string{header,
			{"V001", "张三", idNumber(101), phone(101), "摄影"},
			{"V005", "孙七", idNumber(e.n), phone(105), ""},
		}
		rep, err = e.svc.ImportRosterXLSX(e.ctx, e.coordA, e.teamA.ID, workbook(t, good))
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Problems) != 1 || rep.Problems[0].Row != 3 || rep.Problems[0].Key != "volunteer.id_registered" || rep.Stored != 0 {
			t.Fatalf("against the stored: %+v", rep)
		}
		if e.count(`SELECT count(*) FROM volunteers`) != before {
			t.Fatal("a partial roster was stored")
		}
		good = good[:2]
		rep, err = e.svc.ImportRosterXLSX(e.ctx, e.coordA, e.teamA.ID, workbook(t, good))
		if err != nil || rep.Stored != 1 || len(rep.Problems) != 0 {
			t.Fatalf("import: %+v %v", rep, err)
		}
		var status, masked, nat, sealed string
		if err := db.Reader().QueryRow(e.ctx, `SELECT status, id_masked, national_no, id_sealed FROM volunteers WHERE phone = ?`, phone(101)).Scan(&status, &masked, &nat, &sealed); err != nil {
			t.Fatal(err)
		}
		if status != volunteer.StatusActive || masked != volunteer.MaskID(idNumber(101)) || nat != "V001" || sealed == idNumber(101) {
			t.Errorf("imported row: %s %s %s sealed=%q", status, masked, nat, sealed)
		}
		// a missing column, an unreadable file, another team's roster
		rep, err = e.svc.ImportRosterXLSX(e.ctx, e.coordA, e.teamA.ID, workbook(t, [][]string{{"姓名", "手机号码"}, {"周八", phone(108)}}))
		if err != nil || len(rep.Problems) != 1 || rep.Problems[0].Key != "volunteer.roster_no_column" || rep.Problems[0].Row != 1 {
			t.Errorf("no identity column: %+v %v", rep, err)
		}
		if _, err := e.svc.ImportRosterXLSX(e.ctx, e.coordA, e.teamA.ID, bytes.NewReader([]byte("姓名,手机号码\n"))); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a CSV file: %v", err)
		}
		if _, err := e.svc.ImportRosterXLSX(e.ctx, e.coordA, e.teamB.ID, workbook(t, good)); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("coordinator A imports into team B: %v", err)
		}
	})
}

// TestRecordPast: hours recorded after the fact (补录) for those who did
// not scan, confirmed at once, with a reason; not for someone already on
// the sheet, not before the end, not beyond the activity's length.
func TestRecordPast(t *testing.T) {
	t.Parallel()
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		v1, v2 := e.volunteer(e.teamA, "甲"), e.volunteer(e.teamA, "乙")
		start := e.c.Clock.Now().Add(time.Hour)
		a := e.activity(e.coordA, e.teamA, "补录测试", start, start.Add(2*time.Hour), 10)
		past := []volunteer.PastService{{VolunteerID: v1, Minutes: 90}}
		if err := e.svc.RecordPast(e.ctx, e.coordA, a.ID, past, "纸质签到表"); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("before the end: %v", err)
		}
		e.at(start.Add(3 * time.Hour))
		if err := e.svc.RecordPast(e.ctx, e.coordA, a.ID, past, " "); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("no reason: %v", err)
		}
		if err := e.svc.RecordPast(e.ctx, e.coordA, a.ID, []volunteer.PastService{{VolunteerID: v1, Minutes: 121}}, "纸质签到表"); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("longer than the activity: %v", err)
		}
		if err := e.svc.RecordPast(e.ctx, e.coordB, a.ID, past, "纸质签到表"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another team's coordinator: %v", err)
		}
		if err := e.svc.RecordPast(e.ctx, e.coordA, a.ID, append(past, volunteer.PastService{VolunteerID: v2, Minutes: 60}), "纸质签到表"); err != nil {
			t.Fatal(err)
		}
		if e.minutes(v1) != 90 || e.minutes(v2) != 60 {
			t.Errorf("totals %d, %d", e.minutes(v1), e.minutes(v2))
		}
		if err := e.svc.RecordPast(e.ctx, e.coordA, a.ID, past, "纸质签到表"); !apperr.Is(err, apperr.Conflict) {
			t.Fatalf("twice: %v", err)
		}
		if e.minutes(v1) != 90 || e.events("volunteer.hours_record") != 1 {
			t.Errorf("after the refused repeat: %d minutes, %d trail entries", e.minutes(v1), e.events("volunteer.hours_record"))
		}
	})
}
