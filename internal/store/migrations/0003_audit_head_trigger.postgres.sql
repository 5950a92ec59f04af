CREATE FUNCTION events_move_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER events_move_head AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_move_head();
