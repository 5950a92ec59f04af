-- A user's saved case-list filters (常用筛选): a name and the list's query
-- string, shown as links above the list.
CREATE TABLE saved_filters (
    id {{pk}},
    user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, name)
);
