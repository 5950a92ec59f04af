-- Residents' status messages (SMS) waiting to be sent, written in the
-- transaction that changes the case. A sent message keeps no phone.
CREATE TABLE sms_outbox (
    id {{pk}},
    case_id BIGINT NOT NULL REFERENCES cases(id),
    phone TEXT NOT NULL,
    template TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    sent_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sms_outbox_due ON sms_outbox(status, next_at);
CREATE INDEX sms_outbox_case ON sms_outbox(case_id);
