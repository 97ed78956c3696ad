package store

import (
	"context"
	"time"
)

// Unfetched is a message the server would not return: its UID, the
// server's last answer and how many passes asked for it.
type Unfetched struct {
	UID      uint32
	Error    string
	Attempts int
}

// RecordUnfetched notes that the server refused the message with this UID
// again (or for the first time) with reason.
func (t *Tx) RecordUnfetched(accountID int64, uid uint32, reason string) error {
	_, err := t.exec(`INSERT INTO unfetched (account_id, uid, error, first_seen) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, uid) DO UPDATE SET error = excluded.error, attempts = attempts + 1`,
		accountID, uid, reason, time.Now().UTC().Format(time.RFC3339))
	return err
}

// ForgetUnfetched drops the notes of these UIDs: they arrived, or left the
// mailbox.
func (t *Tx) ForgetUnfetched(accountID int64, uids []uint32) error {
	for _, uid := range uids {
		if _, err := t.exec(`DELETE FROM unfetched WHERE account_id = ? AND uid = ?`, accountID, uid); err != nil {
			return err
		}
	}
	return nil
}

// UnfetchedUIDs lists the account's messages the server would not return,
// by UID.
func (s *Store) UnfetchedUIDs(ctx context.Context, accountID int64) ([]Unfetched, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT uid, error, attempts FROM unfetched
		WHERE account_id = ? ORDER BY uid`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Unfetched
	for rows.Next() {
		var u Unfetched
		if err := rows.Scan(&u.UID, &u.Error, &u.Attempts); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
