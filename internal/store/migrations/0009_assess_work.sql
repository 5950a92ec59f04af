-- The work of an assessment round (docs/assessment.md): teams and their
-- sites, observations from the inspectors' phones with the cases they
-- raise, closing a round with a snapshot of its figures, the mapping of
-- standards to problem categories, and the escalation ladder.

-- A round is a mock inspection (mock, 模拟测评: scored) or a leader's
-- supervision visit (supervision, 领导督导: problems only, no score).
ALTER TABLE assess_rounds ADD COLUMN kind TEXT NOT NULL DEFAULT 'mock';
ALTER TABLE assess_rounds ADD COLUMN closed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE assess_rounds ADD COLUMN closed_by BIGINT REFERENCES users(id);
-- The ledger's split a closed round was computed with ("site:lead", exact
-- decimals), so that recomputing it later uses the same rule.
ALTER TABLE assess_rounds ADD COLUMN split TEXT NOT NULL DEFAULT '';

-- Teams (测评组) of a round; each sampled site is assigned to at most one.
CREATE TABLE assess_teams (
    id {{pk}},
    round_id BIGINT NOT NULL REFERENCES assess_rounds(id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (round_id, name)
);

CREATE TABLE assess_team_members (
    team_id BIGINT NOT NULL REFERENCES assess_teams(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX assess_team_members_user ON assess_team_members(user_id);

ALTER TABLE assess_round_sites ADD COLUMN team_id BIGINT REFERENCES assess_teams(id);

-- The case a failed observation raised (source inspection), and the
-- client's key of the submission that last wrote the row (phones resend).
ALTER TABLE assess_observations ADD COLUMN case_id BIGINT REFERENCES cases(id);
ALTER TABLE assess_observations ADD COLUMN client_key TEXT NOT NULL DEFAULT '';
CREATE INDEX assess_observations_case ON assess_observations(case_id);

-- Which problem category (小类) a failed standard's case is filed under,
-- by standard code across editions (codes are stable between editions).
CREATE TABLE assess_category_map (
    standard TEXT PRIMARY KEY,
    category_id BIGINT NOT NULL REFERENCES categories(id)
);

-- A closed round's figures as computed when it closed, one row per scope
-- (the city's code, or a region's): the JSON documents of `assess scores
-- --json` and `assess ledger --json`. `assess check` recomputes and
-- compares.
CREATE TABLE assess_snapshots (
    round_id BIGINT NOT NULL REFERENCES assess_rounds(id),
    scope TEXT NOT NULL,
    scores TEXT NOT NULL,
    ledger TEXT NOT NULL,
    PRIMARY KEY (round_id, scope)
);

-- The escalation ladder (约谈 → 组织部 → 问责) as the office confirmed it:
-- a unit or a district at the bottom of a round, the step taken and the
-- evidence (the rounds and their figures) as JSON.
CREATE TABLE assess_escalations (
    id {{pk}},
    round_id BIGINT NOT NULL REFERENCES assess_rounds(id),
    subject_kind TEXT NOT NULL,
    subject_code TEXT NOT NULL,
    level INTEGER NOT NULL,
    evidence TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    confirmed_by BIGINT REFERENCES users(id),
    confirmed_at BIGINT NOT NULL,
    UNIQUE (round_id, subject_kind, subject_code)
);
CREATE INDEX assess_escalations_subject ON assess_escalations(subject_kind, subject_code);

-- Evidence (材料) a unit uploads for a document standard of a round: the
-- file is kept in the blob store under evidence/, the row says whose it
-- is. region_id is the district it speaks for (NULL: the city).
CREATE TABLE assess_evidence (
    id {{pk}},
    round_id BIGINT NOT NULL REFERENCES assess_rounds(id),
    standard TEXT NOT NULL,
    unit_id BIGINT REFERENCES units(id),
    region_id BIGINT REFERENCES regions(id),
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    mime TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    uploaded_by BIGINT REFERENCES users(id),
    uploaded_at BIGINT NOT NULL
);
CREATE INDEX assess_evidence_round ON assess_evidence(round_id, standard);

-- Photos of a site (点位照片) in the registry, kept in the photos' blob
-- store under orig/ like case photos (so the sweep keeps them: it spares
-- every path a row of this table names).
CREATE TABLE assess_site_photos (
    id {{pk}},
    site_id BIGINT NOT NULL REFERENCES assess_sites(id),
    path TEXT NOT NULL,
    mime TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX assess_site_photos_site ON assess_site_photos(site_id);
CREATE INDEX assess_site_photos_path ON assess_site_photos(path);
