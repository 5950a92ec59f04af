package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryLinksNoTestCode: the test helpers (internal/store/storetest,
// internal/testcity) and the testing package stay out of the program.
func TestBinaryLinksNoTestCode(t *testing.T) {
	// go test runs from the go command, so it is on the PATH wherever
	// these tests run; its absence is a broken setup, not a reason to skip.
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on the PATH: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "testing" || strings.HasPrefix(pkg, "testing/") || pkg == "chuangwen/internal/testcity" || strings.HasPrefix(pkg, "chuangwen/internal/store/storetest") {
			t.Errorf("the program links %s", pkg)
		}
	}
}
