package mail

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"desk/mail/parse"
	"desk/store"
)

// ingestEnv is one desk account over a fresh store, ingesting by hand what
// the sync worker would fetch.
type ingestEnv struct {
	t   *testing.T
	st  *store.Store
	a   *Account
	row *store.Account
}

// newIngestEnv opens a store whose first sync saw UIDNEXT baseline: mail
// below it is historic.
func newIngestEnv(t *testing.T, baseline uint32) *ingestEnv {
	t.Helper()
	return newIngestEnvAt(t, filepath.Join(t.TempDir(), "desk.db"), baseline)
}

// newIngestEnvAt is newIngestEnv over the store at path (a store may be
// reopened to model a restart).
func newIngestEnvAt(t *testing.T, path string, baseline uint32) *ingestEnv {
	t.Helper()
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := &Account{Name: "test", Address: testDesk, IMAP: "imap://127.0.0.1:1143", SMTP: "smtp://127.0.0.1:1025",
		TLS: "none", Password: "x", ProjectNames: map[string]string{"billing": "Billing"}}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	row, err := st.EnsureAccount(ctx, a.Name, a.Address, a.Mailbox)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.SetCursor(row.ID, 1, 0, 0); err != nil {
			return err
		}
		return tx.SetBaseline(row.ID, baseline)
	})
	if err != nil {
		t.Fatal(err)
	}
	row.UIDValidity, row.BaselineUID = 1, baseline
	return &ingestEnv{t: t, st: st, a: a, row: row}
}

// try ingests raw as UID uid with flags, in one transaction.
func (e *ingestEnv) try(uid uint32, raw []byte, flags ...string) (int64, error) {
	var n int64
	err := e.st.Update(context.Background(), func(tx *store.Tx) error {
		var err error
		n, err = e.a.ingest(tx, e.row, e.a.prepareMessage(fetched{UID: uid, Flags: flags, InternalDate: time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC), Raw: raw}))
		return err
	})
	return n, err
}

func (e *ingestEnv) ingest(uid uint32, raw []byte, flags ...string) int64 {
	e.t.Helper()
	n, err := e.try(uid, raw, flags...)
	if err != nil {
		e.t.Fatalf("ingest UID %d: %v", uid, err)
	}
	return n
}

func (e *ingestEnv) ticket(n int64) *store.Ticket {
	e.t.Helper()
	tk, err := e.st.TicketByNumber(context.Background(), n)
	if err != nil {
		e.t.Fatalf("ticket #%d: %v", n, err)
	}
	return tk
}

func (e *ingestEnv) messages(n int64) []*store.Message {
	e.t.Helper()
	msgs, err := e.st.Messages(context.Background(), e.ticket(n).ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return msgs
}

// byUID finds the message with uid in ticket n.
func (e *ingestEnv) byUID(n int64, uid uint32) *store.Message {
	e.t.Helper()
	for _, m := range e.messages(n) {
		if m.UID == uid {
			return m
		}
	}
	e.t.Fatalf("UID %d is not in ticket #%d", uid, n)
	return nil
}

func (e *ingestEnv) hasUID(uid uint32) bool {
	e.t.Helper()
	var seen bool
	err := e.st.Update(context.Background(), func(tx *store.Tx) error {
		var err error
		known, err := tx.Arrival(e.row.ID, uid, "", "")
		seen = known.Stored
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return seen
}

func (e *ingestEnv) outbox() []*store.OutboxItem {
	e.t.Helper()
	items, err := e.st.DueOutbox(context.Background(), e.row.ID, time.Now().Add(time.Hour))
	if err != nil {
		e.t.Fatal(err)
	}
	return items
}

// composeQueued composes the queued automated notices, as a flush does
// before it sends them: each then joins its ticket's thread (one that is
// off is skipped).
func (e *ingestEnv) composeQueued() {
	e.t.Helper()
	ctx := context.Background()
	w, err := NewService(e.st, []*Account{e.a}, nil, nil).newWorker(ctx, e.a)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range e.outbox() {
		tk, err := e.st.Ticket(ctx, o.TicketID)
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := w.compose(ctx, tk, o); err != nil {
			e.t.Fatalf("composing outbox item %d: %v", o.ID, err)
		}
	}
}

func (e *ingestEnv) tickets() []*store.Ticket {
	e.t.Helper()
	list, err := e.st.List(context.Background(), store.ListFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

// mailFrom builds a raw message; extra are whole header lines.
func mailFrom(from, to, subject, msgID, body string, extra ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Thu, 01 May 2025 10:00:00 +0000\r\n", from, to, subject)
	if msgID != "" {
		fmt.Fprintf(&b, "Message-ID: <%s>\r\n", msgID)
	}
	for _, x := range extra {
		b.WriteString(x + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
	return []byte(b.String())
}

const (
	alice   = "alice@customer.test"
	bob     = "bob@customer.test"
	carol   = "carol@customer.test"
	mallory = "mallory@evil.test"
)

func TestIngestOpensTicket(t *testing.T) {
	e := newIngestEnv(t, 1)
	wake, cancel := e.st.Subscribe()
	defer cancel()
	raw := mailFrom("Alice Example <Alice@Customer.test>", "support+billing@desk.test", "Refund please", "r1@customer.test", "I was charged twice.")
	if n := e.ingest(10, raw); n != 10 {
		t.Fatalf("ingest returned ticket %d, want 10 (the UID)", n)
	}
	tk := e.ticket(10)
	if tk.Project != "billing" || tk.Subject != "Refund please" || tk.Requester != alice || tk.RequesterName != "Alice Example" ||
		tk.State != store.StateOpen || tk.RootMessageID != "r1@customer.test" || tk.ReplyKey != ReplyKey(raw) || !tk.Unread {
		t.Errorf("ticket %+v", tk)
	}
	msgs := e.messages(10)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the mail alone (the thank-you joins when it is composed)", len(msgs))
	}
	root := msgs[0]
	if root.UID != 10 || root.Kind != store.KindCustomer || root.Body != "I was charged twice." || root.From != alice ||
		len(root.To) != 1 || root.To[0] != "support+billing@desk.test" {
		t.Errorf("root %+v", root)
	}
	out := e.outbox()
	if len(out) != 1 {
		t.Fatalf("%d outbox items, want 1 thank-you", len(out))
	}
	o := out[0]
	if o.Kind != store.KindAuto || o.Notice != store.NoticeThankYou || o.Claim != store.KeywordAcked || o.MessageID == "" ||
		len(o.Raw) != 0 || len(o.Rcpt) != 1 || o.Rcpt[0] != alice {
		t.Errorf("thank-you outbox item %+v", o)
	}
	// A flush composes it before it sends it: it then joins the thread.
	e.composeQueued()
	msgs = e.messages(10)
	if len(msgs) != 2 {
		t.Fatalf("%d messages once composed, want the mail and the thank-you", len(msgs))
	}
	ack := msgs[1]
	if ack.Kind != store.KindAuto || ack.From != testDesk || ack.UID != 0 || ack.Outbox != store.OutboxQueued ||
		ack.MessageID != o.MessageID || !strings.Contains(ack.Body, "#10") {
		t.Errorf("thank-you in the thread: %+v", ack)
	}
	o = e.outbox()[0]
	p := parse.Parse(o.Raw)
	if p.Subject != "Re: Refund please [#10]" || len(p.InReplyTo) != 1 || p.InReplyTo[0] != "r1@customer.test" || p.Auto == "" {
		t.Errorf("thank-you mail: subject %q in-reply-to %v auto %q", p.Subject, p.InReplyTo, p.Auto)
	}
	if rt, _ := route(testDesk, []string{p.ReplyTo[0].Addr}); rt.ReplyKey != tk.ReplyKey {
		t.Errorf("thank-you Reply-To %v does not carry the ticket's key", p.ReplyTo)
	}
	select {
	case <-wake:
	default:
		t.Error("queueing the thank-you did not wake the workers")
	}
}

// With the mailbox unreachable (the flush after a failed session) a
// thank-you, which is claimed there before it leaves, is not composed,
// though the SMTP server answers: it stays queued, out of the thread,
// until it can leave.
func TestThankYouWaitsForTheMailbox(t *testing.T) {
	e := newIngestEnv(t, 1)
	e.a.SMTP = "smtp://" + newScriptedSMTP(t).ln.Addr().String()
	e.ingest(10, mailFrom(alice, testDesk, "Help", "root@customer.test", "x"))
	w, err := NewService(e.st, []*Account{e.a}, nil, nil).newWorker(context.Background(), e.a)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.flushOutbox(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if out := e.outbox(); len(out) != 1 || len(out[0].Raw) != 0 || out[0].State != store.OutboxQueued {
		t.Errorf("outbox after a flush without the mailbox: %+v, want the thank-you queued, not composed", out)
	}
	if msgs := e.messages(10); len(msgs) != 1 {
		t.Errorf("%d messages in the thread, want the mail alone", len(msgs))
	}
}

func TestIngestProjectFromAddress(t *testing.T) {
	for _, tc := range []struct {
		name    string
		to      string
		extra   []string
		project string
	}{
		{"plain desk address", "support@desk.test", nil, "general"},
		{"sub-address", "support+billing@desk.test", nil, "billing"},
		{"upper case", "SUPPORT+Sales@DESK.TEST", nil, "sales"},
		{"in Cc", "someone@customer.test", []string{"Cc: support+ops@desk.test"}, "ops"},
		{"delivery address only", "undisclosed-recipients:;", []string{"Delivered-To: support+legal@desk.test"}, "legal"},
		{"project beats plain", "support@desk.test, support+billing@desk.test", nil, "billing"},
		{"no desk address at all", "list@elsewhere.test", nil, "general"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newIngestEnv(t, 1)
			e.ingest(3, mailFrom(alice, tc.to, "Hi", "p@customer.test", "hello", tc.extra...))
			if got := e.ticket(3).Project; got != tc.project {
				t.Errorf("project %q, want %q", got, tc.project)
			}
		})
	}
}

func TestIngestHistoricMailQueuesNothing(t *testing.T) {
	e := newIngestEnv(t, 100)
	e.ingest(50, mailFrom(alice, testDesk, "Old", "old@customer.test", "from before the first sync"))
	if got := e.outbox(); len(got) != 0 {
		t.Errorf("historic mail queued %d items", len(got))
	}
	if msgs := e.messages(50); len(msgs) != 1 {
		t.Errorf("historic ticket has %d messages, want only the mail", len(msgs))
	}
	e.ingest(100, mailFrom(bob, testDesk, "New", "new@customer.test", "after the first sync"))
	out := e.outbox()
	if len(out) != 1 || out[0].Rcpt[0] != bob || out[0].Kind != store.KindAuto || out[0].Claim != store.KeywordAcked {
		t.Fatalf("new mail queued %+v, want one thank-you to bob", out)
	}
	// Another client already claimed the thank-you: none here.
	e.ingest(101, mailFrom(carol, testDesk, "Acked", "acked@customer.test", "x"), `\Seen`, "$desk-acked")
	if got := e.outbox(); len(got) != 1 {
		t.Errorf("a root already carrying %s queued a thank-you (%d items)", store.KeywordAcked, len(got))
	}
	// No sender, no thank-you.
	e.ingest(102, []byte("To: support@desk.test\r\nSubject: anonymous\r\nMessage-ID: <anon@x>\r\n\r\nwho am I\r\n"))
	if got := e.outbox(); len(got) != 1 {
		t.Errorf("a mail without From queued a thank-you (%d items)", len(got))
	}
}

func TestIngestAutomatedMail(t *testing.T) {
	for _, tc := range []struct {
		name   string
		from   string
		header string
		reason string
	}{
		{"auto-submitted", alice, "Auto-Submitted: auto-replied", "auto-submitted"},
		{"auto-generated", alice, "Auto-Submitted: auto-generated", "auto-submitted"},
		{"precedence bulk", alice, "Precedence: bulk", "precedence"},
		{"precedence junk", alice, "Precedence: junk", "precedence"},
		{"list-id", alice, "List-Id: Customers <customers.lists.customer.test>", "list"},
		{"null return path", alice, "Return-Path: <>", "null-return-path"},
		{"bounce", "MAILER-DAEMON@mx.customer.test", "X-Failed-Recipients: gone@customer.test", "bounce"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newIngestEnv(t, 1)
			if n := e.ingest(20, mailFrom(tc.from, testDesk, "Out of office", "auto@customer.test", "I am away.", tc.header)); n != 0 {
				t.Errorf("automated mail opened ticket #%d", n)
			}
			if list := e.tickets(); len(list) != 0 {
				t.Errorf("automated mail opened %d tickets", len(list))
			}
			if out := e.outbox(); len(out) != 0 {
				t.Errorf("automated mail queued %d items", len(out))
			}
			if !e.hasUID(20) {
				t.Error("automated mail was dropped, not stored")
			}
			// It is stored once: the next pass skips it.
			if n, err := e.try(20, []byte("other")); n != 0 || err != nil {
				t.Errorf("second ingest: %d, %v", n, err)
			}
		})
	}
	// Auto-Submitted: no is a human.
	e := newIngestEnv(t, 1)
	if n := e.ingest(21, mailFrom(alice, testDesk, "Hi", "human@customer.test", "x", "Auto-Submitted: no")); n != 21 {
		t.Errorf("Auto-Submitted: no opened no ticket (%d)", n)
	}
}

func TestIngestAutoReplyInThread(t *testing.T) {
	e := newIngestEnv(t, 1)
	e.ingest(10, mailFrom(alice, testDesk, "Help", "root@customer.test", "x"))
	if err := e.st.SetTicketState(context.Background(), e.ticket(10).ID, store.StateClosed); err != nil {
		t.Fatal(err)
	}
	pushAll(t, e)
	e.composeQueued() // as the flush that sent the thank-you did
	before := len(e.outbox())
	ack := e.messages(10)[1].MessageID
	if n := e.ingest(11, mailFrom(alice, testDesk, "Auto: Re: Help [#10]", "ooo@customer.test", "I am away.",
		"Auto-Submitted: auto-replied", "In-Reply-To: <"+ack+">")); n != 10 {
		t.Fatalf("auto-reply to the thank-you joined ticket %d, want 10", n)
	}
	m := e.byUID(10, 11)
	if m.Kind != store.KindAuto || m.AutoReason != "auto-submitted" || m.ThreadedBy != byReferences {
		t.Errorf("auto-reply stored as %+v", m)
	}
	if tk := e.ticket(10); tk.State != store.StateClosed {
		t.Error("an auto-reply reopened the ticket")
	}
	if len(e.outbox()) != before {
		t.Error("an auto-reply queued mail")
	}
	if p, _ := e.st.PendingKeywords(context.Background(), e.row.ID); len(p) != 0 {
		t.Errorf("an auto-reply queued keyword changes %+v", p)
	}
}

// pushAll marks every queued keyword change as pushed.
func pushAll(t *testing.T, e *ingestEnv) {
	t.Helper()
	ctx := context.Background()
	pending, err := e.st.PendingKeywords(ctx, e.row.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range pending {
		if err := e.st.KeywordPushed(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
	}
}

func TestIngestThreadingOrder(t *testing.T) {
	e := newIngestEnv(t, 1)
	e.ingest(10, mailFrom(alice, "support+billing@desk.test", "Refund", "t1@customer.test", "one"))
	e.ingest(11, mailFrom(bob, "support+billing@desk.test", "Login", "t2@customer.test", "two"))
	e.ingest(12, mailFrom(carol, testDesk, "Crash", "t3@customer.test", "three"))
	key1 := e.ticket(10).ReplyKey
	unknownKey := ReplyKey([]byte("no such root"))
	uid := uint32(20)
	for _, tc := range []struct {
		name  string
		to    string
		extra []string
		subj  string
		want  int64 // 0: a new ticket
		how   string
	}{
		{"reply key beats references and token", ReplyAddress(testDesk, "billing", key1),
			[]string{"References: <t2@customer.test>", "In-Reply-To: <t2@customer.test>"}, "Re: Crash [#12]", 10, byReplyKey},
		{"reply key without project", ReplyAddress(testDesk, "", key1), nil, "hello", 10, byReplyKey},
		{"reply key in Delivered-To", testDesk, []string{"Delivered-To: " + strings.ToUpper(ReplyAddress(testDesk, "billing", key1))}, "hi", 10, byReplyKey},
		{"references beat the token", testDesk, []string{"References: <t2@customer.test>"}, "Re: Crash [#12]", 11, byReferences},
		{"in-reply-to alone", testDesk, []string{"In-Reply-To: <t2@customer.test>"}, "Re: Login", 11, byReferences},
		{"unknown key falls back to references", ReplyAddress(testDesk, "billing", unknownKey),
			[]string{"References: <t2@customer.test>"}, "x", 11, byReferences},
		{"nearest known reference wins", testDesk, []string{"References: <t1@customer.test> <t2@customer.test> <unknown@x>"}, "x", 11, byReferences},
		{"token from the requester", testDesk, nil, "Re: Crash [#12]", 12, bySubject},
		{"token with unknown references", testDesk, []string{"References: <unknown@x>"}, "AW: Crash [#12]", 12, bySubject},
		{"nothing known", testDesk, []string{"References: <never-seen@x>"}, "Crash again", 0, byNew},
		{"token of no ticket", testDesk, nil, "Re: [#999]", 0, byNew},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uid++
			n := e.ingest(uid, mailFrom(carol, tc.to, tc.subj, fmt.Sprintf("m%d@customer.test", uid), "x", tc.extra...))
			want := tc.want
			if want == 0 {
				want = int64(uid)
			}
			if n != want {
				t.Fatalf("threaded into #%d, want #%d", n, want)
			}
			if m := e.byUID(n, uid); m.ThreadedBy != tc.how || m.Kind != store.KindCustomer {
				t.Errorf("threaded by %q as %s, want %q", m.ThreadedBy, m.Kind, tc.how)
			}
		})
	}
}

func TestIngestSubjectTokenNeedsParticipant(t *testing.T) {
	e := newIngestEnv(t, 1)
	e.ingest(12, mailFrom(carol, testDesk, "Crash", "t3@customer.test", "x", "Cc: Bob <bob@customer.test>"))
	if n := e.ingest(13, mailFrom(mallory, testDesk, "Re: Crash [#12]", "m13@evil.test", "let me in")); n != 13 {
		t.Errorf("a stranger's [#12] joined ticket #%d; want a new ticket #13", n)
	} else if tk := e.ticket(13); tk.Requester != mallory {
		t.Errorf("new ticket's requester %q", tk.Requester)
	}
	if msgs := e.messages(12); len(msgs) != 1 {
		t.Errorf("ticket #12 has %d messages, want its root only", len(msgs))
	}
	if n := e.ingest(14, mailFrom("Carol <CAROL@customer.test>", testDesk, "Re: Crash [#12]", "m14@customer.test", "more")); n != 12 {
		t.Errorf("the requester's [#12] went to #%d", n)
	}
	if n := e.ingest(15, mailFrom(bob, testDesk, "Re: Crash [#12]", "m15@customer.test", "me too")); n != 12 {
		t.Errorf("a Cc'd participant's [#12] went to #%d", n)
	}
	if got := len(e.outbox()); got != 2 {
		t.Errorf("%d thank-yous queued, want 2 (#12 and #13)", got)
	}
}

func TestIngestSameUIDTwice(t *testing.T) {
	e := newIngestEnv(t, 1)
	raw := mailFrom(alice, testDesk, "Once", "once@customer.test", "x")
	e.ingest(10, raw)
	for range 2 {
		if n, err := e.try(10, raw); n != 0 || err != nil {
			t.Errorf("ingesting UID 10 again: %d, %v; want a no-op", n, err)
		}
	}
	if got := len(e.messages(10)); got != 1 {
		t.Errorf("%d messages after three ingests, want 1", got)
	}
	if got := len(e.outbox()); got != 1 {
		t.Errorf("%d outbox items, want 1", got)
	}
	if got := len(e.tickets()); got != 1 {
		t.Errorf("%d tickets, want 1", got)
	}
}

func TestIngestOwnCopyOnlyGainsUID(t *testing.T) {
	e := newIngestEnv(t, 1)
	e.ingest(10, mailFrom(alice, testDesk, "Help", "root@customer.test", "x"))
	e.composeQueued()
	o := e.outbox()[0]
	// The appended copy of the thank-you comes back from the mailbox.
	if n := e.ingest(11, o.Raw, `\Seen`); n != 0 {
		t.Errorf("our own copy touched ticket %d", n)
	}
	msgs := e.messages(10)
	if len(msgs) != 2 || msgs[1].MessageID != o.MessageID || msgs[1].UID != 11 {
		t.Errorf("after the copy came back: %d messages, thank-you UID %d", len(msgs), msgs[len(msgs)-1].UID)
	}
}

func TestIngestReopensClosedTicket(t *testing.T) {
	ctx := context.Background()
	e := newIngestEnv(t, 100)
	e.ingest(5, mailFrom(alice, testDesk, "Help", "root@customer.test", "x"))
	id := e.ticket(5).ID
	if err := e.st.SetTicketState(ctx, id, store.StateClosed); err != nil {
		t.Fatal(err)
	}
	pushAll(t, e)
	outBefore := len(e.outbox())

	// A historic answer does not reopen: state comes from keywords alone.
	e.ingest(6, mailFrom(alice, testDesk, "Re: Help [#5]", "old-answer@customer.test", "thanks", "In-Reply-To: <root@customer.test>"))
	if tk := e.ticket(5); tk.State != store.StateClosed {
		t.Errorf("a historic answer reopened the ticket")
	}
	if p, _ := e.st.PendingKeywords(ctx, e.row.ID); len(p) != 0 {
		t.Errorf("a historic answer queued %+v", p)
	}

	// Staff mail does not reopen either.
	e.ingest(120, mailFrom("Agent via Support <support@desk.test>", alice, "Re: Help [#5]", "staff@desk.test", "done",
		"In-Reply-To: <root@customer.test>", "X-Desk-Kind: reply"))
	if tk := e.ticket(5); tk.State != store.StateClosed {
		t.Errorf("a staff reply reopened the ticket")
	}

	e.ingest(121, mailFrom(alice, testDesk, "Re: Help [#5]", "new-answer@customer.test", "it broke again", "In-Reply-To: <staff@desk.test>"))
	if tk := e.ticket(5); tk.State != store.StateOpen {
		t.Errorf("a new customer answer left the ticket %s", tk.State)
	}
	var closes []store.KeywordChange
	p, _ := e.st.PendingKeywords(ctx, e.row.ID)
	for _, k := range p {
		if strings.EqualFold(k.Keyword, store.KeywordClosed) {
			closes = append(closes, k)
		}
	}
	if len(closes) != 1 || closes[0].Add || closes[0].TicketID != id || closes[0].RootUID != 5 {
		t.Errorf("reopening queued %+v, want removal of %s on UID 5", p, store.KeywordClosed)
	}
	if out := e.outbox(); len(out) != outBefore {
		t.Errorf("reopening queued mail: %+v", out)
	}
}

func TestIngestDeskMailKinds(t *testing.T) {
	e := newIngestEnv(t, 1)
	e.ingest(10, mailFrom(alice, "support+billing@desk.test", "Help", "root@customer.test", "x"))
	tk := e.ticket(10)
	thread := e.messages(10)

	// A note written by another client, as its copy reaches the mailbox.
	note := &store.OutboxItem{ID: 1, TicketID: tk.ID, Kind: store.KindNote, MessageID: "note.other@desk.test",
		Author: "Tess", Body: "internal: VIP", Created: time.Now()}
	raw, _, err := staffMail(e.a, tk, thread, note)
	if err != nil {
		t.Fatal(err)
	}
	reply := &store.OutboxItem{ID: 2, TicketID: tk.ID, Kind: store.KindReply, MessageID: "reply.other@desk.test",
		Author: "Tess", Body: "Fixed.", Created: time.Now()}
	rawReply, _, err := staffMail(e.a, tk, thread, reply)
	if err != nil {
		t.Fatal(err)
	}
	otherAck, err := thankYou(e.a, tk, "ack.other@desk.test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		uid  uint32
		raw  []byte
		kind string
	}{
		{"note", 11, raw, store.KindNote},
		{"reply", 12, rawReply, store.KindReply},
		{"thank-you", 13, otherAck, store.KindAuto},
		{"hand-written note header", 14, mailFrom("Support <SUPPORT@desk.test>", testDesk, "Re: Help [#10]", "n2@desk.test", "hm",
			"In-Reply-To: <root@customer.test>", "X-Desk-Kind: Note"), store.KindNote},
		{"desk mail without the header", 15, mailFrom(testDesk, alice, "Re: Help [#10]", "n3@desk.test", "hm",
			"In-Reply-To: <root@customer.test>"), store.KindReply},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n := e.ingest(tc.uid, tc.raw, `\Seen`); n != 10 {
				t.Fatalf("joined ticket %d, want 10", n)
			}
			if m := e.byUID(10, tc.uid); m.Kind != tc.kind {
				t.Errorf("stored as %s, want %s", m.Kind, tc.kind)
			}
		})
	}
	if out := e.outbox(); len(out) != 1 {
		t.Errorf("desk mail queued mail: %d items, want only the first thank-you", len(out))
	}
	// Desk mail that answers nothing known opens no ticket.
	if n := e.ingest(16, mailFrom(testDesk, alice, "Stray", "stray@desk.test", "x", "X-Desk-Kind: reply")); n != 0 {
		t.Errorf("stray desk mail opened ticket %d", n)
	}
	if !e.hasUID(16) || len(e.tickets()) != 1 {
		t.Error("stray desk mail not kept, or a ticket was opened")
	}
}

func TestIngestUnsubscribe(t *testing.T) {
	for _, tc := range []struct {
		name  string
		to    func(key string) string
		body  string
		unsub bool
	}{
		{"first line", func(string) string { return testDesk }, "unsubscribe", true},
		{"first line after blanks, any case", func(string) string { return testDesk }, "\r\n  \r\n  UnSubscribe  \r\nthanks", true},
		{"unsubscribe address", func(k string) string { return UnsubscribeAddress(testDesk, k) }, "please stop", true},
		{"word later in the text", func(string) string { return testDesk }, "please unsubscribe me", false},
		{"quoted", func(string) string { return testDesk }, "> unsubscribe", false},
		{"ordinary answer", func(string) string { return testDesk }, "thanks!", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newIngestEnv(t, 1)
			e.ingest(10, mailFrom(alice, testDesk, "Help", "root@customer.test", "x"))
			key := e.ticket(10).ReplyKey
			if n := e.ingest(11, mailFrom(alice, tc.to(key), "Re: Help [#10]", "u@customer.test", tc.body)); n != 10 {
				t.Fatalf("joined ticket %d", n)
			}
			if got := e.ticket(10).Unsubscribed; got != tc.unsub {
				t.Errorf("unsubscribed = %v, want %v", got, tc.unsub)
			}
		})
	}
}

// The ticket state must come back whole from the mailbox (DESIGN invariant
// 1): an "unsubscribe" that arrived before the first sync of a new client
// (or before a rebuild) still counts, as nothing else records it.
func TestIngestHistoricUnsubscribeSurvivesRebuild(t *testing.T) {
	e := newIngestEnv(t, 100)
	e.ingest(10, mailFrom(alice, testDesk, "Help", "root@customer.test", "x"))
	e.ingest(11, mailFrom(alice, testDesk, "Re: Help [#10]", "u@customer.test", "unsubscribe", "In-Reply-To: <root@customer.test>"))
	if !e.ticket(10).Unsubscribed {
		t.Error("an unsubscribe request in the mailbox is lost when the store is rebuilt")
	}
}

func TestDecodeKeywords(t *testing.T) {
	for _, tc := range []struct {
		flags  []string
		status string
		labels []string
		acked  bool
	}{
		{nil, "", nil, false},
		{[]string{`\Seen`, `\Flagged`, "$Forwarded"}, "", nil, false},
		{[]string{"$Desk-Closed"}, store.StateClosed, nil, false},
		{[]string{"$desk-closed"}, store.StateClosed, nil, false},
		{[]string{"$DESK-CLOSED", "$desk-acked"}, store.StateClosed, nil, true},
		{[]string{"$DESK-LABEL-Refund"}, "", []string{"refund"}, false},
		{[]string{"$desk-label-vip", "$Desk-Label-Billing", `\Seen`}, "", []string{"billing", "vip"}, false},
		{[]string{"$Desk-Label-"}, "", nil, false},
		{[]string{"$Desk-Labels", "Desk-Closed", "$Desk-Closed-Not"}, "", nil, false},
	} {
		kw, acked := decodeKeywords(tc.flags)
		if kw.Status != tc.status || acked != tc.acked || strings.Join(kw.Labels, ",") != strings.Join(tc.labels, ",") {
			t.Errorf("decodeKeywords(%v) = %+v %v; want status %q labels %v acked %v", tc.flags, kw, acked, tc.status, tc.labels, tc.acked)
		}
	}
}

func TestIngestAppliesRootKeywords(t *testing.T) {
	e := newIngestEnv(t, 100)
	e.ingest(7, mailFrom(alice, testDesk, "Old", "old@customer.test", "x"), "$desk-closed", "$DESK-LABEL-Refund", "$Desk-Label-vip", "$desk-label-refund")
	tk := e.ticket(7)
	if tk.State != store.StateClosed || strings.Join(tk.Labels, ",") != "refund,vip" {
		t.Errorf("state %s labels %v from the root's keywords", tk.State, tk.Labels)
	}
}

func TestIngestSyntheticMessageID(t *testing.T) {
	raw := []byte("From: alice@customer.test\r\nTo: support@desk.test\r\nSubject: no id\r\n\r\nhello\r\n")
	e1 := newIngestEnv(t, 1)
	e1.ingest(10, raw)
	id := e1.ticket(10).RootMessageID
	if id == "" || !strings.Contains(id, "@") {
		t.Fatalf("synthetic Message-ID %q", id)
	}
	if got := e1.messages(10)[0].MessageID; got != id {
		t.Errorf("root message id %q, ticket says %q", got, id)
	}
	// Another client (or a rebuild) derives the same id from the same bytes.
	e2 := newIngestEnv(t, 1)
	e2.ingest(10, raw)
	if got := e2.ticket(10).RootMessageID; got != id {
		t.Errorf("same raw gave %q then %q", id, got)
	}
	e2.ingest(11, []byte("From: bob@customer.test\r\nTo: support@desk.test\r\nSubject: no id\r\n\r\nhello\r\n"))
	if got := e2.ticket(11).RootMessageID; got == id {
		t.Errorf("different mail got the same synthetic id %q", got)
	}
	// After a UIDVALIDITY change the message is matched again by its id.
	err := e1.st.Update(context.Background(), func(tx *store.Tx) error { return tx.ResetUIDValidity(e1.row.ID) })
	if err != nil {
		t.Fatal(err)
	}
	if n := e1.ingest(1, raw); n != 0 {
		t.Errorf("re-ingest after a UIDVALIDITY change touched ticket %d", n)
	}
	err = e1.st.Update(context.Background(), func(tx *store.Tx) error { return tx.RenumberFromRoots(e1.row.ID) })
	if err != nil {
		t.Fatal(err)
	}
	if msgs := e1.messages(1); len(msgs) != 1 || msgs[0].UID != 1 || msgs[0].MessageID != id {
		t.Errorf("after a UIDVALIDITY change: %d messages, root UID %d; want the root claimed as UID 1", len(msgs), msgs[0].UID)
	}
}

func TestIngestMalformedMailIsKept(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  []byte
	}{
		{"garbage bytes", []byte("\x00\xff\xfe\x01garbage \x1b[2J not a mail at all \xc3\x28")},
		{"empty", []byte{}},
		{"truncated multipart", []byte("From: alice@customer.test\r\nTo: support@desk.test\r\nSubject: cut\r\nMessage-ID: <cut@x>\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nvisible text\r\n" +
			"--b1\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJ")},
		{"header without body", []byte("From: alice@customer.test\r\nSubject: headers only")},
		{"bad charset and encoding", []byte("From: =?x-unknown?Q?Al=E9?= <alice@customer.test>\r\nSubject: \xe9t\xe9\r\nMessage-ID: <cs@x>\r\n" +
			"Content-Type: text/plain; charset=x-unknown\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newIngestEnv(t, 1)
			if _, err := e.try(30, tc.raw); err != nil {
				t.Fatalf("malformed mail refused: %v", err)
			}
			if !e.hasUID(30) {
				t.Fatal("malformed mail dropped")
			}
			list := e.tickets()
			if len(list) != 1 {
				t.Fatalf("%d tickets, want the mail in one", len(list))
			}
			msgs := e.messages(list[0].Number)
			if msgs[0].ParseWarning == "" {
				t.Errorf("stored without a parse warning: %+v", msgs[0])
			}
		})
	}
}

// The same bytes may reach the mailbox twice (moved to Trash and back, a
// COPY, a redelivery): the second copy must not stop the sync, whether or
// not a thank-you (which refers to the first) was written here.
func TestIngestSameRawAtNewUID(t *testing.T) {
	for _, tc := range []struct {
		name     string
		baseline uint32
		flags    []string
	}{
		{"new mail", 1, nil},
		{"historic mail", 100, nil},
		{"thank-you claimed elsewhere", 1, []string{"$Desk-Acked"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newIngestEnv(t, tc.baseline)
			raw := mailFrom(alice, testDesk, "Twice", "twice@customer.test", "x")
			e.ingest(10, raw, tc.flags...)
			if _, err := e.try(11, raw, tc.flags...); err != nil {
				t.Fatalf("second copy of a mail: %v (the sync would fail on it forever)", err)
			}
			if !e.hasUID(11) {
				t.Error("second copy not stored")
			}
			if got := len(e.outbox()); got > 1 {
				t.Errorf("%d thank-yous for one mail", got)
			}
		})
	}
}

// After a UIDVALIDITY change (the sync's ResetUIDValidity) the old tickets
// are matched again by Message-ID and take their roots' new UIDs as
// numbers; new mail whose UID equals an old ticket number must not collide
// with it (the sync would fail on that UID forever).
func TestIngestAfterUIDValidityChange(t *testing.T) {
	e := newIngestEnv(t, 1)
	old := mailFrom(alice, testDesk, "Old", "old@customer.test", "x")
	e.ingest(7, old)
	err := e.st.Update(context.Background(), func(tx *store.Tx) error {
		if err := tx.ResetUIDValidity(e.row.ID); err != nil {
			return err
		}
		if err := tx.SetBaseline(e.row.ID, 10); err != nil {
			return err
		}
		return tx.SetCursor(e.row.ID, 2, 0, 0)
	})
	if err != nil {
		t.Fatal(err)
	}
	e.row.UIDValidity, e.row.BaselineUID = 2, 10
	e.ingest(1, old) // the server renumbered it
	if _, err := e.try(7, mailFrom(bob, testDesk, "New", "new@customer.test", "y")); err != nil {
		t.Fatalf("new mail at UID 7 after a UIDVALIDITY change: %v", err)
	}
	err = e.st.Update(context.Background(), func(tx *store.Tx) error { return tx.RenumberFromRoots(e.row.ID) })
	if err != nil {
		t.Fatal(err)
	}
	if tk := e.ticket(1); tk.Requester != alice || tk.RootMessageID != "old@customer.test" {
		t.Errorf("old ticket not renumbered to its root's new UID: #1 is %+v", tk)
	}
	if tk := e.ticket(7); tk.Requester != bob {
		t.Errorf("#7 is %s's, want bob's new ticket", tk.Requester)
	}
	if msgs := e.messages(1); len(msgs) != 1 || msgs[0].UID != 1 {
		t.Errorf("old ticket has %d messages after the change, root UID %d", len(msgs), msgs[0].UID)
	}
}

func TestFirstLineIs(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"unsubscribe", true},
		{"\n\n  Unsubscribe \nmore", true},
		{"unsubscribe me", false},
		{"", false},
		{"hello\nunsubscribe", false},
	} {
		if got := firstLineIs(tc.text, "unsubscribe"); got != tc.want {
			t.Errorf("firstLineIs(%q) = %v", tc.text, got)
		}
	}
}
