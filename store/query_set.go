package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// A query whose terms include words, phrases, from: or to: (the index
// terms) is read in two steps: the index terms give a set of tickets, held
// in memory, and the other terms are tested in SQL on the tickets of that
// set only. The sets are kept until the index changes, so that the count,
// the cursor's position and each window of one list read (and the next
// windows as the list scrolls) build a set once: making a de-duplicated
// set of 57,000 tickets in SQL cost each statement about 45 ms.

// setCache holds the ticket sets of index terms, for one state of the
// full-text index.
type setCache struct {
	mu      sync.Mutex
	version []byte                // the index's structure record the sets were read at
	sets    map[string]*ticketSet // by FTS5 query
}

// maxCachedSets bounds the cache (a set of 57,000 tickets holds about
// 0.5 MB): it is emptied when full.
const maxCachedSets = 16

// ticketSet is a set of ticket ids.
type ticketSet struct {
	ids  []int64  // ascending
	bits []uint64 // bit id set for each id
}

// newTicketSet makes the set of ids, ascending.
func newTicketSet(ids []int64) *ticketSet {
	s := &ticketSet{ids: ids}
	if len(ids) > 0 {
		s.bits = make([]uint64, ids[len(ids)-1]/64+1)
	}
	for _, id := range ids {
		s.bits[id/64] |= 1 << (id % 64)
	}
	return s
}

// jsonIDs is ids as a JSON array.
func jsonIDs(ids []int64) string {
	b := []byte{'['}
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

func (s *ticketSet) has(id int64) bool {
	return id >= 0 && id/64 < int64(len(s.bits)) && s.bits[id/64]&(1<<(id%64)) != 0
}

// intersect is the ids of s also in o.
func (s *ticketSet) intersect(o *ticketSet) *ticketSet {
	var ids []int64
	for _, id := range s.ids {
		if o.has(id) {
			ids = append(ids, id)
		}
	}
	return newTicketSet(ids)
}

// queryPlan is how a query is read: set, when not nil, is the tickets its
// index terms allow, rest the other terms, to test in SQL, and order the
// query's order.
type queryPlan struct {
	set   *ticketSet
	rest  *Query
	order Order
}

// indexTerm is the FTS5 query of a term the index answers alone.
func indexTerm(n node) (string, bool) {
	switch n := n.(type) {
	case textNode:
		return quoteFTS(n.text), true
	case fieldNode:
		if _, ok := addrColumns[n.field]; ok {
			return addrFTS(n.field, n.value)
		}
	}
	return "", false
}

// plan splits q's top-level terms into index terms, read as a set, and the
// rest. Without index terms (or under OR or NOT at the top) set is nil and
// q runs in SQL as it is.
func (s *Store) plan(ctx context.Context, q *Query) (queryPlan, error) {
	if q == nil {
		return queryPlan{}, nil
	}
	if q.root == nil {
		return queryPlan{rest: q, order: q.Order}, nil
	}
	terms, ok := q.root.(andNode)
	if !ok {
		terms = andNode{q.root}
	}
	var fts []string
	var rest andNode
	for _, n := range terms {
		if f, ok := indexTerm(n); ok {
			fts = append(fts, f)
		} else {
			rest = append(rest, n)
		}
	}
	if len(fts) == 0 {
		return queryPlan{rest: q, order: q.Order}, nil
	}
	set, err := s.indexSet(ctx, fts)
	if err != nil {
		return queryPlan{}, err
	}
	p := queryPlan{set: set, rest: &Query{}, order: q.Order}
	if len(rest) > 0 {
		p.rest.root = rest
	}
	return p, nil
}

// indexSet is the tickets matching every one of the FTS5 queries fts, from
// the cache while the index is unchanged. Concurrent reads (a list's count
// and window) wait for one another, so that a set is built once.
func (s *Store) indexSet(ctx context.Context, fts []string) (*ticketSet, error) {
	c := &s.sets
	c.mu.Lock()
	defer c.mu.Unlock()
	var version []byte
	if err := s.db.QueryRowContext(ctx, `SELECT block FROM search_fts_data WHERE id = 10`).Scan(&version); err != nil && err != sql.ErrNoRows {
		return nil, fmt.Errorf("store: index version: %w", err)
	}
	if c.sets == nil || !bytes.Equal(version, c.version) || len(c.sets) >= maxCachedSets {
		c.version, c.sets = version, map[string]*ticketSet{}
	}
	var out *ticketSet
	for _, f := range fts {
		set, ok := c.sets[f]
		if !ok {
			parts, last, err := s.indexParts(ctx)
			if err != nil {
				return nil, err
			}
			if set, err = s.readIndexSet(ctx, f, parts, last); err != nil {
				return nil, err
			}
			c.sets[f] = set
		}
		if out == nil {
			out = set
		} else {
			out = out.intersect(set)
		}
	}
	return out, nil
}

// indexParts is how many parts readIndexSet reads the index in: one per
// core, at most maxIndexParts, each of at least minPartTickets tickets;
// last is the highest ticket id.
func (s *Store) indexParts(ctx context.Context) (parts int, last int64, err error) {
	var highest sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT max(id) FROM tickets`).Scan(&highest); err != nil {
		return 0, 0, fmt.Errorf("store: search: %w", err)
	}
	return min(runtime.GOMAXPROCS(0), maxIndexParts, int(highest.Int64/minPartTickets)+1), highest.Int64, nil
}

// readIndexSet reads the tickets with a message matching fts, in parts
// ranges of ticket ids (up to last), each on a connection of its own: a
// phrase found in half of 500,000 messages took about 40 ms on one core.
// The ids come as one string: a row per match through database/sql cost
// more than the match.
func (s *Store) readIndexSet(ctx context.Context, fts string, parts int, last int64) (*ticketSet, error) {
	found := make([][]int64, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for i := range parts {
		// Part i holds the tickets from (last+1)·i/parts, up to the next
		// part's first; the first and last parts are open-ended.
		from := (last + 1) * int64(i) / int64(parts) << 32
		to := (last + 1) * int64(i+1) / int64(parts) << 32
		if i == 0 {
			from = math.MinInt64
		}
		if i == parts-1 {
			to = math.MaxInt64
		}
		wg.Go(func() {
			var list sql.NullString
			errs[i] = s.db.QueryRowContext(ctx, `SELECT group_concat(`+ftsTicket+`) FROM search_fts f
				WHERE search_fts MATCH ? AND f.rowid >= ? AND f.rowid < ? ORDER BY f.rowid`, fts, from, to).Scan(&list)
			found[i] = parseTicketIDs(list.String)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	ids := slices.Concat(found...)
	if !slices.IsSorted(ids) { // the parts come in rowid order: never, unless SQLite changes
		slices.Sort(ids)
		ids = slices.Compact(ids)
	}
	return newTicketSet(ids), nil
}

// parseTicketIDs reads group_concat's comma-separated ticket ids, each
// once when the same id repeats in a row (the messages of one ticket are
// neighbours in rowid order), leaving out 0 (mail outside any ticket).
// It does what strings.Split, strconv.ParseInt and a sort did, in a
// quarter of their time on 80,000 ids (BenchmarkParseTicketIDs).
func parseTicketIDs(list string) []int64 {
	if list == "" {
		return nil
	}
	ids := make([]int64, 0, strings.Count(list, ",")+1)
	var n int64
	neg := false
	for i := 0; i <= len(list); i++ {
		if i < len(list) && list[i] != ',' {
			if c := list[i]; c == '-' {
				neg = true
			} else {
				n = n*10 + int64(c-'0')
			}
			continue
		}
		if neg {
			n = -n
		}
		if n != 0 && (len(ids) == 0 || ids[len(ids)-1] != n) {
			ids = append(ids, n)
		}
		n, neg = 0, false
	}
	return ids
}

// An index is read in at most maxIndexParts parts of at least
// minPartTickets tickets each.
const (
	maxIndexParts  = 4
	minPartTickets = 10000
)

// setJoin reads the tickets of a plan's set (t) that match its other terms.
const setJoin = ` FROM json_each(?) j CROSS JOIN tickets t ON t.id = j.value WHERE `

// restIDs is the whole list of a plan whose other terms are selective:
// the tickets they match, read in list order, that are in the set (ok
// false when they match more than half as many tickets as the set holds:
// then the set's tickets are read instead).
func (s *Store) restIDs(ctx context.Context, p queryPlan, env QueryEnv) (ids []int64, ok bool, err error) {
	if p.rest.root == nil {
		return nil, false, nil
	}
	where, args := p.rest.where(env, modeWalk)
	most := len(p.set.ids) / 2
	rest, err := s.ids(ctx, `SELECT t.id FROM tickets t WHERE `+where+p.order.orderBy()+` LIMIT ?`, append(args, most+1)...)
	if err != nil || len(rest) > most {
		return nil, false, err
	}
	for _, id := range rest {
		if p.set.has(id) {
			ids = append(ids, id)
		}
	}
	return ids, true, nil
}

// countSet counts the tickets of a plan.
func (s *Store) countSet(ctx context.Context, p queryPlan, env QueryEnv) (int, error) {
	if p.rest.root == nil {
		return len(p.set.ids), nil
	}
	if ids, ok, err := s.restIDs(ctx, p, env); ok || err != nil {
		return len(ids), err
	}
	where, args := p.rest.where(env, modeWalk)
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*)`+setJoin+where, append([]any{jsonIDs(p.set.ids)}, args...)...).Scan(&n)
	return n, err
}

// setIDs reads a window of a plan's tickets in list order (all from offset
// when limit < 0). A window of a large set walks the tickets in list order
// and stops when it is full; a small set's tickets are read and sorted.
func (s *Store) setIDs(ctx context.Context, p queryPlan, env QueryEnv, offset, limit int) ([]int64, error) {
	offset = max(offset, 0)
	if ids, ok, err := s.restIDs(ctx, p, env); err != nil {
		return nil, err
	} else if ok {
		ids = ids[min(offset, len(ids)):]
		if limit >= 0 {
			ids = ids[:min(limit, len(ids))]
		}
		return ids, nil
	}
	where, args := p.rest.where(env, modeWalk)
	if limit >= 0 && p.rest.root == nil {
		var total int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM tickets`).Scan(&total); err != nil {
			return nil, err
		}
		// The walk reads about (offset+limit)·total/len tickets, a row
		// costing about half as much as one of the set's read and sorted.
		if len(p.set.ids) > 0 && (offset+limit)*total/len(p.set.ids) < 2*len(p.set.ids) {
			return s.walkSet(ctx, p.set, p.order, offset, limit)
		}
	}
	return s.ids(ctx, `SELECT t.id`+setJoin+where+p.order.orderBy()+` LIMIT ? OFFSET ?`,
		append(append([]any{jsonIDs(p.set.ids)}, args...), limit, offset)...)
}

// walkSet reads the tickets in order and keeps those of set.
func (s *Store) walkSet(ctx context.Context, set *ticketSet, order Order, offset, limit int) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.id FROM tickets t`+order.orderBy())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for len(out) < limit && rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if !set.has(id) {
			continue
		}
		if offset > 0 {
			offset--
			continue
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// setIndex is the position of ticket id among a plan's tickets, -1 when it
// is not one of them.
func (s *Store) setIndex(ctx context.Context, p queryPlan, env QueryEnv, id int64) (int, error) {
	if !p.set.has(id) {
		return -1, nil
	}
	if ids, ok, err := s.restIDs(ctx, p, env); ok || err != nil {
		return slices.Index(ids, id), err
	}
	before, beforeArgs, err := s.orderKey(ctx, p.rest, env, p.order, id)
	if before == "" || err != nil {
		return -1, err
	}
	where, args := p.rest.where(env, modeWalk)
	var n int
	err = s.db.QueryRowContext(ctx, `SELECT count(*)`+setJoin+before+` AND `+where,
		append(append([]any{jsonIDs(p.set.ids)}, beforeArgs...), args...)...).Scan(&n)
	return n, err
}
