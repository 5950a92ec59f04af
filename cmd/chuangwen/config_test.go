package main

import (
	"fmt"
	"io"
	"os"
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

// TestTwoFactorFlag: administrators and acceptors by default, "none" for
// no one, an unknown role refused; given is remembered (serve --demo
// turns the default off, not a choice).
func TestTwoFactorFlag(t *testing.T) {
	t.Setenv("CHUANGWEN_TWO_FACTOR", "")
	os.Unsetenv("CHUANGWEN_TWO_FACTOR")
	c, err := parseArgs()
	if err != nil || fmt.Sprint(c.twoFactorRoles()) != "[admin acceptor]" || c.twoFactorSet {
		t.Errorf("default: %v %v %v", c.twoFactorRoles(), c.twoFactorSet, err)
	}
	if c, err := parseArgs("--two-factor", "none"); err != nil || len(c.twoFactorRoles()) != 0 || !c.twoFactorSet {
		t.Errorf("none: %v %v", c.twoFactorRoles(), err)
	}
	if c, err := parseArgs("--two-factor", "admin, leader"); err != nil || fmt.Sprint(c.twoFactorRoles()) != "[admin leader]" {
		t.Errorf("admin, leader: %v %v", c.twoFactorRoles(), err)
	}
	if _, err := parseArgs("--two-factor", "admin,boss"); err == nil || !strings.Contains(err.Error(), "boss") {
		t.Errorf("unknown role: %v", err)
	}
}
