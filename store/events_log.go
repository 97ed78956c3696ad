package store

import (
	"context"
	"time"
)

// TicketEvent is a system event shown inline in a thread ("closed by ana",
// "reopened by a customer reply", "thank-you suppressed: rate limit").
type TicketEvent struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor,omitempty"`
	What  string    `json:"what"`
}

// AddEvent records a system event on a ticket.
func (t *Tx) AddEvent(ticketID int64, actor, what string) error {
	_, err := t.exec(`INSERT INTO ticket_events (ticket_id, at, actor, what) VALUES (?, ?, ?, ?)`,
		ticketID, formatTime(time.Now()), actor, what)
	return err
}

// Events returns a ticket's system events, oldest first.
func (s *Store) Events(ctx context.Context, ticketID int64) ([]TicketEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, actor, what FROM ticket_events WHERE ticket_id = ? ORDER BY at, id`, ticketID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TicketEvent
	for rows.Next() {
		var e TicketEvent
		var at string
		if err := rows.Scan(&at, &e.Actor, &e.What); err != nil {
			return nil, err
		}
		e.At = parseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
