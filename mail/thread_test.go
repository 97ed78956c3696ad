package mail

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"desk/store"
)

// ingestAll ingests msgs at UIDs first, first+1, … in one transaction, as
// a sync batch does.
func (e *ingestEnv) ingestAll(first uint32, msgs [][]byte) {
	e.t.Helper()
	err := e.st.Update(context.Background(), func(tx *store.Tx) error {
		for i, raw := range msgs {
			m := fetched{UID: first + uint32(i), InternalDate: time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC), Raw: raw}
			if _, err := e.a.ingest(tx, e.row, e.a.prepareMessage(m)); err != nil {
				return fmt.Errorf("ingest UID %d: %w", m.UID, err)
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// events returns the what of each event of ticket n.
func (e *ingestEnv) events(n int64) []string {
	e.t.Helper()
	evs, err := e.st.Events(context.Background(), e.ticket(n).ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.What)
	}
	return out
}

func TestThreadNewTicketSaysNew(t *testing.T) {
	e := newIngestEnv(t, 1)
	e.ingest(10, mailFrom(alice, testDesk, "Help", "root@customer.test", "x"))
	if m := e.byUID(10, 10); m.ThreadedBy != byNew {
		t.Errorf("root threaded by %q, want %q", m.ThreadedBy, byNew)
	}
}

// A reply-all from a Cc'd participant whose parent never reached the desk
// (or has not yet) joins the ticket of the other replies to that parent.
func TestThreadReplyAllFromCcParticipant(t *testing.T) {
	e := newIngestEnv(t, 1)
	// Alice wrote to Bob and Carol, Cc the desk; Bob answers all first.
	n := e.ingest(10, mailFrom(bob, testDesk, "Re: Outage", "b@customer.test", "me too",
		"Cc: "+alice+", "+carol, "In-Reply-To: <a@customer.test>", "References: <a@customer.test>"))
	if got := e.ingest(11, mailFrom(carol, testDesk, "Re: Outage", "c@customer.test", "same here",
		"Cc: "+alice+", "+bob, "In-Reply-To: <a@customer.test>", "References: <a@customer.test>")); got != n {
		t.Fatalf("Carol's reply-all opened #%d, want it in #%d", got, n)
	}
	if m := e.byUID(n, 11); m.ThreadedBy != byReferences {
		t.Errorf("threaded by %q", m.ThreadedBy)
	}
	// A stranger who knows the Message-ID gets no entry.
	if got := e.ingest(12, mailFrom(mallory, testDesk, "Re: Outage", "m@evil.test", "hi",
		"References: <a@customer.test>")); got == n {
		t.Error("a stranger's mail that refers to the same Message-ID joined the ticket")
	}
	// Alice's original arrives last: it joins, nothing is duplicated.
	if got := e.ingest(13, mailFrom(alice, testDesk, "Outage", "a@customer.test", "all down", "Cc: "+bob+", "+carol)); got != n {
		t.Fatalf("the late original opened #%d, want #%d", got, n)
	}
	if got := len(e.messages(n)); got != 3 { // the thank-you joins when it is composed
		t.Errorf("ticket has %d messages, want the 3 mails", got)
	}
}

// outOfOrder is a conversation whose middle message reaches the desk last:
// S answers R1, which arrives after S opened a ticket of its own.
var outOfOrder = []struct {
	uid uint32
	raw []byte
}{
	{10, mailFrom(bob, testDesk, "Re: Invoice", "r2@customer.test", "second answer", "Cc: "+alice,
		"References: <r0@customer.test> <r1@customer.test>", "In-Reply-To: <r1@customer.test>")},
	{11, mailFrom(alice, testDesk, "Re: Invoice", "s@customer.test", "answer to the late one",
		"References: <r1b@customer.test>", "In-Reply-To: <r1b@customer.test>")},
	{12, mailFrom(alice, testDesk, "Re: Invoice", "r1b@customer.test", "late one",
		"References: <r0@customer.test>", "In-Reply-To: <r0@customer.test>")},
}

func TestThreadMergesWhenTheParentArrives(t *testing.T) {
	path := filepath.Join(t.TempDir(), "desk.db")
	e := newIngestEnvAt(t, path, 1)
	e.ingest(outOfOrder[0].uid, outOfOrder[0].raw)
	e.ingest(outOfOrder[1].uid, outOfOrder[1].raw, store.KeywordLabelPrefix+"vip")
	if got := len(e.tickets()); got != 2 {
		t.Fatalf("%d tickets before the parent arrived, want 2", got)
	}
	if n := e.ingest(outOfOrder[2].uid, outOfOrder[2].raw); n != 10 {
		t.Fatalf("the late parent went to #%d, want #10 (the earliest root)", n)
	}
	tickets := e.tickets()
	if len(tickets) != 1 || tickets[0].Number != 10 {
		t.Fatalf("after the merge: %d tickets (first #%d), want only #10", len(tickets), tickets[0].Number)
	}
	var uids []uint32
	for _, m := range e.messages(10) {
		if m.UID != 0 {
			uids = append(uids, m.UID)
		}
	}
	if len(uids) != 3 {
		t.Errorf("ticket #10 holds UIDs %v, want 10, 11 and 12", uids)
	}
	if labels := tickets[0].Labels; len(labels) != 1 || labels[0] != "vip" {
		t.Errorf("labels after the merge %q, want the merged ticket's vip", labels)
	}
	if evs := strings.Join(e.events(10), "\n"); !strings.Contains(evs, "merged ticket #11") {
		t.Errorf("events %q do not tell of the merge", evs)
	}

	// A rebuild from the mailbox (same UIDs, same order) ends the same.
	r := newIngestEnv(t, 1)
	r.ingest(outOfOrder[0].uid, outOfOrder[0].raw)
	r.ingest(outOfOrder[1].uid, outOfOrder[1].raw, store.KeywordLabelPrefix+"vip")
	r.ingest(outOfOrder[2].uid, outOfOrder[2].raw)
	if got := r.tickets(); len(got) != 1 || got[0].Number != 10 || len(r.messages(10)) != len(e.messages(10)) || len(got[0].Labels) != 1 {
		t.Errorf("rebuilt store differs: %d tickets", len(got))
	}
}

// Reply-To names where answers go; it never routes or threads a mail, so
// it cannot put a stranger's mail into someone else's ticket.
func TestThreadReplyToNeverAttaches(t *testing.T) {
	e := newIngestEnv(t, 1)
	e.ingest(10, mailFrom(alice, "support+billing@desk.test", "Refund", "r@customer.test", "x"))
	key := e.ticket(10).ReplyKey
	raw := mailFrom(mallory, testDesk, "Re: Refund", "m@evil.test", "send me the invoice",
		"Reply-To: "+ReplyAddress(testDesk, "billing", key)+", "+alice)
	n := e.ingest(11, raw)
	if n == 10 {
		t.Fatal("a mail whose Reply-To carries ticket #10's reply key joined #10")
	}
	if tk := e.ticket(n); tk.Requester != mallory {
		t.Errorf("requester %q, want the From address %q", tk.Requester, mallory)
	}
}

func TestThreadBounceOfOurMail(t *testing.T) {
	e := newIngestEnv(t, 1)
	e.ingest(10, mailFrom(alice, testDesk, "Help", "root@customer.test", "x"))
	e.composeQueued() // the thank-you leaves, and bounces
	out := e.outbox()
	if len(out) != 1 {
		t.Fatalf("%d queued, want the thank-you", len(out))
	}
	bounce := "Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.customer.test>\r\nTo: " + testDesk +
		"\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce1@mx.customer.test>\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.test\r\n\r\n" +
		"Final-Recipient: rfc822; alice@customer.test\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
		"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: " + testDesk + "\r\nTo: " + alice +
		"\r\nMessage-ID: <" + out[0].MessageID + ">\r\nSubject: Help [#10]\r\n--b--\r\n"
	if n := e.ingest(11, []byte(bounce)); n != 10 {
		t.Fatalf("the bounce went to #%d, want #10", n)
	}
	if m := e.byUID(10, 11); m.ThreadedBy != byBounce || m.Kind != store.KindAuto {
		t.Errorf("bounce threaded by %q as %s", m.ThreadedBy, m.Kind)
	}
	if evs := strings.Join(e.events(10), "\n"); !strings.Contains(evs, "delivery failure: mail to alice@customer.test") {
		t.Errorf("events %q do not name the failed recipient", evs)
	}
	if got := len(e.tickets()); got != 1 {
		t.Errorf("%d tickets, want 1", got)
	}
	if got := len(e.outbox()); got != 1 {
		t.Errorf("%d queued after the bounce, want still 1", got)
	}
}

func TestThreadNoAnswerSendersGetNothing(t *testing.T) {
	e := newIngestEnv(t, 1)
	for i, from := range []string{"noreply@shop.test", "No-Reply <no-reply@shop.test>", "postmaster@shop.test", "MAILER-DAEMON@shop.test", "donotreply@shop.test"} {
		e.ingest(uint32(10+i), mailFrom(from, testDesk, "Your order", "", "hello"))
	}
	if got := len(e.outbox()); got != 0 {
		t.Errorf("%d automated mails queued to robots, want 0", got)
	}
}

func TestRouteAliasesAndFallbacks(t *testing.T) {
	e := newIngestEnv(t, 1)
	e.a.Aliases = map[string]string{"Billing@Desk.test": "billing", "sales@other.test": "sales"}
	for i, tc := range []struct {
		name    string
		to      string
		extra   []string
		project string
	}{
		{"alias in To", "billing@desk.test", nil, "billing"},
		{"alias of another domain", "Sales <SALES@other.test>", nil, "sales"},
		{"Bcc: no desk address at all", "someone@else.test", nil, e.a.DefaultProject},
		{"Received for", "list@lists.test", []string{"Received: from mx.lists.test by mx.desk.test with ESMTP id 1\r\n\tfor <support+app@desk.test>; Thu, 1 May 2025 10:00:00 +0000"}, "app"},
		{"Delivered-To before Received for", "list@lists.test", []string{"Delivered-To: support+web@desk.test",
			"Received: from a by b for <support+app@desk.test>; Thu, 1 May 2025 10:00:00 +0000"}, "web"},
		{"X-Original-To", "list@lists.test", []string{"X-Original-To: support+ops@desk.test"}, "ops"},
		{"Cc last", "someone@else.test", []string{"Cc: support+cc@desk.test"}, "cc"},
	} {
		n := e.ingest(uint32(10+i), mailFrom(carol, tc.to, "Question "+tc.name, "", "x", tc.extra...))
		if got := e.ticket(n).Project; got != tc.project {
			t.Errorf("%s: project %q, want %q", tc.name, got, tc.project)
		}
	}
}

func TestStaffForwardOpensCustomerTicket(t *testing.T) {
	const staff = "ana@desk.test"
	e := newIngestEnv(t, 1)
	e.a.Staff = []string{"Ana@Desk.test"}
	attached := "From: Ana <" + staff + ">\r\nTo: " + testDesk + "\r\nSubject: Fwd: Broken login\r\nMessage-ID: <f1@desk.test>\r\n" +
		"Content-Type: multipart/mixed; boundary=\"f\"\r\n\r\n--f\r\nContent-Type: text/plain\r\n\r\nPlease look at this.\r\n" +
		"--f\r\nContent-Type: message/rfc822\r\n\r\nFrom: Dora <dora@customer.test>\r\nTo: " + staff +
		"\r\nSubject: Broken login\r\nMessage-ID: <d1@customer.test>\r\n\r\nI cannot log in.\r\n--f--\r\n"
	inline := mailFrom("Ana <"+staff+">", testDesk, "Fwd: Refund", "f2@desk.test",
		"FYI\r\n\r\n---------- Forwarded message ---------\r\nFrom: Emil <emil@customer.test>\r\nDate: Thu, 1 May 2025\r\n"+
			"Subject: Refund\r\nTo: <"+staff+">\r\n\r\nPlease refund me.")
	for i, tc := range []struct {
		raw                      []byte
		requester, subject, body string
	}{
		{[]byte(attached), "dora@customer.test", "Broken login", "I cannot log in."},
		{inline, "emil@customer.test", "Refund", "Please refund me."},
	} {
		n := e.ingest(uint32(10+i), tc.raw)
		tk := e.ticket(n)
		if tk.Requester != tc.requester || tk.Subject != tc.subject {
			t.Errorf("ticket #%d: requester %q subject %q, want %q %q", n, tk.Requester, tk.Subject, tc.requester, tc.subject)
		}
		if m := e.byUID(n, uint32(10+i)); m.Body != tc.body || m.From != tc.requester {
			t.Errorf("message from %q body %q, want the original's", m.From, m.Body)
		}
		if evs := strings.Join(e.events(n), "\n"); !strings.Contains(evs, "forwarded into the desk by "+staff) {
			t.Errorf("events %q", evs)
		}
	}
	// The same forward from someone who is not staff stays theirs.
	e.a.Staff = nil
	n := e.ingest(20, []byte(strings.ReplaceAll(attached, "f1@desk.test", "f3@desk.test")))
	if tk := e.ticket(n); tk.Requester != staff {
		t.Errorf("a non-staff forward opened a ticket for %q", tk.Requester)
	}
}
