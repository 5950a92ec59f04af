package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"chuangwen/internal/store"
)

// TestStaffUseThePublicPage: a signed-in inspector or grid worker files
// through the same phone page and reports as themselves (source inspector,
// accepted on arrival); their session's CSRF token is required.
func TestStaffUseThePublicPage(t *testing.T) {
	store.TestDBs(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		insp := f.login("inspector")
		page := insp.do("GET", "/report", nil, "")
		if page.StatusCode != 200 || !strings.Contains(page.body, `name="csrf" value="`+insp.csrf+`"`) {
			t.Fatalf("report page for a signed-in inspector: %d, csrf field present: %v", page.StatusCode, strings.Contains(page.body, insp.csrf))
		}
		post := func(csrf string) response {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for k, v := range map[string]string{"category_id": strconv.FormatInt(f.category.ID, 10), "description": "巡查发现人行道破损",
				"lat": "25.0", "lon": "102.7", "csrf": csrf} {
				mw.WriteField(k, v)
			}
			w, _ := mw.CreateFormFile("photos", "p.jpg")
			w.Write(smallJPEG())
			mw.Close()
			req, _ := http.NewRequest("POST", f.url+"/api/v1/public/reports", &buf)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			res, err := insp.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var b bytes.Buffer
			b.ReadFrom(res.Body)
			return response{StatusCode: res.StatusCode, Header: res.Header, body: b.String()}
		}
		if r := post("forged"); r.StatusCode != 403 {
			t.Fatalf("staff report without the session's CSRF token: %d %s", r.StatusCode, r.body)
		}
		r := post(insp.csrf)
		if r.StatusCode != 201 {
			t.Fatalf("staff report: %d %s", r.StatusCode, r.body)
		}
		var rec struct {
			CaseNo string `json:"case_no"`
		}
		r.json(t, &rec)
		var source, state string
		var reporter int64
		var eligible bool
		if err := db.Reader().QueryRow(context.Background(), `SELECT c.source, c.state, COALESCE(c.reporter_user_id, 0), r.reward_eligible FROM cases c JOIN receipts r ON r.case_id = c.id WHERE c.no = ?`, rec.CaseNo).
			Scan(&source, &state, &reporter, &eligible); err != nil {
			t.Fatal(err)
		}
		if source != "inspector" || state != "accepted" || reporter == 0 || eligible {
			t.Fatalf("staff case: source %s state %s reporter %d reward-eligible %v", source, state, reporter, eligible)
		}
	})
}
