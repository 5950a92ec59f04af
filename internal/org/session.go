package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/store"
)

// Session lifetimes: idle sessions end after IdleTimeout, all after MaxAge.
const (
	SessionIdleTimeout = 2 * time.Hour
	SessionMaxAge      = 12 * time.Hour
)

// Login throttling: progressive delays, per username and address
// together, and per address. After MaxFailures failed attempts on a name
// from one address (MaxFailures*4 from one address on any names: an
// office behind one NAT address shares it), each further failure makes
// the next attempt wait: 1 s, 2 s, 4 s… up to MaxDelay. The counts start
// again ThrottleWindow after a key's first failure, or at a success. An
// attacker's failures from elsewhere never delay the real user at their
// own address, and no count locks an account for everyone.
const (
	MaxFailures    = 5
	ThrottleWindow = 15 * time.Minute
	MaxDelay       = 15 * time.Minute
)

// throttleDelay is the wait after the attempt that brought a key to
// failures, for a key whose limit is limit.
func throttleDelay(failures, limit int) time.Duration {
	if failures < limit {
		return 0
	}
	if n := failures - limit; n < 20 {
		return min(time.Second<<n, MaxDelay)
	}
	return MaxDelay
}

// Session is a logged-in browser.
type Session struct {
	Token string // the cookie value; only its hash is stored
	CSRF  string
	User  User
	Actor Actor
}

// Login checks a username and password, applying the throttle, and opens
// a session. It answers the same error for a missing user and a wrong
// password.
// An account with two-factor sign-in cannot sign in this way (StartLogin
// and SecondFactor): Unauthorized twofactor.required.
func (s *Store) Login(ctx context.Context, username, password, ip, userAgent string) (*Session, error) {
	step, err := s.StartLogin(ctx, username, password, ip, userAgent)
	if err != nil {
		return nil, err
	}
	if step.Session == nil {
		return nil, apperr.New(apperr.Unauthorized, "twofactor.required")
	}
	return step.Session, nil
}

// CheckLogin checks a password under the same throttle as Login, without
// opening a session (re-authentication before a password change).
func (s *Store) CheckLogin(ctx context.Context, username, password, ip string) error {
	_, keys, err := s.checkLogin(ctx, username, password, ip)
	if err != nil {
		return err
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error { return releaseAttempt(ctx, tx, keys) })
}

func (s *Store) checkLogin(ctx context.Context, username, password, ip string) (User, []string, error) {
	keys := []string{"user:" + strings.ToLower(username) + "@" + ip, "ip:" + ip}
	var u User
	match, err := s.throttledCheck(ctx, keys, password, func() (string, error) {
		var err error
		u, err = s.UserByName(ctx, username)
		if err != nil {
			return "", err
		}
		return u.passwordHash, nil
	})
	if err != nil {
		return User{}, nil, err
	}
	if !match || u.Disabled {
		// counted already; and on the trail, with the name as typed
		name := []rune(strings.ToValidUTF8(username, "?"))
		if len(name) > 64 {
			name = name[:64]
		}
		if lerr := s.DB.WithTx(ctx, func(tx *store.Tx) error {
			return s.logAdmin(ctx, tx, System, "user.login_failed", map[string]any{"username": string(name), "ip": ip})
		}); lerr != nil {
			return User{}, nil, lerr
		}
		return User{}, nil, apperr.New(apperr.Unauthorized, "login.failed")
	}
	return u, keys, nil
}

// throttledCheck counts an attempt against keys, reads the account's hash
// (a NotFound answer checks the dummy hash instead, so that a missing
// account takes as long as a wrong password) and checks password against
// it in a hash slot. It answers whether the password matched an account.
func (s *Store) throttledCheck(ctx context.Context, keys []string, password string, hashOf func() (string, error)) (bool, error) {
	// The attempt is counted before the password is checked, in one
	// statement per key, so that attempts made in parallel cannot all slip
	// under the limit while the first ones are still being hashed.
	if err := s.reserveAttempt(ctx, keys, s.now()); err != nil {
		return false, err
	}
	hash, err := hashOf()
	found := err == nil && hash != ""
	if !found {
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return false, err
		}
		hash = s.dummyHash()
	}
	var match bool
	if serr := withHashSlot(ctx, func() { match = CheckPassword(hash, password) }); serr != nil {
		// no password was checked: the attempt does not count
		if _, uerr := s.DB.Exec(ctx, `UPDATE login_throttle SET failures = failures - 1 WHERE key IN (?, ?) AND failures > 0`, keys[0], keys[1]); uerr != nil {
			return false, uerr
		}
		return false, serr
	}
	return match && found, nil
}

// CheckSecret checks the password of an account kept outside the users
// table (a volunteer's, by phone number) under the throttle that guards
// staff logins: kind and account name the per-account key, and the
// address is counted for that kind of account apart from the staff's
// (kind+"ip:"): a crowd of volunteers signing in behind one address at
// an activity (a community's Wi-Fi, a carrier's NAT) neither slows the
// office's staff at that address nor is slowed by them, and its own
// address limit is higher (throttleLimit). hashOf reads the account's password hash; NotFound (or
// an empty hash: no password set) fails like a wrong password, after the
// same work. A match takes the attempt back; a failure stays counted and
// answers Unauthorized login.failed.
func (s *Store) CheckSecret(ctx context.Context, kind, account, ip, password string, hashOf func() (string, error)) error {
	keys := []string{kind + ":" + strings.ToLower(account) + "@" + ip, kind + "ip:" + ip}
	match, err := s.throttledCheck(ctx, keys, password, hashOf)
	if err != nil {
		return err
	}
	if !match {
		return apperr.New(apperr.Unauthorized, "login.failed")
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error { return releaseAttempt(ctx, tx, keys) })
}

// HashSecret hashes a password at the store's cost in a hash slot (for
// accounts kept outside the users table).
func (s *Store) HashSecret(ctx context.Context, password string) (string, error) {
	return s.PasswordCost.hash(ctx, password)
}

// reserveAttempt counts one login attempt against each key (the username
// at the address, and the address) and refuses it while a key waits out
// its delay. Each count is
// one upsert, atomic on both engines (PostgreSQL locks the row for the
// conflicting update), so parallel attempts are counted one by one; the
// attempt that reaches a key's limit locks it for those after it.
func (s *Store) reserveAttempt(ctx context.Context, keys []string, now time.Time) error {
	nowMs, window := store.Ms(now), ThrottleWindow.Milliseconds()
	var locked int64
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		for _, k := range keys {
			var failures int
			var until int64
			err := tx.QueryRow(ctx, `INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES (?, 1, ?, 0)
				ON CONFLICT (key) DO UPDATE SET
					failures = CASE WHEN login_throttle.locked_until > ? THEN login_throttle.failures
						WHEN ? - login_throttle.window_start > ? THEN 1 ELSE login_throttle.failures + 1 END,
					window_start = CASE WHEN login_throttle.locked_until > ? THEN login_throttle.window_start
						WHEN ? - login_throttle.window_start > ? THEN ? ELSE login_throttle.window_start END
				RETURNING failures, locked_until`,
				k, nowMs, nowMs, nowMs, window, nowMs, nowMs, window, nowMs).Scan(&failures, &until)
			if err != nil {
				return fmt.Errorf("login throttle: %w", err)
			}
			if until > nowMs {
				locked = max(locked, until)
				continue
			}
			if d := throttleDelay(failures, throttleLimit(k)); d > 0 {
				if _, err := tx.Exec(ctx, `UPDATE login_throttle SET locked_until = ? WHERE key = ?`, store.Ms(now.Add(d)), k); err != nil {
					return fmt.Errorf("login throttle: %w", err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if locked > 0 {
		wait := store.Time(locked).Sub(now)
		if wait < time.Minute {
			return apperr.New(apperr.RateLimited, "login.wait", "seconds", fmt.Sprint(int(wait.Seconds())+1))
		}
		return apperr.New(apperr.RateLimited, "login.locked", "minutes", fmt.Sprint(int(wait.Minutes())+1))
	}
	return nil
}

// releaseAttempt takes back a successful attempt: the username's count
// at the address starts again, and the address's count loses this attempt (and the lock
// it set, if it was the one that reached the limit): an office behind
// one address must not be locked out by its own successful logins.
func releaseAttempt(ctx context.Context, tx *store.Tx, keys []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM login_throttle WHERE key = ?`, keys[0]); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE login_throttle SET failures = failures - 1,
		locked_until = CASE WHEN failures - 1 < ? THEN 0 ELSE locked_until END
		WHERE key = ? AND failures > 0`, throttleLimit(keys[1]), keys[1])
	return err
}

// throttleLimit is the number of failures within ThrottleWindow after
// which a key's attempts are delayed.
func throttleLimit(key string) int {
	switch {
	case strings.HasPrefix(key, "ip:"):
		return MaxFailures * 4 // an office behind one NAT address shares it
	case strings.HasPrefix(key, "volip:"):
		// Hundreds of volunteers may sign in at one activity behind one
		// address; each still has MaxFailures on their own number there.
		return MaxFailures * 20
	}
	return MaxFailures
}

func (s *Store) openSession(ctx context.Context, u User, keys []string, ip, userAgent string) (*Session, error) {
	now := s.now()
	actor, err := s.ActorFor(ctx, u)
	if err != nil {
		return nil, err
	}
	sess := &Session{Token: RandomToken(32), CSRF: RandomToken(24), User: u, Actor: actor}
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := releaseAttempt(ctx, tx, keys); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at < ?`, store.Ms(now)); err != nil {
			return err
		}
		// a browser's own words, kept for the session list: cut at a
		// character and cleaned, never a reason to refuse the login
		userAgent = cleanAgent(userAgent)
		_, err := tx.Exec(ctx, `INSERT INTO sessions (id, user_id, csrf, created_at, expires_at, last_seen_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			sessionKey(sess.Token), u.ID, sess.CSRF, store.Ms(now), store.Ms(now.Add(SessionMaxAge)), store.Ms(now), ip, userAgent)
		if err != nil {
			return err
		}
		return s.logAdmin(ctx, tx, actor, "user.login", map[string]any{"ip": ip})
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// SessionByToken returns the live session for a cookie value, sliding its
// idle timeout. Unknown, expired or idle sessions are Unauthorized.
func (s *Store) SessionByToken(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, apperr.New(apperr.Unauthorized, "login.required")
	}
	now := s.now()
	key := sessionKey(token)
	var userID, expires, lastSeen int64
	var csrf string
	err := s.DB.Reader().QueryRow(ctx, `SELECT user_id, csrf, expires_at, last_seen_at FROM sessions WHERE id = ?`, key).Scan(&userID, &csrf, &expires, &lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.Unauthorized, "login.required")
	}
	if err != nil {
		return nil, err
	}
	if store.Ms(now) > expires || store.Ms(now)-lastSeen > SessionIdleTimeout.Milliseconds() {
		return nil, apperr.New(apperr.Unauthorized, "login.expired")
	}
	u, err := s.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, apperr.New(apperr.Unauthorized, "login.required")
	}
	// Touch at most once a minute: a write per request would serialise
	// every page view behind the SQLite writer.
	if store.Ms(now)-lastSeen > time.Minute.Milliseconds() {
		if _, err := s.DB.Exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, store.Ms(now), key); err != nil {
			return nil, err
		}
	}
	actor, err := s.ActorFor(ctx, u)
	if err != nil {
		return nil, err
	}
	return &Session{Token: token, CSRF: csrf, User: u, Actor: actor}, nil
}

// Logout ends a session.
func (s *Store) Logout(ctx context.Context, token string) error {
	_, err := s.DB.Exec(ctx, `DELETE FROM sessions WHERE id = ?`, sessionKey(token))
	return err
}

// ---- API tokens ----

// Token is a machine client's credential; the secret is shown once.
type Token struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Role   Role   `json:"role"`
	UnitID int64  `json:"unit_id,omitempty"`
	// Scope is what the token may do: one of TokenScopes.
	Scope    string `json:"scope"`
	Created  int64  `json:"created_at"`
	LastUsed int64  `json:"last_used_at"`
	Revoked  bool   `json:"revoked"`
	Secret   string `json:"token,omitempty"`
}

// TokenPrefix marks Chuangwen tokens so that leaked ones are easy to spot
// in logs and by secret scanners.
const TokenPrefix = "cw_"

// Token scopes: what a token may do, least by default.
const (
	TokenOpen311 = "open311" // the Open311 endpoints only
	TokenFile    = "file"    // Open311, and filing cases on the staff API (no reading it)
	TokenRead    = "read"    // the staff API's reads, city-wide (a dashboard)
	TokenUnit    = "unit"    // a unit's handler
)

// TokenScopes lists the scopes, in the order the console offers them.
var TokenScopes = []string{TokenOpen311, TokenFile, TokenRead, TokenUnit}

// CreateToken makes an API token with the least scope: with a unit it
// acts as that unit's handler; without one it may use the Open311
// endpoints only.
func (s *Store) CreateToken(ctx context.Context, actor Actor, name string, unitID int64) (Token, error) {
	return s.CreateScopedToken(ctx, actor, name, unitID, "")
}

// CreateScopedToken makes an API token of scope ("" for the least: unit
// with a unit, open311 without). A unit token needs a unit; the others
// must not have one.
func (s *Store) CreateScopedToken(ctx context.Context, actor Actor, name string, unitID int64, scope string) (Token, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Token{}, apperr.New(apperr.Invalid, "token.name_required")
	}
	if err := CheckName(name); err != nil {
		return Token{}, err
	}
	if scope == "" {
		scope = TokenOpen311
		if unitID != 0 {
			scope = TokenUnit
		}
	}
	if !slices.Contains(TokenScopes, scope) {
		return Token{}, apperr.New(apperr.Invalid, "token.bad_scope", "scope", scope)
	}
	if (scope == TokenUnit) != (unitID != 0) {
		return Token{}, apperr.New(apperr.Invalid, "token.unit_scope")
	}
	t := Token{Name: name, Role: RoleClient, UnitID: unitID, Scope: scope, Secret: TokenPrefix + RandomToken(30), Created: store.Ms(s.now())}
	if unitID != 0 {
		t.Role = RoleHandler
	}
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if unitID != 0 {
			if err := exists(ctx, tx, "units", unitID, "unit.not_found"); err != nil {
				return err
			}
		}
		// A client system is known by its token's name (the requests it
		// filed are its own to update): two live tokens of one name are
		// one client, which only a rotation makes.
		var live int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM api_tokens WHERE name = ? AND revoked_at = 0`, name).Scan(&live); err != nil {
			return err
		}
		if live > 0 {
			return apperr.New(apperr.Conflict, "token.name_taken", "name", name)
		}
		return s.insertToken(ctx, tx, actor, &t, "token.create", map[string]any{"name": name, "unit_id": unitID, "scope": scope})
	})
	return t, err
}

// RotateToken makes a new token for the client of live token id: the
// same name (so the same client, with its requests), role, unit and
// scope. The old token stays valid until it is revoked, so that the
// client can switch without a gap.
func (s *Store) RotateToken(ctx context.Context, actor Actor, id int64) (Token, error) {
	var t Token
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var role string
		err := tx.QueryRow(ctx, `SELECT name, role, COALESCE(unit_id, 0), scope FROM api_tokens WHERE id = ? AND revoked_at = 0`, id).
			Scan(&t.Name, &role, &t.UnitID, &t.Scope)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "token.not_found")
		}
		if err != nil {
			return err
		}
		t.Role, t.Secret, t.Created = Role(role), TokenPrefix+RandomToken(30), store.Ms(s.now())
		return s.insertToken(ctx, tx, actor, &t, "token.rotate", map[string]any{"replaces": id, "name": t.Name})
	})
	return t, err
}

// insertToken stores t (its ID set) and puts action on the trail.
func (s *Store) insertToken(ctx context.Context, tx *store.Tx, actor Actor, t *Token, action string, data map[string]any) error {
	id, err := store.InsertID(ctx, tx, `INSERT INTO api_tokens (name, token_hash, role, unit_id, scope, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		t.Name, sessionKey(t.Secret), string(t.Role), nullable(t.UnitID), t.Scope, t.Created)
	if err != nil {
		return err
	}
	t.ID = id
	data["id"] = id
	return s.logAdmin(ctx, tx, actor, action, data)
}

// RevokeToken disables a token for good.
func (s *Store) RevokeToken(ctx context.Context, actor Actor, id int64) error {
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.Change(ctx, apperr.New(apperr.NotFound, "token.not_found"), `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, store.Ms(s.now()), id); err != nil {
			return err
		}
		return s.logAdmin(ctx, tx, actor, "token.revoke", map[string]any{"id": id})
	})
}

// Tokens lists API tokens (without secrets).
func (s *Store) Tokens(ctx context.Context) ([]Token, error) {
	return store.Collect(ctx, s.DB.Reader(), func(row store.Scanner) (t Token, err error) {
		var role string
		var revoked int64
		err = row.Scan(&t.ID, &t.Name, &role, &t.UnitID, &t.Scope, &t.Created, &t.LastUsed, &revoked)
		t.Role, t.Revoked = Role(role), revoked != 0
		return t, err
	}, `SELECT id, name, role, COALESCE(unit_id, 0), scope, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id`)
}

// ActorForToken authenticates a Bearer token.
func (s *Store) ActorForToken(ctx context.Context, secret string) (Actor, error) {
	var t Token
	var role string
	var revoked int64
	err := s.DB.Reader().QueryRow(ctx, `SELECT id, name, role, COALESCE(unit_id, 0), scope, last_used_at, revoked_at FROM api_tokens WHERE token_hash = ?`, sessionKey(secret)).
		Scan(&t.ID, &t.Name, &role, &t.UnitID, &t.Scope, &t.LastUsed, &revoked)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && revoked != 0) {
		return Actor{}, apperr.New(apperr.Unauthorized, "token.invalid")
	}
	if err != nil {
		return Actor{}, err
	}
	now := store.Ms(s.now())
	if now-t.LastUsed > time.Minute.Milliseconds() {
		if _, err := s.DB.Exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, now, t.ID); err != nil {
			return Actor{}, err
		}
	}
	a := Actor{TokenID: t.ID, TokenScope: t.Scope, Name: "API:" + t.Name, Role: Role(role), UnitID: t.UnitID, Scope: ScopeCity}
	if t.UnitID != 0 {
		a.Scope = ScopeUnit
	}
	return a, nil
}

// SessionInfo is one signed-in browser of a user, as the user's account
// page lists it. ID is the session's stored key (a hash of the cookie,
// which it does not reveal).
type SessionInfo struct {
	ID        string
	Created   int64
	LastSeen  int64
	IP        string
	UserAgent string
	Current   bool
}

// Sessions lists userID's live sessions, the most recently used first;
// current is the caller's own cookie value, marked Current.
func (s *Store) Sessions(ctx context.Context, userID int64, current string) ([]SessionInfo, error) {
	now := store.Ms(s.now())
	cur := sessionKey(current)
	return store.Collect(ctx, s.DB.Reader(), func(r store.Scanner) (si SessionInfo, err error) {
		err = r.Scan(&si.ID, &si.Created, &si.LastSeen, &si.IP, &si.UserAgent)
		si.Current = si.ID == cur
		return si, err
	}, `SELECT id, created_at, last_seen_at, ip, user_agent FROM sessions
		WHERE user_id = ? AND expires_at >= ? AND last_seen_at >= ? ORDER BY last_seen_at DESC`,
		userID, now, now-SessionIdleTimeout.Milliseconds())
}

// EndSessions signs userID out: of the session id (a SessionInfo.ID), or
// of every session but the one keep names (a cookie value; "" keeps
// none). actor is the user themselves or an administrator. It returns how
// many sessions ended, and puts that on the audit chain.
func (s *Store) EndSessions(ctx context.Context, actor Actor, userID int64, id, keep string) (int, error) {
	if actor.UserID != userID && actor.Role != RoleAdmin {
		return 0, apperr.New(apperr.Forbidden, "forbidden")
	}
	var n int64
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var res sql.Result
		var err error
		if id != "" {
			res, err = tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ? AND id = ?`, userID, id)
		} else {
			res, err = tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, sessionKey(keep))
		}
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		if id != "" && n == 0 {
			return apperr.New(apperr.NotFound, "session.not_found")
		}
		return s.logAdmin(ctx, tx, actor, "session.end", map[string]any{"user_id": userID, "sessions": n})
	})
	return int(n), err
}
