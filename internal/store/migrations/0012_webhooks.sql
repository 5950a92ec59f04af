-- Webhooks: endpoints that receive the supervision notices as signed JSON
-- (a unit's own system, or the office's), and the log of every delivery
-- with its attempts. unit_id NULL: the notices of every unit.
CREATE TABLE webhooks (
    id {{pk}},
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    unit_id BIGINT REFERENCES units(id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id {{pk}},
    webhook_id BIGINT NOT NULL REFERENCES webhooks(id),
    notice_id BIGINT NOT NULL REFERENCES notices(id),
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0,
    last_status INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    delivered_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, created_at);
