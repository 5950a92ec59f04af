package web_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
)

// The tokens page: a second live token of one name is refused in
// Chinese; 轮换 shows a new secret once, for the same client, and the
// old one keeps working until revoked; the API does the same.
func TestTokensPageRotates(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		admin := f.login("admin")
		res := admin.form("POST", "/admin/tokens", url.Values{"name": {"区12345热线"}})
		if res.StatusCode != 200 || !strings.Contains(res.body, `id="secret"`) {
			t.Fatalf("create: %d %.300s", res.StatusCode, res.body)
		}
		res = admin.form("POST", "/admin/tokens", url.Values{"name": {"区12345热线"}})
		if res.StatusCode != 409 || !strings.Contains(res.body, "已有名为“区12345热线”的有效令牌") || strings.Contains(res.body, `id="secret"`) {
			t.Fatalf("the name again: %d %.300s", res.StatusCode, res.body)
		}
		var toks []struct {
			ID      int64
			Name    string
			Revoked bool
		}
		if err := json.Unmarshal([]byte(admin.do("GET", "/api/v1/tokens", nil, "").body), &toks); err != nil || len(toks) == 0 {
			t.Fatalf("tokens: %v", err)
		}
		var id int64
		for _, tk := range toks {
			if tk.Name == "区12345热线" {
				id = tk.ID
			}
		}
		if !strings.Contains(admin.do("GET", "/admin/tokens", nil, "").body, fmt.Sprintf(`action="/admin/tokens/%d/rotate"`, id)) {
			t.Error("no 轮换 button for the live token")
		}
		res = admin.form("POST", fmt.Sprintf("/admin/tokens/%d/rotate", id), url.Values{})
		if res.StatusCode != 200 || !strings.Contains(res.body, `id="secret"`) {
			t.Fatalf("rotate: %d %.300s", res.StatusCode, res.body)
		}
		res = admin.json("POST", fmt.Sprintf("/api/v1/tokens/%d/rotate", id), nil)
		var tok struct {
			ID     int64
			Name   string
			Secret string `json:"token"`
		}
		if res.StatusCode != 201 || json.Unmarshal([]byte(res.body), &tok) != nil || tok.Name != "区12345热线" || !strings.HasPrefix(tok.Secret, "cw_") || tok.ID == id {
			t.Fatalf("API rotate: %d %s", res.StatusCode, res.body)
		}
		if res := admin.form("POST", "/admin/tokens/987654/rotate", url.Values{}); res.StatusCode != 404 {
			t.Errorf("rotating no token: %d", res.StatusCode)
		}
	})
}
