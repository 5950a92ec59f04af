package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryLinksNoTestCode: the test helpers (internal/store/storetest,
// internal/testcity) and the testing package stay out of the program.
func TestBinaryLinksNoTestCode(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on the PATH")
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
