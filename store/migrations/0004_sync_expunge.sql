-- 0004: messages expunged from the mailbox. The local copy stays (the
-- ticket keeps its history); expunged marks it gone from the server, so
-- it is no longer read for keywords or claims.

ALTER TABLE messages ADD COLUMN expunged INTEGER NOT NULL DEFAULT 0;
