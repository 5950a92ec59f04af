package i18n_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"chuangwen/internal/i18n"
)

func TestCatalogue(t *testing.T) {
	c, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.T("zh-CN", "case.action_forbidden", "action", "action.dispatch", "state", "state.closed"); got != "案件当前状态为“已结案”，不能执行“派遣”" {
		t.Errorf("zh: %s", got)
	}
	if got := c.T("en", "case.action_forbidden", "action", "action.dispatch", "state", "state.closed"); got != "The case is “Closed”; “Dispatch” is not possible now" {
		t.Errorf("en: %s", got)
	}
	if got := c.T("fr", "ui.login"); got != "登录" {
		t.Errorf("unknown language falls back to Chinese: %s", got)
	}
	if got := c.T("zh-CN", "no.such.key"); got != "no.such.key" {
		t.Errorf("missing key: %s", got)
	}
	for pref, want := range map[string]string{"": "zh-CN", "en-US,en;q=0.9": "en", "zh-TW": "zh-CN", "fr-FR, en;q=0.5": "en", "de": "zh-CN"} {
		if got := c.Pick(pref); got != want {
			t.Errorf("Pick(%q) = %s, want %s", pref, got, want)
		}
	}
}

// TestEveryKeyInCodeExists finds the message keys the Go code and the
// templates use and checks each is in the catalogue, so no user ever sees
// a bare key.
func TestEveryKeyInCodeExists(t *testing.T) {
	c, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`apperr\.New\(apperr\.\w+, "([a-z_.]+)"`),
		regexp.MustCompile(`err(?:Invalid|Unauthorized)\("([a-z_.]+)"`),
		regexp.MustCompile(`\bt \.Lang "([a-z_.0-9]+)"`),
		regexp.MustCompile(`\bt \$lang "([a-z_.0-9]+)"`),
		regexp.MustCompile(`Msg\.T\([^,]+, "([a-z_.]+)"`),
	}
	seen := 0
	err = filepath.Walk("..", func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || strings.HasSuffix(path, "_test.go") {
			return err
		}
		if !strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".html") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, re := range patterns {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				seen++
				if !c.Has(m[1]) {
					t.Errorf("%s uses message key %q, missing from the catalogue", path, m[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 100 {
		t.Fatalf("found only %d key uses; the patterns no longer match the code", seen)
	}
}

// TestChinesePunctuation: Chinese text takes full-width punctuation
// (，：；？！（）). ASCII punctuation stays where it is syntax the user
// types, quoted as “…”, and in the one formula below.
func TestChinesePunctuation(t *testing.T) {
	b, err := os.ReadFile("messages.zh-CN.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	formula := map[string]bool{"webhook.ui.hint": true} // HMAC-SHA256(密钥, 时间戳 + "." + 正文)
	quoted := regexp.MustCompile(`“[^”]*”`)
	bad := regexp.MustCompile(`\p{Han} ?[,:;?!()]|[,:;?!()] ?\p{Han}`)
	for k, v := range m {
		if formula[k] {
			continue
		}
		if hit := bad.FindString(quoted.ReplaceAllString(v, "“”")); hit != "" {
			t.Errorf("%s: ASCII punctuation in Chinese text (%q): %s", k, hit, v)
		}
	}
}
