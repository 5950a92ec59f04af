package workflow_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

// The updates feed reads the trail a few events at a time: every change of
// state is yielded once, in trail order, whatever the chunk; nothing from
// before the window, the reports themselves or staff-only categories.
func TestPublicUpdatesInChunks(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		before := f.report()
		f.clk.Advance(time.Hour)
		from := f.clk.Now()
		var want []string
		for i := range 4 {
			c := f.inProgress(f.unitA)
			want = append(want, fmt.Sprintf("%s accepted", c.No), fmt.Sprintf("%s dispatched", c.No), fmt.Sprintf("%s in_progress", c.No))
			if i == 0 {
				f.act(f.acceptor, before.ID, workflow.ActInput{Action: workflow.Reject, Opinion: "不属于受理范围"})
				want = append(want, fmt.Sprintf("%s rejected", before.No))
			}
			f.clk.Advance(time.Minute)
		}
		for _, chunk := range []int{1, 2, 5, 500} {
			restore := workflow.SetUpdatesChunk(chunk)
			var got []string
			var last int64
			err := f.svc.PublicUpdates(f.ctx, from, f.clk.Now(), func(u workflow.PublicUpdate) error {
				if u.Seq <= last {
					t.Errorf("chunk %d: seq %d after %d", chunk, u.Seq, last)
				}
				last = u.Seq
				got = append(got, fmt.Sprintf("%s %s", u.CaseNo, u.To))
				return nil
			})
			restore()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ", ") != strings.Join(want, ", ") {
				t.Errorf("chunk %d:\n got %v\nwant %v", chunk, got, want)
			}
		}
	})
}

// A client's update goes on the trail once per update_id, only on its own
// cases.
func TestPostClientUpdate(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		client := org.Actor{Name: "API:12345", Role: org.RoleClient, Scope: org.ScopeCity, TokenID: 1}
		c, err := f.svc.Report(f.ctx, client, workflow.NewCase{CategoryID: f.cat4h.ID, Description: "路灯不亮", RegionID: f.community1.ID,
			Client: &workflow.ClientFields{Client: client.Name, Attributes: map[string][]string{"ticket": {"T-1"}}}})
		if err != nil {
			t.Fatal(err)
		}
		fields, err := f.svc.CaseClientFields(f.ctx, c.ID)
		if err != nil || fields == nil || fields.Client != client.Name || fields.Attributes["ticket"][0] != "T-1" {
			t.Fatalf("client fields %+v %v", fields, err)
		}
		u := workflow.ClientUpdate{UpdateID: "u1", Status: "OPEN", Description: "市民再次来电"}
		s1, err := f.svc.PostClientUpdate(f.ctx, client, c.No, u)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := f.svc.PostClientUpdate(f.ctx, client, c.No, u)
		if err != nil || s2 != s1 {
			t.Fatalf("retry: %d %v, want %d", s2, err, s1)
		}
		if n := f.countEvents(c.ID, workflow.ActionClientUpdate); n != 1 {
			t.Errorf("%d client updates on the trail", n)
		}
		other := f.report()
		if _, err := f.svc.PostClientUpdate(f.ctx, client, other.No, workflow.ClientUpdate{UpdateID: "u2", Description: "x"}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("on a case it did not file: %v", err)
		}
		if _, err := f.svc.PostClientUpdate(f.ctx, client, "2026-999999", workflow.ClientUpdate{UpdateID: "u3", Description: "x"}); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("on no case: %v", err)
		}
		if _, err := f.svc.PostClientUpdate(f.ctx, f.acceptor, c.No, workflow.ClientUpdate{UpdateID: "u4", Description: "x"}); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("by staff: %v", err)
		}
	})
}

// The timeline does not show the name of an update's writer that earlier
// versions put in the trail's event (kept there by the chain).
func TestTimelineHidesAClientUpdatersName(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		c := f.dispatched(f.unitA)
		err := db.WithTx(f.ctx, func(tx *store.Tx) error {
			_, err := audit.Append(f.ctx, tx, &audit.Entry{At: f.clk.Now(), ActorName: "API:热线", ActorRole: "client", Action: workflow.ActionClientUpdate,
				CaseID: c.ID, Opinion: "市民再次来电", Data: `{"client_update_id":"u1","name":"张三","status":"OPEN"}`})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, who := range []org.Actor{f.handlerA, f.acceptor} {
			tl, err := f.svc.Timeline(f.ctx, who, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			last := tl[len(tl)-1]
			if last.Action != workflow.ActionClientUpdate || strings.Contains(last.Data, "张三") || !strings.Contains(last.Data, `"status":"OPEN"`) {
				t.Errorf("%s reads %+v", who.Name, last)
			}
		}
	})
}
