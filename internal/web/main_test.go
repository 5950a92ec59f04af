package web_test

import (
	"testing"

	"chuangwen/internal/store/storetest"
)

// TestMain stops the shared browser and drops the PostgreSQL test
// databases when the tests are done.
func TestMain(m *testing.M) { storetest.Main(m, stopBrowser) }
