package web

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/tasks"
)

// The campaign's task list (工作任务分解): the board, a task with its
// milestones and reports, the office's import and decisions, the units'
// reports with attachments. One area, one file.

var (
	taskReaders   = []org.Role{org.RoleAdmin, org.RoleAcceptor, org.RoleLeader, org.RoleHandler}
	taskReporters = []org.Role{org.RoleAdmin, org.RoleAcceptor, org.RoleHandler}
	taskDeciders  = []org.Role{org.RoleAdmin, org.RoleAcceptor}
)

func (s *Server) taskRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/tasks", api: true, roles: taskReaders, summary: "Tasks of the campaign's task list the caller sees, with milestones and statuses", query: []string{"year", "unit", "leaf", "status"}, resp: "Tasks", h: s.apiTasks},
		{method: "GET", path: "/api/v1/tasks/board", api: true, roles: taskReaders, summary: "The task list summed up: completion, tasks by status, rows per lead unit and per indicator leaf", query: []string{"year"}, resp: "TaskBoard", h: s.apiTaskBoard},
		{method: "GET", path: "/api/v1/tasks/{id}", api: true, roles: taskReaders, summary: "One task with its milestones, reports and attachments", resp: "Task", h: s.apiTask},
		{method: "POST", path: "/api/v1/tasks/import", api: true, roles: admin, summary: "Import the office's task table (XLSX, one row per milestone) into a year; 422 lists every row's problem and stores nothing", query: []string{"year"}, body: "binary", resp: "TaskImport", h: s.apiTaskImport},
		{method: "POST", path: "/api/v1/tasks/milestones/{id}/reports", api: true, roles: taskReporters, status: http.StatusCreated, summary: "Report progress on a milestone (multipart: body, file attachments: PDF, images, Office)", body: "TaskReportForm", resp: "TaskReport", h: s.apiTaskReport},
		{method: "POST", path: "/api/v1/tasks/reports/{id}/decide", api: true, roles: taskDeciders, summary: "Accept a report (the milestone is done) or return it with a reason", body: "TaskDecision", resp: "Task", h: s.apiTaskDecide},
		{method: "GET", path: "/tasks", roles: taskReaders, h: s.pageTasks},
		{method: "POST", path: "/tasks/import", roles: admin, h: s.postTaskImport},
		{method: "PUT", path: "/api/v1/tasks/{id}", api: true, roles: admin, summary: "Change a task after its import: title, units (codes or names), indicator leaves, milestones in order (id 0 adds one; one left out is removed unless it has reports; an accepted one stays as it is)", body: "TaskEdit", resp: "Task", h: s.apiTaskUpdate},
		{method: "GET", path: "/tasks/{id}", roles: taskReaders, h: s.pageTask},
		{method: "GET", path: "/tasks/edit/{id}", roles: admin, h: s.pageTaskEdit},
		{method: "POST", path: "/tasks/edit/{id}", roles: admin, h: s.postTaskEdit},
		{method: "POST", path: "/tasks/milestones/{id}/reports", roles: taskReporters, h: s.postTaskReport},
		{method: "POST", path: "/tasks/reports/{id}/decide", roles: taskDeciders, h: s.postTaskDecide},
		{method: "GET", path: "/tasks/files/{id}", roles: taskReaders, h: s.getTaskFile},
	}
}

// taskDecision is the API's decision on a report.
type taskDecision struct {
	Accept bool   `json:"accept"`
	Note   string `json:"note"`
}

// taskImport is an import's answer, problems in the caller's language.
type taskImport struct {
	Year       int               `json:"year"`
	Tasks      int               `json:"tasks"`
	Milestones int               `json:"milestones"`
	Problems   []taskProblemJSON `json:"problems,omitempty"`
}

type taskProblemJSON struct {
	Row     int    `json:"row"`
	Key     string `json:"key"`
	Message string `json:"message"`
}

func (s *Server) taskImportView(r *http.Request, rep tasks.ImportReport) taskImport {
	v := taskImport{Year: rep.Year, Tasks: rep.Tasks, Milestones: rep.Milestones}
	for _, p := range rep.Problems {
		v.Problems = append(v.Problems, taskProblemJSON{Row: p.Row, Key: p.Key, Message: s.Msg.T(s.lang(r), p.Key, p.Args...)})
	}
	return v
}

// taskFilter reads year (default: this year), unit (id), leaf, status.
func (s *Server) taskFilter(r *http.Request) (tasks.Filter, error) {
	q := r.URL.Query()
	f := tasks.Filter{Year: time.Now().In(s.Location).Year(), Leaf: q.Get("leaf"), Status: q.Get("status")}
	if v := q.Get("year"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || y < 2000 || y > 2100 {
			return f, errInvalid("task.bad_year")
		}
		f.Year = y
	}
	if v := q.Get("unit"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 0 {
			return f, errInvalid("bad_number", "field", "unit")
		}
		f.UnitID = id
	}
	return f, nil
}

func (s *Server) apiTasks(w http.ResponseWriter, r *http.Request) {
	f, err := s.taskFilter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.Tasks.Tasks(r.Context(), actorOf(r), f)
	if list == nil {
		list = []tasks.Task{}
	}
	respond(s, w, r, list, err)
}

func (s *Server) apiTaskBoard(w http.ResponseWriter, r *http.Request) {
	f, err := s.taskFilter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f.UnitID, f.Leaf, f.Status = 0, "", ""
	list, err := s.Tasks.Tasks(r.Context(), actorOf(r), f)
	respond(s, w, r, tasks.BoardOf(list), err)
}

func (s *Server) apiTask(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.Tasks.Task(r.Context(), actorOf(r), id)
	respond(s, w, r, t, err)
}

func (s *Server) apiTaskImport(w http.ResponseWriter, r *http.Request) {
	year, err := strconv.Atoi(r.URL.Query().Get("year"))
	if err != nil {
		s.fail(w, r, errInvalid("task.bad_year"))
		return
	}
	rep, err := s.Tasks.Import(r.Context(), actorOf(r), year, http.MaxBytesReader(w, r.Body, tasks.MaxImportBytes))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	code := http.StatusOK
	if len(rep.Problems) > 0 {
		code = http.StatusUnprocessableEntity
	}
	writeJSON(w, code, s.taskImportView(r, rep))
}

// addTaskReport reads a report (body, file attachments) and stores it.
func (s *Server) addTaskReport(r *http.Request) (tasks.Report, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return tasks.Report{}, err
	}
	if err := s.parseForm(r); err != nil {
		return tasks.Report{}, err
	}
	var ups []tasks.Upload
	if r.MultipartForm != nil {
		for _, fh := range r.MultipartForm.File["file"] {
			if fh.Size == 0 && fh.Filename == "" {
				continue
			}
			f, err := fh.Open()
			if err != nil {
				return tasks.Report{}, err
			}
			defer f.Close()
			ups = append(ups, tasks.Upload{Name: fh.Filename, R: f})
		}
	}
	return s.Tasks.AddReport(r.Context(), actorOf(r), id, r.FormValue("body"), ups)
}

func (s *Server) apiTaskReport(w http.ResponseWriter, r *http.Request) {
	rep, err := s.addTaskReport(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, rep)
}

func (s *Server) apiTaskDecide(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in taskDecision
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Tasks.Decide(r.Context(), actorOf(r), id, in.Accept, in.Note); err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.Tasks.TaskOfReport(r.Context(), actorOf(r), id)
	respond(s, w, r, t, err)
}

func (s *Server) pageTasks(w http.ResponseWriter, r *http.Request) {
	s.showTasks(w, r, http.StatusOK, "", nil)
}

func (s *Server) showTasks(w http.ResponseWriter, r *http.Request, code int, msg string, imp *taskImport) {
	f, err := s.taskFilter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := actorOf(r)
	all, err := s.Tasks.Tasks(r.Context(), a, tasks.Filter{Year: f.Year})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.Tasks.Tasks(r.Context(), a, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	units, err := s.Org.Units(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	board := tasks.BoardOf(all)
	pct := 0.0
	if board.Milestones > 0 {
		pct = float64(board.Done) / float64(board.Milestones)
	}
	s.renderStatus(w, r, code, "tasks", map[string]any{"Board": board, "Completion": pct, "Tasks": list, "F": f, "Units": units,
		"Error": msg, "Import": imp, "Statuses": []string{tasks.OnTrack, tasks.AtRisk, tasks.Overdue, tasks.Done}})
}

func (s *Server) postTaskImport(w http.ResponseWriter, r *http.Request) {
	err := s.parseForm(r)
	var year int
	var rep tasks.ImportReport
	if err == nil {
		if year, err = strconv.Atoi(strings.TrimSpace(r.FormValue("year"))); err != nil {
			err = errInvalid("task.bad_year")
		}
	}
	if err == nil {
		f, _, ferr := r.FormFile("file")
		if ferr != nil {
			err = errInvalid("task.import_file_required")
		} else {
			defer f.Close()
			rep, err = s.Tasks.Import(r.Context(), actorOf(r), year, f)
		}
	}
	if err != nil {
		code, msg := s.message(r, err)
		s.showTasks(w, r, status(code), msg, nil)
		return
	}
	if len(rep.Problems) > 0 {
		v := s.taskImportView(r, rep)
		s.showTasks(w, r, http.StatusUnprocessableEntity, s.Msg.T(s.lang(r), "task.import_refused", "n", strconv.Itoa(len(rep.Problems))), &v)
		return
	}
	http.Redirect(w, r, "/tasks?year="+strconv.Itoa(year)+"&msg=saved", http.StatusSeeOther)
}

func (s *Server) pageTask(w http.ResponseWriter, r *http.Request) {
	s.showTask(w, r, http.StatusOK, "")
}

func (s *Server) showTask(w http.ResponseWriter, r *http.Request, code int, msg string) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderTask(w, r, code, msg, id)
}

func (s *Server) renderTask(w http.ResponseWriter, r *http.Request, code int, msg string, id int64) {
	a := actorOf(r)
	t, err := s.Tasks.Task(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reports := a.Role == org.RoleAdmin || a.Role == org.RoleAcceptor
	if a.Role == org.RoleHandler {
		reports = true // the lead or a cooperating unit: scope let it see the task
	}
	s.renderStatus(w, r, code, "task", map[string]any{"T": t, "Error": msg, "Reports": reports,
		"Decides": a.Role == org.RoleAdmin || a.Role == org.RoleAcceptor, "Sent": r.PostForm})
}

func (s *Server) postTaskReport(w http.ResponseWriter, r *http.Request) {
	_, err := s.addTaskReport(r)
	var task int64
	if err == nil || !apperr.Is(err, apperr.NotFound) {
		id, _ := pathID(r, "id")
		task, _ = s.Tasks.TaskOfMilestone(r.Context(), actorOf(r), id)
	}
	if err != nil {
		if task == 0 {
			s.fail(w, r, err)
			return
		}
		code, msg := s.message(r, err)
		s.renderTask(w, r, status(code), msg, task)
		return
	}
	http.Redirect(w, r, "/tasks/"+itoa(task)+"?msg=done", http.StatusSeeOther)
}

func (s *Server) postTaskDecide(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	t, terr := s.Tasks.TaskOfReport(r.Context(), actorOf(r), id)
	if terr != nil {
		s.fail(w, r, terr)
		return
	}
	if err := s.Tasks.Decide(r.Context(), actorOf(r), id, r.FormValue("decision") == "accept", r.FormValue("note")); err != nil {
		code, msg := s.message(r, err)
		s.renderTask(w, r, status(code), msg, t.ID)
		return
	}
	http.Redirect(w, r, "/tasks/"+itoa(t.ID)+"?msg=done", http.StatusSeeOther)
}

// getTaskFile sends an attachment as a download (never shown inline: it
// is the unit's file, not the site's).
func (s *Server) getTaskFile(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, rc, err := s.Tasks.OpenFile(r.Context(), actorOf(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", f.Mime)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.FormatInt(f.Size, 10))
	_, _ = io.Copy(w, rc)
}

func (s *Server) apiTaskUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var e tasks.TaskEdit
	if err := decodeJSON(r, &e); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Tasks.UpdateTask(r.Context(), actorOf(r), id, e); err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.Tasks.Task(r.Context(), actorOf(r), id)
	respond(s, w, r, t, err)
}

// newMilestoneRows is how many blank rows the edit form offers for new
// milestones.
const newMilestoneRows = 3

func (s *Server) pageTaskEdit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.Tasks.Task(r.Context(), actorOf(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e := tasks.TaskEdit{Title: t.Title, Lead: t.Lead.Code, Leaves: t.Leaves}
	for _, u := range t.Coops {
		e.Coops = append(e.Coops, u.Code)
	}
	for _, m := range t.Milestones {
		e.Milestones = append(e.Milestones, tasks.MilestoneEdit{ID: m.ID, Title: m.Title, Due: m.Due, Deliverable: m.Deliverable})
	}
	s.renderTaskEdit(w, r, http.StatusOK, "", t, e)
}

func (s *Server) renderTaskEdit(w http.ResponseWriter, r *http.Request, code int, msg string, t tasks.Task, e tasks.TaskEdit) {
	done := map[int64]bool{}
	for _, m := range t.Milestones {
		done[m.ID] = m.Status == tasks.Done
	}
	for range newMilestoneRows {
		e.Milestones = append(e.Milestones, tasks.MilestoneEdit{})
	}
	s.renderStatus(w, r, code, "task_edit", map[string]any{"T": t, "E": e, "Done": done, "Error": msg,
		"Coops": strings.Join(e.Coops, "、"), "Leaves": strings.Join(e.Leaves, "、")})
}

// postTaskEdit reads the edit form: title, lead, coops and leaves (lists),
// and rows of milestones (m_id, m_title, m_due, m_deliverable, in order;
// m_remove lists the ids to remove; rows with neither id nor title are
// blank new rows).
func (s *Server) postTaskEdit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	e := tasks.TaskEdit{Title: r.FormValue("title"), Lead: r.FormValue("lead"),
		Coops: tasks.SplitList(r.FormValue("coops")), Leaves: tasks.SplitList(r.FormValue("leaves"))}
	ids, titles, dues, dels := r.PostForm["m_id"], r.PostForm["m_title"], r.PostForm["m_due"], r.PostForm["m_deliverable"]
	remove := map[string]bool{}
	for _, v := range r.PostForm["m_remove"] {
		remove[v] = true
	}
	if len(titles) != len(ids) || len(dues) != len(ids) || len(dels) != len(ids) {
		s.fail(w, r, errInvalid("bad_form"))
		return
	}
	var kept []tasks.MilestoneEdit
	for i := range ids {
		var mid int64
		if ids[i] != "" {
			if mid, err = strconv.ParseInt(ids[i], 10, 64); err != nil || mid <= 0 {
				s.fail(w, r, errInvalid("bad_id"))
				return
			}
		}
		m := tasks.MilestoneEdit{ID: mid, Title: titles[i], Due: dues[i], Deliverable: dels[i]}
		if mid == 0 && strings.TrimSpace(m.Title) == "" && strings.TrimSpace(m.Due) == "" && strings.TrimSpace(m.Deliverable) == "" {
			continue // a blank new row
		}
		if mid != 0 && remove[ids[i]] {
			continue
		}
		kept = append(kept, m)
	}
	e.Milestones = kept
	a := actorOf(r)
	if err := s.Tasks.UpdateTask(r.Context(), a, id, e); err != nil {
		t, terr := s.Tasks.Task(r.Context(), a, id)
		if terr != nil {
			s.fail(w, r, err)
			return
		}
		code, msg := s.message(r, err)
		s.renderTaskEdit(w, r, status(code), msg, t, e)
		return
	}
	http.Redirect(w, r, "/tasks/"+itoa(id)+"?msg=saved", http.StatusSeeOther)
}
