-- Core schema: organisation, accounts, categories, calendar, cases and the
-- hash-chained trail. Written once for both engines; {{pk}} becomes the
-- engine's auto-increment primary key. Times are unix milliseconds (UTC),
-- 0 meaning "not set"; booleans are BOOLEAN (SQLite stores 0/1).

CREATE TABLE regions (
    id {{pk}},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_id BIGINT REFERENCES regions(id),
    path TEXT NOT NULL
);
CREATE INDEX regions_parent ON regions(parent_id);
CREATE INDEX regions_path ON regions(path);

CREATE TABLE units (
    id {{pk}},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    region_id BIGINT REFERENCES regions(id),
    active BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE users (
    id {{pk}},
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    unit_id BIGINT REFERENCES units(id),
    scope TEXT NOT NULL,
    scope_region_id BIGINT REFERENCES regions(id),
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id {{pk}},
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    unit_id BIGINT REFERENCES units(id),
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL DEFAULT 0,
    revoked_at BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE categories (
    id {{pk}},
    code TEXT NOT NULL UNIQUE,
    parent_id BIGINT REFERENCES categories(id),
    name TEXT NOT NULL,
    standard TEXT NOT NULL DEFAULT '',
    limit_unit TEXT NOT NULL DEFAULT 'hours',
    limit_normal INTEGER NOT NULL DEFAULT 0,
    limit_urgent INTEGER NOT NULL DEFAULT 0,
    limit_critical INTEGER NOT NULL DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE responsibilities (
    id {{pk}},
    category_id BIGINT NOT NULL REFERENCES categories(id),
    region_id BIGINT NOT NULL REFERENCES regions(id),
    lead_unit_id BIGINT NOT NULL REFERENCES units(id),
    UNIQUE (category_id, region_id)
);
CREATE TABLE responsibility_coops (
    responsibility_id BIGINT NOT NULL REFERENCES responsibilities(id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units(id),
    PRIMARY KEY (responsibility_id, unit_id)
);

CREATE TABLE holidays (
    day TEXT PRIMARY KEY,
    working BOOLEAN NOT NULL,
    name TEXT NOT NULL DEFAULT ''
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE cases (
    id {{pk}},
    no TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    category_id BIGINT NOT NULL REFERENCES categories(id),
    description TEXT NOT NULL,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    address TEXT NOT NULL DEFAULT '',
    region_id BIGINT REFERENCES regions(id),
    urgency INTEGER NOT NULL DEFAULT 1,
    state TEXT NOT NULL,
    lead_unit_id BIGINT REFERENCES units(id),
    task_id BIGINT,
    deadline BIGINT NOT NULL DEFAULT 0,
    warn_at BIGINT NOT NULL DEFAULT 0,
    warning INTEGER NOT NULL DEFAULT 0,
    overdue BOOLEAN NOT NULL DEFAULT FALSE,
    overdue_at BIGINT NOT NULL DEFAULT 0,
    supervised BOOLEAN NOT NULL DEFAULT FALSE,
    rework_count INTEGER NOT NULL DEFAULT 0,
    return_count INTEGER NOT NULL DEFAULT 0,
    ext_pending BOOLEAN NOT NULL DEFAULT FALSE,
    ext_deadline BIGINT NOT NULL DEFAULT 0,
    ext_reason TEXT NOT NULL DEFAULT '',
    merged_into BIGINT REFERENCES cases(id),
    reporter_name TEXT NOT NULL DEFAULT '',
    reporter_phone TEXT NOT NULL DEFAULT '',
    reporter_user_id BIGINT REFERENCES users(id),
    reported_at BIGINT NOT NULL,
    accepted_at BIGINT NOT NULL DEFAULT 0,
    dispatched_at BIGINT NOT NULL DEFAULT 0,
    closed_at BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
-- Lists are newest first (id DESC) under one or two equality filters; each
-- index below serves one common filter without a sort.
CREATE INDEX cases_state ON cases(state, id);
CREATE INDEX cases_lead ON cases(lead_unit_id, state, id);
CREATE INDEX cases_category ON cases(category_id, id);
CREATE INDEX cases_region ON cases(region_id, id);
CREATE INDEX cases_warning ON cases(warning, state, id);
CREATE INDEX cases_reported ON cases(reported_at);
CREATE INDEX cases_deadline ON cases(state, deadline);
CREATE INDEX cases_warn_at ON cases(state, warn_at);

CREATE TABLE case_coop_units (
    case_id BIGINT NOT NULL REFERENCES cases(id),
    unit_id BIGINT NOT NULL REFERENCES units(id),
    PRIMARY KEY (case_id, unit_id)
);
CREATE INDEX case_coop_units_unit ON case_coop_units(unit_id, case_id);

-- A task is one dispatch of a case to a lead unit, from dispatch until it
-- is returned, closed or sent back for rework. Unit performance figures
-- are aggregates over tasks; each row is written in the same transaction
-- as the trail event that changes it.
CREATE TABLE tasks (
    id {{pk}},
    case_id BIGINT NOT NULL REFERENCES cases(id),
    unit_id BIGINT NOT NULL REFERENCES units(id),
    region_id BIGINT REFERENCES regions(id),
    dispatched_at BIGINT NOT NULL,
    deadline BIGINT NOT NULL,
    acked_at BIGINT NOT NULL DEFAULT 0,
    returned_at BIGINT NOT NULL DEFAULT 0,
    handled_at BIGINT NOT NULL DEFAULT 0,
    closed_at BIGINT NOT NULL DEFAULT 0,
    reworked_at BIGINT NOT NULL DEFAULT 0,
    voided_at BIGINT NOT NULL DEFAULT 0,
    extensions INTEGER NOT NULL DEFAULT 0,
    postponed BOOLEAN NOT NULL DEFAULT FALSE,
    overdue BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX tasks_unit ON tasks(unit_id, dispatched_at);
CREATE INDEX tasks_dispatched ON tasks(dispatched_at);
CREATE INDEX tasks_case ON tasks(case_id);

CREATE TABLE photos (
    id {{pk}},
    case_id BIGINT NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    mime TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    event_seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX photos_case ON photos(case_id);

-- The trail: every action on a case and every administrative change, one
-- hash chain. seq is assigned under the lock of audit_head, so the chain
-- order equals the commit order even with several writers.
CREATE TABLE events (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id BIGINT,
    actor_name TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_unit_id BIGINT,
    action TEXT NOT NULL,
    case_id BIGINT,
    from_state TEXT NOT NULL DEFAULT '',
    to_state TEXT NOT NULL DEFAULT '',
    opinion TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL DEFAULT '',
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX events_case ON events(case_id, seq);
CREATE INDEX events_at ON events(at);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
