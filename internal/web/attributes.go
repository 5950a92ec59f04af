package web

import (
	"net/http"
	"strconv"
	"strings"

	"chuangwen/internal/workflow"
)

// The attributes of a category: the questions a report of that category
// asks (the Open311 service definition). One area, one file: its routes,
// its API handlers and its console page.

// attributeRoutes lists the routes of category attributes.
func (s *Server) attributeRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/categories/{id}/attributes", api: true, summary: "The questions a report of this category asks (Open311 service attributes), in order", resp: "Attributes", h: s.apiAttributes},
		{method: "PUT", path: "/api/v1/categories/{id}/attributes", api: true, roles: admin, summary: "Replace a category's attributes (codes unique; list types need values, others none)", body: "Attributes", resp: "Attributes", h: s.apiSetAttributes},
		{method: "GET", path: "/admin/categories/{id}/attributes", roles: admin, h: s.pageAttributes},
		{method: "POST", path: "/admin/categories/{id}/attributes", roles: admin, h: s.postAttributes},
	}
}

// attributeCategory reads the category named by the path.
func (s *Server) attributeCategory(r *http.Request) (workflow.Category, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return workflow.Category{}, err
	}
	return s.Flow.Category(r.Context(), s.DB.Reader(), id)
}

func (s *Server) apiAttributes(w http.ResponseWriter, r *http.Request) {
	cat, err := s.attributeCategory(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	attrs, err := s.Flow.CategoryAttributes(r.Context(), cat.ID)
	if attrs == nil {
		attrs = []workflow.Attribute{}
	}
	respond(s, w, r, attrs, err)
}

func (s *Server) apiSetAttributes(w http.ResponseWriter, r *http.Request) {
	cat, err := s.attributeCategory(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var attrs []workflow.Attribute
	if err := decodeJSON(r, &attrs); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Flow.SetCategoryAttributes(r.Context(), actorOf(r), cat.ID, attrs); err != nil {
		s.fail(w, r, err)
		return
	}
	s.apiAttributes(w, r)
}

// attributeRow is one editable row of the console form.
type attributeRow struct {
	workflow.Attribute
	ValuesText string // one "key=name" per line
}

// blankAttributeRows are offered below the existing rows for new ones.
const blankAttributeRows = 3

func (s *Server) pageAttributes(w http.ResponseWriter, r *http.Request) {
	s.showAttributes(w, r, http.StatusOK, "", nil)
}

// showAttributes renders the form; rows, when set, are what the user sent
// (kept on an error so that nothing typed is lost).
func (s *Server) showAttributes(w http.ResponseWriter, r *http.Request, code int, msg string, rows []attributeRow) {
	cat, err := s.attributeCategory(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if rows == nil {
		attrs, err := s.Flow.CategoryAttributes(r.Context(), cat.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, a := range attrs {
			var lines []string
			for _, v := range a.Values {
				lines = append(lines, v.Key+"="+v.Name)
			}
			rows = append(rows, attributeRow{Attribute: a, ValuesText: strings.Join(lines, "\n")})
		}
		for range blankAttributeRows {
			rows = append(rows, attributeRow{Attribute: workflow.Attribute{Datatype: "string"}})
		}
	}
	s.renderStatus(w, r, code, "admin_attributes", map[string]any{"Category": cat, "Rows": rows, "Datatypes": workflow.Datatypes, "Error": msg})
}

// attributesFromForm reads the rows code_N, datatype_N, required_N,
// description_N, order_N, values_N; rows without a code are dropped.
func attributesFromForm(r *http.Request) ([]workflow.Attribute, []attributeRow, error) {
	n, err := strconv.Atoi(r.FormValue("rows"))
	if err != nil || n < 0 || n > 200 {
		return nil, nil, errInvalid("bad_form")
	}
	var attrs []workflow.Attribute
	var rows []attributeRow
	for i := range n {
		k := strconv.Itoa(i)
		a := workflow.Attribute{
			Code:        strings.TrimSpace(r.FormValue("code_" + k)),
			Datatype:    r.FormValue("datatype_" + k),
			Required:    r.FormValue("required_"+k) == "on",
			Description: strings.TrimSpace(r.FormValue("description_" + k)),
		}
		if o := strings.TrimSpace(r.FormValue("order_" + k)); o != "" {
			if a.Order, err = strconv.Atoi(o); err != nil {
				return nil, nil, errInvalid("attribute.bad_order", "code", a.Code)
			}
		}
		text := r.FormValue("values_" + k)
		for _, line := range strings.Split(text, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			key, name, ok := strings.Cut(line, "=")
			if !ok {
				name = key
			}
			a.Values = append(a.Values, workflow.AttrValue{Key: strings.TrimSpace(key), Name: strings.TrimSpace(name)})
		}
		rows = append(rows, attributeRow{Attribute: a, ValuesText: text})
		if a.Code != "" {
			attrs = append(attrs, a)
		}
	}
	return attrs, rows, nil
}

func (s *Server) postAttributes(w http.ResponseWriter, r *http.Request) {
	var rows []attributeRow // what was typed, shown again on an error
	show := func(c int, m string) { s.showAttributes(w, r, c, m, rows) }
	s.adminForm(w, r, r.URL.Path, show, func() error {
		cat, err := s.attributeCategory(r)
		if err != nil {
			return err
		}
		var attrs []workflow.Attribute
		if attrs, rows, err = attributesFromForm(r); err != nil {
			return err
		}
		return s.Flow.SetCategoryAttributes(r.Context(), actorOf(r), cat.ID, attrs)
	})
}
