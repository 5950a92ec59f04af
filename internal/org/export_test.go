package org

import "time"

// HashPeak is the most argon2id computations that have run at once, and
// HashSlots how many may.
func HashPeak() int64 { return hashPeak.Load() }
func HashSlots() int  { return cap(hashSlots) }

// SetHashWait sets how long an attempt waits for a slot, until the test
// ends.
func SetHashWait(d time.Duration) (restore func()) {
	old := hashWait
	hashWait = d
	return func() { hashWait = old }
}
