package main

import (
	"io"
	"strings"
	"testing"
)

// TestProxyHeaderFlag: --proxy-header defaults to X-Forwarded-For, takes
// another header's name, and refuses what cannot be a header name.
// parseArgs reads serve's flags and validates them, as withApp does.
func parseArgs(args ...string) (Config, error) {
	c, _, err := parseConfig("serve", args, io.Discard, nil)
	return c, err
}

func TestProxyHeaderFlag(t *testing.T) {
	parse := parseArgs
	if c, err := parse(); err != nil || c.ProxyHeader != "X-Forwarded-For" {
		t.Errorf("default: %q, %v", c.ProxyHeader, err)
	}
	if c, err := parse("--trust-proxy", "--proxy-header", "X-Real-IP"); err != nil || c.ProxyHeader != "X-Real-IP" || !c.TrustProxy {
		t.Errorf("X-Real-IP: %+v, %v", c, err)
	}
	for _, bad := range []string{"", "X Real IP", "X-Real-IP:", "X-Forwarded-For\r\nX"} {
		if _, err := parse("--proxy-header", bad); err == nil || !strings.Contains(err.Error(), "--proxy-header") {
			t.Errorf("--proxy-header %q: %v", bad, err)
		}
	}
}

// TestPublicURLFlag: the address printed in QR codes and certificates is
// a scheme and a host, nothing else.
func TestPublicURLFlag(t *testing.T) {
	parse := parseArgs
	for _, good := range []string{"", "https://cw.example.gov.cn", "http://10.0.0.5:8080/"} {
		if c, err := parse("--public-url", good); err != nil || c.PublicURL != good {
			t.Errorf("--public-url %q: %v", good, err)
		}
	}
	for _, bad := range []string{"cw.example.gov.cn", "ftp://cw.example.gov.cn", "https://cw.example.gov.cn/app", "https://cw.example.gov.cn/?x=1", "https://"} {
		if _, err := parse("--public-url", bad); err == nil || !strings.Contains(err.Error(), "--public-url") {
			t.Errorf("--public-url %q: %v", bad, err)
		}
	}
}
