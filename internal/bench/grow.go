package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A server that has run for a while as its data grew: cases filed through
// the real intake path (Open311 over HTTP) while the server, with all its
// background work, keeps running; the console pages timed over HTTP as
// their users open them, without a restart.

// Open311Grow files total reports without photos through Open311 POST
// requests.json from clients concurrent clients, each request of a service
// code from codes and at a point from point.
func Open311Grow(ctx context.Context, base, apiKey string, codes []string, point func(*mrand.Rand) (lat, lon float64), clients, total, seed int) LoadResult {
	hc := newHTTPClient(clients)
	return load(ctx, clients, 0, total, func(w, i int) error {
		rng := mrand.New(mrand.NewPCG(uint64(seed), uint64(i)))
		lat, lon := point(rng)
		form := url.Values{
			"api_key":      {apiKey},
			"service_code": {codes[rng.IntN(len(codes))]},
			"lat":          {strconv.FormatFloat(lat, 'f', 6, 64)},
			"long":         {strconv.FormatFloat(lon, 'f', 6, 64)},
			"description":  {fmt.Sprintf("压测上报 %d-%d：人行道上堆放杂物，影响通行", seed, i)},
		}
		req, err := http.NewRequestWithContext(ctx, "POST", base+"/open311/v2/requests.json", bytes.NewBufferString(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return send(hc, req)
	})
}

// Console is a signed-in browser session on the console.
type Console struct {
	base   string
	hc     *http.Client
	csrf   string // for the API's writes (fetchCSRF)
	unitID int64  // a handler's unit
}

// SignIn logs username in through the login form.
func SignIn(ctx context.Context, base, username, password string) (*Console, error) {
	hc, err := formSignIn(ctx, nil, base+"/login", url.Values{"username": {username}, "password": {password}})
	if err != nil {
		return nil, fmt.Errorf("login %s: %w", username, err)
	}
	return &Console{base: base, hc: hc}, nil
}

// formSignIn posts a sign-in form as a browser does and answers the
// client holding the session cookie (transport nil: the default one).
func formSignIn(ctx context.Context, transport http.RoundTripper, to string, form url.Values) (*http.Client, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Jar: jar, Timeout: time.Minute, Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, "POST", to, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	return hc, nil
}

// Time opens path reps times and returns each time to the whole page
// (status 200 and the body read), the first one first.
func (c *Console) Time(ctx context.Context, path string, reps int) ([]time.Duration, error) {
	var out []time.Duration
	for range reps {
		req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
		if err != nil {
			return nil, err
		}
		t := time.Now()
		resp, err := c.hc.Do(req)
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(t)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
		}
		out = append(out, d)
	}
	return out, nil
}

// Median is the middle of ds.
func Median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
