package store

import (
	"context"
	"testing"
	"time"
)

// TestNewSince: while Ana writes, a teammate's reply and the customer's
// mail show as new; Ana's own reply and older mail do not.
func TestNewSince(t *testing.T) {
	ctx := context.Background()
	st := testStore(t)
	acct := testAccount(t, st, "work", "support@example.com")
	tk := addTicket(t, st, acct, 1, "Refund", "alice@customer.test", "please refund")
	opened := time.Now()
	if got, err := st.NewSince(ctx, tk.ID, opened, "Ana"); err != nil || len(got) != 0 {
		t.Fatalf("before anything: %v, %v", got, err)
	}
	if _, err := st.QueueReply(ctx, tk.ID, KindReply, "Ana", "mine"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.QueueReply(ctx, tk.ID, KindReply, "Bo", "refunded"); err != nil {
		t.Fatal(err)
	}
	err := st.Update(ctx, func(tx *Tx) error {
		return tx.AddMessage(acct.ID, &Message{TicketID: tk.ID, UID: 7, MessageID: "late@customer.test",
			From: "alice@customer.test", Date: time.Now().Add(time.Second), Kind: KindCustomer, Body: "thanks"})
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.NewSince(ctx, tk.ID, opened, "Ana")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].FromName != "Bo" || got[1].MessageID != "late@customer.test" {
		t.Fatalf("new since opening: %+v", got)
	}
	if got, _ := st.NewSince(ctx, tk.ID, time.Now().Add(time.Hour), "Ana"); len(got) != 0 {
		t.Fatalf("nothing is newer than the future: %+v", got)
	}
}
