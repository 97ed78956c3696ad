-- 0001: the first schema. Tickets and messages are a cache of the IMAP
-- mailbox; the outbox and the keyword queue are the only rows that exist
-- nowhere else until they have been pushed.

CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    address        TEXT    NOT NULL,
    mailbox        TEXT    NOT NULL DEFAULT 'INBOX',
    uidvalidity    INTEGER NOT NULL DEFAULT 0,
    -- every UID below uid_next has been ingested
    uid_next       INTEGER NOT NULL DEFAULT 0,
    highest_modseq INTEGER NOT NULL DEFAULT 0,
    -- UIDNEXT seen on the first sync: older mail never gets automated mail
    -- and never reopens a ticket (its state comes from keywords alone)
    baseline_uid   INTEGER NOT NULL DEFAULT 0,
    synced_at      TEXT
);

CREATE TABLE tickets (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    -- the UID of the root message: the same on every client
    number          INTEGER NOT NULL,
    project         TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    requester       TEXT    NOT NULL,
    requester_name  TEXT    NOT NULL DEFAULT '',
    reply_key       TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'open',
    root_message_id TEXT    NOT NULL,
    created         TEXT    NOT NULL,
    updated         TEXT    NOT NULL,
    unread          INTEGER NOT NULL DEFAULT 1,
    unsubscribed    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, number),
    UNIQUE (reply_key)
);
CREATE INDEX tickets_updated ON tickets (updated DESC);

CREATE TABLE ticket_labels (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    label     TEXT    NOT NULL,
    PRIMARY KEY (ticket_id, label)
);

CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    -- NULL for automated mail that opened no ticket (kept, never dropped)
    ticket_id     INTEGER REFERENCES tickets(id) ON DELETE CASCADE,
    -- NULL until the message is known in the mailbox (a reply not yet appended)
    uid           INTEGER,
    message_id    TEXT    NOT NULL,
    in_reply_to   TEXT    NOT NULL DEFAULT '',
    refs          TEXT    NOT NULL DEFAULT '',
    from_addr     TEXT    NOT NULL DEFAULT '',
    from_name     TEXT    NOT NULL DEFAULT '',
    to_addrs      TEXT    NOT NULL DEFAULT '',
    cc_addrs      TEXT    NOT NULL DEFAULT '',
    subject       TEXT    NOT NULL DEFAULT '',
    date          TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    body          TEXT    NOT NULL DEFAULT '',
    attachments   TEXT    NOT NULL DEFAULT '',
    auto_reason   TEXT    NOT NULL DEFAULT '',
    parse_warning TEXT    NOT NULL DEFAULT '',
    threaded_by   TEXT    NOT NULL DEFAULT '',
    UNIQUE (account_id, uid)
);
CREATE INDEX messages_message_id ON messages (message_id);
CREATE INDEX messages_ticket ON messages (ticket_id, date);

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    subject, body, addrs,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Mail waiting to leave: staff replies and automated mail go by SMTP and
-- then are appended to the mailbox; internal notes are only appended.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    ticket_id    INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    message_id   TEXT    NOT NULL UNIQUE,
    rcpt         TEXT    NOT NULL DEFAULT '',
    -- what staff typed; raw is composed from it once, on the first attempt,
    -- so that every retry sends the same bytes
    author       TEXT    NOT NULL DEFAULT '',
    body         TEXT    NOT NULL DEFAULT '',
    raw          BLOB,
    -- queued | sending | sent | failed
    state        TEXT    NOT NULL DEFAULT 'queued',
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT    NOT NULL DEFAULT '',
    next_attempt TEXT    NOT NULL,
    -- for automated mail: the keyword claimed on the root before sending
    claim        TEXT    NOT NULL DEFAULT '',
    appended     INTEGER NOT NULL DEFAULT 0,
    created      TEXT    NOT NULL,
    sent_at      TEXT
);
CREATE INDEX outbox_state ON outbox (state, next_attempt);

-- Keyword changes made here and not yet stored on the server.
CREATE TABLE keyword_queue (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    keyword    TEXT    NOT NULL,
    added      INTEGER NOT NULL,
    created    TEXT    NOT NULL
);
