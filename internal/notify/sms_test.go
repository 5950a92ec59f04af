package notify_test

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"chuangwen/internal/notify"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestStatusMessages: a resident who left a mobile number gets a message
// when the case is accepted and when it is closed (the templates the
// office configured), through a local gateway that refuses the first
// request; the message keeps no number once sent; a report without a
// number, or a landline, queues nothing.
func TestStatusMessages(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		c := testcity.New(t, db)
		ctx := context.Background()
		var mu sync.Mutex
		var got [][]byte
		fail := 1
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if r.Header.Get("Authorization") != "Bearer TOKEN" {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			body, _ := io.ReadAll(r.Body)
			if fail > 0 {
				fail--
				w.Write([]byte(`{"code":"isv.BUSINESS_LIMIT_CONTROL","message":"触发流控"}`))
				return
			}
			got = append(got, body)
			w.Write([]byte(`{"code":"OK","message":"OK"}`))
		}))
		defer gw.Close()
		tpl, err := notify.ParseTemplates("accepted=SMS_0001, closed=SMS_0003, rejected=SMS_0002")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := notify.ParseTemplates("opened=SMS_1"); err == nil {
			t.Error("an unknown state is taken")
		}
		out := &notify.Outbox{DB: db, Gateway: notify.HTTPGateway{URL: gw.URL, Token: "TOKEN"}, SignName: "云川市文明办", Templates: tpl, Now: c.Clock.Now}
		c.Flow.Notifier = out
		report := func(phone string) *workflow.Case {
			cs, err := c.Flow.Report(ctx, c.Acceptor, workflow.NewCase{CategoryID: c.Cat4h.ID, Description: "垃圾", RegionID: c.Community1.ID, ReporterPhone: phone})
			if err != nil {
				t.Fatal(err)
			}
			return cs
		}
		act := func(id int64, a workflow.ActInput) {
			if _, err := c.Flow.Act(ctx, c.Acceptor, id, a); err != nil {
				t.Fatal(err)
			}
		}
		cs := report("13800001111")
		act(cs.ID, workflow.ActInput{Action: workflow.Accept})
		act(cs.ID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: c.UnitA.ID}) // no template: nothing
		for _, phone := range []string{"", "0871-6666666"} {
			other := report(phone)
			act(other.ID, workflow.ActInput{Action: workflow.Accept})
		}
		rejected := report("13900002222")
		act(rejected.ID, workflow.ActInput{Action: workflow.Reject, Opinion: "该问题不属于城市管理受理范围，已告知相关部门处理"})
		var queued int
		if err := db.Reader().QueryRow(ctx, `SELECT count(*) FROM sms_outbox`).Scan(&queued); err != nil || queued != 2 {
			t.Fatalf("%d messages queued, want 2 (%v)", queued, err)
		}
		if n, err := out.SendDue(ctx); err != nil || n != 2 {
			t.Fatalf("first send: %d %v", n, err)
		}
		c.Clock.Advance(notify.Backoff[0] + time.Second)
		if _, err := out.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("gateway got %d", len(got))
		}
		golden(t, "sms_accepted.json", got[0], got[1])
		var left int
		if err := db.Reader().QueryRow(ctx, `SELECT count(*) FROM sms_outbox WHERE phone <> '' OR status <> 'sent'`).Scan(&left); err != nil || left != 0 {
			t.Errorf("%d messages unsent or keeping a number (%v)", left, err)
		}
		// A report accepted on arrival queues its message in its own
		// transaction, before it has its number on PostgreSQL (where it
		// takes the number at the end): the message carries it all the same.
		if _, err := db.Exec(ctx, `UPDATE categories SET auto_accept = TRUE WHERE id = ?`, c.Cat4h.ID); err != nil {
			t.Fatal(err)
		}
		auto := report("13700004444")
		if auto.State != workflow.Accepted {
			t.Fatalf("auto-accepted report: %s", auto.State)
		}
		mu.Lock()
		got = nil
		mu.Unlock()
		if n, err := out.SendDue(ctx); err != nil || n != 1 {
			t.Fatalf("send of the auto-accepted report's message: %d %v", n, err)
		}
		var sent struct {
			Param map[string]string `json:"template_param"`
		}
		if len(got) != 1 || json.Unmarshal(got[0], &sent) != nil || sent.Param["no"] != auto.No || sent.Param["state"] != "已受理" {
			t.Errorf("auto-accepted report %s: message %s", auto.No, got)
		}
		if _, err := db.Exec(ctx, `UPDATE categories SET auto_accept = FALSE WHERE id = ?`, c.Cat4h.ID); err != nil {
			t.Fatal(err)
		}
		// Without a notifier (no gateway configured) nothing is queued.
		c.Flow.Notifier = nil
		quiet := report("13800003333")
		act(quiet.ID, workflow.ActInput{Action: workflow.Accept})
		if err := db.Reader().QueryRow(ctx, `SELECT count(*) FROM sms_outbox WHERE case_id = ?`, quiet.ID).Scan(&left); err != nil || left != 0 {
			t.Errorf("queued without a gateway: %d %v", left, err)
		}
	})
}

// golden compares the two messages (either order) with the golden file.
func golden(t *testing.T, name string, a, b []byte) {
	t.Helper()
	var x, y map[string]any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	delete(x, "out_id")
	delete(y, "out_id")
	msgs := []map[string]any{x, y}
	if x["template_code"] != "SMS_0001" {
		msgs = []map[string]any{y, x}
	}
	pretty, _ := json.MarshalIndent(msgs, "", "  ")
	pretty = append(pretty, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, pretty, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (write it with -update)", err)
	}
	if string(want) != string(pretty) {
		t.Errorf("messages differ from %s:\n%s\nwant:\n%s", name, pretty, want)
	}
}
