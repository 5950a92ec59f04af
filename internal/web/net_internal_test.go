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
	// A client-sent X-Real-IP does not outrank the proxy's header.
	r.Header.Set("X-Real-IP", "192.0.2.4")
	if got := s.clientIP(r); got != "198.51.100.7" {
		t.Errorf("X-Real-IP beside X-Forwarded-For: %s, want the proxy's hop", got)
	}
	// A proxy that adds its hop as a line of its own: the last line's
	// last hop, not the client's first line.
	r.Header.Add("X-Forwarded-For", "198.51.100.8")
	if got := s.clientIP(r); got != "198.51.100.8" {
		t.Errorf("two X-Forwarded-For lines: %s, want the last line's hop", got)
	}
	// The operator names X-Real-IP (the proxy sets it, replacing the
	// client's): then only that header counts.
	s.ProxyHeader = "X-Real-IP"
	if got := s.clientIP(r); got != "192.0.2.4" {
		t.Errorf("ProxyHeader X-Real-IP: %s", got)
	}
	r.Header.Del("X-Real-IP")
	if got := s.clientIP(r); got != "127.0.0.1" {
		t.Errorf("ProxyHeader X-Real-IP missing: %s, want the peer (X-Forwarded-For is not read)", got)
	}
	r.Header.Set("X-Real-IP", "192.0.2.4")
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
