package backup

import (
	"testing"

	"chuangwen/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }
