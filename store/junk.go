package store

import (
	"context"
	"fmt"
)

// JunkRoot is a ticket's root message as the Junk mailbox handling of
// mail/junk.go sees it.
type JunkRoot struct {
	TicketID  int64
	MessageID string
	UID       uint32 // its UID in the desk mailbox (the last one it had, when it left)
	Left      bool   // it left the desk mailbox
	Mark      string // the staff's spam mark: "", SpamMarkSpam or SpamMarkHam
}

// JunkRoots lists the roots the Junk handling may act on: roots in the
// mailbox of tickets marked spam whose spam keywords are on the server (no
// change of them queued), to move to Junk; and roots that left the mailbox
// of tickets not marked spam, to look for in Junk (their queued changes
// wait for the root to come back: PendingKeywords), unless NotInJunk
// recorded them with the same UID and mark.
func (s *Store) JunkRoots(ctx context.Context, accountID int64) ([]JunkRoot, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.id, t.root_message_id, m.uid, m.expunged, t.spam_mark
		FROM tickets t JOIN messages m ON m.ticket_id = t.id AND m.message_id = t.root_message_id AND m.uid IS NOT NULL
		WHERE t.account_id = ? AND (m.expunged = 0) = (t.spam_mark = ?)
		AND (m.expunged = 1 OR NOT EXISTS (SELECT 1 FROM keyword_queue q WHERE q.ticket_id = t.id AND q.keyword IN (?, ?)))
		AND (m.expunged = 0 OR NOT EXISTS (SELECT 1 FROM junk_looked l WHERE l.ticket_id = t.id AND l.uid = m.uid AND l.mark = t.spam_mark))
		ORDER BY t.id`, accountID, SpamMarkSpam, KeywordSpam, KeywordHam)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []JunkRoot
	for rows.Next() {
		var r JunkRoot
		if err := rows.Scan(&r.TicketID, &r.MessageID, &r.UID, &r.Left, &r.Mark); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// NotInJunk records that these roots, which left the desk mailbox, were
// looked for in the Junk mailbox and are not there: JunkRoots leaves them
// out until the root leaves again with another UID or the ticket's mark
// changes. A ticket merged away meanwhile is skipped.
func (s *Store) NotInJunk(ctx context.Context, roots []JunkRoot) error {
	err := s.Update(ctx, func(tx *Tx) error {
		for _, r := range roots {
			if _, err := tx.exec(`INSERT OR REPLACE INTO junk_looked (ticket_id, uid, mark)
				SELECT id, ?, ? FROM tickets WHERE id = ?`, r.UID, r.Mark, r.TicketID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: junk: %w", err)
	}
	return nil
}
