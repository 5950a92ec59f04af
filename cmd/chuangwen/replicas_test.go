package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
	"chuangwen/internal/testcity"
	"chuangwen/internal/workflow"
)

func anys(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// replicaCity is a test city in a PostgreSQL database of its own, which
// replicas of the program started by the test share: its address, the
// test's connection to it and the city.
func replicaCity(t *testing.T) (string, *store.DB, *testcity.City) {
	t.Helper()
	pg := storetest.EmptyPostgres(t)
	ctx := context.Background()
	db, err := store.Open(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return pg, db, testcity.New(t, db)
}

// runEnv, when set in a test binary's environment, makes the binary run
// the program with these arguments (separated by \x1f) instead of the
// tests: a replica that a test can kill -9.
const runEnv = "CHUANGWEN_TEST_RUN"

// TestTwoReplicasOneKilled: two serve processes on one PostgreSQL
// database behind a round-robin proxy that, as nginx's
// proxy_next_upstream does, tries the other replica when one does not
// answer; Open311 clients file reports with idempotency keys (a phone
// retries with the same key) while one replica is killed with SIGKILL.
// Every acknowledged report is in the database exactly once, retries of
// a report the dead replica may have committed do not make a second
// case, the survivor goes on serving, both deadline watches together mark
// each late case overdue once, and the trail verifies.
func TestTwoReplicasOneKilled(t *testing.T) {
	storetest.Long(t)
	t.Parallel()
	pg, db, city := replicaCity(t)
	ctx := context.Background()
	// Ten cases dispatched on the city's clock, ten days ago: both
	// replicas' deadline watches find them overdue, and each must be
	// marked once.
	var late []int64
	for i := range 10 {
		c, err := city.Flow.Report(ctx, city.Acceptor, workflow.NewCase{Source: workflow.SourceCitizen, CategoryID: city.Cat4h.ID,
			Description: fmt.Sprintf("逾期测试 %d：路边暴露垃圾", i), RegionID: city.Community1.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range []workflow.ActInput{{Action: workflow.Accept}, {Action: workflow.Dispatch, LeadUnitID: city.UnitA.ID}} {
			if _, err := city.Flow.Act(ctx, city.Acceptor, c.ID, in); err != nil {
				t.Fatal(err)
			}
		}
		late = append(late, c.ID)
	}
	data := t.TempDir() // the photos' folder both replicas share
	res, err := runCmd(t, "token", "create", "--db", pg, "--data", data, "--name", "热线")
	if err != nil {
		t.Fatal(err, res)
	}
	key := lastLine(res)

	replica := func(name string) (*exec.Cmd, string) {
		cmd, url, _ := startServe(t, name, "--db", pg, "--data", data,
			"--log-level", "error", "--public-reports-per-hour", "0", "--public-reads-per-minute", "0", "--watch-interval", "1s")
		return cmd, url
	}
	a, aURL := replica("a")
	_, bURL := replica("b")

	// The proxy: round robin, the next replica on a connection error.
	backends := []string{aURL, bURL}
	var next atomic.Int64
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		start := int(next.Add(1))
		for i := range backends {
			req, _ := http.NewRequestWithContext(r.Context(), r.Method, backends[(start+i)%len(backends)]+r.URL.RequestURI(), bytes.NewReader(body))
			req.Header = r.Header.Clone()
			resp, err := tr.RoundTrip(req)
			if err != nil {
				continue // that replica is gone: the next one
			}
			defer resp.Body.Close()
			for k, v := range resp.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, resp.Body)
			return
		}
		http.Error(w, "no replica answered", http.StatusBadGateway)
	}))
	defer proxy.Close()

	load := startReportLoad(t, 4, proxy.URL, key, city.Cat4h.Code, "双副本压测")
	load.waitFor(40, time.Minute)
	if err := a.Process.Kill(); err != nil { // SIGKILL, mid-load
		t.Fatal(err)
	}
	killedAt := load.count()
	load.waitFor(killedAt+60, time.Minute)
	load.finish()
	if t.Failed() {
		return
	}
	if load.count() < killedAt+60 {
		t.Fatalf("%d reports acknowledged after the kill, want 60: the survivor did not take the load", load.count()-killedAt)
	}
	t.Logf("%d reports acknowledged, %d before the kill; %d retries", load.count(), killedAt, load.failures.Load())
	load.checkOnce(db)
	// The deadline watch ran on both replicas (every second) and marked
	// each late case overdue once.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var marked int
		if err := db.Reader().QueryRow(ctx, `SELECT count(DISTINCT case_id) FROM events WHERE action = 'overdue' AND case_id IN `+store.In(len(late)), anys(late)...).Scan(&marked); err != nil {
			t.Fatal(err)
		}
		if marked == len(late) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d late cases marked overdue", marked, len(late))
		}
	}
	time.Sleep(2 * time.Second) // a few more rounds of the survivor's watch
	var twice int
	if err := db.Reader().QueryRow(ctx, `SELECT count(*) FROM (SELECT case_id FROM events WHERE action = 'overdue' GROUP BY case_id HAVING count(*) > 1) x`).Scan(&twice); err != nil {
		t.Fatal(err)
	}
	if twice > 0 {
		t.Errorf("%d cases marked overdue more than once by the two watches", twice)
	}
	if res, err := runCmd(t, "audit", "verify", "--db", pg, "--data", data); err != nil || !strings.HasPrefix(res, "OK:") {
		t.Errorf("audit verify: %v %s", err, res)
	}
	var ee *exec.ExitError
	if err := a.Wait(); !errors.As(err, &ee) {
		t.Errorf("the killed replica: %v", err)
	}
}
