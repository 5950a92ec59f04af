-- Staff alerts (消息提醒): what a person of the console should look at
-- next, written in the transaction of the change that calls for it (a
-- dispatch to a unit, a rework, a listing, an extension decided or asked
-- for, a case returned or ready to verify, a warning, a notice issued).
-- An alert is for a unit's staff (unit_id) or for every user of a role
-- (role) in whose scope its case lies; a reader sees only those whose case
-- is in their scope. Read state is one mark per user: the last alert id
-- read.
CREATE TABLE staff_alerts (
    id {{pk}},
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    unit_id BIGINT REFERENCES units(id),
    role TEXT NOT NULL DEFAULT '',
    case_id BIGINT REFERENCES cases(id),
    ref TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staff_alerts_unit ON staff_alerts(unit_id, id);
CREATE INDEX staff_alerts_role ON staff_alerts(role, id);
CREATE TABLE staff_alert_reads (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    last_id BIGINT NOT NULL
);
