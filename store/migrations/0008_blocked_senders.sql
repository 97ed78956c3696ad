-- 0008: senders and domains staff blocked from a ticket: their mail is
-- spam from then on (besides the block list of the config file).
CREATE TABLE blocked_senders (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    pattern    TEXT    NOT NULL, -- an address, or a domain
    actor      TEXT    NOT NULL DEFAULT '',
    added      TEXT    NOT NULL,
    PRIMARY KEY (account_id, pattern)
);
