-- Stock replies (常用语): the office's usual wording for an action's
-- opinion, offered in the action's form, in order.
CREATE TABLE stock_replies (
    id {{pk}},
    action TEXT NOT NULL,
    text TEXT NOT NULL,
    ord INTEGER NOT NULL
);
CREATE INDEX stock_replies_action ON stock_replies(action, ord);
