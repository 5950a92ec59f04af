package ratelimit

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := New(6, time.Minute, 3) // one token every 10 s, burst 3
	l.Now = func() time.Time { return now }
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d refused within the burst", i)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait != 10*time.Second {
		t.Fatalf("4th request: ok=%v wait=%v, want refused with 10s", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key is limited by a's bucket")
	}
	now = now.Add(5 * time.Second)
	if ok, wait := l.Allow("a"); ok || wait != 5*time.Second {
		t.Fatalf("after 5s: ok=%v wait=%v", ok, wait)
	}
	now = now.Add(5 * time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("after 10s a token should be back")
	}
	// Full buckets are forgotten by the sweep.
	now = now.Add(2 * time.Minute)
	l.Allow("c")
	if n := l.Len(); n != 1 {
		t.Fatalf("after sweep %d buckets, want 1 (c)", n)
	}
}

func TestDisabled(t *testing.T) {
	l := New(0, time.Minute, 0)
	for range 100 {
		if ok, _ := l.Allow("x"); !ok {
			t.Fatal("a disabled limiter refused")
		}
	}
	var nilL *Limiter
	if ok, _ := nilL.Allow("x"); !ok {
		t.Fatal("nil limiter refused")
	}
}
