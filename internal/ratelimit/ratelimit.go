// Package ratelimit keeps token buckets per client key (an address, a
// device) for the public endpoints. The buckets live in memory: each
// replica limits on its own, which bounds abuse per replica; the abuse
// switch (blocklist) in the database is shared.
package ratelimit

import (
	"math"
	"sync"
	"time"
)

// Limiter allows Burst requests at once and Rate per second after that,
// per key. A zero Rate disables the limiter.
type Limiter struct {
	Rate  float64
	Burst float64
	Now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// New returns a limiter allowing n requests per period with the given burst.
func New(n int, per time.Duration, burst int) *Limiter {
	if n <= 0 || per <= 0 {
		return &Limiter{}
	}
	return &Limiter{Rate: float64(n) / per.Seconds(), Burst: float64(max(burst, 1)), buckets: map[string]*bucket{}}
}

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Allow takes one token for key. When none is left it returns false and
// how long until one is.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l == nil || l.Rate <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	if now.Sub(l.swept) > time.Minute {
		l.sweep(now)
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.Burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.Burst, b.tokens+now.Sub(b.at).Seconds()*l.Rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.Rate * float64(time.Second))
	return false, wait
}

// sweep forgets buckets that have refilled completely: they behave
// exactly like absent ones.
func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.Rate >= l.Burst {
			delete(l.buckets, k)
		}
	}
	l.swept = now
}

// Len returns the number of keys tracked (for tests and metrics).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
