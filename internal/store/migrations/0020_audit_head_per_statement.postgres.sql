DROP TRIGGER events_move_head ON events;
CREATE OR REPLACE FUNCTION events_move_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_head h SET seq = n.seq, hash = n.hash
      FROM (SELECT seq, hash FROM new_events ORDER BY seq DESC LIMIT 1) n
     WHERE h.id = 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER events_move_head AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION events_move_head();
