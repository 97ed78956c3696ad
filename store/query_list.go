package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// QueryTickets returns up to limit tickets matching q, in q's Order,
// skipping the first offset: the list reads one window of a section at a
// time.
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
			WHERE t.id IN (SELECT value FROM json_each(?))`+p.order.orderBy(), jsonIDs(ids))
	}
	where, args := q.where(env, modeWalk)
	// The window's ids first: the columns (a count and the labels of each)
	// are read for its rows only, not for every match the order sorts.
	orderBy := p.order.orderBy()
	ts, err := s.tickets(ctx, `SELECT `+ticketColumns+` FROM tickets t JOIN accounts a ON a.id = t.account_id
		WHERE t.id IN (SELECT t.id FROM tickets t WHERE `+where+orderBy+` LIMIT ? OFFSET ?)`+orderBy,
		append(args, max(limit, 0), max(offset, 0))...)
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
	return s.ids(ctx, `SELECT t.id FROM tickets t WHERE `+where+p.order.orderBy()+` LIMIT ? OFFSET ?`,
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
	before, beforeArgs, err := s.orderKey(ctx, q, env, p.order, id)
	if before == "" || err != nil {
		return -1, err
	}
	// The tickets above it: a walk down to it.
	where, args := q.where(env, modeWalk)
	var n int
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM tickets t WHERE `+before+` AND `+where,
		append(beforeArgs, args...)...).Scan(&n)
	return n, err
}

// orderKey is the condition that a ticket comes before ticket id in order
// (as Order.before), when id matches q; "" when it does not.
func (s *Store) orderKey(ctx context.Context, q *Query, env QueryEnv, order Order, id int64) (string, []any, error) {
	where, args := q.where(env, modeOne)
	key := make([]any, len(order.columns()))
	dest := make([]any, len(key))
	for i := range key {
		dest[i] = &key[i]
	}
	err := s.db.QueryRowContext(ctx, `SELECT `+order.keyColumns()+` FROM tickets t WHERE t.id = ? AND `+where,
		append([]any{id}, args...)...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, nil
	} else if err != nil {
		return "", nil, err
	}
	cond, condArgs := order.before(key)
	return cond, condArgs, nil
}

// OrderKeys are the orders a list can be read in: updated, created and
// number read newest first, requester A to Z (newest activity first for
// one requester), status in workflow order (open, pending, on-hold,
// solved, closed; newest activity first within one status).
var OrderKeys = []string{"updated", "created", "number", "requester", "status"}

// Order is the order of a list: a key of OrderKeys, read the other way
// round when Reverse. It is written "key", "key asc" or "key desc"; asc
// or desc names the direction of the key itself (created asc: oldest
// first). The zero Order is the default: most recently updated first.
type Order struct {
	Key     string // one of OrderKeys; "" means updated
	Reverse bool
}

// ascending reports whether a key reads upwards unless reversed.
func ascending(key string) bool { return key == "requester" || key == "status" }

// ParseOrder reads "key", "key asc" or "key desc" (an empty text is the
// default order).
func ParseOrder(text string) (Order, error) {
	f := strings.Fields(strings.ToLower(text))
	if len(f) == 0 {
		return Order{}, nil
	}
	if len(f) > 2 || !slices.Contains(OrderKeys, f[0]) {
		return Order{}, fmt.Errorf("unknown order %q (want one of %s, optionally followed by asc or desc)", text, strings.Join(OrderKeys, ", "))
	}
	o := Order{Key: f[0]}
	if len(f) == 2 {
		if f[1] != "asc" && f[1] != "desc" {
			return Order{}, fmt.Errorf("order %q: want asc or desc after %s, not %q", text, f[0], f[1])
		}
		o.Reverse = (f[1] == "asc") != ascending(o.Key)
	}
	if o == (Order{Key: "updated"}) {
		return Order{}, nil
	}
	return o, nil
}

// String is the order as ParseOrder reads it, with a direction only when
// reversed: "" for the default.
func (o Order) String() string {
	if !o.Reverse {
		return o.Key
	}
	key := cmp.Or(o.Key, "updated")
	if ascending(key) {
		return key + " desc"
	}
	return key + " asc"
}

// statusRank is a ticket's status as its place in the workflow order (the
// expression of the index tickets_status_order: the same text).
const statusRank = `CASE t.state WHEN 'open' THEN 0 WHEN 'pending' THEN 1 WHEN 'on-hold' THEN 2 WHEN 'solved' THEN 3 WHEN 'closed' THEN 4 ELSE 5 END`

// orderColumn is one column of an order.
type orderColumn struct {
	expr string
	desc bool
}

// columns are the order's columns on tickets aliased t, ending with the
// ticket id so that no two tickets tie: a window never skips or repeats
// one. Each has an index that reads it (backwards when reversed).
func (o Order) columns() []orderColumn {
	var cols []orderColumn
	switch o.Key {
	case "created", "number":
		cols = []orderColumn{{"t." + o.Key, true}, {"t.id", true}}
	case "requester":
		cols = []orderColumn{{"t.requester", false}, {"t.updated", true}, {"t.id", true}}
	case "status":
		cols = []orderColumn{{statusRank, false}, {"t.updated", true}, {"t.id", true}}
	default:
		cols = []orderColumn{{"t.updated", true}, {"t.id", true}}
	}
	if o.Reverse {
		for i := range cols {
			cols[i].desc = !cols[i].desc
		}
	}
	return cols
}

// orderBy is the ORDER BY clause of the order.
func (o Order) orderBy() string {
	var parts []string
	for _, c := range o.columns() {
		parts = append(parts, c.expr+map[bool]string{true: " DESC", false: ""}[c.desc])
	}
	return " ORDER BY " + strings.Join(parts, ", ")
}

// keyColumns selects the order's values of a ticket, for before.
func (o Order) keyColumns() string {
	var parts []string
	for _, c := range o.columns() {
		parts = append(parts, c.expr)
	}
	return strings.Join(parts, ", ")
}

// before is the condition that t comes before the ticket whose order
// values are key (as keyColumns reads them), with its arguments.
func (o Order) before(key []any) (string, []any) {
	cols := o.columns()
	var cond string
	var args []any
	for i := len(cols) - 1; i >= 0; i-- {
		op := map[bool]string{true: " > ?", false: " < ?"}[cols[i].desc]
		if cond == "" {
			cond = cols[i].expr + op
			args = []any{key[i]}
			continue
		}
		cond = "(" + cols[i].expr + op + " OR (" + cols[i].expr + " = ? AND " + cond + "))"
		args = append([]any{key[i], key[i]}, args...)
	}
	return cond, args
}
