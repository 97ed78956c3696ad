package mail_test

import (
	"bytes"
	"context"
	"mime"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	deskmail "desk/mail"
	"desk/mail/internal/dovecottest"
	"desk/mail/internal/postfixtest"
	"desk/store"
)

// swaks sends one mail through the MTA with swaks, a tool nobody here
// wrote, and returns its transcript.
func swaks(t *testing.T, server, from, to string, headers []string, body string) string {
	t.Helper()
	bin, err := exec.LookPath("swaks")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("swaks is required when CI=true: %v", err)
		}
		t.Skip("SKIP: swaks not installed; install swaks to run the MTA round trip")
	}
	args := []string{"--server", server, "--from", from, "--to", to, "--body", body, "--hide-informational"}
	for _, h := range headers {
		args = append(args, "--header", h)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	return string(out)
}

// inbox reads every message of user's INBOX over IMAP.
func inbox(t *testing.T, dv *dovecottest.Server, user string) []*mail.Message {
	t.Helper()
	c, err := imapclient.DialInsecure(dv.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, dv.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	var seq imap.SeqSet
	seq.AddRange(1, sel.NumMessages)
	bufs, err := c.Fetch(seq, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out []*mail.Message
	for _, b := range bufs {
		for _, raw := range b.BodySection {
			m, err := mail.ReadMessage(bytes.NewReader(raw.Bytes))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
	}
	return out
}

// waitInbox polls user's INBOX until it holds n messages (the MTA delivers
// asynchronously), bounded.
func waitInbox(t *testing.T, dv *dovecottest.Server, user string, n int) []*mail.Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		msgs := inbox(t, dv, user)
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d messages after 30s, want %d", user, len(msgs), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// syncUntil runs desk's sync until cond holds on the store, bounded.
func syncUntil(t *testing.T, svc *deskmail.Service, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := svc.SyncOnce(context.Background()); err != nil {
			t.Fatalf("sync: %v", err)
		}
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s of syncing: %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestMTARoundTrip is the customer's whole path through real servers: the
// customer mails the desk through Postfix (with swaks), Postfix delivers by
// LMTP into Dovecot, desk syncs it into a ticket and sends the thank-you
// and a staff reply through Postfix into the customer's Dovecot mailbox,
// and the customer's answer to the reply-key address threads back into
// the same ticket. Postfix's own log confirms every acceptance.
func TestMTARoundTrip(t *testing.T) {
	dv := dovecottest.StartLMTP(t)
	pf := postfixtest.Start(t, dv.LMTPAddr, dovecottest.Users)
	ctx := context.Background()

	a := &deskmail.Account{Name: "work", Address: deskAddr, IMAP: "imap://" + dv.Addr, SMTP: "smtp://" + pf.Addr,
		User: deskAddr, Password: dv.Password, TLS: "none", ProjectNames: map[string]string{"billing": "Billing"}}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "desk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := deskmail.NewService(st, []*deskmail.Account{a}, nil, nil)
	// The first sync sets the baseline: only mail after it is answered.
	if err := svc.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}

	out := swaks(t, pf.Addr, alice, "support+billing@desk.test",
		[]string{"Subject: Invoice 2231 charged twice", "Message-Id: <first.alice@customer.test>", "From: Alice Example <alice@customer.test>"},
		"Hello,\nI was charged twice for invoice 2231.\nAlice")
	if !strings.Contains(out, "250 2.0.0 Ok: queued") {
		t.Fatalf("Postfix did not queue the customer's mail:\n%s", out)
	}
	var tk *store.Ticket
	syncUntil(t, svc, "no ticket for the customer's mail", func() bool {
		list, err := st.List(ctx, store.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 1 {
			tk = list[0]
		}
		return tk != nil
	})
	if tk.Project != "billing" || tk.Requester != alice {
		t.Fatalf("ticket %+v", tk)
	}
	if _, err := st.QueueReply(ctx, tk.ID, store.KindReply, "Ana", "Sorry about that, **refunded** today.\n\n- invoice 2231"); err != nil {
		t.Fatal(err)
	}
	if err := svc.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// Postfix may deliver the two in either order.
	got := waitInbox(t, dv, alice, 2)
	ack, reply := got[0], got[1]
	if ack.Header.Get("Auto-Submitted") == "" {
		ack, reply = reply, ack
	}
	if ack.Header.Get("Auto-Submitted") != "auto-replied" || !strings.Contains(ack.Header.Get("List-Unsubscribe"), "-unsubscribe@desk.test") ||
		ack.Header.Get("In-Reply-To") != "<first.alice@customer.test>" {
		t.Fatalf("thank-you headers: %v", ack.Header)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(reply.Header.Get("Subject"))
	wantToken := "[#" + strconv.FormatInt(tk.Number, 10) + "]"
	if !strings.Contains(subject, wantToken) || reply.Header.Get("Auto-Submitted") != "" ||
		!strings.Contains(reply.Header.Get("References"), "<first.alice@customer.test>") {
		t.Fatalf("reply headers: subject %q, %v", subject, reply.Header)
	}
	from, err := reply.Header.AddressList("From")
	if err != nil || from[0].Name != "Ana via Billing Support" || from[0].Address != deskAddr {
		t.Fatalf("reply From %v, %v", from, err)
	}
	if ct := reply.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Fatalf("reply Content-Type %q, want text and HTML", ct)
	}
	replyTo, err := reply.Header.AddressList("Reply-To")
	if err != nil || len(replyTo) != 1 || !strings.HasPrefix(replyTo[0].Address, "support+billing-") {
		t.Fatalf("Reply-To %v, %v", replyTo, err)
	}
	replyID := strings.Trim(reply.Header.Get("Message-Id"), "<>")
	pf.WaitLog(t, 30*time.Second, "message-id=<"+replyID+">", "to=<"+alice+">", "status=sent (250 2.0.0")

	// The customer answers through the MTA, to the reply-key address only.
	swaks(t, pf.Addr, alice, replyTo[0].Address,
		[]string{"Subject: Re: " + subject, "In-Reply-To: <" + replyID + ">", "From: Alice Example <alice@customer.test>"},
		"Thanks, that settles it.")
	syncUntil(t, svc, "the customer's answer did not thread into the ticket", func() bool {
		msgs, err := st.Messages(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		last := msgs[len(msgs)-1]
		return last.Kind == store.KindCustomer && strings.Contains(last.Body, "settles it")
	})
	list, _ := st.List(ctx, store.ListFilter{})
	if len(list) != 1 {
		t.Fatalf("%d tickets, want the answer in the first one", len(list))
	}
	msgs, _ := st.Messages(ctx, tk.ID)
	if last := msgs[len(msgs)-1]; last.ThreadedBy != "reply key" {
		t.Fatalf("threaded by %q, want the reply key", last.ThreadedBy)
	}
}
