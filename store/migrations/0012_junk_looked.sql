-- 0012: roots that left the desk mailbox and were looked for in the Junk
-- mailbox without being found there (mail/junk.go). A root is looked for
-- once per UID it left with and per spam mark of its ticket, across
-- restarts: a team that archives handled mail out of the desk mailbox
-- would otherwise wait on one SEARCH per archived ticket after every start.
CREATE TABLE junk_looked (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
    uid       INTEGER NOT NULL, -- the root's UID when it left the mailbox
    mark      TEXT    NOT NULL  -- the ticket's spam mark when it was looked for
);
