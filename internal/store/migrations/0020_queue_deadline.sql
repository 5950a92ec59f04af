-- A unit's queue in deadline order: the unit's cases of a state by
-- deadline, so that a long queue is sorted on this index alone and only
-- the page's cases are read whole.
CREATE INDEX cases_lead_deadline ON cases(lead_unit_id, state, deadline);
