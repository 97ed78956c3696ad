package mail_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"

	"desk/mail"
	"desk/store"
)

// flagsIn returns the flags of the message with this Message-ID in
// mailbox, and whether it is there.
func flagsIn(t *testing.T, e *syncEnv, user, mailbox, msgID string) ([]string, bool) {
	t.Helper()
	c := e.srv.Login(t, user, nil)
	defer c.Close()
	if _, err := c.Select(mailbox, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	found, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: msgID}}}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	uids := found.AllUIDs()
	if len(uids) == 0 {
		return nil, false
	}
	if len(uids) > 1 {
		t.Fatalf("%d copies of %s in %s", len(uids), msgID, mailbox)
	}
	bufs, err := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil || len(bufs) != 1 {
		t.Fatalf("fetch flags of %s: %v", msgID, err)
	}
	var flags []string
	for _, f := range bufs[0].Flags {
		flags = append(flags, string(f))
	}
	return flags, true
}

// expunge deletes the message with this Message-ID from mailbox, as a
// mail client would.
func expunge(t *testing.T, e *syncEnv, user, mailbox, msgID string) {
	t.Helper()
	uid := uidOf(t, e, user, mailbox, msgID)
	c := e.srv.Login(t, user, nil)
	defer c.Close()
	if _, err := c.Select(mailbox, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.UIDExpunge(imap.UIDSetNum(uid)).Close(); err != nil {
		t.Fatal(err)
	}
}

// twoJunkDesks is two desks on user's INBOX with junk = "auto", each with
// a store of its own, both synced once.
func twoJunkDesks(t *testing.T, e *syncEnv, user string) (stA *store.Store, a *mail.Account, stB *store.Store, b *mail.Account) {
	t.Helper()
	stA, stB = openStore(t), openStore(t)
	a, b = e.account(t, "desk", user, "INBOX"), e.account(t, "desk", user, "INBOX")
	a.Spam.Junk, b.Spam.Junk = mail.JunkAuto, mail.JunkAuto
	syncOnce(t, stA, a)
	syncOnce(t, stB, b)
	return stA, a, stB, b
}

// TestJunkMoveAndTeammate: with junk = "auto", marking spam moves the root
// to the mailbox Dovecot marks \Junk after $Desk-Spam is on it; a teammate
// who never saw the keyword finds the root in Junk and marks the ticket
// spam, while a root deleted outright stays an ordinary open ticket;
// marking not spam moves the root back, where both clients take it as the
// same ticket's root again, not spam.
func TestJunkMoveAndTeammate(t *testing.T) {
	e := newSyncEnv(t)
	const user = "support@desk.test"
	for i := 1; i <= 3; i++ {
		e.srv.Deliver(t, user, customer(i, []string{"", "Cheap pills", "Printer fire", "Invoice"}[i], 0))
	}
	ctx := context.Background()
	stA, a, stB, b := twoJunkDesks(t, e, user)
	before := ticketsBySubject(t, stA)
	pills := before["Cheap pills"]
	if pills == nil || pills.Spam {
		t.Fatalf("first sync: %+v", before)
	}

	if err := stA.SetSpam(ctx, pills.ID, true); err != nil {
		t.Fatal(err)
	}
	syncOnce(t, stA, a)
	if _, ok := flagsIn(t, e, user, "INBOX", "m1@customer.test"); ok {
		t.Fatal("the root marked spam is still in INBOX")
	}
	flags, ok := flagsIn(t, e, user, "Junk", "m1@customer.test")
	if !ok || !slices.Contains(flags, store.KeywordSpam) {
		t.Fatalf("in Junk: %v %v, want the root with %s", ok, flags, store.KeywordSpam)
	}
	expunge(t, e, user, "INBOX", "m2@customer.test") // a teammate deletes a real ticket's mail

	syncOnce(t, stB, b) // B never saw $Desk-Spam in INBOX
	afterB := ticketsBySubject(t, stB)
	if !afterB["Cheap pills"].Spam {
		t.Error("teammate: the ticket whose root went to Junk is not spam")
	}
	if tk := afterB["Printer fire"]; tk.Spam || tk.State != store.StateOpen {
		t.Errorf("teammate: the ticket whose root was deleted: spam %v state %s, want an open ticket", tk.Spam, tk.State)
	}
	if afterB["Invoice"].Spam {
		t.Error("teammate: an untouched ticket became spam")
	}
	syncOnce(t, stA, a)
	if ticketsBySubject(t, stA)["Printer fire"].Spam {
		t.Error("the ticket whose root was deleted became spam")
	}

	// Not spam after all: the root comes back from Junk.
	if err := stA.SetSpam(ctx, pills.ID, false); err != nil {
		t.Fatal(err)
	}
	syncOnce(t, stA, a)
	if _, ok := flagsIn(t, e, user, "Junk", "m1@customer.test"); ok {
		t.Fatal("the root marked not spam is still in Junk")
	}
	flags, ok = flagsIn(t, e, user, "INBOX", "m1@customer.test")
	if !ok || !slices.Contains(flags, store.KeywordHam) || slices.Contains(flags, store.KeywordSpam) {
		t.Fatalf("back in INBOX: %v %v, want the root with %s and without %s", ok, flags, store.KeywordHam, store.KeywordSpam)
	}
	for _, c := range []struct {
		name string
		st   *store.Store
		a    *mail.Account
	}{{"A", stA, a}, {"B", stB, b}} {
		syncOnce(t, c.st, c.a)
		syncOnce(t, c.st, c.a) // a second pass moves nothing again
		after := ticketsBySubject(t, c.st)
		tk := after["Cheap pills"]
		if len(after) != 3 || tk.Number != pills.Number || tk.Spam {
			t.Errorf("%s after the move back: %d tickets, #%d spam %v; want 3, #%d not spam", c.name, len(after), tk.Number, tk.Spam, pills.Number)
		}
		uid, err := c.st.RootUID(ctx, tk.ID)
		if err != nil || uid == 0 {
			t.Errorf("%s: the root that came back is not the ticket's root again (UID %d, %v)", c.name, uid, err)
		}
	}
	if _, ok := flagsIn(t, e, user, "INBOX", "m1@customer.test"); !ok {
		t.Error("the root left INBOX again")
	}
}

// TestJunkOffByDefault: without the setting a root marked spam stays in the
// desk mailbox with its keyword.
func TestJunkOffByDefault(t *testing.T) {
	e := newSyncEnv(t)
	const user = "support@desk.test"
	e.srv.Deliver(t, user, customer(1, "Cheap pills", 0))
	st := openStore(t)
	a := e.account(t, "desk", user, "INBOX")
	syncOnce(t, st, a)
	if err := st.SetSpam(context.Background(), ticketsBySubject(t, st)["Cheap pills"].ID, true); err != nil {
		t.Fatal(err)
	}
	syncOnce(t, st, a)
	flags, ok := flagsIn(t, e, user, "INBOX", "m1@customer.test")
	if !ok || !slices.Contains(flags, store.KeywordSpam) {
		t.Errorf("in INBOX: %v %v, want the root with %s", ok, flags, store.KeywordSpam)
	}
}

// TestJunkManyRootsLeft: when more roots leave the mailbox than one search
// of Junk looks for, a teammate still finds the one root moved to Junk
// among the deleted ones, and records the others as not there, so that a
// restarted client (every syncOnce is one) does not look for them again.
func TestJunkManyRootsLeft(t *testing.T) {
	e := newSyncEnv(t)
	const user = "support@desk.test"
	const n, moved = 57, 53 // more than a search batch; the moved one in the second
	for i := 1; i <= n; i++ {
		e.srv.Deliver(t, user, customer(i, fmt.Sprintf("Ticket %d", i), 0))
	}
	ctx := context.Background()
	stA, a, stB, b := twoJunkDesks(t, e, user)
	if err := stA.SetSpam(ctx, ticketsBySubject(t, stA)[fmt.Sprintf("Ticket %d", moved)].ID, true); err != nil {
		t.Fatal(err)
	}
	syncOnce(t, stA, a)
	if _, ok := flagsIn(t, e, user, "Junk", fmt.Sprintf("m%d@customer.test", moved)); !ok {
		t.Fatal("the root marked spam is not in Junk")
	}
	c := e.srv.Login(t, user, nil) // the rest is archived or deleted
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	all := imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}
	if err := c.Store(all, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
	c.Close()

	syncOnce(t, stB, b)
	tickets := ticketsBySubject(t, stB)
	for i := 1; i <= n; i++ {
		if tk := tickets[fmt.Sprintf("Ticket %d", i)]; tk == nil || tk.Spam != (i == moved) {
			t.Errorf("teammate: ticket %d: %+v, want spam %v", i, tk, i == moved)
		}
	}
	acctB, err := stB.EnsureAccount(ctx, b.Name, b.Address, b.Mailbox)
	if err != nil {
		t.Fatal(err)
	}
	if roots, err := stB.JunkRoots(ctx, acctB.ID); err != nil || len(roots) != 0 {
		t.Errorf("after the search, %d roots are still to be looked for in Junk (%v), want none", len(roots), err)
	}
}
