CREATE TRIGGER audit_seals_in_order BEFORE INSERT ON audit_seals
WHEN NEW.link <> (SELECT COALESCE(MAX(link), 0) + 1 FROM audit_seals)
BEGIN SELECT RAISE(ABORT, 'an audit seal must be the next link of the chain'); END;
