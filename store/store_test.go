package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testStore opens a fresh store in a temporary directory.
func testStore(t *testing.T) *Store {
	t.Helper()
	st, err := Open(filepath.Join(t.TempDir(), "desk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func testAccount(t *testing.T, st *Store, name, address string) *Account {
	t.Helper()
	a, err := st.EnsureAccount(context.Background(), name, address, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// addTicket opens ticket n in acct with a customer root message of UID n
// and the given body.
func addTicket(t *testing.T, st *Store, acct *Account, n int64, subject, requester, body string) *Ticket {
	t.Helper()
	created := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute)
	tk := &Ticket{
		Number: n, Project: "billing", Subject: subject, Requester: requester, RequesterName: "Alice Example",
		ReplyKey: fmt.Sprintf("key-%s-%d", acct.Name, n), RootMessageID: fmt.Sprintf("root-%s-%d@customer.test", acct.Name, n),
		Created: created,
	}
	err := st.Update(context.Background(), func(tx *Tx) error {
		if err := tx.CreateTicket(acct.ID, tk); err != nil {
			return err
		}
		return tx.AddMessage(acct.ID, &Message{
			TicketID: tk.ID, UID: uint32(n), MessageID: tk.RootMessageID, From: requester, FromName: "Customer",
			To: []string{acct.Address}, Subject: subject, Date: created, Kind: KindCustomer, Body: body,
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestMigrationsNewAndReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "desk.db")
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := st.SchemaVersion()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	latest := 0
	for _, e := range entries {
		n, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			t.Fatalf("migration %s is not numbered", e.Name())
		}
		latest = max(latest, n)
	}
	if v < 1 || v != latest {
		t.Fatalf("schema version %d after migrating a new database, want %d (the newest migration)", v, latest)
	}
	acct := testAccount(t, st, "main", "support@example.com")
	addTicket(t, st, acct, 7, "Printer on fire", "alice@customer.test", "It burns.")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	for i := range 2 {
		st, err = Open(path)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		got, err := st.SchemaVersion()
		if err != nil {
			t.Fatal(err)
		}
		if got != v {
			t.Errorf("reopen %d: schema version %d, want %d", i, got, v)
		}
		tk, err := st.TicketByNumber(ctx, 7)
		if err != nil {
			t.Fatalf("reopen %d: ticket #7 lost: %v", i, err)
		}
		if tk.Subject != "Printer on fire" || tk.Messages != 1 {
			t.Errorf("reopen %d: ticket %+v", i, tk)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDatabaseFilesArePrivate(t *testing.T) {
	st := testStore(t)
	acct := testAccount(t, st, "main", "support@example.com")
	addTicket(t, st, acct, 1, "Hello", "alice@customer.test", "hi")
	for _, p := range []string{st.Path(), st.Path() + "-wal", st.Path() + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) && p != st.Path() {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(p), mode)
		}
	}
}

func TestEnsureAccount(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	a, err := st.EnsureAccount(ctx, "main", "Support@Example.COM", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || a.Name != "main" || a.Address != "support@example.com" || a.Mailbox != "INBOX" {
		t.Fatalf("new account %+v", a)
	}
	if a.UIDValidity != 0 || a.UIDNext != 0 || a.BaselineUID != 0 {
		t.Errorf("new account has a cursor: %+v", a)
	}
	err = st.Update(ctx, func(tx *Tx) error {
		if err := tx.SetCursor(a.ID, 42, 10, 99); err != nil {
			return err
		}
		return tx.SetBaseline(a.ID, 5)
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.EnsureAccount(ctx, "main", "help@example.com", "Desk")
	if err != nil {
		t.Fatal(err)
	}
	if b.ID != a.ID {
		t.Errorf("second EnsureAccount made a new row: id %d, want %d", b.ID, a.ID)
	}
	if b.Address != "help@example.com" || b.Mailbox != "Desk" {
		t.Errorf("address and mailbox not updated: %+v", b)
	}
	if b.UIDValidity != 42 || b.UIDNext != 10 || b.HighestModSeq != 99 || b.BaselineUID != 5 {
		t.Errorf("cursor lost by EnsureAccount: %+v", b)
	}
	other, err := st.EnsureAccount(ctx, "other", "desk@other.test", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == a.ID {
		t.Error("two accounts share one row")
	}
	err = st.Update(ctx, func(tx *Tx) error {
		_, err := tx.Account("nobody")
		return err
	})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Account of an unknown name: %v, want ErrNotFound", err)
	}
}

func TestTicketsAndMessages(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct := testAccount(t, st, "main", "support@example.com")
	t1 := addTicket(t, st, acct, 3, "First", "alice@customer.test", "one")
	t2 := addTicket(t, st, acct, 9, "Second", "Bob@Customer.test", "two")

	// Messages come back in arrival order even when their dates disagree.
	base := time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)
	dates := []time.Time{base.Add(3 * time.Hour), base.Add(1 * time.Hour), base.Add(2 * time.Hour)}
	err := st.Update(ctx, func(tx *Tx) error {
		for i, d := range dates {
			m := &Message{TicketID: t1.ID, UID: uint32(20 + i), MessageID: "m" + string(rune('a'+i)) + "@customer.test",
				From: "alice@customer.test", Subject: "Re: First", Date: d, Kind: KindCustomer, Body: "reply"}
			if err := tx.AddMessage(acct.ID, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := st.Messages(ctx, t1.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range msgs {
		ids = append(ids, m.MessageID)
	}
	want := []string{t1.RootMessageID, "ma@customer.test", "mb@customer.test", "mc@customer.test"}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("messages in order %v, want arrival order %v", ids, want)
	}
	if msgs[0].UID != 3 || msgs[0].To[0] != "support@example.com" || msgs[0].Kind != KindCustomer {
		t.Errorf("root message read back as %+v", msgs[0])
	}

	got, err := st.TicketByNumber(ctx, 9)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != t2.ID || got.Account != "main" || got.Requester != "bob@customer.test" || got.State != StateOpen || !got.Unread {
		t.Errorf("ticket #9 read back as %+v", got)
	}
	if _, err := st.TicketByNumber(ctx, 404); !errors.Is(err, ErrNotFound) {
		t.Errorf("TicketByNumber(404): %v, want ErrNotFound", err)
	}
	if _, err := st.Ticket(ctx, 987654); !errors.Is(err, ErrNotFound) {
		t.Errorf("Ticket(unknown id): %v, want ErrNotFound", err)
	}

	list, err := st.List(ctx, ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Number != 3 || list[0].Messages != 4 || list[1].Number != 9 {
		t.Errorf("List: want #3 (4 messages, newest update) then #9, got %v", ticketNumbers(list))
	}
	if err := st.SetTicketState(ctx, t2.ID, StateClosed); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		state string
		want  []int64
	}{
		{"", []int64{3, 9}},
		{"all", []int64{3, 9}},
		{StateOpen, []int64{3}},
		{StateClosed, []int64{9}},
	} {
		list, err := st.List(ctx, ListFilter{State: tc.state})
		if err != nil {
			t.Fatal(err)
		}
		if got := ticketNumbers(list); !equalInts(got, tc.want) {
			t.Errorf("List(state %q) = %v, want %v", tc.state, got, tc.want)
		}
	}
	if list, _ := st.List(ctx, ListFilter{Limit: 1}); len(list) != 1 {
		t.Errorf("List(limit 1) gave %d tickets", len(list))
	}
	if _, err := st.List(ctx, ListFilter{State: "bogus"}); err == nil {
		t.Error("List accepted an unknown state")
	}
}

func TestTicketByNumberAmbiguous(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	a := testAccount(t, st, "a", "support@a.test")
	b := testAccount(t, st, "b", "support@b.test")
	addTicket(t, st, a, 5, "In A", "x@customer.test", "a")
	addTicket(t, st, b, 5, "In B", "y@customer.test", "b")
	addTicket(t, st, b, 6, "Only B", "y@customer.test", "b")
	if _, err := st.TicketByNumber(ctx, 5); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("TicketByNumber(5) in two accounts: %v, want ErrAmbiguous", err)
	}
	tk, err := st.TicketByNumber(ctx, 6)
	if err != nil || tk.Account != "b" {
		t.Errorf("TicketByNumber(6) = %+v, %v", tk, err)
	}
	// Within one account the number is unique.
	err = st.Update(ctx, func(tx *Tx) error {
		tk, err := tx.TicketByNumber(a.ID, 5)
		if err != nil {
			return err
		}
		if tk == nil || tk.Subject != "In A" {
			t.Errorf("Tx.TicketByNumber(a, 5) = %+v", tk)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestQueueReply(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct := testAccount(t, st, "main", "support@example.com")
	tk := addTicket(t, st, acct, 4, "Refund", "alice@customer.test", "Where is my money?")
	wake, cancel := st.Subscribe()
	defer cancel()

	for _, kind := range []string{KindReply, KindNote} {
		m, err := st.QueueReply(ctx, tk.ID, kind, "Agent", "We are on it.\n")
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-wake:
		default:
			t.Errorf("queueing a %s did not wake the subscriber", kind)
		}
		if !strings.HasSuffix(m.MessageID, "@example.com") || m.From != "support@example.com" || m.Kind != kind {
			t.Errorf("queued %s: %+v", kind, m)
		}
		msgs, err := st.Messages(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		last := msgs[len(msgs)-1]
		if last.MessageID != m.MessageID || last.Outbox != OutboxQueued || last.Body != "We are on it.\n" || last.FromName != "Agent" {
			t.Errorf("thread does not end with the queued %s: %+v", kind, last)
		}
	}
	due, err := st.DueOutbox(ctx, acct.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 || due[0].Kind != KindReply || due[1].Kind != KindNote || due[0].Author != "Agent" ||
		due[0].TicketID != tk.ID || due[0].State != OutboxQueued || len(due[0].Raw) != 0 {
		t.Fatalf("outbox after two queued messages: %+v", due)
	}

	for _, body := range []string{"", "  \n\t "} {
		if _, err := st.QueueReply(ctx, tk.ID, KindReply, "Agent", body); err == nil {
			t.Errorf("QueueReply accepted body %q", body)
		}
	}
	if _, err := st.QueueReply(ctx, tk.ID, KindAuto, "Agent", "x"); err == nil {
		t.Error("QueueReply accepted kind auto")
	}
	if _, err := st.QueueReply(ctx, 999999, KindReply, "Agent", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("QueueReply on an unknown ticket: %v, want ErrNotFound", err)
	}
	msgs, _ := st.Messages(ctx, tk.ID)
	if len(msgs) != 3 {
		t.Errorf("refused replies left messages behind: %d messages, want 3", len(msgs))
	}
	if q, f, _ := st.OutboxCounts(ctx); q != 2 || f != 0 {
		t.Errorf("OutboxCounts = %d queued, %d failed; want 2, 0", q, f)
	}
}

func TestSubscribeCancel(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct := testAccount(t, st, "main", "support@example.com")
	tk := addTicket(t, st, acct, 4, "Refund", "alice@customer.test", "x")
	wake, cancel := st.Subscribe()
	cancel()
	if _, err := st.QueueReply(ctx, tk.ID, KindReply, "A", "x"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wake:
		t.Error("a cancelled subscription was woken")
	default:
	}
	// Ingest-only writes queue nothing and wake nobody.
	wake2, cancel2 := st.Subscribe()
	defer cancel2()
	addTicket(t, st, acct, 5, "Quiet", "bob@customer.test", "x")
	select {
	case <-wake2:
		t.Error("storing a message that queues nothing woke the subscriber")
	default:
	}
}

func TestKeywordQueue(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct := testAccount(t, st, "main", "support@example.com")
	tk := addTicket(t, st, acct, 12, "Close me", "alice@customer.test", "x")
	wake, cancel := st.Subscribe()
	defer cancel()

	if err := st.SetTicketState(ctx, tk.ID, StateClosed); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wake:
	default:
		t.Error("closing a ticket did not wake the subscriber")
	}
	got, _ := st.Ticket(ctx, tk.ID)
	if got.State != StateClosed {
		t.Fatalf("state %q after closing", got.State)
	}
	pending, err := st.PendingKeywords(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	closes := changesOf(pending, KeywordClosed)
	if len(closes) != 1 || !closes[0].Add || closes[0].RootUID != 12 || closes[0].TicketID != tk.ID {
		t.Fatalf("pending after close: %+v", pending)
	}
	if err := st.SetTicketState(ctx, tk.ID, StateOpen); err != nil {
		t.Fatal(err)
	}
	pending, _ = st.PendingKeywords(ctx, acct.ID)
	if closes := changesOf(pending, KeywordClosed); len(closes) != 1 || closes[0].Add {
		t.Fatalf("reopen did not replace the close: %+v", pending)
	}
	// A root that left the mailbox (expunged, or moved to Junk) has no UID
	// to store on: the change waits for it instead of going to a dead UID.
	if err := st.Update(ctx, func(tx *Tx) error { _, err := tx.MarkExpunged(acct.ID, []uint32{12}); return err }); err != nil {
		t.Fatal(err)
	}
	pending, _ = st.PendingKeywords(ctx, acct.ID)
	if closes := changesOf(pending, KeywordClosed); len(closes) != 1 || closes[0].RootUID != 0 {
		t.Fatalf("a change on a root that left the mailbox: %+v", pending)
	}
	if err := st.SetTicketState(ctx, tk.ID, "frozen"); err == nil {
		t.Error("SetTicketState accepted an unknown state")
	}
	if err := st.SetTicketState(ctx, 424242, StateClosed); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetTicketState on an unknown ticket: %v, want ErrNotFound", err)
	}

	// The server says closed with a label while the local reopen waits:
	// the local change wins.
	apply := func(closed bool, labels []string) bool {
		t.Helper()
		var changed bool
		err := st.Update(ctx, func(tx *Tx) error {
			var err error
			kw := ServerKeywords{Labels: labels}
			if closed {
				kw.Status = StateClosed
			}
			changed, err = tx.ApplyServerKeywords(tk.ID, kw)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return changed
	}
	if apply(true, []string{"refund"}) {
		t.Error("ApplyServerKeywords reported a change while a local change is pending")
	}
	got, _ = st.Ticket(ctx, tk.ID)
	if got.State != StateOpen || len(got.Labels) != 0 {
		t.Errorf("server keywords applied over a pending local change: %+v", got)
	}
	for _, k := range pending {
		if err := st.KeywordPushed(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
	}
	if p, _ := st.PendingKeywords(ctx, acct.ID); len(p) != 0 {
		t.Fatalf("still pending after KeywordPushed: %+v", p)
	}
	if !apply(true, []string{"refund", "vip"}) {
		t.Error("ApplyServerKeywords reported no change")
	}
	got, _ = st.Ticket(ctx, tk.ID)
	if got.State != StateClosed || strings.Join(got.Labels, ",") != "refund,vip" {
		t.Errorf("after push, server keywords not applied: state %q labels %v", got.State, got.Labels)
	}
	if apply(true, []string{"refund", "vip"}) {
		t.Error("the same keywords again reported a change")
	}
	if !apply(false, nil) {
		t.Error("removing every keyword reported no change")
	}
	got, _ = st.Ticket(ctx, tk.ID)
	if got.State != StateOpen || len(got.Labels) != 0 {
		t.Errorf("after clearing: %+v", got)
	}
}

func TestOutboxStateMachine(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct := testAccount(t, st, "main", "support@example.com")
	tk := addTicket(t, st, acct, 2, "Send me", "alice@customer.test", "x")
	m, err := st.QueueReply(ctx, tk.ID, KindReply, "Agent", "hello")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	due, _ := st.DueOutbox(ctx, acct.ID, now)
	if len(due) != 1 {
		t.Fatalf("%d items due, want 1", len(due))
	}
	id := due[0].ID
	if err := st.SetOutboxRaw(ctx, id, []byte("raw bytes"), []string{"alice@customer.test"}); err != nil {
		t.Fatal(err)
	}

	// sending → queued with a retry time: not due until then.
	if err := st.SetOutboxState(ctx, id, OutboxSending, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if d, _ := st.DueOutbox(ctx, acct.ID, now); len(d) != 0 {
		t.Errorf("an item being sent is due: %+v", d)
	}
	if q, _, _ := st.OutboxCounts(ctx); q != 1 {
		t.Errorf("OutboxCounts counts %d waiting while sending, want 1", q)
	}
	retry := now.Add(10 * time.Minute)
	if err := st.SetOutboxState(ctx, id, OutboxQueued, "421 try later", retry); err != nil {
		t.Fatal(err)
	}
	if d, _ := st.DueOutbox(ctx, acct.ID, now); len(d) != 0 {
		t.Errorf("item due before its retry time: %+v", d)
	}
	next, err := st.NextOutboxAttempt(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !next.Equal(retry.UTC().Truncate(time.Nanosecond)) && next.Sub(retry).Abs() > time.Microsecond {
		t.Errorf("NextOutboxAttempt = %v, want %v", next, retry)
	}
	d, _ := st.DueOutbox(ctx, acct.ID, retry.Add(time.Second))
	if len(d) != 1 || d[0].Attempts != 1 || d[0].LastError != "421 try later" || string(d[0].Raw) != "raw bytes" ||
		len(d[0].Rcpt) != 1 || d[0].Rcpt[0] != "alice@customer.test" {
		t.Fatalf("item after retry time: %+v", d)
	}

	// A crash while sending: RecoverSending requeues it.
	if err := st.SetOutboxState(ctx, id, OutboxSending, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	n, err := st.RecoverSending(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RecoverSending = %d, %v; want 1", n, err)
	}
	d, _ = st.DueOutbox(ctx, acct.ID, retry.Add(time.Second))
	if len(d) != 1 || d[0].State != OutboxQueued || d[0].Attempts != 2 {
		t.Fatalf("after RecoverSending: %+v", d)
	}
	if n, _ := st.RecoverSending(ctx); n != 0 {
		t.Errorf("second RecoverSending requeued %d", n)
	}

	// A permanent failure stays failed until RetryOutbox.
	if err := st.SetOutboxState(ctx, id, OutboxFailed, "550 no such user", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if d, _ := st.DueOutbox(ctx, acct.ID, now.Add(time.Hour)); len(d) != 0 {
		t.Errorf("a failed item is due: %+v", d)
	}
	if q, f, _ := st.OutboxCounts(ctx); q != 0 || f != 1 {
		t.Errorf("OutboxCounts = %d, %d; want 0 queued, 1 failed", q, f)
	}
	msgs, _ := st.Messages(ctx, tk.ID)
	if last := msgs[len(msgs)-1]; last.Outbox != OutboxFailed || last.OutboxError != "550 no such user" {
		t.Errorf("thread shows outbox %q %q", last.Outbox, last.OutboxError)
	}
	wake, cancel := st.Subscribe()
	defer cancel()
	if err := st.RetryOutbox(ctx, m.MessageID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wake:
	default:
		t.Error("RetryOutbox did not wake the subscriber")
	}
	if d, _ := st.DueOutbox(ctx, acct.ID, time.Now().Add(time.Second)); len(d) != 1 {
		t.Errorf("retried item not due: %+v", d)
	}
	if err := st.RetryOutbox(ctx, m.MessageID); !errors.Is(err, ErrNotFound) {
		t.Errorf("RetryOutbox of a queued item: %v, want ErrNotFound", err)
	}

	// Sent but not yet appended stays due (for the copy), then leaves.
	if err := st.SetOutboxState(ctx, id, OutboxSent, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if d, _ := st.DueOutbox(ctx, acct.ID, now); len(d) != 1 || d[0].State != OutboxSent {
		t.Errorf("sent, unappended item not due: %+v", d)
	}
	if next, _ := st.NextOutboxAttempt(ctx, acct.ID); !next.IsZero() {
		t.Errorf("NextOutboxAttempt = %v with nothing queued", next)
	}
	if err := st.MarkAppended(ctx, id); err != nil {
		t.Fatal(err)
	}
	if d, _ := st.DueOutbox(ctx, acct.ID, now); len(d) != 0 {
		t.Errorf("appended item still due: %+v", d)
	}
	if q, f, _ := st.OutboxCounts(ctx); q != 0 || f != 0 {
		t.Errorf("OutboxCounts = %d, %d after sending", q, f)
	}
}

func TestClaimUIDAndForgetUIDs(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct := testAccount(t, st, "main", "support@example.com")
	tk := addTicket(t, st, acct, 3, "Claim", "alice@customer.test", "x")
	m, err := st.QueueReply(ctx, tk.ID, KindReply, "Agent", "answer")
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(ctx, func(tx *Tx) error {
		if ok, err := tx.ClaimUID(acct.ID, "", 50); ok || err != nil {
			t.Errorf("ClaimUID of an empty id = %v, %v", ok, err)
		}
		if ok, err := tx.ClaimUID(acct.ID, "unknown@x", 50); ok || err != nil {
			t.Errorf("ClaimUID of an unknown id = %v, %v", ok, err)
		}
		if ok, err := tx.ClaimUID(acct.ID, m.MessageID, 50); !ok || err != nil {
			t.Errorf("ClaimUID of the queued reply = %v, %v", ok, err)
		}
		if ok, _ := tx.ClaimUID(acct.ID, m.MessageID, 51); ok {
			t.Error("a message with a UID was claimed again")
		}
		if ok, _ := tx.ClaimUID(acct.ID, tk.RootMessageID, 52); ok {
			t.Error("the root, which has a UID, was claimed")
		}
		if known, _ := tx.Arrival(acct.ID, 50, "", ""); !known.Stored {
			t.Error("UID 50 not stored after the claim")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A UIDVALIDITY change: every UID is forgotten, messages stay and are
	// claimed again by Message-ID.
	err = st.Update(ctx, func(tx *Tx) error {
		if err := tx.ForgetUIDs(acct.ID); err != nil {
			return err
		}
		for _, uid := range []uint32{3, 50} {
			if known, _ := tx.Arrival(acct.ID, uid, "", ""); known.Stored {
				t.Errorf("UID %d still stored after ForgetUIDs", uid)
			}
		}
		ok, err := tx.ClaimUID(acct.ID, tk.RootMessageID, 1)
		if !ok || err != nil {
			t.Errorf("root not claimable after ForgetUIDs: %v, %v", ok, err)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ := st.Messages(ctx, tk.ID)
	if len(msgs) != 2 || msgs[0].UID != 1 || msgs[1].UID != 0 {
		t.Errorf("after ForgetUIDs and one claim: %d messages, UIDs %d %d", len(msgs), msgs[0].UID, msgs[1].UID)
	}
	roots, _ := st.RootUIDs(ctx, acct.ID)
	if roots[1] != tk.ID || len(roots) != 1 {
		t.Errorf("RootUIDs = %v, want 1 → %d", roots, tk.ID)
	}
}

func TestFTSQuery(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"refund", `"refund"`},
		{"J-993", `"J-993"`},
		{"from:x", `"from:x"`},
		{`say"hi`, `"say""hi"`},
		{"printer  on\tfire", `"printer" "on" "fire"`},
		{"NOT OR AND NEAR", `"NOT" "OR" "AND" "NEAR"`},
		{"refund*", `"refund*"`},
	} {
		if got := FTSQuery(tc.in); got != tc.want {
			t.Errorf("FTSQuery(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct := testAccount(t, st, "main", "support@example.com")
	addTicket(t, st, acct, 1, "Invoice J-993 is wrong", "alice@customer.test", "The total is off by 12 EUR.")
	addTicket(t, st, acct, 2, "Résumé attached", "bob@customer.test", "Please see my curriculum.")
	addTicket(t, st, acct, 3, "Quote", "carol@customer.test", `He said "hello" from:x to me`)
	addTicket(t, st, acct, 4, "Unrelated", "dave@elsewhere.test", "Nothing to see here.")

	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"J-993", []int64{1}},
		{"j-993", []int64{1}},
		{"from:x", []int64{3}},
		{`"hello"`, []int64{3}},
		{`hello"`, []int64{3}},
		{"resume", []int64{2}},
		{"RÉSUMÉ", []int64{2}},
		{"bob@customer.test", []int64{2}},
		{"dave@elsewhere.test", []int64{4}},
		{"alice", []int64{1}},
		{"total wrong", []int64{1}},
		{"total curriculum", nil},
		{"NOT", nil},
		{"nonexistent", nil},
		{"   ", nil},
		// Punctuation alone holds no word: it must not make the rest fail.
		{"invoice -", []int64{1}},
	} {
		hits, err := st.Search(ctx, tc.query, 0)
		if err != nil {
			t.Errorf("Search(%q): %v", tc.query, err)
			continue
		}
		var got []int64
		for _, h := range hits {
			got = append(got, h.Ticket)
		}
		if !equalInts(got, tc.want) {
			t.Errorf("Search(%q) = tickets %v, want %v", tc.query, got, tc.want)
		}
	}
	hits, err := st.Search(ctx, "curriculum", 10)
	if err != nil || len(hits) != 1 {
		t.Fatalf("Search(curriculum) = %v, %v", hits, err)
	}
	if h := hits[0]; h.Account != "main" || h.From != "bob@customer.test" || h.Subject != "Résumé attached" ||
		!strings.Contains(h.Snippet, "curriculum") || h.Date.IsZero() {
		t.Errorf("hit %+v", h)
	}
}

// changesOf picks the queued changes of one keyword.
func changesOf(pending []KeywordChange, keyword string) []KeywordChange {
	var out []KeywordChange
	for _, k := range pending {
		if strings.EqualFold(k.Keyword, keyword) {
			out = append(out, k)
		}
	}
	return out
}

func ticketNumbers(list []*Ticket) []int64 {
	var out []int64
	for _, t := range list {
		out = append(out, t.Number)
	}
	return out
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestIsParticipant(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct := testAccount(t, st, "main", "support@example.com")
	tk := addTicket(t, st, acct, 8, "Shared", "alice@customer.test", "x")
	err := st.Update(ctx, func(tx *Tx) error {
		return tx.AddMessage(acct.ID, &Message{TicketID: tk.ID, UID: 9, MessageID: "cc@customer.test",
			From: "alice@customer.test", To: []string{"support@example.com"}, Cc: []string{"Bob@Customer.test", "carol@customer.test"},
			Subject: "Re: Shared", Date: time.Now(), Kind: KindCustomer, Body: "adding Bob"})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"alice@customer.test", true},
		{"ALICE@customer.test", true},
		{"bob@customer.test", true},
		{"carol@customer.test", true},
		{"support@example.com", true},
		{"mallory@customer.test", false},
		{"ob@customer.test", false},
		// LIKE wildcards in a stranger's address must not match a participant.
		{"b_b@customer.test", false},
		{"%@customer.test", false},
		{"%", false},
	} {
		err := st.Update(ctx, func(tx *Tx) error {
			got, err := tx.IsParticipant(tk.ID, tc.addr)
			if err != nil {
				return err
			}
			if got != tc.want {
				t.Errorf("IsParticipant(%q) = %v, want %v", tc.addr, got, tc.want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Keywords that differ only in case are one label: applying them again is
// no change (else every sync pass would report the ticket changed).
func TestApplyServerKeywordsDuplicateLabels(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct := testAccount(t, st, "main", "support@example.com")
	tk := addTicket(t, st, acct, 3, "Labels", "alice@customer.test", "x")
	kw := ServerKeywords{Labels: []string{"refund", "Refund", "refund"}}
	for i, want := range []bool{true, false} {
		err := st.Update(ctx, func(tx *Tx) error {
			changed, err := tx.ApplyServerKeywords(tk.ID, kw)
			if changed != want {
				t.Errorf("pass %d: changed = %v, want %v", i, changed, want)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	got, _ := st.Ticket(ctx, tk.ID)
	if strings.Join(got.Labels, ",") != "refund" {
		t.Errorf("labels %v, want [refund]", got.Labels)
	}
}
