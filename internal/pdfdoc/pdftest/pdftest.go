// Package pdftest reads PDFs back in tests: their text through
// pdftotext and their fonts through pdffonts (Debian poppler-utils).
// Without the tools a test skips, unless CHUANGWEN_REQUIRE_PDFTOOLS is
// set (CI sets it and installs them), when it fails.
package pdftest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Read returns the PDF's text (laid out as on the page) and its font
// list.
func Read(t testing.TB, pdf []byte) (text, fonts string) {
	t.Helper()
	for _, tool := range []string{"pdftotext", "pdffonts"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CHUANGWEN_REQUIRE_PDFTOOLS") != "" {
				t.Fatalf("%s not installed (apt-get install poppler-utils)", tool)
			}
			t.Skipf("%s not installed (apt-get install poppler-utils); CI installs it", tool)
		}
	}
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	f, err := exec.Command("pdffonts", path).Output()
	if err != nil {
		t.Fatalf("pdffonts: %v", err)
	}
	return string(out), string(f)
}

var space = regexp.MustCompile(`\s+`)

// Contains tells whether text holds want, ignoring white space (pdftotext
// spaces a line out to its layout).
func Contains(text, want string) bool {
	return strings.Contains(space.ReplaceAllString(text, ""), space.ReplaceAllString(want, ""))
}

// Embedded tells whether the fonts list shows font embedded as a subset
// (the emb and sub columns both yes).
func Embedded(fonts, font string) bool {
	for _, line := range strings.Split(fonts, "\n") {
		if strings.Contains(line, "+"+font) && strings.Contains(line, " yes yes ") {
			return true
		}
	}
	return false
}
