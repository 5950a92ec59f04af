package org

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/store"
)

// Two-factor sign-in (双因素认证): a time-based one-time password (TOTP,
// RFC 6238: HMAC-SHA-1, 30-second steps, 6 digits, the step before and
// after accepted for clock drift) from an authenticator app, after the
// password. The secret is sealed with the data key; a code is accepted
// once (the last step used is kept); ten one-time recovery codes stand in
// for a lost phone. See docs/security.md.

const (
	totpStep   = 30 * time.Second
	totpDigits = 6
	// ChallengeMaxAge is how long the code may follow the password.
	ChallengeMaxAge = 5 * time.Minute
	// challengeTries is how many codes one challenge takes.
	challengeTries = 5
	// RecoveryCodes is how many recovery codes an enrolment gives.
	RecoveryCodes = 10
	// Issuer names the platform in authenticator apps.
	Issuer = "创文"
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTP returns the code of secret (base32) for the 30-second step that
// holds t.
func TOTP(secret string, t time.Time) (string, error) {
	key, err := b32.DecodeString(strings.ToUpper(secret))
	if err != nil {
		return "", fmt.Errorf("totp secret: %w", err)
	}
	return hotp(key, uint64(t.Unix()/int64(totpStep/time.Second))), nil
}

// hotp is RFC 4226's HOTP value of counter under key, 6 digits.
func hotp(key []byte, counter uint64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}

// matchTOTP finds the step (now's, or one either side) whose code is
// code, after last; 0 when none.
func matchTOTP(key []byte, code string, now time.Time, last int64) int64 {
	step := now.Unix() / int64(totpStep/time.Second)
	for _, s := range []int64{step, step - 1, step + 1} {
		if s > last && hmac.Equal([]byte(hotp(key, uint64(s))), []byte(code)) {
			return s
		}
	}
	return 0
}

// sealer returns the AEAD that seals two-factor secrets.
func (s *Store) sealer() (cipher.AEAD, error) {
	if len(s.SecretKey) == 0 {
		return nil, apperr.New(apperr.Unavailable, "twofactor.no_key")
	}
	k := hmac.New(sha256.New, s.SecretKey)
	k.Write([]byte("chuangwen two-factor secret"))
	block, err := aes.NewCipher(k.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts a secret bound to its user (a sealed secret moved to
// another row does not open).
func (s *Store) seal(userID int64, secret []byte) (string, error) {
	return s.sealFor("totp:"+strconv.FormatInt(userID, 10), secret)
}

func (s *Store) unseal(userID int64, sealed string) ([]byte, error) {
	return s.unsealFor("totp:"+strconv.FormatInt(userID, 10), sealed)
}

// pendingAAD binds an offered secret to its user and the session it was
// offered to.
func pendingAAD(userID int64, token string) string {
	return "totp-pending:" + strconv.FormatInt(userID, 10) + ":" + sessionKey(token)
}

func (s *Store) sealFor(aad string, secret []byte) (string, error) {
	aead, err := s.sealer()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := aead.Seal(nonce, nonce, secret, []byte(aad))
	return base64.RawStdEncoding.EncodeToString(out), nil
}

func (s *Store) unsealFor(aad, sealed string) ([]byte, error) {
	aead, err := s.sealer()
	if err != nil {
		return nil, err
	}
	b, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(b) < aead.NonceSize() {
		return nil, errors.New("two-factor secret: not a sealed value")
	}
	plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(aad))
	if err != nil {
		return nil, errors.New("two-factor secret: does not open with this data key")
	}
	return plain, nil
}

// Enrolment is what the enrolment page shows: the secret to type in, and
// the otpauth:// address a phone reads from the QR code.
type Enrolment struct {
	Secret string
	URI    string
}

// BeginTOTP offers the user a new secret to put in an authenticator app
// (the same one again, in the same session, until it is confirmed). Only
// the user themself. The offer is sealed to the session (token) that
// asked for it: another session of the account (someone else who knows
// the password) neither sees it nor confirms it, and asking again from
// there replaces it.
func (s *Store) BeginTOTP(ctx context.Context, actor Actor, userID int64, token string) (Enrolment, error) {
	if actor.UserID != userID {
		return Enrolment{}, apperr.New(apperr.Forbidden, "forbidden")
	}
	var e Enrolment
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var username, secret, pending string
		err := tx.QueryRow(ctx, `SELECT username, totp_secret, totp_pending FROM users WHERE id = ?`, userID).Scan(&username, &secret, &pending)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "user.not_found")
		}
		if err != nil {
			return err
		}
		if secret != "" {
			return apperr.New(apperr.Conflict, "twofactor.already")
		}
		var key []byte
		if pending != "" {
			if key, err = s.unsealFor(pendingAAD(userID, token), pending); err != nil {
				key = nil // another session's offer, or another data key: a new one
			}
		}
		if key == nil {
			key = make([]byte, 20)
			if _, err := rand.Read(key); err != nil {
				return err
			}
			sealed, err := s.sealFor(pendingAAD(userID, token), key)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE users SET totp_pending = ? WHERE id = ?`, sealed, userID); err != nil {
				return err
			}
		}
		e.Secret = b32.EncodeToString(key)
		label := url.PathEscape(Issuer + ":" + username)
		e.URI = "otpauth://totp/" + label + "?" + url.Values{"secret": {e.Secret}, "issuer": {Issuer}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}.Encode()
		return nil
	})
	return e, err
}

// EnableTOTP confirms the secret offered to this session (token) with a
// code from the app and turns two-factor sign-in on; the account's other
// sessions, opened with the password alone, end. It returns the recovery
// codes, shown once.
func (s *Store) EnableTOTP(ctx context.Context, actor Actor, userID int64, token, code string) ([]string, error) {
	if actor.UserID != userID {
		return nil, apperr.New(apperr.Forbidden, "forbidden")
	}
	code = normalizeCode(code)
	var codes []string
	err := s.DB.WithTx(ctx, func(tx *store.Tx) error {
		var secret, pending string
		if err := tx.QueryRow(ctx, `SELECT totp_secret, totp_pending FROM users WHERE id = ?`+tx.Dialect().ForUpdate(), userID).Scan(&secret, &pending); err != nil {
			return err
		}
		if secret != "" {
			return apperr.New(apperr.Conflict, "twofactor.already")
		}
		if pending == "" {
			return apperr.New(apperr.Invalid, "twofactor.not_begun")
		}
		key, err := s.unsealFor(pendingAAD(userID, token), pending)
		if err != nil {
			return apperr.New(apperr.Invalid, "twofactor.not_begun")
		}
		step := matchTOTP(key, code, s.now(), 0)
		if step == 0 {
			return apperr.New(apperr.Invalid, "twofactor.wrong_code")
		}
		sealed, err := s.seal(userID, key)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret = ?, totp_pending = '', totp_last_step = ? WHERE id = ?`, sealed, step, userID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, sessionKey(token)); err != nil {
			return err
		}
		if codes, err = s.newRecoveryCodes(ctx, tx, userID); err != nil {
			return err
		}
		return s.logAdmin(ctx, tx, actor, "user.two_factor_on", map[string]any{"id": userID})
	})
	return codes, err
}

// newRecoveryCodes replaces a user's recovery codes with new ones.
func (s *Store) newRecoveryCodes(ctx context.Context, tx *store.Tx, userID int64) ([]string, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return nil, err
	}
	codes := make([]string, RecoveryCodes)
	for i := range codes {
		b := make([]byte, 5)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		c := strings.ToLower(b32.EncodeToString(b)) // 8 characters, 40 bits
		codes[i] = c[:4] + "-" + c[4:]
		if _, err := tx.Exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)`, userID, s.recoveryHash(userID, c)); err != nil {
			return nil, err
		}
	}
	return codes, nil
}

// recoveryHash is an HMAC of a recovery code under a key derived from
// the data key, bound to its user: a copy of the database alone does not
// let anyone try the 2^40 codes offline.
func (s *Store) recoveryHash(userID int64, code string) string {
	k := hmac.New(sha256.New, s.SecretKey)
	k.Write([]byte("chuangwen recovery code"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(strconv.FormatInt(userID, 10) + ":" + code))
	return hex.EncodeToString(m.Sum(nil))
}

// normalizeCode drops spaces and dashes and lowers the letters, so that
// "123 456" and "ABCD-EFGH" are read as typed.
func normalizeCode(code string) string {
	return strings.ToLower(strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(strings.TrimSpace(code)))
}

// RecoveryCodesLeft counts a user's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	var n int
	err := s.DB.Reader().QueryRow(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at = 0`, userID).Scan(&n)
	return n, err
}

// ResetTOTP turns a user's two-factor sign-in off: the user themself, or
// an administrator for someone who lost their phone (their sessions end,
// and a role that must use two factors enrols again at the next sign-in).
func (s *Store) ResetTOTP(ctx context.Context, actor Actor, userID int64) error {
	if actor.UserID != userID && actor.Role != RoleAdmin && actor.Role != RoleSystem {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.Change(ctx, apperr.New(apperr.NotFound, "user.not_found"), `UPDATE users SET totp_secret = '', totp_pending = '', totp_last_step = 0 WHERE id = ?`, userID); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM recovery_codes WHERE user_id = ?`, `DELETE FROM login_challenges WHERE user_id = ?`} {
			if _, err := tx.Exec(ctx, q, userID); err != nil {
				return err
			}
		}
		if actor.UserID != userID {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
				return err
			}
		}
		return s.logAdmin(ctx, tx, actor, "user.two_factor_off", map[string]any{"id": userID})
	})
}

// LoginStep is where a sign-in stands after the password: a session, or
// a challenge whose code is still to come.
type LoginStep struct {
	Session *Session
	// Challenge is the token the browser keeps until it sends the code.
	Challenge string
}

// StartLogin checks a username and password as Login does; for an account
// with two-factor sign-in it opens a challenge instead of a session.
func (s *Store) StartLogin(ctx context.Context, username, password, ip, userAgent string) (LoginStep, error) {
	u, keys, err := s.checkLogin(ctx, username, password, ip)
	if err != nil {
		return LoginStep{}, err
	}
	if !u.TwoFactor {
		sess, err := s.openSession(ctx, u, keys, ip, userAgent)
		return LoginStep{Session: sess}, err
	}
	token := RandomToken(32)
	now := s.now()
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if err := releaseAttempt(ctx, tx, keys); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM login_challenges WHERE expires_at < ?`, store.Ms(now)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO login_challenges (id, user_id, ip, user_agent, expires_at) VALUES (?, ?, ?, ?, ?)`,
			sessionKey(token), u.ID, ip, cleanAgent(userAgent), store.Ms(now.Add(ChallengeMaxAge)))
		return err
	})
	if err != nil {
		return LoginStep{}, err
	}
	return LoginStep{Challenge: token}, nil
}

// SecondFactor completes a challenge with a code from the app or a
// recovery code and opens the session. Each code is counted against the
// account (whatever the address) and the address before it is checked,
// under the same progressive delays as passwords; a challenge takes five
// codes and lasts five minutes.
func (s *Store) SecondFactor(ctx context.Context, challenge, code, ip, userAgent string) (*Session, error) {
	now := s.now()
	var userID int64
	var expires int64
	var attempts int
	err := s.DB.Reader().QueryRow(ctx, `SELECT user_id, expires_at, attempts FROM login_challenges WHERE id = ?`, sessionKey(challenge)).Scan(&userID, &expires, &attempts)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (expires < store.Ms(now) || attempts >= challengeTries)) {
		return nil, apperr.New(apperr.Unauthorized, "twofactor.expired")
	}
	if err != nil {
		return nil, err
	}
	keys := []string{"totp:" + strconv.FormatInt(userID, 10), "ip:" + ip}
	if err := s.reserveAttempt(ctx, keys, now); err != nil {
		return nil, err
	}
	code = normalizeCode(code)
	var u User
	ok := false
	err = s.DB.WithTx(ctx, func(tx *store.Tx) error {
		// the challenge is claimed: a second request with the same
		// cookie waits here and then finds it used
		if err := tx.Change(ctx, apperr.New(apperr.Unauthorized, "twofactor.expired"), `UPDATE login_challenges SET attempts = attempts + 1 WHERE id = ? AND attempts < ? AND expires_at >= ?`, sessionKey(challenge), challengeTries, store.Ms(now)); err != nil {
			return err
		}
		var sealed string
		var last int64
		if err := tx.QueryRow(ctx, `SELECT totp_secret, totp_last_step FROM users WHERE id = ?`, userID).Scan(&sealed, &last); err != nil {
			return err
		}
		if sealed == "" {
			return apperr.New(apperr.Unauthorized, "twofactor.expired")
		}
		if len(code) == totpDigits {
			key, err := s.unseal(userID, sealed)
			if err != nil {
				// sealed under another data key: only a reset helps
				return apperr.New(apperr.Unavailable, "twofactor.bad_key")
			}
			if step := matchTOTP(key, code, now, last); step != 0 {
				// only if no one used this step meanwhile (PostgreSQL
				// runs two challenges of one account side by side)
				res, err := tx.Exec(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, userID, step)
				if err != nil {
					return err
				}
				n, _ := res.RowsAffected()
				ok = n == 1
			}
		} else if len(code) == 8 {
			res, err := tx.Exec(ctx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at = 0`, store.Ms(now), userID, s.recoveryHash(userID, code))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				ok = true
				if err := s.logAdmin(ctx, tx, System, "user.recovery_code_used", map[string]any{"id": userID, "ip": ip}); err != nil {
					return err
				}
			}
		}
		if ok {
			_, err = tx.Exec(ctx, `DELETE FROM login_challenges WHERE id = ?`, sessionKey(challenge))
			return err
		}
		return s.logAdmin(ctx, tx, System, "user.two_factor_failed", map[string]any{"id": userID, "ip": ip})
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.New(apperr.Unauthorized, "twofactor.wrong_code")
	}
	if u, err = s.User(ctx, userID); err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, apperr.New(apperr.Unauthorized, "login.failed")
	}
	return s.openSession(ctx, u, keys, ip, userAgent)
}

// cleanAgent cuts a browser's user agent at 200 characters and cleans it.
func cleanAgent(userAgent string) string { return store.CleanText(userAgent, 200) }
