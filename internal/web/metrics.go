package web

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// metrics keeps request counters and latency histograms per route pattern
// and writes them in the Prometheus text format. A hand-written exposition
// of two metric families is smaller than the client library it replaces.
type metrics struct {
	mu       sync.Mutex
	requests map[[2]string]uint64 // pattern, status class
	hist     map[string]*histogram
}

var buckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

type histogram struct {
	counts []uint64
	sum    float64
	n      uint64
}

func newMetrics() *metrics {
	return &metrics{requests: map[[2]string]uint64{}, hist: map[string]*histogram{}}
}

func (m *metrics) observe(pattern string, status int, d time.Duration) {
	if pattern == "" {
		pattern = "unmatched"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[2]string{pattern, fmt.Sprint(status)}]++
	h := m.hist[pattern]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(buckets))}
		m.hist[pattern] = h
	}
	sec := d.Seconds()
	for i, b := range buckets {
		if sec <= b {
			h.counts[i]++
		}
	}
	h.sum += sec
	h.n++
}

func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintln(w, "# HELP chuangwen_http_requests_total HTTP requests by route pattern and status.")
	fmt.Fprintln(w, "# TYPE chuangwen_http_requests_total counter")
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	for _, k := range keys {
		fmt.Fprintf(w, "chuangwen_http_requests_total{route=%q,status=%q} %d\n", k[0], k[1], m.requests[k])
	}
	fmt.Fprintln(w, "# HELP chuangwen_http_request_duration_seconds HTTP request latency by route pattern.")
	fmt.Fprintln(w, "# TYPE chuangwen_http_request_duration_seconds histogram")
	pats := make([]string, 0, len(m.hist))
	for p := range m.hist {
		pats = append(pats, p)
	}
	sort.Strings(pats)
	for _, p := range pats {
		h := m.hist[p]
		for i, b := range buckets {
			fmt.Fprintf(w, "chuangwen_http_request_duration_seconds_bucket{route=%q,le=\"%g\"} %d\n", p, b, h.counts[i])
		}
		fmt.Fprintf(w, "chuangwen_http_request_duration_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", p, h.n)
		fmt.Fprintf(w, "chuangwen_http_request_duration_seconds_sum{route=%q} %g\n", p, h.sum)
		fmt.Fprintf(w, "chuangwen_http_request_duration_seconds_count{route=%q} %d\n", p, h.n)
	}
}
