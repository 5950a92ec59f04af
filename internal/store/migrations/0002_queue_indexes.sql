-- Indexes for the work queues and the deadline watch at a million cases.
--
-- Pages: partial indexes holding only the cases of one queue, in id order,
-- so the first page of a queue is a short index scan however large the
-- closed archive grows. Counters: small covering indexes led by the
-- queue's flag, so a dashboard counter counts index entries without
-- reading rows. The watch gets partial indexes of the cases it still has
-- to mark, replacing the (state, ...) indexes that also lured the queue
-- counts into reading rows. Queries spell these predicates as literals so
-- both engines can match them.
DROP INDEX cases_deadline;
DROP INDEX cases_warn_at;
CREATE INDEX cases_watch_overdue ON cases(deadline) WHERE state IN ('dispatched','in_progress') AND overdue = FALSE;
CREATE INDEX cases_watch_warn ON cases(warn_at) WHERE state IN ('dispatched','in_progress') AND warning = 0;

CREATE INDEX cases_q_handle ON cases(lead_unit_id, id) WHERE state IN ('dispatched','in_progress');
CREATE INDEX cases_q_overdue ON cases(id) WHERE state IN ('dispatched','in_progress') AND overdue = TRUE;
CREATE INDEX cases_q_overdue_unit ON cases(lead_unit_id, id) WHERE state IN ('dispatched','in_progress') AND overdue = TRUE;
CREATE INDEX cases_q_extension ON cases(id) WHERE state IN ('in_progress') AND ext_pending = TRUE;
CREATE INDEX cases_q_supervised ON cases(id) WHERE state IN ('reported','accepted','dispatched','in_progress','postponed','verifying') AND supervised = TRUE;

CREATE INDEX cases_n_overdue ON cases(overdue, state, lead_unit_id);
CREATE INDEX cases_n_extension ON cases(ext_pending, state);
CREATE INDEX cases_n_supervised ON cases(supervised, state);

-- Performance figures: covering indexes so a quarter's aggregate reads
-- index entries only, already grouped by unit and region.
DROP INDEX tasks_unit;
CREATE INDEX tasks_perf ON tasks(unit_id, region_id, dispatched_at, deadline, returned_at, handled_at, closed_at, reworked_at, extensions, postponed, overdue, voided_at);
CREATE INDEX cases_intake ON cases(region_id, reported_at, state, accepted_at);

-- Filtered case lists: the console's filters (state, category, region,
-- report date) counted from one covering index; with several filters set
-- the count reads only the matching entries.
CREATE INDEX cases_filter ON cases(state, category_id, region_id, reported_at);

-- District- and street-scoped users: their counters are a few ranges of
-- (state, region).
CREATE INDEX cases_state_region ON cases(state, region_id);
CREATE INDEX cases_n_overdue_region ON cases(overdue, state, region_id);
