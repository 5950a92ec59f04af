-- What a client system sent with a case beyond the fields a case uses
-- (Open311): the client's name, its photo links, the attributes the
-- category does not define. JSON; empty for every other channel.
ALTER TABLE cases ADD COLUMN client_fields TEXT NOT NULL DEFAULT '';

-- A client's updates to its own requests (mySociety's
-- servicerequestupdates extension): one row per (client, the client's own
-- update id), so that a retried POST records nothing twice.
CREATE TABLE client_updates (
    client TEXT NOT NULL,
    update_id TEXT NOT NULL,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    event_seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (client, update_id)
);
