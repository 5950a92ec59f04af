package photo

import (
	"runtime"
	"syscall"
)

// lowerPriority pins the calling goroutine to its OS thread and gives that
// thread the lowest CPU priority (nice 19), so that image work runs on
// whatever the request handlers leave over. Linux applies nice per thread.
// The thread stays locked for the goroutine's life, and the runtime
// retires it when the goroutine ends.
func lowerPriority() {
	runtime.LockOSThread()
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 19)
}
