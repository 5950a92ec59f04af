-- SQLite has one writer: an event's seq is the highest so far plus one,
-- taken in the INSERT itself.
DROP TRIGGER events_move_head;
CREATE TRIGGER events_pending AFTER INSERT ON events
BEGIN INSERT INTO audit_pending (seq) VALUES (NEW.seq) ON CONFLICT DO NOTHING; END;
CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals
BEGIN SELECT RAISE(ABORT, 'audit seals are append-only'); END;
CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals
BEGIN SELECT RAISE(ABORT, 'audit seals are append-only'); END;
