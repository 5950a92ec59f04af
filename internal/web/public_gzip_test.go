package web_test

import (
	"compress/gzip"
	"encoding/json"
	"net/http"
	"testing"

	"chuangwen/internal/testcity"
)

// TestPublicGridGzipped: the offline map's cells come gzipped to a client
// that accepts it (a phone on a slow network), plain to one that does not.
func TestPublicGridGzipped(t *testing.T) {
	f := newFixture(t, testcity.SQLite(t))
	url := f.url + "/api/v1/public/grid?bbox=102.69,24.99,102.71,25.01"
	get := func(enc string) *http.Response {
		req, _ := http.NewRequest("GET", url, nil)
		// Set explicitly, the header stops the transport from
		// decompressing on its own.
		req.Header.Set("Accept-Encoding", enc)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	res := get("gzip, deflate")
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Vary") == "" {
		t.Fatalf("gzip accepted: %d, Content-Encoding %q, Vary %q", res.StatusCode, res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(zr).Decode(&fc); err != nil || fc.Type != "FeatureCollection" || len(fc.Features) != 9 {
		t.Fatalf("gzipped cells: %v, %s with %d features", err, fc.Type, len(fc.Features))
	}
	res = get("identity")
	if res.Header.Get("Content-Encoding") != "" {
		t.Fatalf("identity asked, %q sent", res.Header.Get("Content-Encoding"))
	}
	if err := json.NewDecoder(res.Body).Decode(&fc); err != nil || len(fc.Features) != 9 {
		t.Fatalf("plain cells: %v, %d features", err, len(fc.Features))
	}
}
