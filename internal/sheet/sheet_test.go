package sheet_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"chuangwen/internal/sheet"
)

// TestReadBack writes rows with awkward text and reads them back with
// excelize: what Excel-compatible readers see is what was written, less
// the characters XML cannot hold.
func TestReadBack(t *testing.T) {
	var buf bytes.Buffer
	w, err := sheet.New(&buf, "案件 [导出]: 2026/12")
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]string{
		{"案件编号", "描述", "空", "数字"},
		{"2026-000001", `<b>"占道" & 'x'</b>`, "", "42"},
		{"2026-000002", "换行\n与\t制表", "", "-1.5"},
		{"2026-000003", "控制\x01字符\x1f与坏\xffUTF-8", "", "0"},
	}
	for i := 0; i < 20000; i++ { // several chunks
		rows = append(rows, []string{fmt.Sprintf("2026-%06d", i+4), strings.Repeat("长描述", 10), "", fmt.Sprint(i)})
	}
	for _, r := range rows {
		if err := w.Row(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Rows() != len(rows) {
		t.Errorf("Rows() = %d", w.Rows())
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if name := f.GetSheetName(0); name != "案件 _导出__ 2026_12" {
		t.Errorf("sheet name %q", name)
	}
	got, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("%d rows read, %d written", len(got), len(rows))
	}
	want := map[int][]string{
		0:             {"案件编号", "描述", "空", "数字"},
		1:             {"2026-000001", `<b>"占道" & 'x'</b>`, "", "42"},
		2:             {"2026-000002", "换行\n与\t制表", "", "-1.5"},
		3:             {"2026-000003", "控制字符与坏\uFFFDUTF-8", "", "0"},
		len(rows) - 1: rows[len(rows)-1],
	}
	for i, w := range want {
		if strings.Join(got[i], "|") != strings.Join(w, "|") {
			t.Errorf("row %d: %q, want %q", i, got[i], w)
		}
	}
}

// TestRollover: past a sheet's rows the writer starts another sheet, the
// first row repeated at its top; readers find every row.
func TestRollover(t *testing.T) {
	defer sheet.SetMaxRows(4)()
	var buf bytes.Buffer
	w, err := sheet.New(&buf, "案件")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ { // a header and nine rows: 1+3, 1+3, 1+3 over three sheets
		if err := w.Row([]string{fmt.Sprint("r", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"案件": "r0 r1 r2 r3", "案件 2": "r0 r4 r5 r6", "案件 3": "r0 r7 r8 r9"}
	if names := f.GetSheetList(); len(names) != 3 {
		t.Fatalf("sheets %q", names)
	}
	for name, rows := range want {
		got, err := f.GetRows(name)
		if err != nil {
			t.Fatal(err)
		}
		var cells []string
		for _, r := range got {
			cells = append(cells, r...)
		}
		if strings.Join(cells, " ") != rows {
			t.Errorf("%s: %q, want %s", name, cells, rows)
		}
	}
}

// TestAbort: an aborted workbook is not a workbook (a failure after the
// first bytes must not look like a complete, shorter export).
func TestAbort(t *testing.T) {
	var buf bytes.Buffer
	w, err := sheet.New(&buf, "x")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50000; i++ {
		if err := w.Row([]string{fmt.Sprint(i), "一行"}); err != nil {
			t.Fatal(err)
		}
	}
	w.Abort()
	if err := w.Close(); err == nil {
		t.Error("Close after Abort: no error")
	}
	if _, err := excelize.OpenReader(&buf); err == nil {
		t.Error("an aborted workbook opens")
	}
}

type failing struct{ n int }

func (f *failing) Write(b []byte) (int, error) {
	f.n += len(b)
	if f.n > 100_000 {
		return 0, errors.New("client went away")
	}
	return len(b), nil
}

// TestWriteError: a writer that fails (a client gone) stops the rows
// soon, with its error, instead of after every row is read.
func TestWriteError(t *testing.T) {
	w, err := sheet.New(&failing{}, "x")
	if err != nil {
		t.Fatal(err)
	}
	row := []string{strings.Repeat("不可压缩的内容", 3) + fmt.Sprint(1)}
	var rowErr error
	n := 0
	for ; n < 2_000_000 && rowErr == nil; n++ {
		row[0] = fmt.Sprintf("%d-%x-%d", n, n*2654435761, n*n)
		rowErr = w.Row(row)
	}
	if rowErr == nil || !strings.Contains(rowErr.Error(), "client went away") {
		t.Fatalf("after %d rows: %v", n, rowErr)
	}
	if n == 2_000_000 {
		t.Errorf("the error came only at the end")
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a failed write: no error")
	}
}

func BenchmarkRow(b *testing.B) {
	row := []string{"2026-000123", "随手拍", "暴露垃圾", "东城区人民路与解放路交叉口东南角,早晚高峰流动摊贩聚集", "人民路 12 号", "清波社区", "已派遣", "云川市城市管理局",
		"2026-11-20 17:00", "2", "true", "false", "0", "2026-11-18 09:00", "", "", ""}
	w, err := sheet.New(io.Discard, "bench")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := w.Row(row); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

func TestColumns(t *testing.T) {
	names := map[string][]string{"name": {"姓名", "Name"}, "phone": {"手机号码", "手机号"}, "skills": {"服务技能"}}
	got := sheet.Columns([]string{" NAME ", "手机号", "姓名", "手机号码"}, names)
	if len(got) != 2 || got["name"] != 0 || got["phone"] != 1 {
		t.Errorf("columns %v: the first cell of each field, case and spaces aside, none for a field not there", got)
	}
}
