-- 0007: the local spam filter. Per-token message counts by class, the
-- message counts and the chosen threshold, and on tickets and messages the
-- staff (or teammates') marks and what each message was trained as. The
-- marks come from the $Desk-Spam/$Desk-Ham keywords, so the filter can be
-- rebuilt from the mailbox when its tables are found inconsistent.

CREATE TABLE spam_tokens (
    token TEXT    PRIMARY KEY,
    ham   INTEGER NOT NULL DEFAULT 0,
    spam  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE spam_meta (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    ham_messages  INTEGER NOT NULL DEFAULT 0,
    spam_messages INTEGER NOT NULL DEFAULT 0,
    -- 0: the filter's default cut-off
    threshold     REAL    NOT NULL DEFAULT 0,
    -- sum of every token count, kept with each change to detect damage
    checksum      INTEGER NOT NULL DEFAULT 0,
    -- bumped by every change, so that other processes reload
    generation    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO spam_meta (id) VALUES (1);

-- '' (no mark), 'spam' or 'ham': set by staff here or read from keywords
ALTER TABLE tickets ADD COLUMN spam_mark TEXT NOT NULL DEFAULT '';
-- '' (not trained), 'spam' or 'ham': the class this message counts in
ALTER TABLE messages ADD COLUMN spam_trained TEXT NOT NULL DEFAULT '';
CREATE INDEX tickets_spam_mark ON tickets (spam_mark) WHERE spam_mark <> '';
-- marking a flood of tickets at once queues two keyword changes each
CREATE INDEX keyword_queue_ticket ON keyword_queue (ticket_id, keyword);
