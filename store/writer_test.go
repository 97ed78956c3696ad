package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Writes from many goroutines queue for the one writing connection; a
// write whose context is done gives it back unharmed; after Close a write
// fails at once.
func TestWritesShareOneConnection(t *testing.T) {
	st := testStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for g := range 4 {
		wg.Go(func() {
			for i := range 10 {
				_, err := st.EnsureAccount(ctx, fmt.Sprintf("a%d-%d", g, i), "support@desk.test", "INBOX")
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := st.db.QueryRow(`SELECT count(*) FROM accounts`).Scan(&n); err != nil || n != 40 {
		t.Fatalf("%d accounts (%v), want 40", n, err)
	}

	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := st.Update(done, func(tx *Tx) error { return nil }); err == nil {
		t.Fatal("a write with a cancelled context succeeded")
	}
	if _, err := st.EnsureAccount(ctx, "after-cancel", "support@desk.test", "INBOX"); err != nil {
		t.Fatalf("write after a cancelled one: %v", err)
	}

	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := st.Update(ctx, func(tx *Tx) error { return nil }); err == nil {
		t.Fatal("a write after Close succeeded")
	}
	if waited := time.Since(start); waited > time.Second {
		t.Fatalf("a write after Close waited %v", waited)
	}
}

// Settle copies the WAL into the database file at once, where the
// checkpointer would otherwise wait out its interval (here an hour) after
// the copy that followed the migrations.
func TestSettleCopiesTheWALNow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "desk.db")
	st, err := open(path, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// The migrations' commit is copied at once: the checkpointer starts
	// with it due, then waits its hour.
	waitInFile(t, path, "SELECT count(*) FROM accounts", 0)
	if _, err := st.EnsureAccount(context.Background(), "desk", "support@desk.test", "INBOX"); err != nil {
		t.Fatal(err)
	}
	st.Settle()
	waitInFile(t, path, "SELECT count(*) FROM accounts WHERE name = 'desk'", 1)
}

// waitInFile waits (up to ten seconds) until query, run on a copy of the
// database file without its WAL (so on what checkpoints have copied into
// it), returns want.
func waitInFile(t *testing.T, path, query string, want int) {
	t.Helper()
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	var got int
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got, err = countInCopy(path, copyPath, query); err == nil && got == want {
			return
		}
	}
	t.Fatalf("the database file alone gives %d for %q (%v), want %d: the WAL was not copied", got, query, err, want)
}

// countInCopy copies the database file at path (not its WAL) to copyPath
// and runs query, which counts, on the copy.
func countInCopy(path, copyPath, query string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, f := range []string{copyPath, copyPath + "-wal", copyPath + "-shm"} {
		_ = os.Remove(f)
	}
	if err := os.WriteFile(copyPath, data, 0o600); err != nil {
		return 0, err
	}
	db, err := sql.Open("sqlite", "file:"+copyPath)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRow(query).Scan(&n)
	return n, err
}

// Arrival tells a stored UID, a message that may take the UID, and a copy
// of a ticket's root apart from new mail, as a UID lookup, ClaimUID and the
// ticket of a reply key do; OpenTicket leaves the ticket as CreateTicket
// and AddMessage did.
func TestArrivalAndOpenTicket(t *testing.T) {
	st := testStore(t)
	acct := testAccount(t, st, "desk", "support@desk.test")
	tk := addTicket(t, st, acct, 7, "Refund", "alice@customer.test", "please")
	at := time.Date(2025, 3, 2, 9, 0, 0, 0, time.UTC)
	err := st.Update(context.Background(), func(tx *Tx) error {
		reply := &Message{TicketID: tk.ID, MessageID: "reply@desk.test", Date: at, Kind: KindReply}
		if err := tx.AddMessage(acct.ID, reply); err != nil {
			return err
		}
		for _, c := range []struct {
			uid             uint32
			msgID, replyKey string
			want            Arrival
		}{
			{7, "other@x", "", Arrival{Stored: true}},
			{8, "reply@desk.test", "", Arrival{Claimable: reply.ID}},
			{8, "", "", Arrival{}},
			{9, "copy@x", tk.ReplyKey, Arrival{RootCopyOf: 7}},
			{9, "new@x", "no-such-key", Arrival{}},
		} {
			got, err := tx.Arrival(acct.ID, c.uid, c.msgID, c.replyKey)
			if err != nil || got != c.want {
				t.Errorf("Arrival(%d, %q, %q) = %+v, %v; want %+v", c.uid, c.msgID, c.replyKey, got, err, c.want)
			}
		}
		if err := tx.GiveUID(reply.ID, 8); err != nil {
			return err
		}
		if got, err := tx.Arrival(acct.ID, 8, "reply@desk.test", ""); err != nil || got != (Arrival{Stored: true}) {
			t.Errorf("after GiveUID: %+v, %v", got, err)
		}

		fresh := &Ticket{Number: 20, Project: "billing", Subject: "New", Requester: "bob@customer.test",
			ReplyKey: "key-20", RootMessageID: "root-20@x", Created: at}
		late := &Ticket{Number: 21, Project: "billing", Subject: "Late", Requester: "bob@customer.test",
			ReplyKey: "key-21", RootMessageID: "root-21@x", Created: at}
		if err := tx.OpenTicket(acct.ID, fresh, &Message{UID: 20, MessageID: fresh.RootMessageID, Date: at, Kind: KindCustomer}); err != nil {
			return err
		}
		// A root dated after the ticket's creation moves its updated time.
		return tx.OpenTicket(acct.ID, late, &Message{UID: 21, MessageID: late.RootMessageID, Date: at.Add(time.Hour), Kind: KindCustomer})
	})
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int64]time.Time{20: at, 21: at.Add(time.Hour)} {
		var updated string
		var unread, msgs int
		if err := st.db.QueryRow(`SELECT updated, unread, (SELECT count(*) FROM messages m WHERE m.ticket_id = t.id)
			FROM tickets t WHERE number = ?`, n).Scan(&updated, &unread, &msgs); err != nil {
			t.Fatal(err)
		}
		if updated != formatTime(want) || unread != 1 || msgs != 1 {
			t.Errorf("#%d: updated %s unread %d messages %d; want %s, 1, 1", n, updated, unread, msgs, formatTime(want))
		}
	}
}
