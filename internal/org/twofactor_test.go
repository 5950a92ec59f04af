package org_test

import (
	"context"
	"encoding/base32"
	"testing"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

// TestTOTPVectors: RFC 6238's SHA-1 test values (its 8-digit codes cut to
// the 6 digits apps show).
func TestTOTPVectors(t *testing.T) {
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))
	for _, c := range []struct {
		unix int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"}} {
		got, err := org.TOTP(secret, time.Unix(c.unix, 0))
		if err != nil || got != c.want {
			t.Errorf("T=%d: %q %v, want %q", c.unix, got, err, c.want)
		}
	}
}

// TestTwoFactor: enrolment confirmed by a code, sign-in in two steps, a
// code never accepted twice, a step either side accepted, recovery codes
// once each, five codes a challenge, Login refusing the account, the
// secret sealed to its user and key, and an administrator's reset.
// A sign-in begun with the old password and waiting for its second
// factor ends when the password is changed.
func TestPasswordChangeEndsChallenges(t *testing.T) {
	storetest.Both(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 12, 6, 9, 0, 10, 0, time.UTC)}
		s := testStore(db, clk)
		s.SecretKey = []byte("0123456789abcdef0123456789abcdef")
		u, err := s.CreateUser(ctx, admin, org.NewUser{Username: "acc", DisplayName: "受理员", Password: pw, Role: org.RoleAcceptor})
		if err != nil {
			t.Fatal(err)
		}
		self := org.Actor{UserID: u.ID, Name: u.DisplayName, Role: u.Role, Scope: org.ScopeCity}
		e, err := s.BeginTOTP(ctx, self, u.ID, "own-session")
		if err != nil {
			t.Fatal(err)
		}
		c, err := org.TOTP(e.Secret, clk.t)
		if err != nil {
			t.Fatal(err)
		}
		recovery, err := s.EnableTOTP(ctx, self, u.ID, "own-session", c)
		if err != nil {
			t.Fatal(err)
		}
		step, err := s.StartLogin(ctx, "acc", pw, "10.0.0.1", "t")
		if err != nil || step.Challenge == "" {
			t.Fatalf("start: %+v %v", step, err)
		}
		if err := s.SetPassword(ctx, self, u.ID, pw+"-new", false, "own-session"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SecondFactor(ctx, step.Challenge, recovery[0], "10.0.0.1", "t"); !apperr.Is(err, apperr.Unauthorized) {
			t.Errorf("the old password's sign-in completed after the change: %v", err)
		}
	})
}

func TestTwoFactor(t *testing.T) {
	storetest.Both(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 12, 6, 9, 0, 10, 0, time.UTC)}
		s := testStore(db, clk)
		key := []byte("0123456789abcdef0123456789abcdef")
		s.SecretKey = key
		u, err := s.CreateUser(ctx, admin, org.NewUser{Username: "acc", DisplayName: "受理员", Password: pw, Role: org.RoleAcceptor})
		if err != nil {
			t.Fatal(err)
		}
		self := org.Actor{UserID: u.ID, Name: u.DisplayName, Role: u.Role, Scope: org.ScopeCity}
		if _, err := s.BeginTOTP(ctx, admin, u.ID, "t"); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("someone else's enrolment: %v", err)
		}
		// A session opened with the password alone, before enrolment
		// (someone who knows it): it must not survive the enrolment, nor
		// see or confirm the secret offered to the user's own session.
		early, err := s.Login(ctx, "acc", pw, "10.0.0.9", "t")
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := s.BeginTOTP(ctx, self, u.ID, early.Token)
		if err != nil {
			t.Fatal(err)
		}
		e, err := s.BeginTOTP(ctx, self, u.ID, "own-session")
		if err != nil {
			t.Fatal(err)
		}
		if e.Secret == theirs.Secret {
			t.Error("two sessions were offered the same secret")
		}
		if again, _ := s.BeginTOTP(ctx, self, u.ID, "own-session"); again.Secret != e.Secret {
			t.Error("the offered secret changed on a second look")
		}
		code := func(at time.Time) string {
			c, err := org.TOTP(e.Secret, at)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		if _, err := s.EnableTOTP(ctx, self, u.ID, "own-session", "000000"); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a wrong code enrolled: %v", err)
		}
		if _, err := s.EnableTOTP(ctx, self, u.ID, early.Token, code(clk.t)); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("another session confirmed the user's secret: %v", err)
		}
		recovery, err := s.EnableTOTP(ctx, self, u.ID, "own-session", code(clk.t))
		if err != nil || len(recovery) != org.RecoveryCodes {
			t.Fatalf("enable: %v %v", recovery, err)
		}
		if _, err := s.SessionByToken(ctx, early.Token); err == nil {
			t.Error("a session opened with the password alone survived the enrolment")
		}
		if got, _ := s.User(ctx, u.ID); !got.TwoFactor {
			t.Error("the account does not say two-factor")
		}
		// Login, which skips the code, refuses the account.
		if _, err := s.Login(ctx, "acc", pw, "10.0.0.1", "t"); !apperr.Is(err, apperr.Unauthorized) {
			t.Errorf("Login without a code: %v", err)
		}
		start := func() string {
			t.Helper()
			step, err := s.StartLogin(ctx, "acc", pw, "10.0.0.1", "t")
			if err != nil || step.Session != nil || step.Challenge == "" {
				t.Fatalf("start: %+v %v", step, err)
			}
			return step.Challenge
		}
		if step, err := s.StartLogin(ctx, "acc", "wrong-password", "10.0.0.1", "t"); err == nil {
			t.Fatalf("a wrong password gave %+v", step)
		}
		// The code the enrolment used is spent.
		ch := start()
		if _, err := s.SecondFactor(ctx, ch, code(clk.t), "10.0.0.1", "t"); !apperr.Is(err, apperr.Unauthorized) {
			t.Errorf("the enrolment's code again: %v", err)
		}
		// The next step's code, typed with a space, is good (a phone a
		// little ahead); and not twice.
		sess, err := s.SecondFactor(ctx, ch, code(clk.t.Add(30 * time.Second))[:3]+" "+code(clk.t.Add(30 * time.Second))[3:], "10.0.0.1", "t")
		if err != nil || sess == nil || sess.User.ID != u.ID {
			t.Fatalf("second factor: %v", err)
		}
		if _, err := s.SecondFactor(ctx, ch, code(clk.t.Add(30*time.Second)), "10.0.0.1", "t"); !apperr.Is(err, apperr.Unauthorized) {
			t.Errorf("a used challenge: %v", err)
		}
		clk.t = clk.t.Add(2 * time.Minute)
		ch = start()
		if _, err := s.SecondFactor(ctx, ch, code(clk.t.Add(-2*time.Minute)), "10.0.0.1", "t"); err == nil {
			t.Error("a code two minutes old was accepted")
		}
		// A recovery code, in capitals, works once.
		if _, err := s.SecondFactor(ctx, ch, "  "+upper(recovery[0]), "10.0.0.1", "t"); err != nil {
			t.Fatalf("recovery code: %v", err)
		}
		if n, _ := s.RecoveryCodesLeft(ctx, u.ID); n != org.RecoveryCodes-1 {
			t.Errorf("%d recovery codes left", n)
		}
		clk.t = clk.t.Add(16 * time.Minute) // past any delay the failures above set
		ch = start()
		if _, err := s.SecondFactor(ctx, ch, recovery[0], "10.0.0.2", "t"); err == nil {
			t.Error("a recovery code worked twice")
		}
		// Five codes a challenge, then it is spent whatever comes.
		clk.t = clk.t.Add(16 * time.Minute)
		ch = start()
		for i := 0; i < 6; i++ {
			clk.t = clk.t.Add(16 * time.Minute) // each try past the delay
			_, err := s.SecondFactor(ctx, ch, "111111", "10.0.0.3", "t")
			if err == nil {
				t.Fatal("a wrong code was accepted")
			}
		}
		ch = start()
		clk.t = clk.t.Add(org.ChallengeMaxAge + time.Second)
		if _, err := s.SecondFactor(ctx, ch, code(clk.t), "10.0.0.3", "t"); !apperr.Is(err, apperr.Unauthorized) {
			t.Errorf("a challenge older than five minutes: %v", err)
		}
		// The sealed secret opens with this key only.
		other := testStore(db, clk)
		other.SecretKey = []byte("another key of thirty-two bytes!")
		clk.t = clk.t.Add(16 * time.Minute)
		ch2, err := other.StartLogin(ctx, "acc", pw, "10.0.0.4", "t")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.SecondFactor(ctx, ch2.Challenge, code(clk.t), "10.0.0.4", "t"); err == nil {
			t.Error("the secret opened with another key")
		}
		// An administrator resets it: sessions end, Login works again.
		if err := s.ResetTOTP(ctx, org.Actor{UserID: 999, Role: org.RoleLeader}, u.ID); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("a leader reset someone's two factors: %v", err)
		}
		if err := s.ResetTOTP(ctx, admin, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByToken(ctx, sess.Token); err == nil {
			t.Error("the session survived the reset")
		}
		clk.t = clk.t.Add(16 * time.Minute)
		if _, err := s.Login(ctx, "acc", pw, "10.0.0.5", "t"); err != nil {
			t.Errorf("Login after the reset: %v", err)
		}
		// Without a data key nobody enrols.
		nokey := testStore(db, clk)
		if _, err := nokey.BeginTOTP(ctx, self, u.ID, "t"); !apperr.Is(err, apperr.Unavailable) {
			t.Errorf("enrolment without a key: %v", err)
		}
	})
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}
