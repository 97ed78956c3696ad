package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestBlockSender: blocking a ticket's requester (or its domain) marks the
// ticket spam, records an event, and IsBlocked then matches the address or
// anyone at the domain, in that account only.
func TestBlockSender(t *testing.T) {
	ctx := context.Background()
	st, err := Open(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acct, err := st.EnsureAccount(ctx, "a", "support@desk.test", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.EnsureAccount(ctx, "b", "help@desk.test", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	tk := &Ticket{Number: 1, Project: "p", Subject: "win", Requester: "Spammer@Casino.example", ReplyKey: "k1", RootMessageID: "r1", Created: time.Now()}
	if err := st.Update(ctx, func(tx *Tx) error { return tx.CreateTicket(acct.ID, tk) }); err != nil {
		t.Fatal(err)
	}
	blocked := func(accountID int64, addr string) bool {
		var b bool
		if err := st.Update(ctx, func(tx *Tx) error { b, err = tx.IsBlocked(accountID, addr); return err }); err != nil {
			t.Fatal(err)
		}
		return b
	}
	if got, err := st.BlockSender(ctx, tk.ID, false, "Ana"); err != nil || got != "spammer@casino.example" {
		t.Fatalf("block sender: %q %v", got, err)
	}
	if !blocked(acct.ID, "SPAMMER@casino.example") || blocked(acct.ID, "other@casino.example") || blocked(other.ID, "spammer@casino.example") {
		t.Fatal("the address block matches the wrong senders")
	}
	if got, err := st.BlockSender(ctx, tk.ID, true, "Ana"); err != nil || got != "casino.example" {
		t.Fatalf("block domain: %q %v", got, err)
	}
	if !blocked(acct.ID, "other@casino.example") || blocked(acct.ID, "x@casino.example.org") {
		t.Fatal("the domain block matches the wrong senders")
	}
	// Asked many times in one transaction (a sync batch), as an account
	// that blocks nobody is then answered without the store.
	err = st.Update(ctx, func(tx *Tx) error {
		for _, c := range []struct {
			account int64
			addr    string
			want    bool
		}{
			{other.ID, "spammer@casino.example", false}, {acct.ID, "x@casino.example", true},
			{other.ID, "x@casino.example", false}, {acct.ID, "ok@fine.example", false},
			{acct.ID, "spammer@casino.example", true}, {other.ID, "ok@fine.example", false},
		} {
			b, err := tx.IsBlocked(c.account, c.addr)
			if err != nil {
				return err
			}
			if b != c.want {
				t.Errorf("account %d, %s: blocked %v, want %v", c.account, c.addr, b, c.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Ticket(ctx, tk.ID)
	if err != nil || !got.Spam {
		t.Fatalf("blocked ticket not spam: %+v %v", got, err)
	}
	ev, _ := st.Events(ctx, tk.ID)
	if len(ev) == 0 || ev[0].What != "blocked spammer@casino.example: its mail is spam from now on" || ev[0].Actor != "Ana" {
		t.Fatalf("events %+v", ev)
	}
}
