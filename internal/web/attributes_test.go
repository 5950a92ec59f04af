package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// TestCategoryAttributes drives the attributes area as its users do: the
// administrator edits a category's questions in the console and over the
// API, other roles may read but not change them, a wrong row is refused in
// Chinese with what was typed kept, and Open311 clients see the result.
func TestCategoryAttributes(t *testing.T) {
	t.Parallel()
	testcity.BothLong(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		admin := f.login("admin")
		path := fmt.Sprintf("/api/v1/categories/%d/attributes", f.category.ID)

		res := admin.json("PUT", path, []workflow.Attribute{
			{Code: "blind_lane", Datatype: "singlevaluelist", Required: true, Description: "是否占用盲道", Values: []workflow.AttrValue{{Key: "yes", Name: "是"}, {Key: "no", Name: "否"}}},
			{Code: "count", Datatype: "number", Description: "车辆数"},
		})
		if res.StatusCode != 200 {
			t.Fatalf("PUT attributes: %d %s", res.StatusCode, res.body)
		}
		var got []workflow.Attribute
		f.login("handlerA").do("GET", path, nil, "").json(t, &got)
		if len(got) != 2 || got[0].Code != "blind_lane" || got[0].Order != 1 || len(got[0].Values) != 2 || got[1].Order != 2 {
			t.Fatalf("attributes read back: %+v", got)
		}
		if res := f.login("acceptor").json("PUT", path, []workflow.Attribute{}); res.StatusCode != 403 {
			t.Errorf("acceptor changed attributes: %d", res.StatusCode)
		}
		if res := admin.json("PUT", "/api/v1/categories/999999/attributes", []workflow.Attribute{}); res.StatusCode != 404 {
			t.Errorf("unknown category: %d", res.StatusCode)
		}
		if res := admin.json("PUT", path, []workflow.Attribute{{Code: "x", Datatype: "colour"}}); res.StatusCode != 400 || !strings.Contains(res.body, "数据类型无效") {
			t.Errorf("bad datatype: %d %s", res.StatusCode, res.body)
		}

		// The console page lists the rows and three blank ones.
		page := "/admin/categories/" + fmt.Sprint(f.category.ID) + "/attributes"
		res = admin.do("GET", page, nil, "")
		if res.StatusCode != 200 || !strings.Contains(res.body, "是否占用盲道") || !strings.Contains(res.body, `name="rows" value="5"`) || !strings.Contains(res.body, "报件属性") {
			t.Fatalf("attributes page: %d %s", res.StatusCode, res.body)
		}
		if res := f.login("acceptor").do("GET", page, nil, ""); res.StatusCode != 403 {
			t.Errorf("acceptor opened the attributes page: %d", res.StatusCode)
		}

		// A list without choices is refused; the typed question stays.
		form := url.Values{"rows": {"2"},
			"code_0": {"plate"}, "datatype_0": {"singlevaluelist"}, "description_0": {"车牌是否可见"},
			"code_1": {""}, "datatype_1": {"string"}}
		res = admin.form("POST", page, form)
		if res.StatusCode != 400 || !strings.Contains(res.body, "可选值") || !strings.Contains(res.body, "车牌是否可见") {
			t.Fatalf("list without choices: %d %s", res.StatusCode, res.body)
		}
		f.login("handlerA").do("GET", path, nil, "").json(t, &got)
		if len(got) != 2 {
			t.Fatalf("a refused form changed the attributes: %+v", got)
		}
		// Without the CSRF token the write is refused.
		nocsrf := url.Values{"rows": {"0"}, "csrf": {"forged"}}
		if res := admin.form("POST", page, nocsrf); res.StatusCode != 403 {
			t.Errorf("forged CSRF token: %d", res.StatusCode)
		}

		form.Set("values_0", "yes=可见\nno=不可见")
		res = admin.form("POST", page, form)
		if res.StatusCode != 303 || !strings.HasSuffix(res.Header.Get("Location"), "/attributes?msg=saved") {
			t.Fatalf("save: %d %s", res.StatusCode, res.body)
		}
		f.login("handlerA").do("GET", path, nil, "").json(t, &got)
		if len(got) != 1 || got[0].Code != "plate" || len(got[0].Values) != 2 || got[0].Values[1] != (workflow.AttrValue{Key: "no", Name: "不可见"}) {
			t.Fatalf("saved from the console: %+v", got)
		}

		// Open311 clients see the service definition.
		res = f.anon().do("GET", "/open311/v2/services/"+f.category.Code+".json", nil, "")
		if res.StatusCode != 200 || !strings.Contains(res.body, `"code": "plate"`) || !strings.Contains(res.body, "不可见") {
			t.Errorf("Open311 definition: %d %s", res.StatusCode, res.body)
		}
	})
}
