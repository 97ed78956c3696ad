package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// LiveUIDs lists the UIDs of the account's messages that the mailbox held
// at the last sync (expunged ones excluded), in ascending order.
func (s *Store) LiveUIDs(ctx context.Context, accountID int64) ([]uint32, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT uid FROM messages
		WHERE account_id = ? AND uid IS NOT NULL AND expunged = 0 ORDER BY uid`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var uid uint32
		if err := rows.Scan(&uid); err != nil {
			return nil, err
		}
		out = append(out, uid)
	}
	return out, rows.Err()
}

// KnownUIDCount counts the UIDs below the cursor that the account's live
// messages hold (unique, by the schema) or that wait to be fetched again:
// what the mailbox holds below the cursor if nothing left it since. A sync
// compares it with the server's count instead of listing every UID.
func (s *Store) KnownUIDCount(ctx context.Context, accountID int64, cursor uint32) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM messages WHERE account_id = ?1 AND uid < ?2 AND uid IS NOT NULL AND expunged = 0) +
		(SELECT count(*) FROM unfetched u WHERE u.account_id = ?1 AND u.uid < ?2 AND NOT EXISTS
			(SELECT 1 FROM messages m WHERE m.account_id = ?1 AND m.uid = u.uid AND m.expunged = 0))`,
		accountID, cursor).Scan(&n)
	return n, err
}

// MarkExpunged records that the messages with these UIDs left the mailbox.
// Their local copies stay in their tickets (a ticket whose root is gone is
// kept with its history); they are only no longer read for keywords or
// claims. It returns the numbers of the tickets touched.
func (t *Tx) MarkExpunged(accountID int64, uids []uint32) ([]int64, error) {
	var numbers []int64
	for _, uid := range uids {
		var n *int64
		err := t.queryRow(`UPDATE messages SET expunged = 1 WHERE account_id = ? AND uid = ?
			RETURNING (SELECT number FROM tickets WHERE id = messages.ticket_id)`, accountID, uid).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			continue // not stored: nothing to mark
		}
		if err != nil {
			return nil, fmt.Errorf("store: mark UID %d expunged: %w", uid, err)
		}
		if n != nil {
			numbers = append(numbers, *n)
		}
	}
	return numbers, nil
}

// RootUID is the UID of a ticket's root message in the mailbox, 0 if it is
// not there (not yet appended, or expunged).
func (s *Store) RootUID(ctx context.Context, ticketID int64) (uint32, error) {
	var uid uint32
	err := s.db.QueryRowContext(ctx, `SELECT m.uid FROM tickets t JOIN messages m ON m.ticket_id = t.id
		AND m.message_id = t.root_message_id AND m.uid IS NOT NULL AND m.expunged = 0 WHERE t.id = ?`, ticketID).Scan(&uid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return uid, err
}

// Expunged reports whether the message with this Message-ID is stored and
// marked as gone from the mailbox.
func (s *Store) Expunged(ctx context.Context, accountID int64, messageID string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE account_id = ? AND message_id = ? AND expunged = 1`,
		accountID, messageID).Scan(&n)
	return n > 0, err
}

// ResetUIDValidity prepares the account for a mailbox whose UIDVALIDITY
// changed: every UID is forgotten (messages are matched again by Message-ID
// as they come back) and ticket numbers, which are root UIDs, are set
// negative until RenumberFromRoots gives them their root's new UID.
func (t *Tx) ResetUIDValidity(accountID int64) error {
	if _, err := t.exec(`UPDATE messages SET uid = NULL, expunged = 0 WHERE account_id = ?`, accountID); err != nil {
		return err
	}
	if _, err := t.exec(`DELETE FROM unfetched WHERE account_id = ?`, accountID); err != nil {
		return err
	}
	_, err := t.exec(`UPDATE tickets SET number = -abs(number) WHERE account_id = ?`, accountID)
	return err
}

// RenumberFromRoots gives every ticket still waiting for a number (after a
// UIDVALIDITY change) its root message's new UID, once the root is back.
// Numbers stay the same on every client and equal a fresh sync's.
func (t *Tx) RenumberFromRoots(accountID int64) error {
	_, err := t.exec(`UPDATE tickets SET number = (
			SELECT m.uid FROM messages m WHERE m.ticket_id = tickets.id
			AND m.message_id = tickets.root_message_id AND m.uid IS NOT NULL)
		WHERE account_id = ? AND number < 0 AND EXISTS (
			SELECT 1 FROM messages m WHERE m.ticket_id = tickets.id
			AND m.message_id = tickets.root_message_id AND m.uid IS NOT NULL)`, accountID)
	return err
}

// RestoreUnrooted gives the tickets whose root did not come back after a
// UIDVALIDITY change their old number again where it is still free; they
// keep their history. It returns how many
// tickets stay without a positive number (their old one was taken).
func (t *Tx) RestoreUnrooted(accountID int64) (int, error) {
	if _, err := t.exec(`UPDATE tickets SET number = -number WHERE account_id = ? AND number < 0
		AND NOT EXISTS (SELECT 1 FROM tickets o WHERE o.account_id = tickets.account_id AND o.number = -tickets.number)`, accountID); err != nil {
		return 0, err
	}
	var n int
	err := t.queryRow(`SELECT count(*) FROM tickets WHERE account_id = ? AND number < 0`, accountID).Scan(&n)
	return n, err
}
