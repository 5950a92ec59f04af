-- The trail's hash chain is sealed after the commit instead of inside
-- every writing transaction (internal/audit: Append, Seal, Verify).
-- Before, each event took the lock of the one audit_head row, read the
-- head's hash and moved the head, and held that lock to its commit, so
-- one chain serialised every writer of the database. Now an event is
-- appended on its own (its seq from a sequence, its row queued in
-- audit_pending by a trigger that no writer can skip), and a sealer, a
-- few milliseconds later, takes the head's lock once for a batch: it
-- gives each queued event the next position of the chain (link), its
-- previous hash and its hash, in audit_seals, and moves the head.
--
-- The chain covers every event as before: audit_seals holds one row per
-- event, linked in order; an event changed, removed or left without a
-- seal (its queue row removed) is found by Verify. The events' own
-- prev_hash and hash columns carry the chain of the events written before
-- this migration and are empty after it; the chain to that point is
-- copied into audit_seals here, at the same positions.
CREATE TABLE audit_seals (
    link BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE audit_pending (
    seq BIGINT PRIMARY KEY
);
INSERT INTO audit_seals (link, seq, prev_hash, hash) SELECT seq, seq, prev_hash, hash FROM events;
