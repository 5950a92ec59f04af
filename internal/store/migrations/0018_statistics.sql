-- The planner's statistics as the data grows (the PostgreSQL file): the
-- busy tables are analysed after 2 % of their rows change rather than
-- autovacuum's default 10 %, so a growing city's plans follow it. SQLite
-- keeps its statistics with PRAGMA optimize (internal/store/optimize.go).
SELECT 1;
