CREATE FUNCTION audit_seals_in_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.link <> (SELECT COALESCE(MAX(link), 0) + 1 FROM audit_seals) THEN
        RAISE EXCEPTION 'an audit seal must be the next link of the chain';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_seals_in_order BEFORE INSERT ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION audit_seals_in_order();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION audit_seals_append_only();
