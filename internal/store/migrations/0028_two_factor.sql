-- Two-factor sign-in (TOTP, RFC 6238) for privileged accounts.
-- totp_secret: the confirmed secret, sealed with the data key ('' = not
-- enrolled); totp_pending: one offered on the enrolment page and not yet
-- confirmed with a code; totp_last_step: the 30-second step of the last
-- code accepted, so that a code is never accepted twice.
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_pending TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- One-time recovery codes for a lost phone, stored as SHA-256 hashes.
CREATE TABLE recovery_codes (
    user_id BIGINT NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, code_hash)
);

-- A password accepted, the code still to come: the browser holds the
-- challenge's token in a cookie for five minutes; only its hash is here.
CREATE TABLE login_challenges (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
