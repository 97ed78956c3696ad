package mail_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"desk/mail"
	"desk/mail/demo"
	"desk/mail/internal/dovecottest"
	"desk/store"
)

// syncEnv is one Dovecot with an SMTP sink, for sync tests.
type syncEnv struct {
	srv  *dovecottest.Server
	sink *demo.System
}

func newSyncEnv(t *testing.T) *syncEnv {
	t.Helper()
	srv := dovecottest.Start(t)
	sink, err := demo.NewSystem()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sink.Close)
	sink.SMTPPassword = srv.Password
	return &syncEnv{srv: srv, sink: sink}
}

// account is the desk account of user on env's Dovecot.
func (e *syncEnv) account(t *testing.T, name, user, mailbox string) *mail.Account {
	t.Helper()
	a := &mail.Account{Name: name, Address: user, IMAP: "imap://" + e.srv.Addr, SMTP: "smtp://" + e.sink.SMTPAddr,
		User: user, Password: e.srv.Password, TLS: "none", Mailbox: mailbox}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	return a
}

// openStore opens a new empty store, closed at cleanup.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "desk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func syncOnce(t *testing.T, st *store.Store, accts ...*mail.Account) {
	t.Helper()
	if err := mail.NewService(st, accts, nil, nil).SyncOnce(context.Background()); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

// ticketsBySubject lists every ticket of st by subject.
func ticketsBySubject(t *testing.T, st *store.Store) map[string]*store.Ticket {
	t.Helper()
	list, err := st.List(context.Background(), store.ListFilter{State: "all"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*store.Ticket{}
	for _, tk := range list {
		if _, dup := out[tk.Subject]; dup {
			t.Fatalf("two tickets with subject %q", tk.Subject)
		}
		out[tk.Subject] = tk
	}
	return out
}

// recorder collects the service's events; wait blocks until one matches.
type recorder struct {
	mu     sync.Mutex
	events []any
	signal chan struct{}
}

func newRecorder() *recorder { return &recorder{signal: make(chan struct{}, 1)} }

func (r *recorder) notify(ev any) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// wait returns the first event from index from on that matches, and the
// index after it; it fails the test after timeout.
func (r *recorder) wait(t *testing.T, from int, timeout time.Duration, what string, match func(any) bool) int {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		evs := r.events
		r.mu.Unlock()
		for i := from; i < len(evs); i++ {
			if match(evs[i]) {
				return i + 1
			}
		}
		from = len(evs)
		select {
		case <-r.signal:
		case <-deadline:
			t.Fatalf("no %s within %v", what, timeout)
		}
	}
}

// phase matches a SyncStatus of account in phase p.
func phase(account string, p store.SyncPhase) func(any) bool {
	return func(ev any) bool {
		s, ok := ev.(store.SyncStatus)
		return ok && s.Account == account && s.Phase == p
	}
}

// customer is a customer mail with a unique Message-ID.
func customer(n int, subject string, inReplyTo int) []byte {
	reply := ""
	if inReplyTo > 0 {
		reply = fmt.Sprintf("m%d@customer.test", inReplyTo)
	}
	return customerMail(fmt.Sprintf("Customer %d <c%d@customer.test>", n%7, n%7), "support@desk.test", subject,
		fmt.Sprintf("m%d@customer.test", n), reply, fmt.Sprintf("Message %d.\nThe printer is on fire.", n))
}

// uidOf finds the UID of the message with this Message-ID.
func uidOf(t *testing.T, e *syncEnv, user, mailbox, msgID string) imap.UID {
	t.Helper()
	c := e.srv.Login(t, user, nil)
	if _, err := c.Select(mailbox, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	found, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: msgID}}}, nil).Wait()
	if err != nil || len(found.AllUIDs()) != 1 {
		t.Fatalf("search %s: %v %v", msgID, err, found)
	}
	c.Close()
	return found.AllUIDs()[0]
}

// storeFlags changes flags of uid from a second session (a teammate).
func storeFlags(t *testing.T, e *syncEnv, user, mailbox string, uid imap.UID, op imap.StoreFlagsOp, flags ...imap.Flag) {
	t.Helper()
	c := e.srv.Login(t, user, nil)
	if _, err := c.Select(mailbox, &imap.SelectOptions{CondStore: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: op, Silent: true, Flags: flags}, nil).Close(); err != nil {
		t.Fatalf("teammate store: %v", err)
	}
	c.Close()
}

// TestSyncKeywordsFromTeammate: keyword changes made in another session
// (CONDSTORE, FETCH CHANGEDSINCE) reach the store; removing them reopens.
func TestSyncKeywordsFromTeammate(t *testing.T) {
	e := newSyncEnv(t)
	const user = "support@desk.test"
	for i := 1; i <= 3; i++ {
		e.srv.Deliver(t, user, customer(i, fmt.Sprintf("Ticket %d", i), 0))
	}
	st := openStore(t)
	a := e.account(t, "desk", user, "INBOX")
	syncOnce(t, st, a)
	before := ticketsBySubject(t, st)
	if len(before) != 3 || before["Ticket 1"].State != store.StateOpen {
		t.Fatalf("first sync: %+v", before)
	}

	uid1 := uidOf(t, e, user, "INBOX", "m1@customer.test")
	uid3 := uidOf(t, e, user, "INBOX", "m3@customer.test")
	storeFlags(t, e, user, "INBOX", uid1, imap.StoreFlagsAdd, store.KeywordClosed, store.KeywordLabelPrefix+"Billing")
	storeFlags(t, e, user, "INBOX", uid3, imap.StoreFlagsAdd, store.KeywordLabelPrefix+"urgent")
	syncOnce(t, st, a)
	after := ticketsBySubject(t, st)
	if tk := after["Ticket 1"]; tk.State != store.StateClosed || !slices.Equal(tk.Labels, []string{"billing"}) {
		t.Errorf("ticket 1 after the teammate closed it: state %s labels %v", tk.State, tk.Labels)
	}
	if tk := after["Ticket 3"]; tk.State != store.StateOpen || !slices.Equal(tk.Labels, []string{"urgent"}) {
		t.Errorf("ticket 3 after the teammate labelled it: state %s labels %v", tk.State, tk.Labels)
	}
	if tk := after["Ticket 2"]; tk.State != store.StateOpen || len(tk.Labels) != 0 {
		t.Errorf("ticket 2 changed: %+v", tk)
	}

	storeFlags(t, e, user, "INBOX", uid1, imap.StoreFlagsDel, store.KeywordClosed)
	syncOnce(t, st, a)
	if tk := ticketsBySubject(t, st)["Ticket 1"]; tk.State != store.StateOpen || !slices.Equal(tk.Labels, []string{"billing"}) {
		t.Errorf("ticket 1 after the teammate reopened it: state %s labels %v", tk.State, tk.Labels)
	}
}

// TestSyncExpunge: messages expunged from the mailbox are found by
// comparing UID sets; their tickets stay with their history and the rest
// keeps syncing.
func TestSyncExpunge(t *testing.T) {
	e := newSyncEnv(t)
	const user = "support@desk.test"
	e.srv.Deliver(t, user, customer(1, "Root gone", 0))
	e.srv.Deliver(t, user, customer(2, "Re: Root gone", 1))
	e.srv.Deliver(t, user, customer(3, "Stays", 0))
	st := openStore(t)
	a := e.account(t, "desk", user, "INBOX")
	syncOnce(t, st, a)

	c := e.srv.Login(t, user, nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	gone := imap.UIDSetNum(uidOf(t, e, user, "INBOX", "m1@customer.test"))
	if err := c.Store(gone, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.UIDExpunge(gone).Close(); err != nil {
		t.Fatal(err)
	}
	storeFlags(t, e, user, "INBOX", uidOf(t, e, user, "INBOX", "m3@customer.test"), imap.StoreFlagsAdd, store.KeywordClosed)
	syncOnce(t, st, a)

	tickets := ticketsBySubject(t, st)
	tk := tickets["Root gone"]
	if tk == nil || tk.Messages != 2 {
		t.Fatalf("the ticket whose root was expunged must stay with both messages: %+v", tk)
	}
	acct, err := st.EnsureAccount(context.Background(), a.Name, a.Address, a.Mailbox)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"m1@customer.test": true, "m2@customer.test": false, "m3@customer.test": false} {
		if got, err := st.Expunged(context.Background(), acct.ID, id); err != nil || got != want {
			t.Errorf("%s expunged = %v (%v), want %v", id, got, err, want)
		}
	}
	if tickets["Stays"].State != store.StateClosed {
		t.Errorf("keywords stopped syncing after an expunge: %+v", tickets["Stays"])
	}
	syncOnce(t, st, a) // nothing left to notice: no error, no change
	if n := len(ticketsBySubject(t, st)); n != 2 {
		t.Errorf("%d tickets after another sync, want 2", n)
	}
}

// TestSyncUIDValidityChange: the mailbox is deleted and recreated (new
// UIDVALIDITY) with the same mail plus one: no ticket is duplicated,
// numbers become the new root UIDs exactly as a fresh sync gives them, and
// no automated mail goes out again.
func TestSyncUIDValidityChange(t *testing.T) {
	e := newSyncEnv(t)
	const user, box = "support@desk.test", "Desk"
	e.srv.Doveadm(t, "mailbox", "create", "-u", user, box)
	e.srv.DeliverTo(t, user, box, customer(1, "First", 0))
	e.srv.DeliverTo(t, user, box, customer(2, "Second", 0))
	e.srv.DeliverTo(t, user, box, customer(3, "Re: First", 1))
	e.srv.DeliverTo(t, user, box, []byte("From: nobody@customer.test\r\nTo: support@desk.test\r\nSubject: No id\r\n\r\nno Message-ID here\r\n"))
	st := openStore(t)
	a := e.account(t, "desk", user, box)
	syncOnce(t, st, a)
	first := ticketsBySubject(t, st)
	storeFlags(t, e, user, box, uidOf(t, e, user, box, "m2@customer.test"), imap.StoreFlagsAdd, store.KeywordClosed)
	syncOnce(t, st, a)

	old := e.srv.Doveadm(t, "mailbox", "status", "-u", user, "uidvalidity", box)
	e.srv.Doveadm(t, "mailbox", "delete", "-u", user, box)
	e.srv.Doveadm(t, "mailbox", "create", "-u", user, box)
	if now := e.srv.Doveadm(t, "mailbox", "status", "-u", user, "uidvalidity", box); now == old {
		t.Fatalf("recreating the mailbox kept %s", now)
	}
	// Back in another order, the closed keyword with it, plus a new mail.
	e.srv.DeliverTo(t, user, box, customer(4, "Fourth", 0))
	e.srv.DeliverTo(t, user, box, customer(2, "Second", 0))
	e.srv.DeliverTo(t, user, box, []byte("From: nobody@customer.test\r\nTo: support@desk.test\r\nSubject: No id\r\n\r\nno Message-ID here\r\n"))
	e.srv.DeliverTo(t, user, box, customer(1, "First", 0))
	e.srv.DeliverTo(t, user, box, customer(3, "Re: First", 1))
	storeFlags(t, e, user, box, uidOf(t, e, user, box, "m2@customer.test"), imap.StoreFlagsAdd, store.KeywordClosed)
	syncOnce(t, st, a)

	got := ticketsBySubject(t, st)
	fresh := openStore(t)
	syncOnce(t, fresh, a)
	want := ticketsBySubject(t, fresh)
	if len(got) != 4 || len(want) != 4 {
		t.Fatalf("tickets after the change: %d (fresh sync: %d), want 4", len(got), len(want))
	}
	for subj, w := range want {
		g := got[subj]
		if g == nil || g.Number != w.Number || g.State != w.State || g.Messages != w.Messages {
			t.Errorf("%q: got %+v, a fresh sync gives %+v", subj, g, w)
		}
	}
	if got["First"].Number == first["First"].Number && got["Second"].Number == first["Second"].Number {
		t.Errorf("numbers did not follow the new UIDs: %d %d", got["First"].Number, got["Second"].Number)
	}
	if n := len(e.sink.Deliveries()); n != 0 {
		t.Errorf("%d automated mails after the UIDVALIDITY change, want none", n)
	}
}

// TestSyncClaimRace: two clients with their own stores sync the same
// Dovecot mailbox at the same moment; a new customer mail gets exactly one
// thank-you.
func TestSyncClaimRace(t *testing.T) {
	e := newSyncEnv(t)
	const user = "support@desk.test"
	e.srv.Deliver(t, user, customer(1, "Old", 0))
	a := e.account(t, "desk", user, "INBOX")
	stores := []*store.Store{openStore(t), openStore(t)}
	for _, st := range stores {
		syncOnce(t, st, a)
	}
	const rounds = 4
	for r := range rounds {
		e.srv.Deliver(t, user, customer(10+r, fmt.Sprintf("New %d", r), 0))
		var wg sync.WaitGroup
		errs := make([]error, len(stores))
		for i, st := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = mail.NewService(st, []*mail.Account{a}, nil, nil).SyncOnce(context.Background())
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	byRcpt := map[string]int{}
	for _, d := range e.sink.Deliveries() {
		for _, to := range d.To {
			byRcpt[to]++
		}
	}
	total := 0
	for _, n := range byRcpt {
		total += n
	}
	if total != rounds {
		t.Fatalf("%d thank-yous for %d new tickets (two clients): %v", total, rounds, byRcpt)
	}
}

// TestSyncLoginRefusedAndOthersKeepGoing: three accounts run at once: a
// wrong password stops with a clear status instead of retrying, a closed
// port retries with backoff, and the good one syncs and takes new mail by
// IDLE meanwhile.
func TestSyncLoginRefusedAndOthersKeepGoing(t *testing.T) {
	e := newSyncEnv(t)
	good := e.account(t, "good", "support@desk.test", "INBOX")
	bad := e.account(t, "bad", "agent@desk.test", "INBOX")
	bad.Password += "-wrong"
	down := e.account(t, "down", "bob@customer.test", "INBOX")
	down.IMAP = "imap://" + hangUp(t)
	e.srv.Deliver(t, "support@desk.test", customer(1, "Before", 0))

	rec := newRecorder()
	st := openStore(t)
	svc := mail.NewService(st, []*mail.Account{good, bad, down}, rec.notify, nil)
	svc.SetTiming(mail.Timing{FirstBackoff: 20 * time.Millisecond, MaxBackoff: 40 * time.Millisecond})
	runService(t, svc)

	rec.wait(t, 0, 20*time.Second, "stopped status for the wrong password", func(ev any) bool {
		s, ok := ev.(store.SyncStatus)
		return ok && s.Account == "bad" && s.Phase == store.PhaseStopped && strings.Contains(s.Err, "login refused")
	})
	next := rec.wait(t, 0, 20*time.Second, "idle good account", phase("good", store.PhaseIdle))
	e.srv.Deliver(t, "support@desk.test", customer(2, "During", 0))
	rec.wait(t, next, 20*time.Second, "new ticket by IDLE", func(ev any) bool {
		c, ok := ev.(store.TicketsChanged)
		return ok && c.Account == "good" && len(c.Numbers) == 1
	})
	// The closed port keeps being retried; the refused login never again.
	mark := 0
	for range 3 {
		mark = rec.wait(t, mark, 20*time.Second, "retry of the closed port", phase("down", store.PhaseOffline))
	}
	if connecting := countPhase(rec, "bad", store.PhaseConnecting); connecting != 1 {
		t.Errorf("the refused account connected %d times, want 1", connecting)
	}
	if n := len(ticketsBySubject(t, st)); n != 2 {
		t.Errorf("%d tickets, want 2", n)
	}
}

// TestSyncIdleRestartAndPoll: IDLE is restarted on its interval and still
// sees new mail; with IDLE off, NOOP polling does.
func TestSyncIdleRestartAndPoll(t *testing.T) {
	for _, tc := range []struct {
		name   string
		timing mail.Timing
	}{
		{"idle restart", mail.Timing{IdleRestart: 100 * time.Millisecond}},
		{"noop poll", mail.Timing{NoIdle: true, PollInterval: 100 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSyncEnv(t)
			a := e.account(t, "desk", "support@desk.test", "INBOX")
			rec := newRecorder()
			svc := mail.NewService(openStore(t), []*mail.Account{a}, rec.notify, nil)
			svc.SetTiming(tc.timing)
			runService(t, svc)
			next := 0
			for range 4 { // the wait ends on its timer, again and again
				next = rec.wait(t, next, 10*time.Second, "another wait", phase("desk", store.PhaseIdle))
			}
			e.srv.Deliver(t, "support@desk.test", customer(1, "Pushed", 0))
			rec.wait(t, next, 10*time.Second, "the new ticket", func(ev any) bool {
				c, ok := ev.(store.TicketsChanged)
				return ok && len(c.Numbers) == 1
			})
			if n := countPhase(rec, "desk", store.PhaseConnecting); n != 1 {
				t.Errorf("connected %d times; restarting IDLE must not reconnect", n)
			}
		})
	}
}

// TestSyncServerRestart: the server goes away and comes back; the worker
// reconnects with backoff and picks up mail delivered meanwhile.
func TestSyncServerRestart(t *testing.T) {
	e := newSyncEnv(t)
	a := e.account(t, "desk", "support@desk.test", "INBOX")
	rec := newRecorder()
	st := openStore(t)
	svc := mail.NewService(st, []*mail.Account{a}, rec.notify, nil)
	svc.SetTiming(mail.Timing{FirstBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	runService(t, svc)
	next := rec.wait(t, 0, 10*time.Second, "idle", phase("desk", store.PhaseIdle))
	e.srv.Restart(t)
	next = rec.wait(t, next, 20*time.Second, "offline after the restart", phase("desk", store.PhaseOffline))
	e.srv.Deliver(t, "support@desk.test", customer(1, "After restart", 0))
	rec.wait(t, next, 20*time.Second, "the mail delivered meanwhile", func(ev any) bool {
		c, ok := ev.(store.TicketsChanged)
		return ok && len(c.Numbers) == 1
	})
	if _, ok := ticketsBySubject(t, st)["After restart"]; !ok {
		t.Fatal("the mail delivered during the outage is not a ticket")
	}
}

// runService runs svc until the test ends.
func runService(t *testing.T, svc *mail.Service) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func countPhase(r *recorder, account string, p store.SyncPhase) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if phase(account, p)(ev) {
			n++
		}
	}
	return n
}

// hangUp listens on loopback and closes every connection at once: a server
// that is down. It stops at cleanup.
func hangUp(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// TestSyncSenderWithoutCondStore: on a server without CONDSTORE (the
// in-memory one) a client with sender = false never sends automated mail;
// a client left unset (alone) or with sender = true does.
func TestSyncSenderWithoutCondStore(t *testing.T) {
	no, yes := false, true
	for _, tc := range []struct {
		name   string
		sender *bool
		want   int
	}{{"unset", nil, 1}, {"sender", &yes, 1}, {"not sender", &no, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			sys, err := demo.NewSystem()
			if err != nil {
				t.Fatal(err)
			}
			defer sys.Close()
			sys.AddUser(deskAddr)
			a := &mail.Account{Name: "mem", Address: deskAddr, IMAP: "imap://" + sys.IMAPAddr, SMTP: "smtp://" + sys.SMTPAddr,
				User: deskAddr, Password: demo.Password, TLS: "none", Sender: tc.sender}
			if err := a.Validate(); err != nil {
				t.Fatal(err)
			}
			st := openStore(t)
			syncOnce(t, st, a) // the baseline: an empty mailbox
			if _, err := sys.Append(deskAddr, customer(1, "New", 0)); err != nil {
				t.Fatal(err)
			}
			syncOnce(t, st, a)
			if n := len(sys.Deliveries()); n != tc.want {
				t.Fatalf("%d thank-yous, want %d", n, tc.want)
			}
		})
	}
}
