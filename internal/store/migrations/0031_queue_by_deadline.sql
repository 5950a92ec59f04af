-- A unit's cases in handling in deadline order (the 待处置 and 已超期
-- queues open soonest deadline first): a page of a long queue reads a page
-- of index entries instead of sorting the whole queue. The id runs newest
-- first within a deadline, as the lists break ties.
CREATE INDEX cases_q_handle_due ON cases(lead_unit_id, deadline, id DESC) WHERE state IN ('dispatched','in_progress');
