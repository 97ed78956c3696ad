package store

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"
)

// benchStore opens the store of DESK_BENCH_DB (made with `desk dev seed`),
// or seeds 10,000 tickets into a temporary one.
func benchStore(b *testing.B) *Store {
	b.Helper()
	path := os.Getenv("DESK_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.db")
	}
	st, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	var n int
	if err := st.db.QueryRow(`SELECT count(*) FROM tickets`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	if n == 0 {
		if err := st.Seed(context.Background(), SeedOptions{Tickets: 10000, Seed: 1, Now: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
	return st
}

// BenchmarkQuery measures the query language over the store: each run is
// a count and the first page, as the list does; "sort=KEY" reads the list
// in that order (a section's sort). A query with search terms
// is run twice: "cold" empties the cache of search sets before each run (a
// list read after the index changed), "warm" keeps it (the index unchanged:
// a scroll, a return to the section, a reload after a ticket change). Run
// with DESK_BENCH_DB=/tmp/seed100k.db go test -run X -bench Query ./store
func BenchmarkQuery(b *testing.B) {
	st := benchStore(b)
	ctx := context.Background()
	env := QueryEnv{Me: "dana", Now: time.Now()}
	type listQuery struct{ text, sort string }
	var queries []listQuery
	for _, text := range []string{
		`refund`,
		`"invalid token"`,
		`from:alice`,
		`from:alice status:open label:vip updated:<30d`,
		`has:attachment is:unverified`,
		// the default sections of the interface
		`status:open -is:spam`,
		`assignee:me status:unsolved -is:spam`,
		`assignee:none status:unsolved -is:spam`,
		`status:pending -is:spam`,
		`-is:spam`,
		`is:spam`,
	} {
		queries = append(queries, listQuery{text: text})
	}
	for _, sort := range []string{"updated asc", "created", "created asc", "number", "requester", "requester desc", "status", "status desc"} {
		for _, text := range []string{`-is:spam`, `status:open -is:spam`, `refund`} {
			queries = append(queries, listQuery{text, sort})
		}
	}
	for _, lq := range queries {
		q, err := ParseQuery(lq.text)
		if err != nil {
			b.Fatal(err)
		}
		if q.Order, err = ParseOrder(lq.sort); err != nil {
			b.Fatal(err)
		}
		for _, cold := range []bool{true, false} {
			name := lq.text
			if lq.sort != "" {
				name += " sort=" + lq.sort
			}
			if p, _ := st.plan(ctx, q); p.set != nil {
				name += map[bool]string{true: " cold", false: " warm"}[cold]
			} else if !cold {
				continue
			}
			b.Run(name, func(b *testing.B) { benchListRead(b, st, q, env, cold) })
		}
	}
}

// benchListRead times a count and the first window of q, and reports the
// 95th percentile.
func benchListRead(b *testing.B, st *Store, q *Query, env QueryEnv, cold bool) {
	ctx := context.Background()
	var times []time.Duration
	for b.Loop() {
		if cold {
			st.sets.mu.Lock()
			st.sets.sets = nil
			st.sets.mu.Unlock()
		}
		start := time.Now()
		if _, err := st.CountTickets(ctx, q, env); err != nil {
			b.Fatal(err)
		}
		if _, err := st.QueryTickets(ctx, q, env, 0, 150); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
}

// BenchmarkTicketIndex measures the cursor's position (TicketIndex, read
// on every reload that keeps the cursor on its ticket) of the ticket 5,000
// rows down `-is:spam`, in each order. Run with
// DESK_BENCH_DB=/tmp/seed100k.db go test -run X -bench TicketIndex ./store
func BenchmarkTicketIndex(b *testing.B) {
	st := benchStore(b)
	ctx := context.Background()
	env := QueryEnv{Me: "dana", Now: time.Now()}
	for _, sort := range []string{"updated", "updated asc", "created", "number", "requester", "requester desc", "status", "status desc"} {
		q, _ := ParseQuery(`-is:spam`)
		q.Order, _ = ParseOrder(sort)
		ids, err := st.QueryIDs(ctx, q, env, 5000, 1)
		if err != nil || len(ids) != 1 {
			b.Fatal(ids, err)
		}
		b.Run("sort="+sort, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				start := time.Now()
				if at, err := st.TicketIndex(ctx, q, env, ids[0]); err != nil || at != 5000 {
					b.Fatal(at, err)
				}
				times = append(times, time.Since(start))
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}
