-- 0010: messages the server would not return (a NO or BAD to the fetch of
-- their body). The sync cursor moves past them so that later mail keeps
-- coming, and every pass asks for them again until they arrive or leave
-- the mailbox.
CREATE TABLE unfetched (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    uid        INTEGER NOT NULL,
    error      TEXT    NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 1,
    first_seen TEXT    NOT NULL,
    PRIMARY KEY (account_id, uid)
);
