package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// addSetTicket adds ticket n, updated n hours ago, with body as its one
// message.
func addSetTicket(t *testing.T, st *Store, acctID int64, n int, body string, now time.Time) int64 {
	t.Helper()
	tk := &Ticket{Number: int64(n), Subject: fmt.Sprintf("ticket %d", n), Requester: fmt.Sprintf("c%d@customer.test", n),
		ReplyKey: fmt.Sprintf("k%d", n), RootMessageID: fmt.Sprintf("r%d@x", n), Created: now.Add(-time.Duration(n) * time.Hour)}
	err := st.Update(context.Background(), func(tx *Tx) error {
		if err := tx.CreateTicket(acctID, tk); err != nil {
			return err
		}
		return tx.AddMessage(acctID, &Message{TicketID: tk.ID, UID: uint32(n), MessageID: tk.RootMessageID, From: tk.Requester,
			To: []string{"support@example.com"}, Subject: tk.Subject, Date: tk.Created, Kind: KindCustomer, Body: body})
	})
	if err != nil {
		t.Fatal(err)
	}
	return tk.ID
}

// TestQuerySetWindows checks the reads through a set of search terms (a
// walk in list order for a window near the top of a large set, a read of
// the set's tickets otherwise) against the same query read in SQL alone
// (an OR of the query with itself), window by window, and that a set read
// before a change is not used after it.
func TestQuerySetWindows(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct := testAccount(t, st, "main", "support@example.com")
	now := time.Now()
	var pending []int64
	for n := 1; n <= 60; n++ {
		body := "everywhere"
		if n%3 == 0 {
			body += " common"
		}
		id := addSetTicket(t, st, acct.ID, n, body, now)
		if n%8 == 0 {
			pending = append(pending, id)
		}
	}
	if _, err := st.ApplyChange(ctx, "dana", pending, Change{Status: StatePending}); err != nil {
		t.Fatal(err)
	}
	env := QueryEnv{Now: now}
	check := func(text string) int {
		t.Helper()
		q, _ := ParseQuery(text)
		ref, _ := ParseQuery("(" + text + ") OR (" + text + ")")
		if p, err := st.plan(ctx, ref); err != nil || p.set != nil {
			t.Fatalf("%q: the reference reads through a set", text)
		}
		want, err := st.QueryIDs(ctx, ref, env, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := st.CountTickets(ctx, q, env); err != nil || n != len(want) {
			t.Errorf("%q counted %d (%v), want %d", text, n, err, len(want))
		}
		for offset := 0; offset <= len(want); offset++ {
			for _, limit := range []int{1, 5, 100, -1} {
				got, err := st.QueryIDs(ctx, q, env, offset, limit)
				end := len(want)
				if limit >= 0 {
					end = min(offset+limit, end)
				}
				if err != nil || !slices.Equal(got, want[offset:end]) {
					t.Errorf("%q from %d, %d = %v (%v), want %v", text, offset, limit, got, err, want[offset:end])
				}
			}
		}
		for pos, id := range want {
			if at, err := st.TicketIndex(ctx, q, env, id); err != nil || at != pos {
				t.Errorf("%q: TicketIndex of the ticket at %d = %d (%v)", text, pos, at, err)
			}
		}
		page, err := st.QueryTickets(ctx, q, env, 2, 3)
		var got []int64
		for _, tk := range page {
			got = append(got, tk.ID)
		}
		if err != nil || !slices.Equal(got, want[min(2, len(want)):min(5, len(want))]) {
			t.Errorf("%q: QueryTickets from 2, 3 = %v (%v)", text, got, err)
		}
		return len(want)
	}
	for _, text := range []string{`common`, `everywhere`, `common status:pending`, `everywhere status:pending`, `common -status:pending`,
		`everywhere common`, `from:c9`, `nowhere`} {
		check(text)
	}
	before := check(`common`)
	addSetTicket(t, st, acct.ID, 61, "common again", now)
	if after := check(`common`); after != before+1 {
		t.Errorf("common after a new ticket with the word: %d tickets, want %d", after, before+1)
	}
}

// TestIndexSetParts checks that reading the index in parts (ranges of
// ticket ids, one per connection) gives the set one read gives, for every
// part count up to more parts than tickets, mail outside any ticket
// included in none of them.
func TestIndexSetParts(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct := testAccount(t, st, "main", "support@example.com")
	now := time.Now()
	var want []int64
	for n := 1; n <= 23; n++ {
		body := "other words"
		if n%2 == 1 || n == 22 {
			body = "the invalid token again"
		}
		id := addSetTicket(t, st, acct.ID, n, body, now)
		if body != "other words" {
			want = append(want, id)
		}
	}
	err := st.Update(ctx, func(tx *Tx) error { // mail outside any ticket
		return tx.AddMessage(acct.ID, &Message{UID: 99, MessageID: "stray@x", From: "c@customer.test", Subject: "stray",
			Date: now, Kind: KindCustomer, Body: "an invalid token too"})
	})
	if err != nil {
		t.Fatal(err)
	}
	_, last, err := st.indexParts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for parts := 1; parts <= 30; parts++ {
		set, err := st.readIndexSet(ctx, `"invalid token"`, parts, last)
		if err != nil || !slices.Equal(set.ids, want) {
			t.Fatalf("%d parts: %v (%v), want %v", parts, set, err, want)
		}
	}
}

// TestParseTicketIDs checks the reading of group_concat's ticket ids
// against strings.Split and strconv.ParseInt: repeats in a row read once,
// 0 left out, an empty list empty.
func TestParseTicketIDs(t *testing.T) {
	for _, c := range []struct {
		list string
		want []int64
	}{
		{"", nil},
		{"0", nil},
		{"7", []int64{7}},
		{"0,0,3,3,3,4,9,9,12345678901", []int64{3, 4, 9, 12345678901}},
		{"-2,-2,5", []int64{-2, 5}},
	} {
		var ref []int64
		for _, v := range strings.Split(c.list, ",") {
			if id, err := strconv.ParseInt(v, 10, 64); err == nil && id != 0 && (len(ref) == 0 || ref[len(ref)-1] != id) {
				ref = append(ref, id)
			}
		}
		if got := parseTicketIDs(c.list); !slices.Equal(got, c.want) || !slices.Equal(got, ref) {
			t.Errorf("parseTicketIDs(%q) = %v, want %v (Split and ParseInt: %v)", c.list, got, c.want, ref)
		}
	}
}

// BenchmarkParseTicketIDs reads the ids of 80,000 matching messages of
// 57,000 tickets, the size of a common phrase's set.
func BenchmarkParseTicketIDs(b *testing.B) {
	var sb strings.Builder
	for i := range 80000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(1000 + i*57/80))
	}
	list := sb.String()
	for b.Loop() {
		parseTicketIDs(list)
	}
}
