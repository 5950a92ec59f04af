package intake_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/intake"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/store"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workcal"
	"chuangwen/internal/workflow"
)

// env is the test city (internal/testcity) over the intake service; its
// community, unit, handler and 小类 are the city's first ones.
type env struct {
	t    *testing.T
	ctx  context.Context
	db   *store.DB
	clk  *testcity.Clock
	flow *workflow.Service
	in   *intake.Service

	community                           org.Region
	unitA                               org.Unit
	admin, acceptor, handler, inspector org.Actor
	cat                                 workflow.Category
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	c := testcity.New(t, db)
	e := &env{t: t, ctx: context.Background(), db: db, clk: c.Clock, flow: c.Flow,
		community: c.Community1, unitA: c.UnitA, admin: c.Admin, acceptor: c.Acceptor, handler: c.HandlerA, inspector: c.Inspector, cat: c.Cat4h}
	var err error
	if e.in, err = intake.New(e.ctx, e.flow); err != nil {
		t.Fatal(err)
	}
	e.in.Now = e.clk.Now
	return e
}

// pngBytes is a small PNG whose content depends only on seed.
func pngBytes(seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(0, 0, color.RGBA{R: byte(seed), G: byte(seed >> 8), B: 7, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// upload stores an upload as the public page does, each call under a new
// blob key even for the same bytes.
func (e *env) upload(seed int) photo.File {
	e.t.Helper()
	p, err := e.flow.Photos.Save(bytes.NewReader(pngBytes(seed)))
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) blobExists(key string) bool {
	e.t.Helper()
	rc, _, err := e.flow.Photos.Open(e.ctx, key)
	if err == nil {
		rc.Close()
		return true
	}
	if apperr.CodeOf(err) != apperr.NotFound {
		e.t.Fatalf("open %s: %v", key, err)
	}
	return false
}

func ptr(v float64) *float64 { return &v }

// report is what a citizen sends from the public page.
func (e *env) report(desc string, photos ...photo.File) workflow.NewCase {
	return workflow.NewCase{
		Source: workflow.SourceCitizen, CategoryID: e.cat.ID, Description: desc,
		Lat: ptr(30.2505), Lon: ptr(120.1505), RegionID: e.community.ID,
		ReporterName: "张三", ReporterPhone: "13800138000", DeviceID: "device-0001",
		Photos: photos, MaxDescription: intake.MaxPublicDescription,
	}
}

func (e *env) submit(sub intake.Submission) intake.Receipt {
	e.t.Helper()
	if sub.Scope == "" {
		sub.Scope = "public"
	}
	rec, err := e.in.Submit(e.ctx, org.System, sub)
	if err != nil {
		e.t.Fatalf("submit: %v", err)
	}
	return rec
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Reader().QueryRow(e.ctx, query, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (e *env) act(actor org.Actor, id int64, in workflow.ActInput) *workflow.Case {
	e.t.Helper()
	e.clk.Advance(time.Minute)
	c, err := e.flow.Act(e.ctx, actor, id, in)
	if err != nil {
		e.t.Fatalf("%s on case %d: %v", in.Action, id, err)
	}
	return c
}

// handle takes an accepted case through dispatch, handling and a passed
// check to closed.
func (e *env) handle(id int64) *workflow.Case {
	e.t.Helper()
	e.act(e.acceptor, id, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: e.unitA.ID})
	e.act(e.handler, id, workflow.ActInput{Action: workflow.Acknowledge})
	e.act(e.handler, id, workflow.ActInput{Action: workflow.Feedback, Opinion: "已清理", Photos: []photo.File{e.upload(9000)}})
	return e.act(e.inspector, id, workflow.ActInput{Action: workflow.VerifyPass})
}

// closed files a citizen report and takes it to closed.
func (e *env) closed(desc string) (intake.Receipt, *workflow.Case) {
	e.t.Helper()
	rec := e.submit(intake.Submission{Case: e.report(desc)})
	e.act(e.acceptor, rec.CaseID, workflow.ActInput{Action: workflow.Accept})
	return rec, e.handle(rec.CaseID)
}

func (e *env) caseState(id int64) workflow.State {
	e.t.Helper()
	c, err := e.flow.Get(e.ctx, org.System, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.State
}

func wantErr(t *testing.T, err error, code apperr.Code, key string) {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok || ae.Code != code || ae.Key != key {
		t.Fatalf("got error %v, want %s %s", err, code, key)
	}
}

func checkCode(t *testing.T, code string) {
	t.Helper()
	if len(code) != intake.ReceiptLen {
		t.Fatalf("receipt %q has %d characters, want %d", code, len(code), intake.ReceiptLen)
	}
	for _, r := range code {
		if !strings.ContainsRune("23456789ABCDEFGHJKMNPQRSTUVWXYZ", r) {
			t.Fatalf("receipt %q has %q, outside the alphabet", code, r)
		}
	}
	if n, ok := intake.NormalizeCode(code); !ok || n != code {
		t.Fatalf("NormalizeCode(%q) = %q, %v", code, n, ok)
	}
}

// ---- tests ----

func TestSubmitGivesReceipt(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		p := e.upload(1)
		rec := e.submit(intake.Submission{Key: "k1", Case: e.report("路边暴露垃圾", p), IP: "198.51.100.7"})
		checkCode(t, rec.Code)
		if rec.Kind != intake.KindReporter || rec.State != workflow.Reported || rec.Replayed || rec.Duplicate || rec.CaseID == 0 {
			t.Fatalf("receipt = %+v", rec)
		}
		c, err := e.flow.Get(e.ctx, e.acceptor, rec.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		if c.No != rec.CaseNo || c.Source != workflow.SourceCitizen || len(c.Photos) != 1 || c.Photos[0].SHA256 != p.SHA256 || c.Reporter == nil || c.Reporter.Phone != "13800138000" {
			t.Fatalf("case = %+v", c)
		}
		var kind, device string
		var eligible bool
		if err := db.Reader().QueryRow(e.ctx, `SELECT kind, device_id, reward_eligible FROM receipts WHERE code = ? AND case_id = ?`, rec.Code, rec.CaseID).Scan(&kind, &device, &eligible); err != nil {
			t.Fatal(err)
		}
		if kind != intake.KindReporter || device != "device-0001" || !eligible {
			t.Errorf("receipt row: kind %s device %s eligible %v", kind, device, eligible)
		}

		// Without a phone number the reporter can follow, but not claim a reward.
		anon := e.report("无电话")
		anon.ReporterPhone = ""
		rec2 := e.submit(intake.Submission{Case: anon})
		checkCode(t, rec2.Code)
		if rec2.Code == rec.Code || rec2.CaseNo == rec.CaseNo {
			t.Fatalf("two submissions share %s / %s", rec.Code, rec.CaseNo)
		}
		if e.count(`SELECT COUNT(*) FROM receipts WHERE code = ? AND reward_eligible = FALSE`, rec2.Code) != 1 {
			t.Errorf("anonymous receipt is reward-eligible")
		}

		// Another app (API token) gets receipts too; staff have the console.
		client := org.Actor{TokenID: 1, Name: "API:热线", Role: org.RoleClient, Scope: org.ScopeCity}
		rc, err := e.in.Submit(e.ctx, client, intake.Submission{Scope: "token:1", Case: e.report("热线转来")})
		if err != nil {
			t.Fatal(err)
		}
		checkCode(t, rc.Code)
		rs, err := e.in.Submit(e.ctx, e.acceptor, intake.Submission{Scope: "user:1", Key: "x", Case: e.report("电话登记")})
		if err != nil || rs.Code != "" || rs.CaseNo == "" {
			t.Fatalf("staff submission = %+v, %v", rs, err)
		}
		if n := e.count(`SELECT COUNT(*) FROM receipts WHERE case_id = ?`, rs.CaseID); n != 0 {
			t.Errorf("staff submission got %d receipts", n)
		}

		// Invalid reports fail before anything is written, and their
		// photos go.
		bad := e.upload(2)
		_, err = e.in.Submit(e.ctx, org.System, intake.Submission{Scope: "public", Key: "k-bad", Case: e.report("   ", bad)})
		wantErr(t, err, apperr.Invalid, "case.description_required")
		if e.blobExists(bad.Path) {
			t.Errorf("photo of a refused submission kept")
		}
		_, err = e.in.Submit(e.ctx, org.System, intake.Submission{Scope: "public", Key: strings.Repeat("k", intake.MaxKeyLen+1), Case: e.report("x")})
		wantErr(t, err, apperr.Invalid, "intake.bad_key")
		if n := e.count(`SELECT COUNT(*) FROM idempotency_keys WHERE key = 'k-bad'`); n != 0 {
			t.Errorf("refused submission kept its key")
		}
	})
}

func TestSubmitIdempotent(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		first := e.upload(1)
		rec := e.submit(intake.Submission{Key: "key-1", Case: e.report("路边暴露垃圾", first)})

		// The phone retries: same key, same text, the same photo uploaded again.
		retry := e.upload(1)
		if retry.Path == first.Path || retry.SHA256 != first.SHA256 {
			t.Fatalf("upload keys %s %s, digests %s %s", first.Path, retry.Path, first.SHA256, retry.SHA256)
		}
		again := e.submit(intake.Submission{Key: "key-1", Case: e.report("  路边暴露垃圾 ", retry)})
		if !again.Replayed || again.Code != rec.Code || again.CaseNo != rec.CaseNo || again.CaseID != rec.CaseID || again.Kind != intake.KindReporter {
			t.Fatalf("replay = %+v, first %+v", again, rec)
		}
		if n := e.count(`SELECT COUNT(*) FROM cases`); n != 1 {
			t.Fatalf("%d cases after a retry", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM receipts`); n != 1 {
			t.Fatalf("%d receipts after a retry", n)
		}
		if e.blobExists(retry.Path) {
			t.Errorf("the retry's photo was kept")
		}
		if !e.blobExists(first.Path) {
			t.Errorf("the first photo was removed")
		}

		// The replay tells the current state.
		e.act(e.acceptor, rec.CaseID, workflow.ActInput{Action: workflow.Accept})
		again = e.submit(intake.Submission{Key: "key-1", Case: e.report("路边暴露垃圾", e.upload(1))})
		if !again.Replayed || again.State != workflow.Accepted {
			t.Errorf("replay after accept = %+v", again)
		}

		// The same key with other content is refused, and its photo goes.
		for _, change := range []func(*workflow.NewCase){
			func(in *workflow.NewCase) { in.Description = "另一个问题" },
			func(in *workflow.NewCase) { in.Lat = ptr(30.26) },
			func(in *workflow.NewCase) { in.ReporterPhone = "13900000000" },
			func(in *workflow.NewCase) { in.Photos = []photo.File{e.upload(2)} },
			func(in *workflow.NewCase) { in.Photos = append(in.Photos, e.upload(3)) },
		} {
			other := e.upload(1)
			in := e.report("路边暴露垃圾", other)
			change(&in)
			_, err := e.in.Submit(e.ctx, org.System, intake.Submission{Scope: "public", Key: "key-1", Case: in})
			wantErr(t, err, apperr.Conflict, "intake.key_reused")
			for _, p := range in.Photos {
				if e.blobExists(p.Path) {
					t.Errorf("photo of a refused reuse kept")
				}
			}
		}
		if n := e.count(`SELECT COUNT(*) FROM cases`); n != 1 {
			t.Fatalf("%d cases after refused reuses", n)
		}

		// Keys are per channel; other keys and no key make new cases.
		recs := []intake.Receipt{
			e.submit(intake.Submission{Scope: "token:7", Key: "key-1", Case: e.report("路边暴露垃圾")}),
			e.submit(intake.Submission{Key: "key-2", Case: e.report("路边暴露垃圾")}),
			e.submit(intake.Submission{Case: e.report("路边暴露垃圾")}),
			e.submit(intake.Submission{Case: e.report("路边暴露垃圾")}),
		}
		seen := map[string]bool{rec.CaseNo: true}
		for _, r := range recs {
			if r.Replayed || seen[r.CaseNo] {
				t.Errorf("receipt %+v is not a new case", r)
			}
			seen[r.CaseNo] = true
		}
		if n := e.count(`SELECT COUNT(*) FROM cases`); n != 5 {
			t.Errorf("%d cases, want 5", n)
		}
	})
}

// Eight retries of one submission arrive at once (a phone on a bad
// network): one case, one answer.
func TestSubmitConcurrentRetries(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		const n = 8
		uploads := make([]photo.File, n)
		for i := range uploads {
			uploads[i] = e.upload(42)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		recs := make([]intake.Receipt, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				recs[i], errs[i] = e.in.Submit(e.ctx, org.System, intake.Submission{Scope: "public", Key: "same-key", Case: e.report("路边暴露垃圾", uploads[i]), IP: "198.51.100.7"})
			}()
		}
		close(start)
		wg.Wait()
		fresh := -1
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("retry %d: %v", i, errs[i])
			}
			if recs[i].Code != recs[0].Code || recs[i].CaseNo != recs[0].CaseNo || recs[i].CaseID != recs[0].CaseID {
				t.Fatalf("retry %d answered %+v, retry 0 %+v", i, recs[i], recs[0])
			}
			if !recs[i].Replayed {
				if fresh >= 0 {
					t.Fatalf("retries %d and %d both claim to have filed the case", fresh, i)
				}
				fresh = i
			}
		}
		if fresh < 0 {
			t.Fatal("every answer is a replay")
		}
		checkCode(t, recs[0].Code)
		for table, want := range map[string]int{"cases": 1, "receipts": 1, "idempotency_keys": 1, "photos": 1, "photo_jobs": 1} {
			if got := e.count(`SELECT COUNT(*) FROM ` + table); got != want {
				t.Errorf("%s: %d rows, want %d", table, got, want)
			}
		}
		var kept string
		if err := db.Reader().QueryRow(e.ctx, `SELECT path FROM photos`).Scan(&kept); err != nil {
			t.Fatal(err)
		}
		for i, u := range uploads {
			if got, want := e.blobExists(u.Path), i == fresh; got != want {
				t.Errorf("upload %d (filed by it: %v) exists: %v", i, i == fresh, got)
			}
		}
		if kept != uploads[fresh].Path {
			t.Errorf("the case holds %s, the filing retry uploaded %s", kept, uploads[fresh].Path)
		}
	})
}

func TestBlocklist(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		const phone = "13800138000"
		if err := e.in.AddBlock(e.ctx, e.acceptor, intake.BlockPhone, "+86 138 0013 8000", "恶意重复举报"); err != nil {
			t.Fatal(err)
		}
		if err := e.in.AddBlock(e.ctx, e.admin, intake.BlockDevice, "device-bad-123", ""); err != nil {
			t.Fatal(err)
		}
		if err := e.in.AddBlock(e.ctx, e.admin, intake.BlockIP, " 203.0.113.9 ", "刷单"); err != nil {
			t.Fatal(err)
		}
		// Blocking again changes nothing.
		if err := e.in.AddBlock(e.ctx, e.admin, intake.BlockPhone, "138-0013-8000", ""); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.in.AddBlock(e.ctx, e.handler, intake.BlockIP, "203.0.113.10", ""), apperr.Forbidden, "forbidden")
		wantErr(t, e.in.AddBlock(e.ctx, e.inspector, intake.BlockIP, "203.0.113.10", ""), apperr.Forbidden, "forbidden")
		wantErr(t, e.in.AddBlock(e.ctx, e.admin, "email", "a@b.c", ""), apperr.Invalid, "intake.bad_block")
		wantErr(t, e.in.AddBlock(e.ctx, e.admin, intake.BlockPhone, "+86 --", ""), apperr.Invalid, "intake.bad_block")

		// The list holds keyed hashes and masked labels, never the number.
		rows, err := db.Reader().Query(e.ctx, `SELECT kind, value_hash, label, reason FROM blocklist ORDER BY kind`)
		if err != nil {
			t.Fatal(err)
		}
		labels := map[string]string{}
		hashes := map[string]string{}
		for rows.Next() {
			var kind, hash, label, reason string
			if err := rows.Scan(&kind, &hash, &label, &reason); err != nil {
				t.Fatal(err)
			}
			for _, v := range []string{hash, label, reason} {
				for _, secret := range []string{phone, "device-bad-123", "203.0.113.9"} {
					if strings.Contains(v, secret) {
						t.Errorf("blocklist %s row holds %q: %q", kind, secret, v)
					}
				}
			}
			if _, err := hex.DecodeString(hash); err != nil || len(hash) != 64 {
				t.Errorf("blocklist %s hash %q", kind, hash)
			}
			plain := sha256.Sum256([]byte(kind + ":" + map[string]string{"phone": phone, "device": "device-bad-123", "ip": "203.0.113.9"}[kind]))
			if hash == hex.EncodeToString(plain[:]) {
				t.Errorf("blocklist %s hash is an unkeyed SHA-256 of the value", kind)
			}
			if strings.Contains(label, "0013") {
				t.Errorf("blocklist %s label %q shows the middle digits", kind, label)
			}
			labels[kind], hashes[kind] = label, hash
		}
		rows.Close()
		if len(labels) != 3 || labels["phone"] != "138****8000" || labels["device"] != "de**********23" || labels["ip"] != "20*******.9" {
			t.Errorf("labels = %v", labels)
		}
		if n := e.count(`SELECT COUNT(*) FROM events WHERE action = 'block.add' AND data LIKE ?`, "%"+phone+"%"); n != 0 {
			t.Errorf("the trail holds the phone number")
		}
		list, err := e.in.Blocks(e.ctx)
		if err != nil || len(list) != 3 {
			t.Fatalf("Blocks = %+v, %v", list, err)
		}

		keys := 0
		submit := func(mod func(*intake.Submission)) error {
			p := e.upload(5)
			keys++
			sub := intake.Submission{Scope: "public", Key: fmt.Sprint("k", keys), Case: e.report("举报", p), IP: "198.51.100.1"}
			sub.Case.DeviceID = "device-ok"
			sub.Case.ReporterPhone = "13900000000"
			mod(&sub)
			_, err := e.in.Submit(e.ctx, org.System, sub)
			if err != nil && e.blobExists(p.Path) {
				t.Errorf("photo of a blocked submission kept")
			}
			return err
		}
		cases := e.count(`SELECT COUNT(*) FROM cases`)
		for name, mod := range map[string]func(*intake.Submission){
			"phone plain":      func(s *intake.Submission) { s.Case.ReporterPhone = phone },
			"phone +86 spaced": func(s *intake.Submission) { s.Case.ReporterPhone = "+86 138 0013 8000" },
			"phone 86 dashed":  func(s *intake.Submission) { s.Case.ReporterPhone = "86-138-0013-8000" },
			"device":           func(s *intake.Submission) { s.Case.DeviceID = "device-bad-123" },
			"ip":               func(s *intake.Submission) { s.IP = "203.0.113.9" },
		} {
			if err := submit(mod); apperr.CodeOf(err) != apperr.Forbidden {
				t.Errorf("%s: got %v, want intake.blocked", name, err)
			} else {
				wantErr(t, err, apperr.Forbidden, "intake.blocked")
			}
		}
		if n := e.count(`SELECT COUNT(*) FROM cases`); n != cases {
			t.Fatalf("blocked submissions made %d cases", n-cases)
		}
		if err := submit(func(*intake.Submission) {}); err != nil {
			t.Fatalf("unblocked submission: %v", err)
		}

		// Follow is blocked the same way.
		followable := e.report("可关注")
		followable.ReporterPhone = "13900000000"
		open := e.submit(intake.Submission{Case: followable})
		_, err = e.in.Follow(e.ctx, "public", "", open.CaseNo, "device-bad-123", "198.51.100.1")
		wantErr(t, err, apperr.Forbidden, "intake.blocked")
		_, err = e.in.Follow(e.ctx, "public", "", open.CaseNo, "device-ok", "203.0.113.9")
		wantErr(t, err, apperr.Forbidden, "intake.blocked")

		// Another replica shares the hashing key: the blocks hold there.
		in2, err := intake.New(e.ctx, e.flow)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := in2.Submit(e.ctx, org.System, intake.Submission{Case: func() workflow.NewCase { c := e.report("x"); c.ReporterPhone = "+8613800138000"; return c }()}); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("second service instance: %v, want blocked", err)
		}

		// Lifting a block.
		wantErr(t, e.in.RemoveBlock(e.ctx, e.handler, intake.BlockPhone, hashes["phone"]), apperr.Forbidden, "forbidden")
		wantErr(t, e.in.RemoveBlock(e.ctx, e.admin, intake.BlockDevice, hashes["phone"]), apperr.NotFound, "intake.block_not_found")
		if err := e.in.RemoveBlock(e.ctx, e.acceptor, intake.BlockPhone, hashes["phone"]); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.in.RemoveBlock(e.ctx, e.acceptor, intake.BlockPhone, hashes["phone"]), apperr.NotFound, "intake.block_not_found")
		if err := submit(func(s *intake.Submission) { s.Case.ReporterPhone = "+86 138 0013 8000" }); err != nil {
			t.Errorf("after the block was lifted: %v", err)
		}
		if err := submit(func(s *intake.Submission) { s.Case.DeviceID = "device-bad-123" }); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("the device block went with the phone block: %v", err)
		}
		evs, err := audit.Recent(e.ctx, db.Reader(), 50)
		if err != nil {
			t.Fatal(err)
		}
		adds, removes := 0, 0
		for _, ev := range evs {
			switch ev.Action {
			case "block.add":
				adds++
			case "block.remove":
				removes++
			}
		}
		if adds != 4 || removes != 1 {
			t.Errorf("trail: %d block.add, %d block.remove", adds, removes)
		}
	})
}

// The public page accepts a number written with the international
// prefix 0086 as well as +86; a blocked number must stay blocked however
// it is written.
func TestBlockedPhoneWith0086Prefix(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		if err := e.in.AddBlock(e.ctx, e.acceptor, intake.BlockPhone, "13800138000", ""); err != nil {
			t.Fatal(err)
		}
		in := e.report("举报")
		in.ReporterPhone = "0086 138 0013 8000"
		_, err := e.in.Submit(e.ctx, org.System, intake.Submission{Scope: "public", Case: in})
		if apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("blocked number written 0086 138 0013 8000: got %v, want intake.blocked", err)
		}
	})
}

func TestFollow(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		rec := e.submit(intake.Submission{Case: e.report("路边暴露垃圾")})
		f, err := e.in.Follow(e.ctx, "public", "f-1", rec.CaseNo, "device-2", "198.51.100.2")
		if err != nil {
			t.Fatal(err)
		}
		checkCode(t, f.Code)
		if f.Kind != intake.KindFollower || f.CaseNo != rec.CaseNo || f.CaseID != rec.CaseID || f.Code == rec.Code || f.Replayed || !f.Duplicate {
			t.Fatalf("follow = %+v (reporter %+v)", f, rec)
		}
		again, err := e.in.Follow(e.ctx, "public", "f-1", rec.CaseNo, "device-2", "198.51.100.2")
		if err != nil || !again.Replayed || again.Code != f.Code {
			t.Fatalf("follow retry = %+v, %v", again, err)
		}
		_, err = e.in.Follow(e.ctx, "public", "f-1", "2026-999999", "device-2", "")
		wantErr(t, err, apperr.Conflict, "intake.key_reused")
		if n := e.count(`SELECT COUNT(*) FROM receipts WHERE case_id = ? AND kind = 'follower' AND reward_eligible = FALSE`, rec.CaseID); n != 1 {
			t.Errorf("follower receipts = %d", n)
		}
		tr, err := e.in.Track(e.ctx, f.Code)
		if err != nil || tr.Kind != intake.KindFollower || tr.Case.No != rec.CaseNo {
			t.Fatalf("track follower = %+v, %v", tr, err)
		}

		_, err = e.in.Follow(e.ctx, "public", "", "2026-999999", "device-2", "")
		wantErr(t, err, apperr.NotFound, "case.not_found")

		closedRec, _ := e.closed("已处理的问题")
		_, err = e.in.Follow(e.ctx, "public", "f-2", closedRec.CaseNo, "device-2", "")
		wantErr(t, err, apperr.Conflict, "intake.follow_closed")
		if n := e.count(`SELECT COUNT(*) FROM idempotency_keys WHERE key = 'f-2'`); n != 0 {
			t.Errorf("a refused follow kept its key")
		}
		if n := e.count(`SELECT COUNT(*) FROM events WHERE action = 'citizen.follow' AND case_id = ?`, rec.CaseID); n != 1 {
			t.Errorf("citizen.follow events = %d", n)
		}
	})
}

func TestTrack(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		rec := e.submit(intake.Submission{Case: e.report("路边暴露垃圾")})
		type step struct {
			done, current bool
			at            bool // has a time
		}
		check := func(what string, state workflow.State, want [5]step) *intake.Track {
			t.Helper()
			// Typed as people type it.
			typed := strings.ToLower(rec.Code[:5]) + "-" + strings.ToLower(rec.Code[5:])
			tr, err := e.in.Track(e.ctx, typed)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if tr.Code != rec.Code || tr.Kind != intake.KindReporter || tr.Case.State != state || tr.Case.No != rec.CaseNo {
				t.Fatalf("%s: track = %+v", what, tr)
			}
			if tr.Case.Reporter != nil {
				t.Fatalf("%s: the reporter is on the public page: %+v", what, tr.Case.Reporter)
			}
			keys := []string{"received", "accepted", "handling", "verifying", "closed"}
			if len(tr.Steps) != 5 {
				t.Fatalf("%s: steps = %+v", what, tr.Steps)
			}
			for i, s := range tr.Steps {
				if s.Key != keys[i] || s.Done != want[i].done || s.Current != want[i].current || s.At.IsZero() == want[i].at {
					t.Errorf("%s: step %d = %+v, want %s %+v", what, i, s, keys[i], want[i])
				}
			}
			return tr
		}
		cur := step{current: true, at: true}
		done := step{done: true, at: true}
		tr := check("reported", workflow.Reported, [5]step{cur, {}, {}, {}, {}})
		if !tr.Steps[0].At.Equal(tr.Case.ReportedAt) || tr.CanRate {
			t.Errorf("reported: %+v", tr)
		}
		e.act(e.acceptor, rec.CaseID, workflow.ActInput{Action: workflow.Accept})
		check("accepted", workflow.Accepted, [5]step{done, cur, {}, {}, {}})
		e.act(e.acceptor, rec.CaseID, workflow.ActInput{Action: workflow.Dispatch, LeadUnitID: e.unitA.ID})
		check("dispatched", workflow.Dispatched, [5]step{done, done, cur, {}, {}})
		e.act(e.handler, rec.CaseID, workflow.ActInput{Action: workflow.Acknowledge})
		check("in progress", workflow.InProgress, [5]step{done, done, cur, {}, {}})
		fb := e.act(e.handler, rec.CaseID, workflow.ActInput{Action: workflow.Feedback, Opinion: "已清理", Photos: []photo.File{e.upload(3)}})
		tr = check("verifying", workflow.Verifying, [5]step{done, done, done, cur, {}})
		if !tr.Steps[3].At.Equal(fb.UpdatedAt) {
			t.Errorf("verifying since %s, feedback at %s", tr.Steps[3].At, fb.UpdatedAt)
		}
		cl := e.act(e.inspector, rec.CaseID, workflow.ActInput{Action: workflow.VerifyPass})
		tr = check("closed", workflow.Closed, [5]step{done, done, done, done, done})
		if !tr.Steps[4].At.Equal(cl.ClosedAt) || !tr.CanRate || tr.Rating != "" || tr.MergedInto != "" {
			t.Errorf("closed: %+v", tr)
		}

		for _, bad := range []string{"", "ABC", "ABCDEFGHJK", "0000000000"} {
			_, err := e.in.Track(e.ctx, bad)
			wantErr(t, err, apperr.NotFound, "intake.receipt_not_found")
		}

		// A merged duplicate's receipt follows the case it was merged into.
		a := e.submit(intake.Submission{Case: e.report("井盖缺失")})
		b := e.submit(intake.Submission{Case: e.report("井盖缺失，很危险")})
		e.act(e.acceptor, b.CaseID, workflow.ActInput{Action: workflow.Merge, MergeInto: a.CaseID})
		tb, err := e.in.Track(e.ctx, b.Code)
		if err != nil {
			t.Fatal(err)
		}
		if tb.MergedInto != a.CaseNo || tb.Case.No != a.CaseNo || tb.Case.State != workflow.Reported || tb.Case.Reporter != nil {
			t.Errorf("merged track = %+v, case %+v", tb, tb.Case)
		}
		if tb.Case.Description != "井盖缺失" {
			t.Errorf("merged track shows %q", tb.Case.Description)
		}
	})
}

func TestRate(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)

		// Not closed yet.
		open := e.submit(intake.Submission{Case: e.report("未办结")})
		wantErr(t, e.in.Rate(e.ctx, open.Code, intake.Satisfied, ""), apperr.Conflict, "intake.not_closed")

		// Satisfied, once.
		rec, _ := e.closed("路边暴露垃圾")
		wantErr(t, e.in.Rate(e.ctx, rec.Code, "good", ""), apperr.Invalid, "intake.bad_rating")
		wantErr(t, e.in.Rate(e.ctx, "ABCDEFGHJK", intake.Satisfied, ""), apperr.NotFound, "intake.receipt_not_found")
		wantErr(t, e.in.Rate(e.ctx, "bad", intake.Satisfied, ""), apperr.NotFound, "intake.receipt_not_found")
		e.clk.Advance(time.Minute)
		typed := strings.ToLower(rec.Code[:3]) + " - " + strings.ToLower(rec.Code[3:])
		if err := e.in.Rate(e.ctx, typed, intake.Satisfied, " 很快 "); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.in.Rate(e.ctx, rec.Code, intake.Satisfied, ""), apperr.Conflict, "intake.already_rated")
		wantErr(t, e.in.Rate(e.ctx, rec.Code, intake.Unsatisfied, "改主意了"), apperr.Conflict, "intake.already_rated")
		if st := e.caseState(rec.CaseID); st != workflow.Closed {
			t.Fatalf("satisfied rating left the case %s", st)
		}
		tr, err := e.in.Track(e.ctx, rec.Code)
		if err != nil || tr.Rating != intake.Satisfied || tr.RatingReason != "很快" || tr.CanRate || !tr.RatedAt.Equal(e.clk.Now()) {
			t.Fatalf("track after rating = %+v, %v", tr, err)
		}
		if n := e.count(`SELECT COUNT(*) FROM events WHERE action = 'citizen.rate' AND case_id = ?`, rec.CaseID); n != 1 {
			t.Errorf("citizen.rate events = %d", n)
		}

		// Unsatisfied needs a reason and reopens the case.
		rec2, _ := e.closed("绿化带垃圾")
		wantErr(t, e.in.Rate(e.ctx, rec2.Code, intake.Unsatisfied, "  "), apperr.Invalid, "intake.reason_required")
		wantErr(t, e.in.Rate(e.ctx, rec2.Code, intake.Unsatisfied, strings.Repeat("差", intake.MaxPublicDescription+1)), apperr.Invalid, "case.description_too_long")
		e.clk.Advance(time.Minute)
		const reason = "垃圾还在，只清理了一半"
		if err := e.in.Rate(e.ctx, rec2.Code, intake.Unsatisfied, reason); err != nil {
			t.Fatal(err)
		}
		c, err := e.flow.Get(e.ctx, e.acceptor, rec2.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != workflow.Accepted || !c.ClosedAt.IsZero() || c.LeadUnitID != 0 {
			t.Fatalf("after an unsatisfied rating: state %s closed %s lead %d", c.State, c.ClosedAt, c.LeadUnitID)
		}
		trail, err := e.flow.Timeline(e.ctx, e.acceptor, rec2.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		// The reopen is written first: it locks the case row before the
		// trail's head, the order every writer keeps.
		reopen, rate := trail[len(trail)-2], trail[len(trail)-1]
		if rate.Action != "citizen.rate" || rate.Opinion != reason || !strings.Contains(rate.Data, intake.Unsatisfied) {
			t.Errorf("rate event = %+v", rate)
		}
		if reopen.Action != string(workflow.Reopen) || reopen.Opinion != reason || reopen.ActorRole != string(org.RoleSystem) ||
			reopen.FromState != string(workflow.Closed) || reopen.ToState != string(workflow.Accepted) {
			t.Errorf("reopen event = %+v", reopen)
		}
		wantErr(t, e.in.Rate(e.ctx, rec2.Code, intake.Satisfied, ""), apperr.Conflict, "intake.not_closed")
		if tr, _ := e.in.Track(e.ctx, rec2.Code); tr.CanRate || tr.Case.State != workflow.Accepted {
			t.Errorf("track of the reopened case = %+v", tr)
		}

		// Closed again: the same receipt may rate the new result.
		e.handle(rec2.CaseID)
		if tr, _ := e.in.Track(e.ctx, rec2.Code); !tr.CanRate {
			t.Errorf("track after the second closure: cannot rate")
		}
		e.clk.Advance(time.Minute)
		if err := e.in.Rate(e.ctx, rec2.Code, intake.Satisfied, ""); err != nil {
			t.Fatalf("rating the second closure: %v", err)
		}
		wantErr(t, e.in.Rate(e.ctx, rec2.Code, intake.Satisfied, ""), apperr.Conflict, "intake.already_rated")
		if st := e.caseState(rec2.CaseID); st != workflow.Closed {
			t.Errorf("state = %s", st)
		}
		if n := e.count(`SELECT COUNT(*) FROM events WHERE action = 'citizen.rate' AND case_id = ?`, rec2.CaseID); n != 2 {
			t.Errorf("citizen.rate events = %d", n)
		}
		if r, err := audit.Verify(e.ctx, db); err != nil || !r.OK {
			t.Errorf("audit chain: %+v %v", r, err)
		}
	})
}

// Several taps on "satisfied" at once record one rating.
func TestRateConcurrent(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		rec, _ := e.closed("路边暴露垃圾")
		e.clk.Advance(time.Minute)
		const n = 6
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				rating, reason := intake.Satisfied, ""
				if i%2 == 1 {
					rating, reason = intake.Unsatisfied, "没处理好"
				}
				errs[i] = e.in.Rate(e.ctx, rec.Code, rating, reason)
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case apperr.CodeOf(err) == apperr.Conflict:
			default:
				t.Errorf("rate: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d ratings recorded, want 1 (%v)", ok, errs)
		}
		if n := e.count(`SELECT COUNT(*) FROM events WHERE action = 'citizen.rate'`); n != 1 {
			t.Errorf("citizen.rate events = %d", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM events WHERE action = 'reopen'`); n > 1 {
			t.Errorf("reopened %d times", n)
		}
	})
}

// The status page of a merged duplicate's receipt offers the rating of
// the case it was merged into once that case is closed; the offer must be
// one the service honours.
func TestRateMergedReceipt(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a := e.submit(intake.Submission{Case: e.report("井盖缺失")})
		b := e.submit(intake.Submission{Case: e.report("井盖缺失，很危险")})
		e.act(e.acceptor, b.CaseID, workflow.ActInput{Action: workflow.Merge, MergeInto: a.CaseID})
		e.act(e.acceptor, a.CaseID, workflow.ActInput{Action: workflow.Accept})
		e.handle(a.CaseID)
		e.clk.Advance(time.Minute)
		tr, err := e.in.Track(e.ctx, b.Code)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Case.No != a.CaseNo || tr.Case.State != workflow.Closed {
			t.Fatalf("track = %+v", tr)
		}
		err = e.in.Rate(e.ctx, b.Code, intake.Satisfied, "")
		if tr.CanRate && err != nil {
			t.Fatalf("Track offers the rating (CanRate) for the merged receipt, but Rate refuses it: %v", err)
		}
		if !tr.CanRate && err == nil {
			t.Fatalf("Rate accepted a rating that Track does not offer")
		}
	})
}

// After an unsatisfied rating reopened the case and it was closed again,
// the status page asks for a new rating; the rating of the earlier
// closure is no longer the answer to show.
func TestTrackHidesRatingOfEarlierClosure(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		rec, _ := e.closed("路边暴露垃圾")
		e.clk.Advance(time.Minute)
		if err := e.in.Rate(e.ctx, rec.Code, intake.Unsatisfied, "没清理干净"); err != nil {
			t.Fatal(err)
		}
		e.handle(rec.CaseID)
		tr, err := e.in.Track(e.ctx, rec.Code)
		if err != nil {
			t.Fatal(err)
		}
		if !tr.CanRate {
			t.Fatalf("cannot rate the second closure")
		}
		if tr.Rating != "" || tr.RatingReason != "" {
			t.Errorf("status page asks for a new rating but still shows the earlier one: %q %q", tr.Rating, tr.RatingReason)
		}
	})
}

func TestNormalizeCode(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"ABCDEFGHJK", "ABCDEFGHJK", true},
		{"abcdefghjk", "ABCDEFGHJK", true},
		{"abcde-fghjk", "ABCDEFGHJK", true},
		{"  ABCD EFGH JK ", "ABCDEFGHJK", true},
		{"ab-cd-ef-gh-jk", "ABCDEFGHJK", true},
		{"23456789XY", "23456789XY", true},
		{"", "", false},
		{"ABCDEFGHJ", "", false},
		{"ABCDEFGHJKM", "", false},
		{"ABCDEFGHJ0", "", false}, // 0 looks like O
		{"ABCDEFGHJ1", "", false},
		{"ABCDEFGHJI", "", false},
		{"ABCDEFGHJL", "", false},
		{"ABCDEFGHJO", "", false},
		{"ABCDEFGHJ_", "", false},
		{"ABCDEFGH\tJK", "", false},
		{"ＡBCDEFGHJ", "", false},
		{"查询码ABCDEFG", "", false},
	} {
		got, ok := intake.NormalizeCode(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeCode(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestFollowerRatingDoesNotReopen: anyone can follow a public case, so a
// follower's "unsatisfied" is recorded but only the reporter's reopens it.
func TestFollowerRatingDoesNotReopen(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		rec := e.submit(intake.Submission{Case: e.report("占道经营")})
		fol, err := e.in.Follow(e.ctx, "public-follow", "", rec.CaseNo, "dev-2", "")
		if err != nil {
			t.Fatal(err)
		}
		e.act(e.acceptor, rec.CaseID, workflow.ActInput{Action: workflow.Accept})
		e.handle(rec.CaseID)
		if err := e.in.Rate(e.ctx, fol.Code, intake.Unsatisfied, "还没弄好"); err != nil {
			t.Fatal(err)
		}
		if st := e.caseState(rec.CaseID); st != workflow.Closed {
			t.Fatalf("a follower's rating moved the case to %s", st)
		}
		if err := e.in.Rate(e.ctx, rec.Code, intake.Unsatisfied, "还没弄好"); err != nil {
			t.Fatal(err)
		}
		if st := e.caseState(rec.CaseID); st != workflow.Accepted {
			t.Fatalf("the reporter's rating left the case %s", st)
		}
	})
}

// TestReceiptStopsAtStaffOnlyMerge: a citizen's report merged into an
// internal (staff-only) case keeps showing the citizen's own case, and
// the receipt cannot rate or reopen the internal one.
func TestReceiptStopsAtStaffOnlyMerge(t *testing.T) {
	testcity.Both(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		internal, err := e.flow.SaveCategory(e.ctx, e.admin, workflow.Category{Code: "0199", ParentID: e.cat.ParentID, Name: "内部督办", LimitUnit: workcal.Hours, LimitNormal: 4, StaffOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		lat, lon := 30.25, 120.16
		staffCase, err := e.flow.Report(e.ctx, e.acceptor, workflow.NewCase{CategoryID: internal.ID, Description: "内部：领导交办的整治事项", Lat: &lat, Lon: &lon, RegionID: e.community.ID})
		if err != nil {
			t.Fatal(err)
		}
		rec := e.submit(intake.Submission{Case: e.report("路口垃圾")})
		e.act(e.acceptor, rec.CaseID, workflow.ActInput{Action: workflow.Merge, MergeInto: staffCase.ID})
		tr, err := e.in.Track(e.ctx, rec.Code)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Case.ID != rec.CaseID || tr.MergedInto != "" || strings.Contains(tr.Case.Description, "内部") {
			t.Fatalf("the receipt followed into the staff-only case: %+v", tr.Case)
		}
		wantErr(t, e.in.Rate(e.ctx, rec.Code, intake.Unsatisfied, "不满意"), apperr.Conflict, "intake.not_closed")
	})
}

// TestClientGoneDuringBatch: a phone that drops its connection while its
// submission waits for the writer still gets its case stored, with its
// photos: nothing deletes the originals of a case that is then written.
func TestClientGoneDuringBatch(t *testing.T) {
	db := testcity.SQLite(t)
	e := newEnv(t, db)
	photo := e.upload(77)
	// Hold SQLite's one writer, as a long transaction would.
	held, release := make(chan struct{}), make(chan struct{})
	go db.WithTx(e.ctx, func(tx *store.Tx) error {
		close(held)
		<-release
		return nil
	})
	<-held
	ctx, cancel := context.WithCancel(e.ctx)
	type result struct {
		rec intake.Receipt
		err error
	}
	done := make(chan result, 1)
	go func() {
		rec, err := e.in.Submit(ctx, org.System, intake.Submission{Scope: "public", Key: "gone", Case: e.report("断网的上报", photo)})
		done <- result{rec, err}
	}()
	time.Sleep(200 * time.Millisecond) // the submission is queued behind the writer
	cancel()                           // the phone gives up
	time.Sleep(50 * time.Millisecond)
	close(release)
	r := <-done
	if r.err != nil {
		t.Fatalf("submit after the client left: %v", r.err)
	}
	if n := e.count(`SELECT count(*) FROM cases WHERE no = ?`, r.rec.CaseNo); n != 1 {
		t.Fatalf("case stored %d times", n)
	}
	if !e.blobExists(photo.Path) {
		t.Fatal("the stored case's original photo was deleted")
	}
}
