package store

import (
	"context"
	"time"
)

// NewSince lists a ticket's messages dated after since that author did not
// write: what reached the ticket while a staff member was writing a reply
// (the customer's new mail, a teammate's reply or note). A non-empty
// result is the collision warning "someone else answered meanwhile".
func (s *Store) NewSince(ctx context.Context, ticketID int64, since time.Time, author string) ([]*Message, error) {
	return s.queryMessages(ctx, `WHERE m.ticket_id = ? AND m.date > ? AND NOT (m.kind IN (?, ?) AND m.from_name = ?)
		ORDER BY m.id`, ticketID, formatTime(since), KindReply, KindNote, author)
}
