package mail_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"desk/mail"
	"desk/mail/demo"
	"desk/store"
)

// notifyDesk is a desk on an in-process mail system with no simulated
// customer: every delivery is one the test made or desk sent.
type notifyDesk struct {
	sys *demo.System
	st  *store.Store
	svc *mail.Service
}

func newNotifyDesk(t *testing.T, send mail.SendOptions) *notifyDesk {
	t.Helper()
	sys, err := demo.NewSystem()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sys.Close)
	sys.AddUser(deskAddr)
	a := &mail.Account{Name: "t", Address: deskAddr, IMAP: "imap://" + sys.IMAPAddr, SMTP: "smtp://" + sys.SMTPAddr,
		User: deskAddr, Password: demo.Password, TLS: "none", Send: send}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d := &notifyDesk{sys: sys, st: st, svc: mail.NewService(st, []*mail.Account{a}, nil, nil)}
	d.sync(t) // the baseline: an empty mailbox
	return d
}

func (d *notifyDesk) sync(t *testing.T) {
	t.Helper()
	if err := d.svc.SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// customer delivers a customer's mail to the desk address to.
func (d *notifyDesk) customer(t *testing.T, from, to, subject, msgID, inReplyTo, body string, extra ...string) {
	t.Helper()
	if err := d.sys.Deliver(from, []string{to}, customerMail(from, to, subject, msgID, inReplyTo, body, extra...)); err != nil {
		t.Fatal(err)
	}
	d.sync(t)
}

// sentBy returns what desk sent so far, as "kind rcpt,rcpt" lines.
func (d *notifyDesk) sent() []string {
	var out []string
	for _, del := range d.sys.Deliveries() {
		if del.From != deskAddr {
			continue
		}
		kind := "reply"
		if strings.Contains(string(del.Raw), "Auto-Submitted: auto-replied") {
			kind = "auto"
		}
		out = append(out, kind+" "+strings.Join(del.To, ","))
	}
	return out
}

func (d *notifyDesk) events(t *testing.T, ticketID int64) string {
	t.Helper()
	ev, err := d.st.Events(context.Background(), ticketID)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range ev {
		fmt.Fprintf(&b, "%s: %s\n", e.Actor, e.What)
	}
	return b.String()
}

func onlyTicket(t *testing.T, st *store.Store, subject string) *store.Ticket {
	t.Helper()
	list, err := st.List(context.Background(), store.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range list {
		if tk.Subject == subject {
			return tk
		}
	}
	t.Fatalf("no ticket %q among %d", subject, len(list))
	return nil
}

// TestCustomerNotifications walks one customer through participants, the
// closed notice (sent once), reopen on reply, the sender rate limit and
// unsubscribe, checking what left and what the ticket records.
func TestCustomerNotifications(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "billing"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "billing", "closed.md"), []byte("Closed %{ISSUE_ID}.\n%{SYSTEM_FOOTER}"), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl, err := mail.LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	off := false
	d := newNotifyDesk(t, mail.SendOptions{Templates: tpl, SenderPerHour: 2,
		Projects: map[string]mail.ProjectOptions{"app": {ThankYou: &off}}})
	ctx := context.Background()
	billing := "support+billing@desk.test"

	// A first mail with Cc: bob and carol join; the desk itself does not.
	d.customer(t, alice, billing, "Double charge", "m1@customer.test", "", "Charged twice.",
		"Cc: Bob <"+bob+">, "+carol+", support@desk.test")
	tk := onlyTicket(t, d.st, "Double charge")
	parts, err := d.st.Participants(ctx, tk.ID)
	if err != nil || len(parts) != 2 || parts[0].Addr != bob || parts[1].Addr != carol {
		t.Fatalf("participants %+v, %v", parts, err)
	}
	if _, err := d.st.QueueReply(ctx, tk.ID, store.KindReply, "Ana", "Refunded."); err != nil {
		t.Fatal(err)
	}
	d.sync(t)
	want := []string{"auto " + alice, "reply " + alice + "," + bob + "," + carol}
	if got := d.sent(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sent %q, want %q", got, want)
	}

	// Closing sends the project's closed notice once, however often desk syncs.
	if err := d.st.SetTicketState(ctx, tk.ID, store.StateClosed); err != nil {
		t.Fatal(err)
	}
	d.sync(t)
	d.sync(t)
	want = append(want, "auto "+alice)
	if got := d.sent(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("after closing: sent %q, want %q", got, want)
	}
	if body := string(d.sys.Deliveries()[len(d.sys.Deliveries())-1].Raw); !strings.Contains(body, fmt.Sprintf("Closed #%d.", tk.Number)) {
		t.Fatalf("closed notice is not the project's template:\n%s", body)
	}

	// The customer answers: the ticket reopens, saying who reopened it.
	d.customer(t, alice, billing, "Re: Double charge", "m2@customer.test", "m1@customer.test", "Still charged.")
	if tk, _ = d.st.Ticket(ctx, tk.ID); tk.State != store.StateOpen {
		t.Fatalf("state %q after the customer's reply, want open", tk.State)
	}
	if ev := d.events(t, tk.ID); !strings.Contains(ev, "reply from "+alice+": status closed → open") {
		t.Fatalf("events:\n%s", ev)
	}

	// A second ticket: two automated mails to alice this hour already, so
	// the thank-you is suppressed and the ticket says so.
	d.customer(t, alice, billing, "Another thing", "m3@customer.test", "", "Also this.")
	second := onlyTicket(t, d.st, "Another thing")
	if got := d.sent(); len(got) != len(want) {
		t.Fatalf("a thank-you over the rate limit left: %q", got)
	}
	if ev := d.events(t, second.ID); !strings.Contains(ev, "rate limit: 2 automated mails to "+alice) {
		t.Fatalf("events of the suppressed thank-you:\n%s", ev)
	}

	// A project with the thank-you switched off sends none (and records nothing).
	d.customer(t, bob, "support+app@desk.test", "App crash", "m4@customer.test", "", "Crashes.")
	if got := d.sent(); len(got) != len(want) {
		t.Fatalf("a switched-off thank-you left: %q", got)
	}

	// Unsubscribe by first line: no more mail of any kind; a staff reply
	// is kept internal with an event.
	d.customer(t, alice, billing, "Re: Double charge", "m5@customer.test", "m2@customer.test", "unsubscribe\nplease stop")
	if tk, _ = d.st.Ticket(ctx, tk.ID); !tk.Unsubscribed {
		t.Fatal("ticket not unsubscribed")
	}
	m, err := d.st.QueueReply(ctx, tk.ID, store.KindReply, "Ana", "One more thing.")
	if err != nil {
		t.Fatal(err)
	}
	d.sync(t)
	if got := d.sent(); len(got) != len(want) {
		t.Fatalf("mail left after unsubscribe: %q", got)
	}
	msgs, _ := d.st.Messages(ctx, tk.ID)
	for _, x := range msgs {
		if x.MessageID == m.MessageID && x.Kind != store.KindNote {
			t.Fatalf("reply after unsubscribe is %q, want kept as a note", x.Kind)
		}
	}
	ev := d.events(t, tk.ID)
	if !strings.Contains(ev, alice+": unsubscribed") || !strings.Contains(ev, "Ana: reply kept internal: the customer unsubscribed") {
		t.Fatalf("events:\n%s", ev)
	}
}
