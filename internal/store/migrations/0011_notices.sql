-- Supervision notices (督办单): the weekly one each unit with anything due
-- gets, and those the office issues at any time (即时督办). The content is
-- kept as issued (JSON); a unit acknowledges (签收) its notice. One weekly
-- notice per unit and week, whichever replica issues it first.
CREATE TABLE notices (
    id {{pk}},
    no TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    week TEXT NOT NULL,
    unit_id BIGINT NOT NULL REFERENCES units(id),
    case_id BIGINT REFERENCES cases(id),
    doc TEXT NOT NULL,
    escalated BOOLEAN NOT NULL DEFAULT FALSE,
    issued_at BIGINT NOT NULL,
    issued_by BIGINT REFERENCES users(id),
    acknowledged_at BIGINT NOT NULL DEFAULT 0,
    acknowledged_by BIGINT REFERENCES users(id)
);
CREATE UNIQUE INDEX notices_weekly ON notices(week, unit_id) WHERE kind = 'weekly';
CREATE INDEX notices_unit ON notices(unit_id, issued_at);
