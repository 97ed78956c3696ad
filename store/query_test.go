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
		{`J-993`, ftsTickets + `["J-993"]`},
		{`"refund please"`, ftsTickets + `["refund please"]`},
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
		{`to:support`, []int64{1, 2, 3}},
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
