//go:build !unix

package imaging

import "time"

func processCPU() time.Duration { return 0 }
