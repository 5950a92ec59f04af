package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chuangwen/internal/store"
)

// reportLoad is Open311 clients filing reports against a server while a
// test breaks something under them: each report has its idempotency key,
// and a failed or unanswered request is sent again with the same key
// (as a phone or a partner system does) until it is acknowledged.
type reportLoad struct {
	t        *testing.T
	desc     string // the reports' descriptions start with it
	mu       sync.Mutex
	acks     []reportAck
	failures atomic.Int64
	stop     chan struct{}
	wg       sync.WaitGroup
}

type reportAck struct{ key, id string }

// startReportLoad starts clients filing reports to base+/open311/v2/
// with the api key, in the category with code, described as desc.
func startReportLoad(t *testing.T, clients int, base, key, code, desc string) *reportLoad {
	l := &reportLoad{t: t, desc: desc, stop: make(chan struct{})}
	hc := &http.Client{Timeout: 30 * time.Second}
	for w := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				k := fmt.Sprintf("%s-%d-%d", t.Name(), w, i)
				form := url.Values{"api_key": {key}, "service_code": {code}, "lat": {"25.0"}, "long": {"102.7"},
					"description": {fmt.Sprintf("%s %d-%d：路边垃圾堆积", desc, w, i)}}
				for attempt := 0; ; attempt++ {
					if attempt > 0 {
						l.failures.Add(1)
						time.Sleep(50 * time.Millisecond)
					}
					req, _ := http.NewRequest("POST", base+"/open311/v2/requests.json", strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("Idempotency-Key", k)
					resp, err := hc.Do(req)
					if err != nil {
						continue
					}
					var out []struct {
						ID string `json:"service_request_id"`
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode >= 500 {
						continue
					}
					if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil || len(out) != 1 || out[0].ID == "" {
						t.Errorf("report %s: %d %s", k, resp.StatusCode, b)
						return
					}
					l.mu.Lock()
					l.acks = append(l.acks, reportAck{k, out[0].ID})
					l.mu.Unlock()
					break
				}
			}
		}()
	}
	return l
}

// count is how many reports have been acknowledged so far.
func (l *reportLoad) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acks)
}

// waitFor waits until n reports are acknowledged, or within has passed.
func (l *reportLoad) waitFor(n int, within time.Duration) {
	for deadline := time.Now().Add(within); l.count() < n && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
	}
}

// finish stops the clients and waits for them.
func (l *reportLoad) finish() {
	close(l.stop)
	l.wg.Wait()
}

// checkOnce checks that every acknowledged report is a case in db exactly
// once, and that no report made a case without an acknowledgement.
func (l *reportLoad) checkOnce(db *store.DB) {
	t := l.t
	t.Helper()
	ctx := t.Context()
	seen := map[string]string{}
	for _, x := range l.acks {
		if prev, ok := seen[x.id]; ok {
			t.Errorf("case %s acknowledged for two reports, %s and %s", x.id, prev, x.key)
		}
		seen[x.id] = x.key
		var n int
		if err := db.Reader().QueryRow(ctx, `SELECT count(*) FROM cases WHERE no = ?`, x.id).Scan(&n); err != nil || n != 1 {
			t.Errorf("acknowledged case %s (%s): %d rows, %v", x.id, x.key, n, err)
		}
	}
	var cases int
	if err := db.Reader().QueryRow(ctx, `SELECT count(*) FROM cases WHERE description LIKE ?`, l.desc+" %").Scan(&cases); err != nil {
		t.Fatal(err)
	}
	if cases != len(l.acks) {
		t.Errorf("%d cases filed for %d acknowledged reports (a retry made a second case, or one was lost)", cases, len(l.acks))
	}
}

// startServe runs the program's serve command (this test binary, through
// runEnv) with args and a free loopback address, waits until it answers
// /healthz, and kills it when the test ends, printing its log if the
// test failed. It returns the process, its base URL and its log.
func startServe(t *testing.T, name string, args ...string) (*exec.Cmd, string, *syncBuffer) {
	t.Helper()
	cmd, url, logs := launchServe(t, name, args...)
	waitServe(t, name, url, logs)
	return cmd, url, logs
}

// launchServe starts the serve command as startServe does, without
// waiting for it to answer (several replicas that start together).
func launchServe(t *testing.T, name string, args ...string) (*exec.Cmd, string, *syncBuffer) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), runEnv+"="+strings.Join(append(append([]string{"serve"}, args...), "--addr", addr), "\x1f"))
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("serve %s: %s", name, logs.String())
		}
	})
	return cmd, "http://" + addr, logs
}

// waitServe waits until the server at url answers /healthz.
func waitServe(t *testing.T, name, url string, logs *syncBuffer) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get(url + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve %s did not answer: %s", name, logs.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the process's writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
