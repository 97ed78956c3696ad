-- 0009: search at 500,000 messages. The full-text index is keyed by
-- ticket: a message's row in search_fts has the rowid
-- (ticket id << 32) | message id (ticket 0 for mail outside any ticket), so
-- a match names its tickets (rowid >> 32) without a lookup per matching
-- message in the wide messages table. It replaces messages_fts (the join
-- drops rows that deleted messages left there); a ticket merge re-keys the
-- rows it moves. Senders (address and display name) and recipients (To
-- and Cc) have columns of their own, so that from: and to: are answered by
-- the index alone. The index is contentless: it keeps no second copy of
-- the text (the messages hold it), so a merge indexes the rows it moves
-- again from the messages, and a search reads its snippet from them;
-- contentless_delete lets rows be deleted by rowid (SQLite 3.43).
-- A partial index serves the Mine and Unassigned sections: it walks an
-- assignee's unsolved tickets in updated order and counts them without
-- reading a ticket (an IN over three states cannot walk an index in order).

CREATE VIRTUAL TABLE search_fts USING fts5 (
    subject, body, sender, recipients,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO search_fts (rowid, subject, body, sender, recipients)
    SELECT (coalesce(m.ticket_id, 0) << 32) | m.id, f.subject, f.body,
        m.from_addr || ' ' || m.from_name, m.to_addrs || ' ' || m.cc_addrs
    FROM messages_fts f JOIN messages m ON m.id = f.rowid;
DROP TABLE messages_fts;
-- one segment: the bulk insert leaves many
INSERT INTO search_fts (search_fts) VALUES ('optimize');

CREATE INDEX tickets_unsolved_assignee ON tickets (assignee, updated DESC, spam, state)
    WHERE state IN ('open', 'pending', 'on-hold');

-- Every sync pass lists an account's live UIDs to find expunges; from the
-- table, each row's expunged (stored after the body) is read through the
-- body's overflow pages.
CREATE INDEX messages_live_uid ON messages (account_id, uid) WHERE uid IS NOT NULL AND expunged = 0;
