package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
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
		INSERT INTO messages_fts (rowid, subject, body, addrs) SELECT rowid & 4294967295, subject, body, sender || ' ' || recipients FROM search_fts;
		INSERT INTO messages_fts (rowid, subject, body, addrs) VALUES (9999, 'prize refund', 'deleted', 'alice');
		DROP TABLE search_fts;
		DROP INDEX tickets_unsolved_assignee;
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
