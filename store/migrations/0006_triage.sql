-- 0006: what the staff interface needs at 100,000 tickets: indexes for the
-- sections' queries and counts, and drafts saved as staff type.

CREATE INDEX tickets_state_updated ON tickets (state, updated DESC);
CREATE INDEX tickets_assignee_updated ON tickets (assignee, updated DESC);
CREATE INDEX tickets_spam_updated ON tickets (spam, updated DESC);
CREATE INDEX tickets_requester ON tickets (requester, updated DESC);
CREATE INDEX tickets_created ON tickets (created DESC);
CREATE INDEX ticket_labels_label ON ticket_labels (label, ticket_id);
CREATE INDEX messages_with_attachments ON messages (ticket_id) WHERE attachments <> '';
CREATE INDEX messages_unverified ON messages (ticket_id) WHERE unverified <> '';

-- One draft per ticket and kind (reply or note), saved as staff type and
-- restored when the composer opens again.
CREATE TABLE drafts (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind      TEXT    NOT NULL,
    body      TEXT    NOT NULL,
    updated   TEXT    NOT NULL,
    PRIMARY KEY (ticket_id, kind)
);
