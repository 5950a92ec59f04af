CREATE TABLE case_search (
    case_id BIGINT PRIMARY KEY REFERENCES cases(id),
    terms tsvector NOT NULL
);
CREATE INDEX case_search_terms ON case_search USING gin (terms);
