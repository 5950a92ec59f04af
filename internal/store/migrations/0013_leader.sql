-- The leader's screen and the weekly notices. The screen
-- (internal/report/leader.go) reads on every refresh the open cases by
-- grid cell (with the flags the counts need), the dispatched ones by unit
-- and the cases closed in each of twelve weeks; each index below answers
-- one of them in its own order, without touching the table (region_id is
-- there for a district leader's scope). The state lists are written as the queries
-- write them, so that SQLite can prove a query matches the partial index.
CREATE INDEX cases_open_cell ON cases(grid_cell_id, state, overdue, warning, supervised, region_id) WHERE state IN ('reported','accepted','dispatched','in_progress','postponed','verifying');
CREATE INDEX cases_open_unit ON cases(lead_unit_id, overdue, state, region_id) WHERE state IN ('dispatched','in_progress');
CREATE INDEX cases_closed ON cases(closed_at, state);
-- The weekly supervision notices (workflow.OpenByUnit): the open cases of
-- each unit by deadline, with the flags that decide whether a notice
-- lists a case and what a notice prints of it, the start of the
-- description included (61 characters: report's noticeDescRunes + 1, as
-- the query writes it), so that a notice's cases are read from the index
-- in order rather than from rows scattered over the table.
CREATE INDEX cases_notice ON cases(lead_unit_id, deadline, state, rework_count, supervised, ext_pending, no, category_id, region_id, overdue, substr(description, 1, 61)) WHERE state IN ('dispatched','in_progress','postponed','verifying');
