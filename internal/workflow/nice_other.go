//go:build !linux

package workflow

// lowerPriority is a no-op where threads have no priority of their own.
func lowerPriority() {}
