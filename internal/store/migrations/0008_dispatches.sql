-- A dispatch (派遣记录) is one sending of a case to a lead unit; the
-- table was called tasks, a word the campaign's task list (任务清单)
-- needs. Same rows, same columns; the indexes are rebuilt under the new
-- names (SQLite cannot rename an index).
ALTER TABLE tasks RENAME TO dispatches;
ALTER TABLE cases RENAME COLUMN task_id TO dispatch_id;
DROP INDEX tasks_perf;
DROP INDEX tasks_dispatched;
DROP INDEX tasks_case;
CREATE INDEX dispatches_perf ON dispatches(unit_id, region_id, dispatched_at, deadline, returned_at, handled_at, closed_at, reworked_at, extensions, postponed, overdue, voided_at);
CREATE INDEX dispatches_dispatched ON dispatches(dispatched_at);
CREATE INDEX dispatches_case ON dispatches(case_id);
