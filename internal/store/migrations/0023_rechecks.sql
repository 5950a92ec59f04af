-- Re-checks that stop relapse (动态管理, 防止反弹).
--
-- A revisit (回访) goes back to a closed case some days later to see that
-- the problem stayed fixed. Each week a reproducible random share of the
-- dispatches closed the week before, unit by unit, is drawn for a revisit;
-- inspectors and grid workers record the result. A failed revisit reopens
-- the case as a relapse (反弹) and marks the closed dispatch, so that the
-- unit's figures count it (revisited, relapses, relapse rate).
ALTER TABLE dispatches ADD COLUMN revisited_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE dispatches ADD COLUMN relapsed_at BIGINT NOT NULL DEFAULT 0;
-- The figures read every column of the cohort from this one index.
DROP INDEX dispatches_perf;
CREATE INDEX dispatches_perf ON dispatches(unit_id, region_id, dispatched_at, deadline, returned_at, handled_at, closed_at, reworked_at, extensions, postponed, overdue, voided_at, revisited_at, relapsed_at);
-- The weekly draw finds the dispatches closed in a week; the weekly
-- notices find the week's relapses.
CREATE INDEX dispatches_closed ON dispatches(closed_at) WHERE closed_at > 0;
CREATE INDEX dispatches_relapsed ON dispatches(relapsed_at) WHERE relapsed_at > 0;

-- One row per week drawn; the week's key makes the draw happen once, on
-- any number of replicas.
CREATE TABLE revisit_draws (
    week TEXT PRIMARY KEY,
    share TEXT NOT NULL,
    candidates INTEGER NOT NULL,
    drawn INTEGER NOT NULL,
    drawn_at BIGINT NOT NULL
);

-- A revisit of one closed dispatch. state: pending, passed, failed.
CREATE TABLE revisits (
    id {{pk}},
    week TEXT NOT NULL REFERENCES revisit_draws(week),
    case_id BIGINT NOT NULL REFERENCES cases(id),
    dispatch_id BIGINT NOT NULL UNIQUE REFERENCES dispatches(id),
    unit_id BIGINT NOT NULL REFERENCES units(id),
    due_at BIGINT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    done_at BIGINT NOT NULL DEFAULT 0,
    done_by BIGINT REFERENCES users(id),
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX revisits_state ON revisits(state, due_at);
CREATE INDEX revisits_done ON revisits(done_at) WHERE done_at > 0;
CREATE INDEX revisits_case ON revisits(case_id);
CREATE INDEX revisits_week ON revisits(week, unit_id);

-- A new report of the same category close to a case closed in the last
-- days (the category's duplicate radius, the recurrence window) is
-- flagged as a recurrence (复发) and linked to that case. earlier_unit_id
-- is the unit that had closed the earlier case when the link was made.
CREATE TABLE case_recurrences (
    case_id BIGINT PRIMARY KEY REFERENCES cases(id),
    earlier_id BIGINT NOT NULL REFERENCES cases(id),
    earlier_unit_id BIGINT REFERENCES units(id),
    distance_m INTEGER NOT NULL,
    found_at BIGINT NOT NULL
);
CREATE INDEX case_recurrences_earlier ON case_recurrences(earlier_id);
CREATE INDEX case_recurrences_found ON case_recurrences(found_at);
-- lon and closed_at in the index: a busy spot holds many closed cases of
-- a category, and only those within the window and the radius are read.
CREATE INDEX cases_recur ON cases(category_id, lat, lon, closed_at) WHERE state = 'closed';

-- A re-inspection (复查) of a site that failed in an assessment round:
-- opened when the round closes, due within the configured working days.
-- state: pending, passed (every failed standard now passes), failed.
CREATE TABLE assess_rechecks (
    id {{pk}},
    round_id BIGINT NOT NULL,
    site_id BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    done_at BIGINT NOT NULL DEFAULT 0,
    done_by BIGINT REFERENCES users(id),
    note TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (round_id, site_id) REFERENCES assess_round_sites(round_id, site_id),
    UNIQUE (round_id, site_id)
);
CREATE INDEX assess_rechecks_state ON assess_rechecks(state, due_at);

-- The re-check of each standard that failed at the site, recorded like
-- an observation and shown beside it.
CREATE TABLE assess_recheck_items (
    recheck_id BIGINT NOT NULL REFERENCES assess_rechecks(id),
    standard TEXT NOT NULL,
    result TEXT NOT NULL,
    problems INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (recheck_id, standard)
);
