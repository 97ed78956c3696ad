package mail_test

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"desk/mail"
	"desk/mail/demo"
	"desk/store"
)

// newDeskStore syncs a demo system's seeded mailbox into a new store.
func newDeskStore(t *testing.T) (*demo.Demo, *store.Store, *mail.Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d, err := demo.Start(ctx, demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); d.Wait() })
	st, err := store.Open(filepath.Join(t.TempDir(), "desk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := mail.NewService(st, []*mail.Account{d.Account}, nil, nil)
	if err := svc.SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d, st, svc
}

// TestConnectionErrors: a wrong password, a closed port and a TLS mismatch
// each give one clear line naming what failed.
func TestConnectionErrors(t *testing.T) {
	sys, err := demo.NewSystem()
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	sys.AddUser("support@desk.test")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	cases := []struct {
		name, imap, tls, password, want string
	}{
		{"wrong password", "imap://" + sys.IMAPAddr, "none", "nope", "login as support@desk.test"},
		{"unreachable", "imap://" + closed, "none", demo.Password, "connection refused"},
		{"tls mismatch", "imaps://" + sys.IMAPAddr, "", demo.Password, "tls"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := &mail.Account{Name: "t", Address: "support@desk.test", IMAP: c.imap, SMTP: "smtp://" + sys.SMTPAddr,
				User: "support@desk.test", Password: c.password, TLS: c.tls}
			if err := a.Validate(); err != nil {
				t.Fatal(err)
			}
			st, err := store.Open(filepath.Join(t.TempDir(), "d.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err = mail.NewService(st, []*mail.Account{a}, nil, nil).SyncOnce(ctx)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q, want one line containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), demo.Password) && c.password == demo.Password {
				t.Fatalf("error leaks the password: %q", err)
			}
		})
	}
}

// TestOfflineStatus: the background worker reports offline with the error
// and the time of the next attempt, and keeps retrying.
func TestOfflineStatus(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	a := &mail.Account{Name: "t", Address: "support@desk.test", IMAP: "imap://" + addr, SMTP: "smtp://" + addr,
		User: "u", Password: "p", TLS: "none"}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events := make(chan store.SyncStatus, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		mail.NewService(st, []*mail.Account{a}, func(ev any) {
			if s, ok := ev.(store.SyncStatus); ok && s.Phase == store.PhaseOffline {
				select {
				case events <- s:
				default:
				}
			}
		}, nil).Run(ctx)
	}()
	var got []store.SyncStatus
	for len(got) < 2 {
		select {
		case s := <-events:
			got = append(got, s)
		case <-time.After(20 * time.Second):
			t.Fatalf("no offline status after %d events", len(got))
		}
	}
	cancel()
	<-done
	if !strings.Contains(got[0].Err, "connection refused") || got[0].RetryAt.IsZero() {
		t.Fatalf("offline status %+v", got[0])
	}
	if !got[1].RetryAt.After(got[0].RetryAt) {
		t.Fatalf("no backoff: %v then %v", got[0].RetryAt, got[1].RetryAt)
	}
}

// TestSMTPRefusals: a 5xx is recorded on the reply and not retried; a 4xx
// keeps the reply queued for a later attempt; nothing is lost either way.
func TestSMTPRefusals(t *testing.T) {
	d, st, svc := newDeskStore(t)
	ctx := context.Background()
	tk, err := st.TicketByNumber(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	d.RcptError = func(string) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
	}
	permanent, err := st.QueueReply(ctx, tk.ID, store.KindReply, "Ana", "first")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	d.RcptError = func(string) error {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	}
	temporary, err := st.QueueReply(ctx, tk.ID, store.KindReply, "Ana", "second")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	state := map[string]*store.Message{}
	msgs, err := st.Messages(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		state[m.MessageID] = m
	}
	if m := state[permanent.MessageID]; m.Outbox != store.OutboxFailed || !strings.Contains(m.OutboxError, "mailbox unavailable") {
		t.Fatalf("5xx reply: outbox %q error %q", m.Outbox, m.OutboxError)
	}
	if m := state[temporary.MessageID]; m.Outbox != store.OutboxQueued || !strings.Contains(m.OutboxError, "try later") {
		t.Fatalf("4xx reply: outbox %q error %q", m.Outbox, m.OutboxError)
	}
	if next, err := st.NextOutboxAttempt(ctx, 1); err != nil || !next.After(time.Now()) {
		t.Fatalf("4xx retry time %v (%v), want in the future", next, err)
	}
	// The server accepts again; staff retry the refused one.
	d.RcptError = nil
	if err := st.RetryOutbox(ctx, permanent.MessageID); err != nil {
		t.Fatal(err)
	}
	if err := svc.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	sent := 0
	for _, del := range d.Deliveries() {
		if strings.Contains(string(del.Raw), "Message-Id: <"+permanent.MessageID+">") {
			sent++
		}
	}
	if sent != 1 {
		t.Fatalf("retried reply delivered %d times, want 1", sent)
	}
}

// TestNewParticipantNotice: an address staff add to a ticket gets one
// new_participant notice, threaded into the ticket; adding it again sends
// nothing more, and the requester is not written to.
func TestNewParticipantNotice(t *testing.T) {
	d, st, svc := newDeskStore(t)
	ctx := context.Background()
	tk, err := st.TicketByNumber(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	before := len(d.Deliveries())
	for range 2 {
		if err := st.AddParticipant(ctx, tk.ID, "Partner@Example.org", "Ana"); err != nil {
			t.Fatal(err)
		}
		if err := svc.SyncOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sent := d.Deliveries()[before:]
	if len(sent) != 1 || len(sent[0].To) != 1 || sent[0].To[0] != "partner@example.org" {
		t.Fatalf("want one notice to partner@example.org, got %+v", sent)
	}
	raw := string(sent[0].Raw)
	for _, want := range []string{"You have been added to request #1", "[#1]", "Auto-Submitted: auto-replied", "In-Reply-To: <"} {
		if !strings.Contains(raw, want) {
			t.Errorf("notice lacks %q:\n%s", want, raw)
		}
	}
}
