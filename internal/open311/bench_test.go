package open311_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"chuangwen/internal/open311"
)

// pageBackend answers every query with a full page of requests, to measure
// what the protocol layer costs per page.
type pageBackend struct {
	*memBackend
	page []open311.Request
}

func (p *pageBackend) Requests(context.Context, string, open311.Query) ([]open311.Request, error) {
	return p.page, nil
}

func BenchmarkRequestsPage(b *testing.B) {
	mem := newBackend(testNow)
	tmpl := mem.requests()[0]
	page := make([]open311.Request, open311.MaxPageSize)
	for i := range page {
		page[i] = tmpl
		page[i].ID = fmt.Sprintf("2026-%06d", i)
		page[i].Requested = testNow.Add(-time.Duration(i) * time.Minute)
	}
	h := open311.NewHandler(&pageBackend{mem, page}, prefix, testOptions())
	for _, f := range []string{"json", "xml"} {
		for _, ext := range []string{"false", "true"} {
			b.Run(f+"/extensions="+ext, func(b *testing.B) {
				target := prefix + "requests." + f + "?page_size=1000&extensions=" + ext
				var size int
				for b.Loop() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
					if w.Code != 200 {
						b.Fatal(w.Code, w.Body)
					}
					size = w.Body.Len()
				}
				b.ReportMetric(float64(size), "bytes/page")
			})
		}
	}
}

// BenchmarkLongIDList is Open311::GetUpdates' request: every open report
// of a body in one list, answered chunk by chunk.
func BenchmarkLongIDList(b *testing.B) {
	mem := newBackend(testNow)
	h := open311.NewHandler(mem, prefix, testOptions())
	ids := make([]string, 20000)
	for i := range ids {
		ids[i] = fmt.Sprintf("2026-%06d", i)
	}
	target := prefix + "requests.xml?service_request_id=" + strings.Join(ids, ",")
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body)
		}
	}
}
