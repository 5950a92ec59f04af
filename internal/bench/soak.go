package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A soak: a server under a day's mix of work for a long time (public
// reports with photos, Open311 reports and reads, the acceptor's and the
// units' actions on the cases, the console's lists, dashboards and the
// leader's screen), reporting every interval what it answered, how fast,
// and how much memory the process holds, so that a leak, a slow creep of
// the tail or a rare error shows.

// SoakConfig is a soak's load.
type SoakConfig struct {
	Base     string
	Duration time.Duration
	// Interval is how often a row is written.
	Interval time.Duration
	// Per minute: public reports with a photo, Open311 reports, Open311
	// reads, console reads; staff rounds (each acts on up to 5 cases a step).
	PublicPerMin, Open311PerMin, Open311ReadsPerMin, ConsoleReadsPerMin, StaffRoundsPerMin int
	// The public report's category, where reports fall, the photo.
	CategoryID int64
	Center     [2]float64
	Photo      []byte
	// Open311: a key and service codes.
	Open311Key   string
	ServiceCodes []string
	// The staff: an acceptor, a leader and the units' handlers, sharing
	// one password.
	Acceptor, Leader string
	Handlers         []string
	Password         string
	// Memory reports the process's memory: the Go heap in use and the
	// resident set, in MB, and the goroutines.
	Memory func() (heapMB, rssMB float64, goroutines int)
	Out    io.Writer
	// ShowRefusals writes the first refused staff action of each row.
	ShowRefusals bool
}

// SoakRow is one interval's figures.
type SoakRow struct {
	Minute           float64
	Requests, Errors map[string]int
	P50, P99         map[string]time.Duration
	Refused          int // 4xx answers to staff actions (a case moved on between list and act)
	HeapMB, RSSMB    float64
	Goroutines       int
	Closed           int
	FirstError       string
}

// SoakResult is the whole run.
type SoakResult struct {
	Rows   []SoakRow
	Errors int
}

// soakClasses are the kinds of request a row reports, in its order.
var soakClasses = []string{"report", "open311", "o311read", "read", "staff"}

type soakStats struct {
	mu      sync.Mutex
	lat     map[string][]time.Duration
	errs    map[string]int
	first   string
	refused int
	closed  int
	refusal string // the first refusal's answer in the interval
}

func (s *soakStats) add(class string, d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errs[class]++
		if s.first == "" {
			s.first = class + ": " + strings.Join(strings.Fields(err.Error()), " ")
		}
		return
	}
	s.lat[class] = append(s.lat[class], d)
}

func (s *soakStats) take() (map[string][]time.Duration, map[string]int, string, int, int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lat, errs, first, refused, closed, refusal := s.lat, s.errs, s.first, s.refused, s.closed, s.refusal
	s.lat, s.errs, s.first, s.refused, s.closed, s.refusal = map[string][]time.Duration{}, map[string]int{}, "", 0, 0, ""
	return lat, errs, first, refused, closed, refusal
}

// refuse counts a staff action the server refused (4xx) and keeps the
// first answer.
func (s *soakStats) refuse(body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused++
	if s.refusal == "" {
		s.refusal = body
	}
}

// Soak runs the load for cfg.Duration and writes a row every interval.
func Soak(ctx context.Context, cfg SoakConfig) (SoakResult, error) {
	var res SoakResult
	st := &soakStats{lat: map[string][]time.Duration{}, errs: map[string]int{}}
	hc := newHTTPClient(16)
	acc, err := SignIn(ctx, cfg.Base, cfg.Acceptor, cfg.Password)
	if err != nil {
		return res, err
	}
	if err := acc.fetchCSRF(ctx); err != nil {
		return res, err
	}
	leader, err := SignIn(ctx, cfg.Base, cfg.Leader, cfg.Password)
	if err != nil {
		return res, err
	}
	var handlers []*Console
	for _, h := range cfg.Handlers {
		c, err := SignIn(ctx, cfg.Base, h, cfg.Password)
		if err != nil {
			return res, err
		}
		if err := c.fetchCSRF(ctx); err != nil {
			return res, err
		}
		var me struct {
			UnitID int64 `json:"unit_id"`
		}
		b, err := c.get(ctx, "/api/v1/me")
		if err == nil {
			err = json.Unmarshal(b, &me)
		}
		if err != nil {
			return res, err
		}
		c.unitID = me.UnitID
		handlers = append(handlers, c)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var wg sync.WaitGroup
	// every runs fn perMin times a minute, spread out, until the end.
	every := func(perMin int, fn func(i int)) {
		if perMin <= 0 {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(time.Minute / time.Duration(perMin))
			defer t.Stop()
			for i := 0; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				fn(i)
			}
		}()
	}
	timed := func(class string, do func() error) {
		t := time.Now()
		err := do()
		if ctx.Err() != nil {
			return // cut short by the end of the run
		}
		st.add(class, time.Since(t), err)
	}
	build := uploadRequest(ctx, cfg.Base, cfg.CategoryID, cfg.Center, cfg.Photo)
	every(cfg.PublicPerMin, func(i int) {
		timed("report", func() error {
			req, err := build(0, i)
			if err != nil {
				return err
			}
			return send(hc, req)
		})
	})
	every(cfg.Open311PerMin, func(i int) {
		timed("open311", func() error {
			rng := mrand.New(mrand.NewPCG(7, uint64(i)))
			form := url.Values{"api_key": {cfg.Open311Key}, "service_code": {cfg.ServiceCodes[rng.IntN(len(cfg.ServiceCodes))]},
				"lat":         {strconv.FormatFloat(cfg.Center[0]+(rng.Float64()-0.5)*0.02, 'f', 6, 64)},
				"long":        {strconv.FormatFloat(cfg.Center[1]+(rng.Float64()-0.5)*0.02, 'f', 6, 64)},
				"description": {fmt.Sprintf("热线转办 %d：小区门口垃圾满溢，无人清运", i)}}
			req, err := http.NewRequestWithContext(ctx, "POST", cfg.Base+"/open311/v2/requests.json", strings.NewReader(form.Encode()))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return send(hc, req)
		})
	})
	every(cfg.Open311ReadsPerMin, func(i int) {
		timed("o311read", func() error {
			path := "/open311/v2/requests.json?status=open"
			if i%2 == 1 {
				path = "/open311/v2/services.json"
			}
			req, err := http.NewRequestWithContext(ctx, "GET", cfg.Base+path, nil)
			if err != nil {
				return err
			}
			return send(hc, req)
		})
	})
	pages := []struct {
		c    *Console
		path string
	}{{acc, "/"}, {acc, "/cases?queue=to_accept"}, {acc, "/cases"}, {leader, "/leader"}, {leader, "/performance"}}
	for _, h := range handlers {
		pages = append(pages, struct {
			c    *Console
			path string
		}{h, "/cases?queue=to_handle"})
	}
	every(cfg.ConsoleReadsPerMin, func(i int) {
		p := pages[i%len(pages)]
		timed("read", func() error { _, err := p.c.Time(ctx, p.path, 1); return err })
	})
	every(cfg.StaffRoundsPerMin, func(i int) {
		soakStaffRound(ctx, st, timed, acc, handlers[i%len(handlers)], cfg.Photo)
	})

	start := time.Now()
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	fmt.Fprintf(cfg.Out, "| minute | reports | Open311 | Open311 reads | console reads | staff acts | closed | errors | report p99 ms | Open311 p99 | reads p50/p99 | staff p99 | heap MB | RSS MB | goroutines |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
			continue // the last part of an interval is not a row
		case <-tick.C:
		}
		lat, errs, first, refused, closed, refusal := st.take()
		row := SoakRow{Minute: time.Since(start).Minutes(), Requests: map[string]int{}, Errors: errs, P50: map[string]time.Duration{}, P99: map[string]time.Duration{}, Refused: refused, Closed: closed, FirstError: first}
		for _, c := range soakClasses {
			ds := lat[c]
			row.Requests[c] = len(ds)
			if len(ds) > 0 {
				slices.Sort(ds)
				row.P50[c], row.P99[c] = ds[len(ds)/2], ds[min(len(ds)-1, len(ds)*99/100)]
			}
			res.Errors += errs[c]
		}
		if cfg.Memory != nil {
			row.HeapMB, row.RSSMB, row.Goroutines = cfg.Memory()
		}
		res.Rows = append(res.Rows, row)
		nerr := 0
		for _, n := range errs {
			nerr += n
		}
		fmt.Fprintf(cfg.Out, "| %.1f | %d | %d | %d | %d | %d | %d | %d | %s | %s | %s/%s | %s | %.0f | %.0f | %d |\n", row.Minute,
			row.Requests["report"], row.Requests["open311"], row.Requests["o311read"], row.Requests["read"], row.Requests["staff"], row.Closed, nerr,
			msStr(row.P99["report"]), msStr(row.P99["open311"]), msStr(row.P50["read"]), msStr(row.P99["read"]), msStr(row.P99["staff"]), row.HeapMB, row.RSSMB, row.Goroutines)
		if first != "" {
			fmt.Fprintf(cfg.Out, "| | first error: %.200s |\n", first)
		}
		if cfg.ShowRefusals && refusal != "" {
			fmt.Fprintf(cfg.Out, "| | %d refused, first: %.200s |\n", refused, refusal)
		}
	}
	wg.Wait()
	return res, nil
}

func msStr(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

// soakStaffRound moves cases along the closed loop as the office and a
// unit do: the acceptor accepts the new reports and dispatches the
// accepted ones to the suggested units (batch), the unit's handler
// acknowledges what was dispatched to it and reports it done with a
// photo, and the acceptor verifies and closes what is waiting for it.
func soakStaffRound(ctx context.Context, st *soakStats, timed func(string, func() error), acc, h *Console, photo []byte) {
	ids := func(c *Console, state string) []int64 {
		var page struct {
			Cases []struct {
				ID   int64 `json:"id"`
				Lead int64 `json:"lead_unit_id"`
			} `json:"cases"`
		}
		var out []int64
		timed("staff", func() error {
			b, err := c.get(ctx, "/api/v1/cases?limit=5&"+state)
			if err != nil {
				return err
			}
			return json.Unmarshal(b, &page)
		})
		for _, x := range page.Cases {
			// a unit's queue also holds the cases it cooperates on,
			// where only the lead unit reports
			if c.unitID == 0 || x.Lead == c.unitID {
				out = append(out, x.ID)
			}
		}
		return out
	}
	act := func(c *Console, id int64, body map[string]any) {
		timed("staff", func() error {
			code, ans, err := c.postJSON(ctx, fmt.Sprintf("/api/v1/cases/%d/actions", id), body)
			if err == nil && code >= 400 {
				st.refuse(ans)
			}
			if err == nil && code == 200 && body["action"] == "verify_pass" {
				st.mu.Lock()
				st.closed++
				st.mu.Unlock()
			}
			return err
		})
	}
	for _, step := range []struct{ state, action string }{{"state=reported", "accept"}, {"state=accepted", "dispatch"}} {
		if list := ids(acc, step.state); len(list) > 0 {
			timed("staff", func() error {
				_, _, err := acc.postJSON(ctx, "/api/v1/cases/batch", map[string]any{"action": step.action, "ids": list})
				return err
			})
		}
	}
	for _, id := range ids(h, "queue=to_handle&state=dispatched") {
		act(h, id, map[string]any{"action": "acknowledge", "opinion": "已签收，安排人员处置"})
	}
	for _, id := range ids(h, "queue=to_handle&state=in_progress") {
		timed("staff", func() error {
			code, ans, err := h.postMultipart(ctx, fmt.Sprintf("/api/v1/cases/%d/actions", id), map[string]string{"action": "feedback", "opinion": "已清理完毕"}, photo, int(id))
			if err == nil && code >= 400 {
				st.refuse(ans)
			}
			return err
		})
	}
	for _, id := range ids(acc, "state=verifying") {
		act(acc, id, map[string]any{"action": "verify_pass", "opinion": "现场核查已整改"})
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// fetchCSRF reads the session's CSRF token from the account page, for
// the API's writes.
func (c *Console) fetchCSRF(ctx context.Context) error {
	b, err := c.get(ctx, "/password")
	if err != nil {
		return err
	}
	m := csrfField.FindSubmatch(b)
	if m == nil {
		return fmt.Errorf("no CSRF token on the account page")
	}
	c.csrf = string(m[1])
	return nil
}

func (c *Console) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %d %.200s", path, resp.StatusCode, b)
	}
	return b, err
}

// postJSON posts v and answers the status; a 5xx is an error, a 4xx is
// the caller's to judge.
func (c *Console) postJSON(ctx context.Context, path string, v any) (int, string, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return 0, "", err
	}
	return c.post(ctx, path, "application/json", body)
}

func (c *Console) postMultipart(ctx context.Context, path string, fields map[string]string, photo []byte, n int) (int, string, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("photo", "after.jpg")
	fw.Write(VaryJPEG(photo, 1<<40|uint64(n)))
	mw.Close()
	return c.post(ctx, path, mw.FormDataContentType(), body.Bytes())
}

func (c *Console) post(ctx context.Context, path, contentType string, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-CSRF-Token", c.csrf)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		return resp.StatusCode, "", fmt.Errorf("POST %s: %d %.200s", path, resp.StatusCode, b)
	}
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}
