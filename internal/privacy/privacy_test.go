package privacy_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	pngenc "image/png"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/privacy"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/volunteer"
	"chuangwen/internal/workflow"
)

// idNumber is a valid GB 11643 number for n (check digit computed).
func idNumber(n int) string {
	base := []byte("11010519900101" + string(rune('0'+n/100%10)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10)))
	return string(base) + string(volunteer.IDCheckChar(string(base)))
}

func TestRetentionErasesWhatIsDueAndNothingElse(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		c := testcity.New(t, db)
		ctx := context.Background()
		ps := &privacy.Service{DB: db, Now: c.Clock.Now}
		seal, err := volunteer.NewSealer(make([]byte, volunteer.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		vol := volunteer.New(db, c.Org, seal, testcity.Shanghai, nil)
		vol.Now = c.Clock.Now
		node, err := vol.CreateNode(ctx, c.Admin, c.Street1.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		team, err := vol.CreateTeam(ctx, c.Admin, volunteer.NewTeam{Name: "清波志愿队", NodeID: node.ID})
		if err != nil {
			t.Fatal(err)
		}
		register := func(n int, phone string) int64 {
			id, err := vol.Register(ctx, volunteer.Registration{Name: "志愿者", Phone: phone, IDNumber: idNumber(n), TeamID: team.ID, Password: "Volunteer-2026!", Consent: true})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		report := func(phone string) *workflow.Case {
			cs, err := c.Flow.Report(ctx, c.Acceptor, workflow.NewCase{CategoryID: c.Cat4h.ID, Description: "垃圾", RegionID: c.Community1.ID,
				ReporterName: "张三", ReporterPhone: phone, ReporterEmail: "z@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			return cs
		}
		act := func(a org.Actor, id int64, in workflow.ActInput) {
			if _, err := c.Flow.Act(ctx, a, id, in); err != nil {
				t.Fatalf("%s: %v", in.Action, err)
			}
		}
		// 2025: a case rejected, one closed, one still open; volunteers
		// rejected, left pending and approved.
		c.Clock.Set(time.Date(2025, 3, 3, 9, 0, 0, 0, testcity.Shanghai))
		rejected := report("13800000001")
		act(c.Acceptor, rejected.ID, workflow.ActInput{Action: workflow.Reject, Opinion: "重复"})
		closed := report("13800000002")
		act(c.Acceptor, closed.ID, workflow.ActInput{Action: workflow.Accept})
		act(c.Acceptor, closed.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: c.UnitA.ID})
		act(c.HandlerA, closed.ID, workflow.ActInput{Action: workflow.Acknowledge})
		var png bytes.Buffer
		img := image.NewRGBA(image.Rect(0, 0, 2, 2))
		img.Set(0, 0, color.RGBA{R: 255, A: 255})
		if err := pngenc.Encode(&png, img); err != nil {
			t.Fatal(err)
		}
		pf, err := c.Flow.Photos.Save(&png)
		if err != nil {
			t.Fatal(err)
		}
		act(c.HandlerA, closed.ID, workflow.ActInput{Action: workflow.Feedback, Opinion: "已清理", Photos: []photo.File{pf}})
		act(c.Inspector, closed.ID, workflow.ActInput{Action: workflow.VerifyPass})
		open := report("13800000003")
		vRejected, vPending, vActive := register(1, "13900000001"), register(2, "13900000002"), register(3, "13900000003")
		if err := vol.Decide(ctx, c.Admin, vRejected, false); err != nil {
			t.Fatal(err)
		}
		if err := vol.Decide(ctx, c.Admin, vActive, true); err != nil {
			t.Fatal(err)
		}
		// 2026: a recent rejected case.
		c.Clock.Set(time.Date(2026, 11, 2, 9, 0, 0, 0, testcity.Shanghai))
		recent := report("13800000004")
		act(c.Acceptor, recent.ID, workflow.ActInput{Action: workflow.Reject, Opinion: "不属于受理范围"})

		c.Clock.Set(time.Date(2026, 12, 1, 9, 0, 0, 0, testcity.Shanghai))
		if _, err := ps.Erase(ctx, c.Acceptor); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("acceptor erases: %v", err)
		}
		if err := ps.SaveSettings(ctx, c.Admin, privacy.Settings{RetentionDays: 10}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("10 days: %v", err)
		}
		e, err := ps.Erase(ctx, org.System)
		if err != nil {
			t.Fatal(err)
		}
		if e.Cases != 2 || e.Volunteers != 2 {
			t.Fatalf("erased %+v, want 2 cases and 2 volunteers", e)
		}
		phone := func(id int64) (string, string) {
			var p, n string
			if err := db.Reader().QueryRow(ctx, `SELECT reporter_phone, reporter_name || reporter_email FROM cases WHERE id = ?`, id).Scan(&p, &n); err != nil {
				t.Fatal(err)
			}
			return p, n
		}
		for _, id := range []int64{rejected.ID, closed.ID} {
			if p, n := phone(id); p != "" || n != "" {
				t.Errorf("case %d keeps %q %q", id, p, n)
			}
		}
		for id, want := range map[int64]string{open.ID: "13800000003", recent.ID: "13800000004"} {
			if p, _ := phone(id); p != want {
				t.Errorf("case %d: phone %q, want it kept", id, p)
			}
		}
		vphone := func(id int64) string {
			var p string
			if err := db.Reader().QueryRow(ctx, `SELECT phone || name || id_sealed FROM volunteers WHERE id = ?`, id).Scan(&p); err != nil {
				t.Fatal(err)
			}
			return p
		}
		if vphone(vRejected) != "" || vphone(vPending) != "" || !strings.HasPrefix(vphone(vActive), "13900000003") {
			t.Errorf("volunteers: %q %q %q", vphone(vRejected), vphone(vPending), vphone(vActive))
		}
		// The same person may register again once erased.
		register(1, "13900000001")
		// Once more: nothing left to erase; a year on, the recent case goes too.
		if e, err := ps.Erase(ctx, org.System); err != nil || e.Cases+e.Volunteers != 0 {
			t.Errorf("second run %+v %v", e, err)
		}
		c.Clock.Set(time.Date(2027, 11, 3, 9, 0, 0, 0, testcity.Shanghai))
		if e, err := ps.Erase(ctx, org.System); err != nil || e.Cases != 1 {
			t.Errorf("a year later %+v %v", e, err)
		}
		var n int
		if err := db.Reader().QueryRow(ctx, `SELECT count(*) FROM events WHERE action = 'privacy.erase'`).Scan(&n); err != nil || n != 2 {
			t.Errorf("%d erase entries on the trail (%v)", n, err)
		}
		// Retention 0 keeps everything.
		if err := ps.SaveSettings(ctx, c.Admin, privacy.Settings{RetentionDays: 0}); err != nil {
			t.Fatal(err)
		}
		report("13800000005")
		c.Clock.Set(time.Date(2030, 1, 1, 9, 0, 0, 0, testcity.Shanghai))
		if e, err := ps.Erase(ctx, org.System); err != nil || e.Cases != 0 {
			t.Errorf("retention off: %+v %v", e, err)
		}
	})
}

func TestAccessLog(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		c := testcity.New(t, db)
		ctx := context.Background()
		ps := &privacy.Service{DB: db, Now: c.Clock.Now}
		ps.Record(ctx, c.Acceptor, privacy.KindReporter, 42, "GET /cases/42", "10.0.0.1")
		ps.Record(ctx, c.Admin, privacy.KindVolunteer, 7, "GET /volunteer/people/7", "10.0.0.2")
		if _, err := ps.Accesses(ctx, c.Acceptor, privacy.AccessFilter{}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("acceptor reads the log: %v", err)
		}
		all, err := ps.Accesses(ctx, c.Admin, privacy.AccessFilter{})
		if err != nil || len(all) != 2 || all[0].Kind != privacy.KindVolunteer || all[1].Name != c.Acceptor.Name || all[1].Subject != 42 {
			t.Fatalf("log %+v %v", all, err)
		}
		mine, err := ps.Accesses(ctx, c.Admin, privacy.AccessFilter{UserID: c.Acceptor.UserID})
		if err != nil || len(mine) != 1 || mine[0].Address != "10.0.0.1" {
			t.Errorf("by user %+v %v", mine, err)
		}
	})
}
