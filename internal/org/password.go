package org

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"

	"chuangwen/internal/apperr"
)

// PasswordCost is argon2id's cost for new hashes: passes and memory. The
// zero value is OWASP's baseline (2 passes, 19 MiB, 1 lane). The cost is
// stored with each hash, so raising it later re-hashes nobody, and a hash
// made at another cost still checks.
type PasswordCost struct {
	Time      uint32
	MemoryKiB uint32
}

// DefaultPasswordCost is the cost production hashes are made at.
var DefaultPasswordCost = PasswordCost{Time: 2, MemoryKiB: 19 * 1024}

const (
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns an encoded argon2id hash of pw at the default cost.
func HashPassword(pw string) (string, error) {
	return DefaultPasswordCost.Hash(pw)
}

// Hash returns an encoded argon2id hash of pw at cost c (the default when
// c is zero).
func (c PasswordCost) Hash(pw string) (string, error) {
	if c.Time == 0 || c.MemoryKiB == 0 {
		c = DefaultPasswordCost
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, c.Time, c.MemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", c.MemoryKiB, c.Time, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches the encoded hash.
func CheckPassword(encoded, pw string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when the user does not exist, so that a
// login attempt takes as long for a missing user as for a wrong password:
// it is made at the store's cost, once, when first needed.
func (s *Store) dummyHash() string {
	s.dummyOnce.Do(func() { s.dummy, _ = s.PasswordCost.Hash("not-a-real-password") })
	return s.dummy
}

// CheckPasswordPolicy returns a message key when pw is too weak.
func CheckPasswordPolicy(pw string) string {
	if len([]rune(pw)) < 10 {
		return "password.too_short"
	}
	var lower, upper, digit, other bool
	for _, r := range pw {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			other = true
		}
	}
	kinds := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			kinds++
		}
	}
	if kinds < 3 {
		return "password.too_simple"
	}
	return ""
}

// RandomToken returns n random bytes, URL-safe base64 encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // the OS random source does not fail on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashSlots bounds the argon2id computations running at once in the
// process. Each holds its memory cost (19 MiB) for the whole computation:
// 32 parallel logins for unknown users took a process from 41 to 634 MB.
// One slot a core keeps every core busy and the memory at a few slots'
// worth; attempts beyond them wait their turn, up to hashWait.
var hashSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// hashWait is how long an attempt waits for a slot before the answer is
// 429: a burst of logins at nine in the morning queues for a moment, a
// flood is refused without costing memory.
var hashWait = 3 * time.Second

// hashRunning and hashPeak count the computations in their slots (the
// peak is for the tests).
var hashRunning, hashPeak atomic.Int64

// withHashSlot runs fn (an argon2id computation) in a slot of hashSlots.
func withHashSlot(ctx context.Context, fn func()) error {
	t := time.NewTimer(hashWait)
	defer t.Stop()
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return apperr.New(apperr.RateLimited, "login.busy")
	}
	n := hashRunning.Add(1)
	for p := hashPeak.Load(); n > p && !hashPeak.CompareAndSwap(p, n); p = hashPeak.Load() {
	}
	defer func() { hashRunning.Add(-1); <-hashSlots }()
	fn()
	return nil
}

// hash is c.Hash in a slot of hashSlots.
func (c PasswordCost) hash(ctx context.Context, pw string) (h string, err error) {
	if serr := withHashSlot(ctx, func() { h, err = c.Hash(pw) }); serr != nil {
		return "", serr
	}
	return h, err
}
