CREATE TRIGGER events_move_head AFTER INSERT ON events
BEGIN UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1; END;
