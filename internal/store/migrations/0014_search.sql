-- Searching cases (案件检索). The index itself, case_search, is an FTS5
-- table on SQLite and a tsvector with a GIN index on PostgreSQL (the
-- dialect files); it holds the terms the program derives from a case's
-- number, address and description (docs/search.md).

-- The office may find a case by the reporter's phone.
CREATE INDEX cases_reporter_phone ON cases(reporter_phone) WHERE reporter_phone <> '';

-- Cases filed before the index existed are indexed by the program in the
-- background, newest first; this mark is the highest id still to index.
-- New cases are indexed as they are filed.
INSERT INTO counters (name, value) SELECT 'search_backfill', COALESCE(MAX(id), 0) FROM cases;
