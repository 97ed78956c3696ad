package store

import (
	"context"
	"testing"
	"time"
)

// TestJunkRootsLooked: a root that left the mailbox is listed to be looked
// for in Junk until NotInJunk records it, across a reopened store; it is
// listed again when its ticket's mark changes or when it comes back and
// leaves with another UID.
func TestJunkRootsLooked(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/desk.db"
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	acct := testAccount(t, st, "main", "support@example.com")
	now := time.Now()
	gone := addSetTicket(t, st, acct.ID, 1, "archived", now)
	addSetTicket(t, st, acct.ID, 2, "still here", now)
	leave := func(uid uint32) {
		t.Helper()
		if err := st.Update(ctx, func(tx *Tx) error { _, err := tx.MarkExpunged(acct.ID, []uint32{uid}); return err }); err != nil {
			t.Fatal(err)
		}
	}
	listed := func(want bool) {
		t.Helper()
		roots, err := st.JunkRoots(ctx, acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(roots) == 1 && roots[0].TicketID == gone && roots[0].Left; got != want || len(roots) > 1 {
			t.Fatalf("JunkRoots = %+v, want the root of ticket %d listed: %v", roots, gone, want)
		}
	}
	leave(1)
	listed(true)
	roots, _ := st.JunkRoots(ctx, acct.ID)
	if err := st.NotInJunk(ctx, roots); err != nil {
		t.Fatal(err)
	}
	listed(false)

	st.Close()
	if st, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	listed(false) // after a restart too

	if err := st.Update(ctx, func(tx *Tx) error { _, err := tx.ApplySpamMark(gone, SpamMarkHam); return err }); err != nil {
		t.Fatal(err)
	}
	listed(true) // the mark changed
	roots, _ = st.JunkRoots(ctx, acct.ID)
	if err := st.NotInJunk(ctx, roots); err != nil {
		t.Fatal(err)
	}
	listed(false)

	// The root comes back with UID 7 and leaves again.
	err = st.Update(ctx, func(tx *Tx) error {
		ok, err := tx.ClaimUID(acct.ID, "r1@x", 7)
		if err == nil && !ok {
			t.Error("the root did not come back")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	listed(false)
	leave(7)
	listed(true)
}
