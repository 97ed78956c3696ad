package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseQueryErrors(t *testing.T) {
	for _, tc := range []struct {
		text string
		pos  int
		msg  string
	}{
		{`from:alice "unclosed`, 11, "unclosed quote"},
		{`status:frozen`, 7, "unknown status"},
		{`is:weird`, 3, "unknown is:"},
		{`has:pets`, 4, "unknown has:"},
		{`updated:<2x`, 8, "bad date"},
		{`(a OR b`, 0, "unclosed ("},
		{`a )`, 2, "unexpected )"},
		{`a OR`, 4, "expected a term"},
		{`OR b`, 0, "expected a term"},
		{`- a`, 2, ""}, // a lone '-' is a word, not an error
		{`label:`, 6, "needs a value"},
		{`colour:red`, 0, "unknown field"},
		{`from:""`, 5, "needs a value"},
		{`-`, 0, ""},
	} {
		_, err := ParseQuery(tc.text)
		if tc.msg == "" {
			if err != nil {
				t.Errorf("ParseQuery(%q): %v, want no error", tc.text, err)
			}
			continue
		}
		var qe *QueryError
		if !errors.As(err, &qe) {
			t.Errorf("ParseQuery(%q) = %v, want a QueryError", tc.text, err)
			continue
		}
		if qe.Pos != tc.pos || !strings.Contains(qe.Msg, tc.msg) {
			t.Errorf("ParseQuery(%q) = pos %d %q, want pos %d containing %q", tc.text, qe.Pos, qe.Msg, tc.pos, tc.msg)
		}
	}
}

func TestQueryWhere(t *testing.T) {
	env := QueryEnv{Me: "Dana  Scully", Now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	for _, tc := range []struct{ text, where string }{
		{``, `1`},
		{`status:pending`, `t.state = ?[pending]`},
		{`assignee:me -is:spam`, `(t.assignee = ? AND NOT t.spam = 1)[dana scully]`},
		{`assignee:none OR label:VIP`, `(t.assignee = '' OR t.id IN (SELECT ticket_id FROM ticket_labels WHERE label = ?))[vip]`},
		{`J-993`, `t.id IN (` + ftsTickets + `)["J-993"]`},
		{`"refund please"`, `t.id IN (` + ftsTickets + `)["refund please"]`},
		{`#42`, `t.number = ?[42]`},
		{`has:attachment status:open is:unverified`, `(t.state = ? AND t.id IN (SELECT u.ticket_id FROM messages u WHERE u.unverified <> '' AND u.ticket_id IS NOT NULL` +
			` AND EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = u.ticket_id AND m.attachments <> '')))[open]`},
		{`updated:<2d`, `(t.updated >= ?)[2026-11-22T12:00:00.000000000Z]`},
		{`created:>1w`, `(t.created < ?)[2026-11-17T12:00:00.000000000Z]`},
		{`updated:today`, `(t.updated >= ? AND t.updated < ?)[2026-11-24T00:00:00.000000000Z 2026-11-25T00:00:00.000000000Z]`},
		{`created:<2026-01-31`, `(t.created < ?)[2026-01-31T00:00:00.000000000Z]`},
	} {
		q, err := ParseQuery(tc.text)
		if err != nil {
			t.Fatalf("ParseQuery(%q): %v", tc.text, err)
		}
		where, args := q.Where(env)
		got := where
		if len(args) > 0 {
			got += fmt.Sprint(args)
		}
		if got != tc.where {
			t.Errorf("%q compiles to\n  %s\nwant\n  %s", tc.text, got, tc.where)
		}
	}
}

// queryStore holds tickets that each match a different part of the
// language.
func queryStore(t testing.TB) (*Store, map[int64]int64) {
	t.Helper()
	ctx := context.Background()
	st, err := Open(filepath.Join(t.TempDir(), "desk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acct, err := st.EnsureAccount(ctx, "main", "support@example.com", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[int64]int64{}
	now := time.Now()
	for n, spec := range []struct {
		subject, requester, body, project string
		age                               time.Duration
		atts                              bool
		unverified                        string
	}{
		1: {"Refund please", "alice@customer.test", "I want my money back, J-993.", "billing", time.Hour, false, ""},
		2: {"Printer on fire", "bob@other.test", "It burns; see photo.", "acme", 3 * 24 * time.Hour, true, ""},
		3: {"Win a prize", "spammer@bad.test", "Click here for a refund", "acme", 10 * 24 * time.Hour, false, "dmarc=fail"},
	} {
		if spec.subject == "" {
			continue
		}
		tk := &Ticket{Number: int64(n), Project: spec.project, Subject: spec.subject, Requester: spec.requester,
			ReplyKey: fmt.Sprintf("k%d", n), RootMessageID: fmt.Sprintf("r%d@x", n), Created: now.Add(-spec.age)}
		err := st.Update(ctx, func(tx *Tx) error {
			if err := tx.CreateTicket(acct.ID, tk); err != nil {
				return err
			}
			m := &Message{TicketID: tk.ID, UID: uint32(n), MessageID: tk.RootMessageID, From: spec.requester,
				To: []string{"support@example.com"}, Subject: spec.subject, Date: tk.Created, Kind: KindCustomer,
				Body: spec.body, Unverified: spec.unverified}
			if spec.atts {
				m.Attachments = []Attachment{{Filename: "photo.jpg", ContentType: "image/jpeg", Size: 10}}
			}
			return tx.AddMessage(acct.ID, m)
		})
		if err != nil {
			t.Fatal(err)
		}
		ids[int64(n)] = tk.ID
	}
	return st, ids
}

func TestQueryTickets(t *testing.T) {
	ctx := context.Background()
	st, ids := queryStore(t)
	me := "Dana"
	if _, err := st.ApplyChange(ctx, me, []int64{ids[2]}, Change{Status: StatePending, Assignee: &me, AddLabels: []string{"~VIP"}}); err != nil {
		t.Fatal(err)
	}
	spam := true
	if _, err := st.ApplyChange(ctx, me, []int64{ids[3]}, Change{Spam: &spam}); err != nil {
		t.Fatal(err)
	}
	env := QueryEnv{Me: me, Now: time.Now()}
	for _, tc := range []struct {
		text string
		want []int64 // ticket numbers, newest first
	}{
		{``, []int64{1, 2, 3}},
		{`refund`, []int64{1, 3}},
		{`"money back"`, []int64{1}},
		{`"back money"`, nil},
		{`J-993`, []int64{1}},
		{`from:alice`, []int64{1}},
		{`from:ali`, []int64{1}},
		{`from:other.test`, []int64{2}},
		{`from:@`, []int64{1, 2, 3}},
		{`from:alice@customer.test`, []int64{1}},
		{`from:customer.test`, []int64{1}},
		{`from:lice`, nil}, // whole tokens or their prefixes, not a fragment inside one
		{`from:support`, nil},
		{`to:support`, []int64{1, 2, 3}},
		{`to:example.com`, []int64{1, 2, 3}},
		{`to:alice`, nil},
		{`refund from:alice`, []int64{1}},
		{`refund -from:alice`, []int64{3}},
		{`refund OR from:bob`, []int64{1, 2, 3}},
		{`refund project:acme`, []int64{3}},
		{`project:ACME`, []int64{2, 3}},
		{`status:pending`, []int64{2}},
		{`status:unsolved -is:spam`, []int64{1, 2}},
		{`assignee:me`, []int64{2}},
		{`assignee:none`, []int64{1, 3}},
		{`label:vip`, []int64{2}},
		{`has:attachment`, []int64{2}},
		{`is:unverified`, []int64{3}},
		{`is:spam`, []int64{3}},
		{`-is:spam refund`, []int64{1}},
		{`printer OR prize`, []int64{2, 3}},
		{`(printer OR prize) -is:spam`, []int64{2}},
		{`updated:<2d`, []int64{1}},
		{`created:>2d`, []int64{2, 3}},
		{`created:>1w`, []int64{3}},
		{`#2`, []int64{2}},
		{`requester:BOB@other.test`, []int64{2}},
		{`requester:bob`, nil},
	} {
		q, err := ParseQuery(tc.text)
		if err != nil {
			t.Fatalf("ParseQuery(%q): %v", tc.text, err)
		}
		ts, err := st.QueryTickets(ctx, q, env, 0, 50)
		if err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		var got []int64
		for _, tk := range ts {
			got = append(got, tk.Number)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q matched %v, want %v", tc.text, got, tc.want)
		}
		n, err := st.CountTickets(ctx, q, env)
		if err != nil || n != len(tc.want) {
			t.Errorf("%q counted %d (%v), want %d", tc.text, n, err, len(tc.want))
		}
	}
}

func TestTicketIndexAndPaging(t *testing.T) {
	ctx := context.Background()
	st, ids := queryStore(t)
	q, _ := ParseQuery("")
	env := QueryEnv{Now: time.Now()}
	for n, want := range map[int64]int{1: 0, 2: 1, 3: 2} {
		if got, err := st.TicketIndex(ctx, q, env, ids[n]); err != nil || got != want {
			t.Errorf("index of #%d = %d (%v), want %d", n, got, err, want)
		}
	}
	spamOnly, _ := ParseQuery("is:spam")
	if got, _ := st.TicketIndex(ctx, spamOnly, env, ids[1]); got != -1 {
		t.Errorf("index of a ticket outside the query = %d, want -1", got)
	}
	page, err := st.QueryTickets(ctx, q, env, 1, 1)
	if err != nil || len(page) != 1 || page[0].Number != 2 {
		t.Errorf("page at offset 1: %v %v", page, err)
	}
	all, err := st.QueryIDs(ctx, q, env, 0, -1)
	if err != nil || fmt.Sprint(all) != fmt.Sprint([]int64{ids[1], ids[2], ids[3]}) {
		t.Errorf("QueryIDs = %v %v", all, err)
	}
	if two, _ := st.QueryIDs(ctx, q, env, 1, 2); fmt.Sprint(two) != fmt.Sprint([]int64{ids[2], ids[3]}) {
		t.Errorf("QueryIDs from 1, 2 = %v", two)
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{`from:alice "a b" -is:spam`, `(a OR b) status:pending`, `updated:<2d created:>2026-01-01`,
		`label:"x y"`, `"`, `((`, `-`, `a OR OR b`, `#12`, `from:"`} {
		f.Add(s)
	}
	env := QueryEnv{Me: "me", Now: time.Now()}
	st, _ := queryStore(f)
	f.Fuzz(func(t *testing.T, text string) {
		q, err := ParseQuery(text)
		if err != nil {
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Pos < 0 || qe.Pos > len(text) {
				t.Fatalf("ParseQuery(%q): bad error %v", text, err)
			}
			return
		}
		where, args := q.Where(env)
		if strings.Count(where, "?") != len(args) {
			t.Fatalf("%q: %d placeholders, %d args: %s", text, strings.Count(where, "?"), len(args), where)
		}
		if _, err := st.CountTickets(context.Background(), q, env); err != nil {
			t.Fatalf("%q: the compiled query fails: %v\n%s", text, err, where)
		}
	})
}

// searchStore is queryStore with a staff reply on ticket 1 and a message
// outside any ticket (automated mail) that has an attachment and matches
// words of the tickets.
func searchStore(t *testing.T) (*Store, map[int64]int64) {
	t.Helper()
	ctx := context.Background()
	st, ids := queryStore(t)
	err := st.Update(ctx, func(tx *Tx) error {
		acct, err := tx.Account("main")
		if err != nil {
			return err
		}
		reply := &Message{TicketID: ids[1], UID: 10, MessageID: "reply1@x", From: "support@example.com", FromName: "Dana",
			To: []string{"alice@customer.test"}, Subject: "Re: Refund please", Date: time.Now(), Kind: KindReply,
			Body: "Your invoice was refunded."}
		bounce := &Message{UID: 11, MessageID: "bounce@x", From: "mailer-daemon@customer.test", To: []string{"support@example.com"},
			Subject: "Undeliverable: printer refund", Date: time.Now(), Kind: KindCustomer, Body: "money back prize",
			Attachments: []Attachment{{Filename: "report.txt", ContentType: "text/plain", Size: 10}}}
		if err := tx.AddMessage(acct.ID, reply); err != nil {
			return err
		}
		return tx.AddMessage(acct.ID, bounce)
	})
	if err != nil {
		t.Fatal(err)
	}
	return st, ids
}

// searchQueries are queries over text and addresses, with their negations.
var searchQueries = []string{`refund`, `refunded`, `"money back"`, `invoice`, `prize`, `from:alice`, `from:dana`, `from:mailer`,
	`to:alice`, `to:support`, `refund -from:alice`, `-refund`, `-has:attachment`, `-from:mailer`, `printer OR prize`,
	`status:unsolved -is:spam`, `-is:spam`}

// searchResults lists, for each of searchQueries, the matching tickets in
// list order, their count and the numbers of the messages Search finds; it
// checks that TicketIndex places each matching ticket where the list has it.
func searchResults(t *testing.T, st *Store) []string {
	t.Helper()
	ctx := context.Background()
	env := QueryEnv{Me: "dana", Now: time.Now()}
	var out []string
	for _, text := range searchQueries {
		q, err := ParseQuery(text)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := st.QueryIDs(ctx, q, env, 0, -1)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		n, err := st.CountTickets(ctx, q, env)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		for pos, id := range ids {
			if at, err := st.TicketIndex(ctx, q, env, id); err != nil || at != pos {
				t.Errorf("%q: TicketIndex of the ticket at %d = %d (%v)", text, pos, at, err)
			}
		}
		if at, err := st.TicketIndex(ctx, q, env, 1<<40); err != nil || at != -1 {
			t.Errorf("%q: TicketIndex of no ticket = %d (%v), want -1", text, at, err)
		}
		hits, err := st.Search(ctx, text, 0)
		if err != nil {
			t.Fatalf("search %q: %v", text, err)
		}
		var found []string
		for _, h := range hits {
			found = append(found, fmt.Sprintf("#%d %s", h.Ticket, h.Subject))
		}
		out = append(out, fmt.Sprintf("%s: %v count %d search %q", text, ids, n, found))
	}
	return out
}

func TestQueryNegationWithMessagesOutsideTickets(t *testing.T) {
	ctx := context.Background()
	st, ids := searchStore(t)
	env := QueryEnv{Now: time.Now()}
	for text, want := range map[string][]int64{
		`-has:attachment`: {ids[1], ids[3]},
		`-from:mailer`:    {ids[1], ids[2], ids[3]},
		`-prize`:          {ids[1], ids[2]},
		`-is:spam`:        {ids[1], ids[2], ids[3]},
	} {
		q, _ := ParseQuery(text)
		got, err := st.QueryIDs(ctx, q, env, 0, -1)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%q = %v (%v), want %v", text, got, err, want)
		}
		if n, err := st.CountTickets(ctx, q, env); err != nil || n != len(want) {
			t.Errorf("%q counted %d (%v), want %d", text, n, err, len(want))
		}
	}
}

// TestSearchIndexMigration takes a store back to the layout before
// migration 0009 (messages_fts keyed by message, with a row its deleted
// message left behind) and checks that migrating it gives the same results
// as the store built with the ticket-keyed index.
func TestSearchIndexMigration(t *testing.T) {
	st, _ := searchStore(t)
	want := searchResults(t, st)
	if _, err := st.db.Exec(`
		CREATE VIRTUAL TABLE messages_fts USING fts5 (subject, body, addrs, tokenize = 'unicode61 remove_diacritics 2');
		INSERT INTO messages_fts (rowid, subject, body, addrs) SELECT id, subject, body, from_addr || ' ' || from_name || ' ' || to_addrs || ' ' || cc_addrs FROM messages WHERE id IN (SELECT rowid & 4294967295 FROM search_fts); -- search_fts keeps no text
		INSERT INTO messages_fts (rowid, subject, body, addrs) VALUES (9999, 'prize refund', 'deleted', 'alice');
		DROP TABLE search_fts;
		DROP INDEX tickets_unsolved_assignee;
		DROP INDEX messages_live_uid;
		DROP TABLE unfetched; -- 0010, applied again after 0009
		DROP INDEX tickets_number; -- 0011
		DROP INDEX tickets_status_order;
		DROP TABLE junk_looked; -- 0012
		PRAGMA user_version = 8;`); err != nil {
		t.Fatal(err)
	}
	path := st.Path()
	st.Close()
	migrated, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer migrated.Close()
	var n int
	if err := migrated.db.QueryRow(`SELECT count(*) FROM search_fts WHERE rowid >> 32 = 0`).Scan(&n); err != nil || n != 1 {
		t.Errorf("rows of messages outside tickets after the migration = %d (%v), want the bounce alone", n, err)
	}
	got := searchResults(t, migrated)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("after the migration:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSearchAfterMerge checks that a merge moves the merged ticket's
// messages in the index: its words then find the ticket merged into.
func TestSearchAfterMerge(t *testing.T) {
	ctx := context.Background()
	st, ids := searchStore(t)
	if err := st.Update(ctx, func(tx *Tx) error { return tx.MergeTicket(ids[1], ids[3]) }); err != nil {
		t.Fatal(err)
	}
	q, _ := ParseQuery(`prize`)
	got, err := st.QueryIDs(ctx, q, QueryEnv{Now: time.Now()}, 0, -1)
	if err != nil || fmt.Sprint(got) != fmt.Sprint([]int64{ids[1]}) {
		t.Errorf("prize after merging #3 into #1 = %v (%v), want ticket #1", got, err)
	}
	hits, err := st.Search(ctx, "prize", 0)
	if err != nil || len(hits) != 1 || hits[0].Ticket != 1 || hits[0].Subject != "Win a prize" {
		t.Errorf("search after the merge = %+v (%v), want #1's message Win a prize", hits, err)
	}
}

// orderStore holds 48 tickets in two accounts (so that numbers repeat)
// whose updated, created, requester and status each tie among several
// tickets; a third of them say "common".
func orderStore(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	st := testStore(t)
	accts := []*Account{testAccount(t, st, "main", "support@example.com"), testAccount(t, st, "sales", "sales@example.com")}
	base := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for n := 1; n <= 48; n++ {
		body := "everywhere"
		if n%3 == 0 {
			body += " common"
		}
		acct := accts[n%2].ID
		tk := &Ticket{Number: int64(n/2 + 1), Subject: fmt.Sprintf("ticket %d", n), Requester: "c@customer.test",
			ReplyKey: fmt.Sprintf("k%d", n), RootMessageID: fmt.Sprintf("r%d@x", n), Created: base}
		err := st.Update(ctx, func(tx *Tx) error {
			if err := tx.CreateTicket(acct, tk); err != nil {
				return err
			}
			return tx.AddMessage(acct, &Message{TicketID: tk.ID, UID: uint32(n), MessageID: tk.RootMessageID, From: tk.Requester,
				To: []string{"support@example.com"}, Subject: tk.Subject, Date: base, Kind: KindCustomer, Body: body})
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.db.Exec(`UPDATE tickets SET updated = ?, created = ?, requester = ?, state = ? WHERE id = ?`,
			formatTime(base.Add(time.Duration(n%5)*time.Hour)), formatTime(base.Add(-time.Duration(n%7)*time.Hour)),
			fmt.Sprintf("c%d@customer.test", n%4), Statuses[n%len(Statuses)], tk.ID)
		if err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// orderCompare orders two tickets as the documented order o does.
func orderCompare(o Order, a, b *Ticket) int {
	newest := func(x, y time.Time) int { return y.Compare(x) }
	var c int
	switch o.Key {
	case "created":
		c = newest(a.Created, b.Created)
	case "number":
		c = cmp.Compare(b.Number, a.Number)
	case "requester":
		c = cmp.Or(cmp.Compare(a.Requester, b.Requester), newest(a.Updated, b.Updated))
	case "status":
		c = cmp.Or(cmp.Compare(slices.Index(Statuses, a.State), slices.Index(Statuses, b.State)), newest(a.Updated, b.Updated))
	default:
		c = newest(a.Updated, b.Updated)
	}
	c = cmp.Or(c, cmp.Compare(b.ID, a.ID))
	if o.Reverse {
		return -c
	}
	return c
}

// TestQueryOrders reads every order, through SQL alone and through a set
// of search terms, and checks the whole list against the order computed
// here, windows of several sizes read one after another against the whole
// list, the count, and TicketIndex of every ticket against its place.
func TestQueryOrders(t *testing.T) {
	ctx := context.Background()
	st := orderStore(t)
	env := QueryEnv{Now: time.Now()}
	for _, sort := range []string{"", "updated asc", "created", "created asc", "number", "number asc",
		"requester", "requester desc", "status", "status desc"} {
		order, err := ParseOrder(sort)
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range []string{``, `status:unsolved`, `common`, `everywhere`, `common -status:closed`, `everywhere status:open`} {
			name := fmt.Sprintf("%q sort %q", text, sort)
			q, _ := ParseQuery(text)
			q.Order = order
			ts, err := st.QueryTickets(ctx, q, env, 0, 1000)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want := slices.Clone(ts)
			slices.SortFunc(want, func(a, b *Ticket) int { return orderCompare(order, a, b) })
			if !slices.Equal(ticketIDs(ts), ticketIDs(want)) {
				t.Errorf("%s: read %v, want %v", name, ticketIDs(ts), ticketIDs(want))
			}
			if n, err := st.CountTickets(ctx, q, env); err != nil || n != len(want) || n == 0 {
				t.Errorf("%s: counted %d (%v), want %d (not 0)", name, n, err, len(want))
			}
			for _, size := range []int{1, 4, 7} {
				var windows []int64
				for offset := 0; offset <= len(want); offset += size {
					w, err := st.QueryTickets(ctx, q, env, offset, size)
					if err != nil {
						t.Fatal(err)
					}
					windows = append(windows, ticketIDs(w)...)
				}
				ids, err := st.QueryIDs(ctx, q, env, size, -1)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(windows, ticketIDs(want)) || !slices.Equal(ids, ticketIDs(want)[size:]) {
					t.Errorf("%s: windows of %d read %v; from %d %v; want %v", name, size, windows, size, ids, ticketIDs(want))
				}
			}
			for pos, tk := range want {
				if at, err := st.TicketIndex(ctx, q, env, tk.ID); err != nil || at != pos {
					t.Errorf("%s: TicketIndex of the ticket at %d = %d (%v)", name, pos, at, err)
				}
			}
		}
	}
}

func ticketIDs(ts []*Ticket) []int64 {
	var ids []int64
	for _, tk := range ts {
		ids = append(ids, tk.ID)
	}
	return ids
}

func TestParseOrder(t *testing.T) {
	for _, tc := range []struct {
		text string
		want Order
		str  string
	}{
		{"", Order{}, ""},
		{"updated", Order{}, ""},
		{"Updated DESC", Order{}, ""},
		{"updated asc", Order{Key: "updated", Reverse: true}, "updated asc"},
		{"created", Order{Key: "created"}, "created"},
		{"created asc", Order{Key: "created", Reverse: true}, "created asc"},
		{"number desc", Order{Key: "number"}, "number"},
		{"requester", Order{Key: "requester"}, "requester"},
		{"requester asc", Order{Key: "requester"}, "requester"},
		{"requester desc", Order{Key: "requester", Reverse: true}, "requester desc"},
		{"  status   desc ", Order{Key: "status", Reverse: true}, "status desc"},
	} {
		got, err := ParseOrder(tc.text)
		if err != nil || got != tc.want || got.String() != tc.str {
			t.Errorf("ParseOrder(%q) = %+v %q (%v), want %+v %q", tc.text, got, got.String(), err, tc.want, tc.str)
		}
	}
	for _, text := range []string{"priority", "-updated", "updated up", "status asc desc", "asc"} {
		if o, err := ParseOrder(text); err == nil {
			t.Errorf("ParseOrder(%q) = %+v, want an error", text, o)
		}
	}
}

// TestOrdersReadThroughIndexes checks that each order can be read by
// walking an index instead of sorting every ticket (the status order's
// expression must match its index's, migration 0011). Which index the
// planner takes depends on the table's size: the test names it.
func TestOrdersReadThroughIndexes(t *testing.T) {
	st := testStore(t)
	indexes := map[string]string{"updated": "tickets_updated", "created": "tickets_created", "number": "tickets_number",
		"requester": "tickets_requester", "status": "tickets_status_order"}
	for _, key := range OrderKeys {
		for _, reverse := range []bool{false, true} {
			o := Order{Key: key, Reverse: reverse}
			rows, err := st.db.Query(`EXPLAIN QUERY PLAN SELECT t.id FROM tickets t INDEXED BY ` + indexes[key] + o.orderBy() + ` LIMIT 10`)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			rows.Close()
			if slices.Contains(plan, "USE TEMP B-TREE FOR ORDER BY") {
				t.Errorf("order %q reads %q, want a walk of %s", o, plan, indexes[key])
			}
		}
	}
}

// TestMessageSets checks has:attachment and is:unverified together, where
// they may be true of different messages of one ticket: the count (the
// two read as one set), the list and the cursor's position (walking, each
// a look-up per ticket).
func TestMessageSets(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct := testAccount(t, st, "main", "support@example.com")
	now := time.Now()
	// Per ticket, its messages: a = with an attachment, u = unverified.
	specs := []string{"", "a", "u", "au", "a,u", "u,a", ",", "a,a", "u,u,a", ""}
	match := map[string]map[int64]bool{}
	for n, spec := range specs {
		id := addSetTicket(t, st, acct.ID, n+1, "hello", now)
		for i, m := range strings.Split(spec, ",")[1:] {
			msg := &Message{TicketID: id, UID: uint32(100*n + i + 100), MessageID: fmt.Sprintf("m%d.%d@x", n, i), From: "x@customer.test",
				Subject: "re", Date: now, Kind: KindCustomer, Body: "more"}
			if strings.Contains(m, "a") {
				msg.Attachments = []Attachment{{Filename: "a.pdf", ContentType: "application/pdf", Size: 1}}
			}
			if strings.Contains(m, "u") {
				msg.Unverified = "dmarc=fail"
			}
			if err := st.Update(ctx, func(tx *Tx) error { return tx.AddMessage(acct.ID, msg) }); err != nil {
				t.Fatal(err)
			}
		}
		first := strings.Split(spec, ",")[0]
		if first != "" {
			_, err := st.db.Exec(`UPDATE messages SET attachments = CASE WHEN ? THEN '[{"filename":"a.pdf"}]' ELSE '' END,
				unverified = CASE WHEN ? THEN 'dmarc=fail' ELSE '' END WHERE ticket_id = ? AND message_id = ?`,
				strings.Contains(first, "a"), strings.Contains(first, "u"), id, fmt.Sprintf("r%d@x", n+1))
			if err != nil {
				t.Fatal(err)
			}
		}
		a, u := strings.Contains(spec, "a"), strings.Contains(spec, "u")
		for text, ok := range map[string]bool{`has:attachment is:unverified`: a && u, `is:unverified has:attachment -#4`: a && u && n+1 != 4,
			`-has:attachment is:unverified`: !a && u, `has:attachment -is:unverified`: a && !u, `has:attachment OR is:unverified`: a || u} {
			if match[text] == nil {
				match[text] = map[int64]bool{}
			}
			match[text][id] = ok
		}
	}
	env := QueryEnv{Now: now}
	all, err := st.QueryIDs(ctx, nil, env, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int64{}
	for text, m := range match {
		want[text] = slices.DeleteFunc(slices.Clone(all), func(id int64) bool { return !m[id] })
	}
	for text, ids := range want {
		q, err := ParseQuery(text)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := st.CountTickets(ctx, q, env); err != nil || n != len(ids) {
			t.Errorf("%q counted %d (%v), want %d", text, n, err, len(ids))
		}
		if got, err := st.QueryIDs(ctx, q, env, 0, -1); err != nil || !slices.Equal(got, ids) {
			t.Errorf("%q listed %v (%v), want %v", text, got, err, ids)
		}
		for pos, id := range ids {
			if at, err := st.TicketIndex(ctx, q, env, id); err != nil || at != pos {
				t.Errorf("%q: TicketIndex of the ticket at %d = %d (%v)", text, pos, at, err)
			}
		}
	}
	if len(want[`has:attachment is:unverified`]) != 4 {
		t.Errorf("the fixture has %d tickets with both, want 4", len(want[`has:attachment is:unverified`]))
	}
}
