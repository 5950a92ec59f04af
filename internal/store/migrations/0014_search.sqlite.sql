-- Contentless: the terms are kept only in the index; rowid is the case id.
CREATE VIRTUAL TABLE case_search USING fts5(terms, content='', tokenize='unicode61 remove_diacritics 0');
