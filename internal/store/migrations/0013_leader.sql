-- The leader's screen (internal/report/leader.go) reads on every refresh
-- the open cases by grid cell and the cases closed in each of twelve
-- weeks; each index answers one of them without touching the table.
CREATE INDEX cases_state_cell ON cases(state, grid_cell_id, overdue);
CREATE INDEX cases_closed ON cases(closed_at, state);
