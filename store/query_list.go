package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// QueryTickets returns up to limit tickets matching q, most recently
// updated first, skipping the first offset: the list reads one window of a
// section at a time.
func (s *Store) QueryTickets(ctx context.Context, q *Query, env QueryEnv, offset, limit int) ([]*Ticket, error) {
	where, args := q.Where(env)
	ts, err := s.tickets(ctx, `SELECT `+ticketColumns+` FROM tickets t JOIN accounts a ON a.id = t.account_id
		WHERE `+where+` ORDER BY t.updated DESC, t.id DESC LIMIT ? OFFSET ?`, append(args, max(limit, 0), max(offset, 0))...)
	if err != nil {
		return nil, fmt.Errorf("store: query: %w", err)
	}
	return ts, nil
}

// CountTickets counts the tickets matching q.
func (s *Store) CountTickets(ctx context.Context, q *Query, env QueryEnv) (int, error) {
	where, args := q.Where(env)
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM tickets t WHERE `+where, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count: %w", err)
	}
	return n, nil
}

// QueryIDs returns the row ids of the tickets matching q, in list order,
// from offset on, at most limit (all when limit < 0): for marking by query
// or by range.
func (s *Store) QueryIDs(ctx context.Context, q *Query, env QueryEnv, offset, limit int) ([]int64, error) {
	where, args := q.Where(env)
	rows, err := s.db.QueryContext(ctx, `SELECT t.id FROM tickets t WHERE `+where+` ORDER BY t.updated DESC, t.id DESC LIMIT ? OFFSET ?`,
		append(args, limit, max(offset, 0))...)
	if err != nil {
		return nil, fmt.Errorf("store: query: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// TicketIndex is the position of ticket id in the list of q (-1 when it
// does not match), so that the list can keep its cursor on a ticket.
func (s *Store) TicketIndex(ctx context.Context, q *Query, env QueryEnv, id int64) (int, error) {
	where, args := q.Where(env)
	var updated string
	err := s.db.QueryRowContext(ctx, `SELECT t.updated FROM tickets t WHERE t.id = ? AND `+where, append([]any{id}, args...)...).Scan(&updated)
	if errors.Is(err, sql.ErrNoRows) {
		return -1, nil
	} else if err != nil {
		return -1, err
	}
	var n int
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM tickets t WHERE (t.updated > ? OR (t.updated = ? AND t.id > ?)) AND `+where,
		append([]any{updated, updated, id}, args...)...).Scan(&n)
	return n, err
}
