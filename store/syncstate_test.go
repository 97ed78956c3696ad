package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestExpungeAndRenumber: expunged messages leave LiveUIDs and RootUIDs but
// stay in their ticket; after a UIDVALIDITY reset tickets take their
// root's new UID, and a ticket whose root never came back gets its old
// number again only where it is free.
func TestExpungeAndRenumber(t *testing.T) {
	st := testStore(t)
	ctx := context.Background()
	a, err := st.EnsureAccount(ctx, "main", "support@example.com", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	// Tickets #1, #2 and #5, each a root message with its UID; #1 has a reply (UID 3).
	ids := map[int64]int64{}
	err = st.Update(ctx, func(tx *Tx) error {
		for _, n := range []int64{1, 2, 5} {
			tk := &Ticket{Number: n, Project: "p", Subject: "s", Requester: "c@x.test", ReplyKey: "k" + string(rune('0'+n)),
				RootMessageID: "root" + string(rune('0'+n)), Created: time.Now()}
			if err := tx.CreateTicket(a.ID, tk); err != nil {
				return err
			}
			ids[n] = tk.ID
			if err := tx.AddMessage(a.ID, &Message{TicketID: tk.ID, UID: uint32(n), MessageID: tk.RootMessageID, Date: time.Now(), Kind: KindCustomer}); err != nil {
				return err
			}
		}
		return tx.AddMessage(a.ID, &Message{TicketID: ids[1], UID: 3, MessageID: "reply1", Date: time.Now(), Kind: KindCustomer})
	})
	if err != nil {
		t.Fatal(err)
	}

	var touched []int64
	if err := st.Update(ctx, func(tx *Tx) error {
		touched, err = tx.MarkExpunged(a.ID, []uint32{1, 4}) // 4 was never stored
		return err
	}); err != nil || !slices.Equal(touched, []int64{1}) {
		t.Fatalf("MarkExpunged: %v %v", touched, err)
	}
	live, err := st.LiveUIDs(ctx, a.ID)
	if err != nil || !slices.Equal(live, []uint32{2, 3, 5}) {
		t.Fatalf("LiveUIDs after expunging 1: %v %v", live, err)
	}
	roots, err := st.RootUIDs(ctx, a.ID)
	if err != nil || len(roots) != 2 || roots[1] != 0 {
		t.Fatalf("RootUIDs must skip the expunged root: %v %v", roots, err)
	}
	if uid, err := st.RootUID(ctx, ids[1]); err != nil || uid != 0 {
		t.Fatalf("RootUID of a ticket whose root was expunged: %d %v", uid, err)
	}
	if uid, err := st.RootUID(ctx, ids[5]); err != nil || uid != 5 {
		t.Fatalf("RootUID(#5) = %d %v", uid, err)
	}
	if gone, err := st.Expunged(ctx, a.ID, "root1"); err != nil || !gone {
		t.Fatalf("Expunged(root1) = %v %v", gone, err)
	}
	if msgs, err := st.Messages(ctx, ids[1]); err != nil || len(msgs) != 2 {
		t.Fatalf("the ticket must keep both messages: %d %v", len(msgs), err)
	}

	// UIDVALIDITY changes: root2 comes back as UID 1, root5 as UID 2, the
	// reply and root1 never.
	err = st.Update(ctx, func(tx *Tx) error {
		if err := tx.ResetUIDValidity(a.ID); err != nil {
			return err
		}
		for uid, id := range map[uint32]string{1: "root2", 2: "root5"} {
			if ok, err := tx.ClaimUID(a.ID, id, uid); err != nil || !ok {
				t.Errorf("ClaimUID %s: %v %v", id, ok, err)
			}
		}
		if err := tx.RenumberFromRoots(a.ID); err != nil {
			return err
		}
		left, err := tx.RestoreUnrooted(a.ID)
		if left != 1 {
			t.Errorf("%d tickets left without a number, want 1 (#1 is taken by root2)", left)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]int64{ids[2]: 1, ids[5]: 2, ids[1]: -1}
	for id, n := range want {
		tk, err := st.Ticket(ctx, id)
		if err != nil || tk.Number != n {
			t.Errorf("ticket %d: number %v (%v), want %d", id, tk, err, n)
		}
	}
}
