-- Who viewed personal data (个人信息保护法): a line each time a reporter's
-- details, a volunteer's full record or an export holding them is read.
-- Append-only; the administrator reads it.
CREATE TABLE personal_access (
    id {{pk}},
    at BIGINT NOT NULL,
    user_id BIGINT REFERENCES users(id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject BIGINT NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX personal_access_user ON personal_access(user_id, id);
CREATE INDEX personal_access_subject ON personal_access(kind, subject, id);
