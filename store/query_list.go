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
	p, err := s.plan(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: query: %w", err)
	}
	if p.set != nil {
		ids, err := s.setIDs(ctx, p, env, offset, max(limit, 0))
		if err != nil {
			return nil, fmt.Errorf("store: query: %w", err)
		}
		return s.tickets(ctx, `SELECT `+ticketColumns+` FROM tickets t JOIN accounts a ON a.id = t.account_id
			WHERE t.id IN (SELECT value FROM json_each(?)) ORDER BY t.updated DESC, t.id DESC`, jsonIDs(ids))
	}
	where, args := q.where(env, modeWalk)
	// The window's ids first: the columns (a count and the labels of each)
	// are read for its rows only, not for every match the order sorts.
	ts, err := s.tickets(ctx, `SELECT `+ticketColumns+` FROM tickets t JOIN accounts a ON a.id = t.account_id
		WHERE t.id IN (SELECT t.id FROM tickets t WHERE `+where+` ORDER BY t.updated DESC, t.id DESC LIMIT ? OFFSET ?)
		ORDER BY t.updated DESC, t.id DESC`, append(args, max(limit, 0), max(offset, 0))...)
	if err != nil {
		return nil, fmt.Errorf("store: query: %w", err)
	}
	return ts, nil
}

// CountTickets counts the tickets matching q.
func (s *Store) CountTickets(ctx context.Context, q *Query, env QueryEnv) (int, error) {
	p, err := s.plan(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("store: count: %w", err)
	}
	if p.set != nil {
		n, err := s.countSet(ctx, p, env)
		if err != nil {
			return 0, fmt.Errorf("store: count: %w", err)
		}
		return n, nil
	}
	where, args := q.Where(env)
	count := `SELECT count(*) FROM tickets t WHERE ` + where
	if q != nil {
		if not, ok := q.root.(notNode); ok {
			// All tickets less the negated part (-is:spam), in one read:
			// SQLite counts a whole table from its pages, without testing
			// every ticket.
			where, args = (&Query{root: not.n}).Where(env)
			count = `SELECT (SELECT count(*) FROM tickets) - (SELECT count(*) FROM tickets t WHERE ` + where + `)`
		}
	}
	var n int
	if err := s.db.QueryRowContext(ctx, count, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count: %w", err)
	}
	return n, nil
}

// QueryIDs returns the row ids of the tickets matching q, in list order,
// from offset on, at most limit (all when limit < 0): for marking by query
// or by range.
func (s *Store) QueryIDs(ctx context.Context, q *Query, env QueryEnv, offset, limit int) ([]int64, error) {
	p, err := s.plan(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: query: %w", err)
	}
	if p.set != nil {
		return s.setIDs(ctx, p, env, offset, limit)
	}
	where, args := q.where(env, modeWalk)
	return s.ids(ctx, `SELECT t.id FROM tickets t WHERE `+where+` ORDER BY t.updated DESC, t.id DESC LIMIT ? OFFSET ?`,
		append(args, limit, max(offset, 0))...)
}

// ids reads a column of ticket ids.
func (s *Store) ids(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
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
	p, err := s.plan(ctx, q)
	if err != nil {
		return -1, err
	}
	if p.set != nil {
		return s.setIndex(ctx, p, env, id)
	}
	where, args := q.where(env, modeOne)
	var updated string
	err = s.db.QueryRowContext(ctx, `SELECT t.updated FROM tickets t WHERE t.id = ? AND `+where, append([]any{id}, args...)...).Scan(&updated)
	if errors.Is(err, sql.ErrNoRows) {
		return -1, nil
	} else if err != nil {
		return -1, err
	}
	// The tickets above it: a walk down to it.
	where, args = q.where(env, modeWalk)
	var n int
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM tickets t WHERE (t.updated > ? OR (t.updated = ? AND t.id > ?)) AND `+where,
		append([]any{updated, updated, id}, args...)...).Scan(&n)
	return n, err
}
