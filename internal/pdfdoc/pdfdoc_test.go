package pdfdoc_test

import (
	"bytes"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/pdfdoc"
	"chuangwen/internal/pdfdoc/pdftest"
)

func TestDocument(t *testing.T) {
	date := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	build := func() []byte {
		d := pdfdoc.New("督办单", "市文明办", date)
		d.Title("督办单", "第 2026-W49-0001 号")
		d.Heading("一、超期案件")
		d.Text("请于收到本通知后三个工作日内整改完毕并反馈。The unit acknowledges in the console.")
		rows := [][]string{}
		for i := 0; i < 80; i++ {
			rows = append(rows, []string{"C2026120700" + string(rune('0'+i%10)), "占道经营", "东城区人民路与解放路交叉口东南角，早晚高峰流动摊贩聚集，影响通行", "2026-12-09 17:00"})
		}
		d.Table([]pdfdoc.Col{{"案件号", 2, "L"}, {"类别", 1.2, "L"}, {"地点与描述", 4, "L"}, {"期限", 1.6, "R"}}, rows, "无")
		d.Table([]pdfdoc.Col{{"案件号", 1, "L"}}, nil, "本周无挂牌督办案件")
		d.Bars("按时办结率", []pdfdoc.Bar{{"东城区", 0.92, "92.0%"}, {"西城区", 0.75, ""}}, 1)
		d.Lines("近六个月趋势", []string{"2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12"},
			[]pdfdoc.Series{{"上报", []float64{120, 140, 90, 200, 180, 60}, [3]int{200, 50, 45}}, {"办结", []float64{100, 130, 95, 170, 190, 40}, [3]int{40, 90, 180}}})
		d.Seal("市文明办", "2026年12月7日", "盖章处")
		var b bytes.Buffer
		if err := d.Write(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	pdf := build()
	if again := build(); !bytes.Equal(pdf, again) {
		t.Error("the same document twice gave different files")
	}
	if out := os.Getenv("PDFDOC_OUT"); out != "" { // to look at it: PDFDOC_OUT=/tmp/doc.pdf
		_ = os.WriteFile(out, pdf, 0o644)
	}
	text, fonts := pdftest.Read(t, pdf)
	for _, want := range []string{"督办单", "一、超期案件", "三个工作日内整改完毕", "本周无挂牌督办案件", "按时办结率", "92.0%", "近六个月趋势", "盖章处", "市文明办", "影响通行"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	pages := regexp.MustCompile(`市文明办\s+(\d+)\s*/\s*(\d+)`).FindAllStringSubmatch(text, -1)
	if len(pages) < 2 || pages[0][1] != "1" || pages[len(pages)-1][1] != pages[0][2] || len(pages) != atoi(pages[0][2]) {
		t.Errorf("footers %q: want 1/N … N/N, one per page", pages)
	}
	if strings.Count(text, "案件号") < 3 {
		t.Errorf("the table's header is not repeated on each page:\n%s", text)
	}
	if !pdftest.Embedded(fonts, pdfdoc.FontName) {
		t.Errorf("font not embedded as a subset:\n%s", fonts)
	}
	if len(pdf) > 400_000 {
		t.Errorf("the PDF is %d bytes: the font is not subset", len(pdf))
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// TestUnprintable: an emoji or a hanzi beyond the Basic Multilingual
// Plane (which fpdf's fonts cannot hold), control characters and bad
// UTF-8 in any text print as □ or a space instead of failing the
// document.
func TestUnprintable(t *testing.T) {
	odd := "路边垃圾😀很多\x01𠀀\xff"
	d := pdfdoc.New(odd, odd, time.Unix(0, 0))
	d.Title(odd, odd)
	d.Heading(odd)
	d.Text(odd)
	d.Table([]pdfdoc.Col{{Title: odd, Width: 1, Align: "L"}}, [][]string{{odd}}, odd)
	d.Bars(odd, []pdfdoc.Bar{{Label: odd, Value: 1, Text: odd}}, 1)
	d.Lines(odd, []string{odd}, []pdfdoc.Series{{Name: odd, Values: []float64{1}}})
	d.Seal(odd, odd, odd)
	var b bytes.Buffer
	if err := d.Write(&b); err != nil {
		t.Fatal(err)
	}
	text, _ := pdftest.Read(t, b.Bytes())
	if !strings.Contains(text, "路边垃圾□很多") {
		t.Errorf("text:\n%s", text)
	}
}

// TestCellTallerThanAPage: a cell whose text would not fit on one page is
// cut with "…" where the page ends, and the next row and the footer stay
// in place (before, the row ran past the footer and off the page).
func TestCellTallerThanAPage(t *testing.T) {
	d := pdfdoc.New("长名称", "市文明办", time.Unix(0, 0))
	long := strings.Repeat("环境卫生管理处", 3000)
	d.Table([]pdfdoc.Col{{"单位", 1, "L"}, {"得分", 1, "R"}}, [][]string{{"第一行", "1"}, {long, "2"}, {"末行单位", "3"}}, "无")
	var b bytes.Buffer
	if err := d.Write(&b); err != nil {
		t.Fatal(err)
	}
	text, _ := pdftest.Read(t, b.Bytes())
	if !strings.Contains(text, "…") || !strings.Contains(text, "末行单位") {
		t.Fatalf("the long cell is not cut, or the next row is lost:\n%.500s", text)
	}
	if n := strings.Count(text, "环境卫生管理处"); n >= 3000 {
		t.Errorf("all %d repeats printed", n)
	}
	pages := regexp.MustCompile(`市文明办\s+(\d+)\s*/\s*(\d+)`).FindAllStringSubmatch(text, -1)
	if len(pages) == 0 || len(pages) != atoi(pages[0][2]) {
		t.Errorf("footers %q", pages)
	}
}
