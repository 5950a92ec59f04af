-- Quarterly bulletins (季度通报) as published: the document, the inputs it
-- was computed from (weights, the rounds, the cut-off time of the unit
-- figures) and the document's SHA-256, which also goes on the audit
-- chain. A published bulletin never changes; `report verify` recomputes
-- it from the stored data (internal/report, docs/reports.md).
CREATE TABLE bulletins (
    id {{pk}},
    code TEXT NOT NULL UNIQUE,
    quarter TEXT NOT NULL,
    doc TEXT NOT NULL,
    inputs TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    public BOOLEAN NOT NULL DEFAULT FALSE,
    published_at BIGINT NOT NULL,
    published_by BIGINT REFERENCES users(id)
);
CREATE INDEX bulletins_quarter ON bulletins(quarter);
