//go:build unix

package assess_test

import (
	"syscall"
	"time"
)

// cpuTime is the process's CPU time so far (user and system), for the
// benchmarks to report beside the wall time when other work shares the
// machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
