package open311_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestMessages: every message key the package's code uses has a text in
// both languages, and both languages have the same keys with the same
// placeholders (the application's catalogue takes these files as they are).
func TestMessages(t *testing.T) {
	raw, err := os.ReadFile("messages.json")
	if err != nil {
		t.Fatal(err)
	}
	var cat map[string]map[string]string
	if err := json.Unmarshal(raw, &cat); err != nil {
		t.Fatal(err)
	}
	zh, en := cat["zh-CN"], cat["en"]
	if len(cat) != 2 || zh == nil || en == nil {
		t.Fatalf("languages %v, want zh-CN and en", slices.Collect(maps.Keys(cat)))
	}
	placeholder := regexp.MustCompile(`\{[a-z_]+\}`)
	for k, v := range zh {
		if !strings.HasPrefix(k, "open311.") {
			t.Errorf("key %s lacks the open311. prefix", k)
		}
		e, ok := en[k]
		if !ok {
			t.Errorf("%s has no English text", k)
			continue
		}
		a, b := placeholder.FindAllString(v, -1), placeholder.FindAllString(e, -1)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Errorf("%s: placeholders %v in zh-CN, %v in en", k, a, b)
		}
	}
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("%s has no Chinese text", k)
		}
	}

	files, _ := filepath.Glob("*.go")
	used := map[string]bool{}
	literal := regexp.MustCompile(`"(open311\.[a-z_]+)"`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
			used[m[1]] = true
			if _, ok := zh[m[1]]; !ok {
				t.Errorf("%s uses %s, which has no text", f, m[1])
			}
		}
	}
	for k := range zh {
		if !used[k] {
			t.Errorf("%s is not used by the code", k)
		}
	}
}
