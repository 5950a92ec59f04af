package web

import (
	"net/http/httptest"
	"testing"
)

func TestClientIPAndLimitKey(t *testing.T) {
	s := &Server{}
	r := httptest.NewRequest("GET", "/report", nil)
	r.RemoteAddr = "127.0.0.1:5555"
	r.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.7")
	if got := s.clientIP(r); got != "127.0.0.1" {
		t.Errorf("without TrustProxy the header counts: %s", got)
	}
	s.TrustProxy = true
	if got := s.clientIP(r); got != "198.51.100.7" {
		t.Errorf("behind a trusted proxy: %s, want the last forwarded address", got)
	}
	r.Header.Set("X-Real-IP", "192.0.2.4")
	if got := s.clientIP(r); got != "192.0.2.4" {
		t.Errorf("X-Real-IP: %s", got)
	}
	r.RemoteAddr = "203.0.113.50:443" // a public peer is not our proxy
	if got := s.clientIP(r); got != "203.0.113.50" {
		t.Errorf("an untrusted peer's header was believed: %s", got)
	}
	for in, want := range map[string]string{
		"198.51.100.7":               "198.51.100.7",
		"2001:db8:1:2:aaaa::1":       "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff:0:9": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":            "2001:db8:1:3::/64",
		"not-an-address":             "not-an-address",
	} {
		if got := limitKey(in); got != want {
			t.Errorf("limitKey(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestLogPathHidesReceipts(t *testing.T) {
	for in, want := range map[string]string{
		"/track/K7M2Q9XD4P":                  "/track/…",
		"/track/K7M2Q9XD4P/rate":             "/track/…/rate",
		"/track/K7M2Q9XD4P/photos/3/thumb":   "/track/…/photos/3/thumb",
		"/open311/v2/tokens/K7M2Q9XD4P.json": "/open311/v2/tokens/…",
		"/track":                             "/track",
		"/cases/12":                          "/cases/12",
	} {
		if got := logPath(in); got != want {
			t.Errorf("logPath(%s) = %s, want %s", in, got, want)
		}
	}
}
