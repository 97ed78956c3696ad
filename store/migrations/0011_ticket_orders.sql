-- 0011: the sections' sorts (store/query_list.go Order) read the tickets
-- through an index, so that a window is a walk that stops when it is full,
-- not a sort of every ticket: by number, and by status in workflow order
-- (the expression must stay the same text as statusRank), newest activity
-- first within a status. By requester reads tickets_requester (0006).

CREATE INDEX tickets_number ON tickets (number);
CREATE INDEX tickets_status_order ON tickets (CASE state WHEN 'open' THEN 0 WHEN 'pending' THEN 1 WHEN 'on-hold' THEN 2 WHEN 'solved' THEN 3 WHEN 'closed' THEN 4 ELSE 5 END, updated DESC);
