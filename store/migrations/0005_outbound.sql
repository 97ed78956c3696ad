-- 0005: outbound mail. notice names the automated mail an outbox row is
-- (thank_you, closed), composed from the project's template when it
-- leaves; files lists the paths a staff reply attaches (JSON), read once
-- when the reply is composed.

ALTER TABLE outbox ADD COLUMN notice TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN files TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_sent ON outbox (kind, state, sent_at);
