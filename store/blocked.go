package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// BlockSender blocks the requester of a ticket (or, with domain, every
// address of the requester's domain): their future mail is spam. The
// ticket itself is marked spam too. It returns what was blocked.
func (s *Store) BlockSender(ctx context.Context, ticketID int64, domain bool, actor string) (string, error) {
	var pattern string
	err := s.Update(ctx, func(tx *Tx) error {
		var accountID int64
		var requester string
		if err := tx.queryRow(`SELECT account_id, requester FROM tickets WHERE id = ?`, ticketID).Scan(&accountID, &requester); err != nil {
			return fmt.Errorf("ticket %d: %w", ticketID, err)
		}
		pattern = strings.ToLower(requester)
		if domain {
			_, d, ok := strings.Cut(pattern, "@")
			if !ok || d == "" {
				return fmt.Errorf("requester %q has no domain to block", requester)
			}
			pattern = d
		}
		if pattern == "" {
			return fmt.Errorf("ticket %d has no requester to block", ticketID)
		}
		if _, err := tx.exec(`INSERT OR IGNORE INTO blocked_senders (account_id, pattern, actor, added) VALUES (?, ?, ?, ?)`,
			accountID, pattern, actor, formatTime(time.Now())); err != nil {
			return err
		}
		return tx.AddEvent(ticketID, actor, "blocked "+pattern+": its mail is spam from now on")
	})
	if err != nil {
		return "", err
	}
	return pattern, s.SetSpam(ctx, ticketID, true)
}

// IsBlocked reports whether staff blocked addr or its domain. Spam
// scoring asks for every customer mail of a sync batch, and most accounts
// block nobody: whether the account blocks anyone is read once per
// transaction (blocking runs in a transaction of its own).
func (t *Tx) IsBlocked(accountID int64, addr string) (bool, error) {
	blocks, checked := t.blocking[accountID]
	if !checked {
		if err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM blocked_senders WHERE account_id = ?)`, accountID).Scan(&blocks); err != nil {
			return false, err
		}
		if t.blocking == nil {
			t.blocking = map[int64]bool{}
		}
		t.blocking[accountID] = blocks
	}
	if !blocks {
		return false, nil
	}
	addr = strings.ToLower(addr)
	_, domain, _ := strings.Cut(addr, "@")
	var n int
	err := t.queryRow(`SELECT count(*) FROM blocked_senders WHERE account_id = ? AND pattern IN (?, ?)`,
		accountID, addr, domain).Scan(&n)
	return n > 0, err
}
