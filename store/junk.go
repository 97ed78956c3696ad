package store

import "context"

// JunkRoot is a ticket's root message as the Junk mailbox handling of
// mail/junk.go sees it.
type JunkRoot struct {
	TicketID  int64
	MessageID string
	UID       uint32 // its UID in the desk mailbox; 0 when it left it
	Mark      string // the staff's spam mark: "", SpamMarkSpam or SpamMarkHam
}

// JunkRoots lists the roots the Junk handling may act on: roots in the
// mailbox of tickets marked spam whose spam keywords are on the server (no
// change of them queued), to move to Junk; and roots that left the mailbox
// of tickets not marked spam, to look for in Junk (their queued changes
// wait for the root to come back: PendingKeywords).
func (s *Store) JunkRoots(ctx context.Context, accountID int64) ([]JunkRoot, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.id, t.root_message_id, CASE WHEN m.expunged = 0 THEN m.uid ELSE 0 END, t.spam_mark
		FROM tickets t JOIN messages m ON m.ticket_id = t.id AND m.message_id = t.root_message_id AND m.uid IS NOT NULL
		WHERE t.account_id = ? AND (m.expunged = 0) = (t.spam_mark = ?)
		AND (m.expunged = 1 OR NOT EXISTS (SELECT 1 FROM keyword_queue q WHERE q.ticket_id = t.id AND q.keyword IN (?, ?)))
		ORDER BY t.id`, accountID, SpamMarkSpam, KeywordSpam, KeywordHam)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []JunkRoot
	for rows.Next() {
		var r JunkRoot
		if err := rows.Scan(&r.TicketID, &r.MessageID, &r.UID, &r.Mark); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
