package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"chuangwen/internal/tasks"
	"chuangwen/internal/testcity"
)

func taskTable(t *testing.T, rows [][]any) []byte {
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
	return buf.Bytes()
}

// upload posts a multipart form with files under the field "file".
func (c *client) upload(path string, fields url.Values, files map[string][]byte) response {
	return c.multipartAs(path, "file", fields, files)
}

func TestTasksOverHTTP(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	adm, acc, hA, hB, lead := f.login("admin"), f.login("acceptor"), f.login("handlerA"), f.login("handlerB"), f.login("leader")
	year := time.Now().In(testcity.Shanghai).Year()
	far := fmt.Sprintf("%d-12-31", year+1)
	header := []any{"任务编号", "任务名称", "测评指标", "牵头单位", "配合单位", "节点", "完成时限", "成果形式"}
	bad := taskTable(t, [][]any{header, {"T01", "背街小巷整治", "", "无此单位", "", "摸底", "2026-13-01", ""}})
	res := adm.upload("/tasks/import", url.Values{"year": {fmt.Sprint(year)}}, map[string][]byte{"tasks.xlsx": bad})
	if res.StatusCode != 422 || !strings.Contains(res.body, "第 2 行") || !strings.Contains(res.body, "找不到单位") || !strings.Contains(res.body, "不是有效日期") {
		t.Fatalf("bad table: %d %s", res.StatusCode, res.body)
	}
	good := taskTable(t, [][]any{header,
		{"T01", "背街小巷整治", "4.1.1", f.unitA.Code, f.unitB.Code, "摸底排查", far, "台账"},
		{"T01", "", "", "", "", "完成整治", far, ""},
	})
	if res := acc.do("POST", fmt.Sprintf("/api/v1/tasks/import?year=%d", year), bytes.NewReader(good), "application/octet-stream"); res.StatusCode != 403 {
		t.Fatalf("acceptor imports: %d", res.StatusCode)
	}
	res = adm.do("POST", fmt.Sprintf("/api/v1/tasks/import?year=%d", year), bytes.NewReader(good), "application/octet-stream")
	if res.StatusCode != 200 || !strings.Contains(res.body, `"tasks":1`) {
		t.Fatalf("import: %d %s", res.StatusCode, res.body)
	}
	var list []tasks.Task
	lead.do("GET", "/api/v1/tasks", nil, "").json(t, &list)
	if len(list) != 1 || len(list[0].Milestones) != 2 || list[0].Status != tasks.OnTrack {
		t.Fatalf("tasks %+v", list)
	}
	tk, m1 := list[0], list[0].Milestones[0]
	// The board page, for the leader; B cooperates, so its handler sees the task.
	page := lead.do("GET", "/tasks", nil, "")
	if page.StatusCode != 200 || !strings.Contains(page.body, `data-code="T01"`) || !strings.Contains(page.body, "0.00%") {
		t.Fatalf("board: %d %s", page.StatusCode, page.body)
	}
	if res := hB.do("GET", fmt.Sprintf("/tasks/%d", tk.ID), nil, ""); res.StatusCode != 200 {
		t.Fatalf("handler B (cooperating): %d", res.StatusCode)
	}
	// A's handler reports with a PDF; a text file is refused in Chinese.
	res = hA.upload(fmt.Sprintf("/tasks/milestones/%d/reports", m1.ID), url.Values{"body": {"已完成摸底"}}, map[string][]byte{"notes.txt": []byte("plain text")})
	if res.StatusCode != 415 || !strings.Contains(res.body, "格式不支持") {
		t.Fatalf("text attachment: %d %s", res.StatusCode, res.body)
	}
	pdf := []byte("%PDF-1.4\n%%EOF\n")
	res = hA.upload(fmt.Sprintf("/tasks/milestones/%d/reports", m1.ID), url.Values{"body": {"已完成摸底"}}, map[string][]byte{"台账.pdf": pdf})
	if res.StatusCode != 303 {
		t.Fatalf("report: %d %s", res.StatusCode, res.body)
	}
	var one tasks.Task
	hA.do("GET", fmt.Sprintf("/api/v1/tasks/%d", tk.ID), nil, "").json(t, &one)
	reps := one.Milestones[0].Reports
	if len(reps) != 1 || len(reps[0].Files) != 1 || !one.Milestones[0].Waiting {
		t.Fatalf("after the report: %+v", one.Milestones[0])
	}
	file := hB.do("GET", fmt.Sprintf("/tasks/files/%d", reps[0].Files[0].ID), nil, "")
	if file.StatusCode != 200 || file.body != string(pdf) || !strings.HasPrefix(file.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %d %v", file.StatusCode, file.Header)
	}
	// The handler cannot decide; the acceptor accepts over the API.
	if res := hA.json("POST", fmt.Sprintf("/api/v1/tasks/reports/%d/decide", reps[0].ID), map[string]any{"accept": true}); res.StatusCode != 403 {
		t.Fatalf("handler decides: %d", res.StatusCode)
	}
	res = acc.json("POST", fmt.Sprintf("/api/v1/tasks/reports/%d/decide", reps[0].ID), map[string]any{"accept": true})
	if res.StatusCode != 200 {
		t.Fatalf("accept: %d %s", res.StatusCode, res.body)
	}
	var after tasks.Task
	if err := json.Unmarshal([]byte(res.body), &after); err != nil || after.Done != 1 || after.Milestones[0].Status != tasks.Done {
		t.Fatalf("after accepting: %+v %v", after, err)
	}
	// A return from the console needs a reason.
	res = hA.upload(fmt.Sprintf("/tasks/milestones/%d/reports", after.Milestones[1].ID), url.Values{"body": {"整治方案"}}, nil)
	if res.StatusCode != 303 {
		t.Fatalf("second report: %d %s", res.StatusCode, res.body)
	}
	hA.do("GET", fmt.Sprintf("/api/v1/tasks/%d", tk.ID), nil, "").json(t, &one)
	r2 := one.Milestones[1].Reports[0].ID
	res = adm.form("POST", fmt.Sprintf("/tasks/reports/%d/decide", r2), url.Values{"decision": {"return"}})
	if res.StatusCode != 400 || !strings.Contains(res.body, "退回须说明理由") {
		t.Fatalf("return without reason: %d %s", res.StatusCode, res.body)
	}
	if res := adm.form("POST", fmt.Sprintf("/tasks/reports/%d/decide", r2), url.Values{"decision": {"return"}, "note": {"方案缺少时间表"}}); res.StatusCode != 303 {
		t.Fatalf("return: %d %s", res.StatusCode, res.body)
	}
	page = hA.do("GET", fmt.Sprintf("/tasks/%d", tk.ID), nil, "")
	if !strings.Contains(page.body, "方案缺少时间表") || !strings.Contains(page.body, `data-status="at_risk"`) {
		t.Fatalf("task page after the return: %s", page.body)
	}
	var board tasks.Board
	lead.do("GET", "/api/v1/tasks/board", nil, "").json(t, &board)
	if board.Tasks != 1 || board.Done != 1 || board.Milestones != 2 || len(board.Leaves) != 1 || board.Leaves[0].Key != "4.1.1" {
		t.Fatalf("board %+v", board)
	}
	if res := f.anon().do("GET", "/tasks", nil, ""); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("anonymous: %d", res.StatusCode)
	}
}

// The administrator edits a task on its page: a milestone renamed, one
// added, one removed; a refusal keeps what was typed; the API takes the
// same edit as JSON.
func TestTaskEditOverHTTP(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	adm, acc := f.login("admin"), f.login("acceptor")
	year := time.Now().In(testcity.Shanghai).Year()
	far := fmt.Sprintf("%d-12-31", year+1)
	good := taskTable(t, [][]any{{"任务编号", "任务名称", "牵头单位", "节点", "完成时限"},
		{"T01", "背街小巷整治", f.unitA.Code, "摸底排查", far},
		{"T01", "", "", "完成整治", far},
	})
	if res := adm.do("POST", fmt.Sprintf("/api/v1/tasks/import?year=%d", year), bytes.NewReader(good), "application/octet-stream"); res.StatusCode != 200 {
		t.Fatalf("import: %d %s", res.StatusCode, res.body)
	}
	var list []tasks.Task
	adm.do("GET", "/api/v1/tasks", nil, "").json(t, &list)
	tk := list[0]
	m1, m2 := fmt.Sprint(tk.Milestones[0].ID), fmt.Sprint(tk.Milestones[1].ID)
	page := adm.do("GET", fmt.Sprintf("/tasks/edit/%d", tk.ID), nil, "")
	if page.StatusCode != 200 || !strings.Contains(page.body, `value="摸底排查"`) || !strings.Contains(page.body, `name="m_remove" value="`+m2+`"`) {
		t.Fatalf("edit page: %d", page.StatusCode)
	}
	if res := acc.do("GET", fmt.Sprintf("/tasks/edit/%d", tk.ID), nil, ""); res.StatusCode != 403 {
		t.Errorf("an acceptor opens the edit page: %d", res.StatusCode)
	}
	form := url.Values{"title": {"背街小巷环境整治"}, "lead": {f.unitA.Code}, "coops": {f.unitB.Code}, "leaves": {""},
		"m_id": {m1, m2, "", ""}, "m_title": {"全面摸底", "完成整治", "回头看", ""}, "m_due": {far, far, "明年", ""}, "m_deliverable": {"台账", "", "", ""},
		"m_remove": {m2}}
	res := adm.form("POST", fmt.Sprintf("/tasks/edit/%d", tk.ID), form)
	if res.StatusCode != 400 || !strings.Contains(res.body, "不是有效日期") || !strings.Contains(res.body, `value="回头看"`) || !strings.Contains(res.body, `value="背街小巷环境整治"`) {
		t.Fatalf("a bad date: %d, message or typed text lost", res.StatusCode)
	}
	form["m_due"] = []string{far, far, fmt.Sprintf("%d/6/30", year+1), ""}
	if res := adm.form("POST", fmt.Sprintf("/tasks/edit/%d", tk.ID), form); res.StatusCode != 303 {
		t.Fatalf("edit: %d %s", res.StatusCode, res.body)
	}
	var got tasks.Task
	adm.do("GET", fmt.Sprintf("/api/v1/tasks/%d", tk.ID), nil, "").json(t, &got)
	if got.Title != "背街小巷环境整治" || len(got.Coops) != 1 || len(got.Milestones) != 2 || got.Milestones[0].Title != "全面摸底" ||
		got.Milestones[1].Title != "回头看" || got.Milestones[1].Due != fmt.Sprintf("%d-06-30", year+1) {
		t.Fatalf("after the edit: %+v", got)
	}
	body := fmt.Sprintf(`{"title":"背街小巷整治","lead":%q,"milestones":[{"id":%d,"title":"全面摸底","due":%q}]}`, f.unitB.Code, got.Milestones[0].ID, far)
	if res := adm.do("PUT", fmt.Sprintf("/api/v1/tasks/%d", tk.ID), strings.NewReader(body), "application/json"); res.StatusCode != 200 || !strings.Contains(res.body, `"code":"`+f.unitB.Code+`"`) {
		t.Fatalf("API edit: %d %s", res.StatusCode, res.body)
	}
	if res := adm.do("PUT", fmt.Sprintf("/api/v1/tasks/%d", tk.ID), strings.NewReader(`{"title":"x","lead":"无此单位","milestones":[{"title":"a","due":"2030-01-01"}]}`), "application/json"); res.StatusCode != 400 || !strings.Contains(res.body, "找不到单位") {
		t.Errorf("API edit with an unknown unit: %d %s", res.StatusCode, res.body)
	}
}
