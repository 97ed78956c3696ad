-- 0002: columns and tables the later features share: assignee, spam
-- marks and scores, sender verification, external participants, every
-- Message-ID a message refers to (threading merges), and system events
-- shown inline in a thread.

ALTER TABLE tickets ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN spam INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN spam_score REAL NOT NULL DEFAULT 0;

ALTER TABLE messages ADD COLUMN spam_score REAL NOT NULL DEFAULT 0;
-- why the sender could not be verified (failed DMARC/DKIM/SPF), "" if fine
ALTER TABLE messages ADD COLUMN unverified TEXT NOT NULL DEFAULT '';

CREATE TABLE participants (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    addr      TEXT    NOT NULL,
    name      TEXT    NOT NULL DEFAULT '',
    added     TEXT    NOT NULL,
    PRIMARY KEY (ticket_id, addr)
);

CREATE TABLE message_refs (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    ref        TEXT    NOT NULL
);
CREATE INDEX message_refs_ref ON message_refs (ref);

CREATE TABLE ticket_events (
    id        INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    at        TEXT    NOT NULL,
    actor     TEXT    NOT NULL DEFAULT '',
    what      TEXT    NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, at);
