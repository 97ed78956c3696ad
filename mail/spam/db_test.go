package spam

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"desk/store"
)

// testStore is a store with one account and a ticket per message given,
// each with one customer message.
func testStore(t *testing.T, bodies ...string) (*store.Store, []int64) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "desk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acct, err := st.EnsureAccount(ctx, "test", "support@desk.test", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	err = st.Update(ctx, func(tx *store.Tx) error {
		for i, body := range bodies {
			now := time.Now()
			tk := &store.Ticket{Number: int64(i + 1), Project: "general", Subject: "ticket", Requester: "c@customer.test",
				ReplyKey: fmt.Sprintf("key%d", i), RootMessageID: fmt.Sprintf("m%d@customer.test", i), Created: now}
			if err := tx.CreateTicket(acct.ID, tk); err != nil {
				return err
			}
			m := &store.Message{TicketID: tk.ID, UID: uint32(i + 1), MessageID: tk.RootMessageID, From: "c@customer.test",
				Subject: "ticket", Date: now, Kind: store.KindCustomer, Body: body}
			if err := tx.AddMessage(acct.ID, m); err != nil {
				return err
			}
			ids = append(ids, tk.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return st, ids
}

// rawDB opens the store's file directly, to damage it as a crash or a
// stray tool would.
func rawDB(t *testing.T, st *store.Store) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", st.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestTrainAndLoad(t *testing.T) {
	ctx := context.Background()
	st, _ := testStore(t)
	f := New()
	if err := f.TrainTokens(ctx, st, synthetic(false, 30), synthetic(true, 20)); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveThreshold(ctx, st, 0.97); err != nil {
		t.Fatal(err)
	}
	g, err := Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if h, s := g.Counts(); h != 30 || s != 20 {
		t.Errorf("loaded %d ham, %d spam, want 30 and 20", h, s)
	}
	if g.Threshold() != 0.97 {
		t.Errorf("threshold %v, want 0.97", g.Threshold())
	}
	toks := []string{"casino", "bonus", "invoice"}
	if f.Score(toks) != g.Score(toks) {
		t.Errorf("loaded filter scores %v, trained one %v", g.Score(toks), f.Score(toks))
	}
	// Another process trains: Refresh sees it.
	if err := New().TrainTokens(ctx, st, nil, synthetic(true, 5)); err != nil {
		t.Fatal(err)
	}
	if err := g.Refresh(ctx, st); err != nil {
		t.Fatal(err)
	}
	if _, s := g.Counts(); s != 25 {
		t.Errorf("after refresh %d spam, want 25", s)
	}
}

func TestMarksTrain(t *testing.T) {
	ctx := context.Background()
	st, ids := testStore(t, "cheap casino bonus jackpot", "my invoice is wrong")
	f := New()
	if err := st.SetSpam(ctx, ids[0], true); err != nil {
		t.Fatal(err)
	}
	if err := st.SetSpam(ctx, ids[1], false); err != nil {
		t.Fatal(err)
	}
	n, err := f.TrainMarked(ctx, st)
	if err != nil || n != 2 {
		t.Fatalf("trained %d (%v), want 2", n, err)
	}
	if f.tokens["casino"].Spam != 1 || f.tokens["invoice"].Ham != 1 {
		t.Errorf("counts casino %+v invoice %+v", f.tokens["casino"], f.tokens["invoice"])
	}
	if n, _ := f.TrainMarked(ctx, st); n != 0 {
		t.Errorf("trained %d again, want 0", n)
	}
	// Staff change their mind: the message moves class.
	if err := st.SetSpam(ctx, ids[1], true); err != nil {
		t.Fatal(err)
	}
	if n, err := f.TrainMarked(ctx, st); err != nil || n != 1 {
		t.Fatalf("retrained %d (%v), want 1", n, err)
	}
	if h, s := f.Counts(); h != 0 || s != 2 || f.tokens["invoice"] != (store.SpamCount{Spam: 1}) {
		t.Errorf("after re-mark: %d ham, %d spam, invoice %+v", h, s, f.tokens["invoice"])
	}
	// The store agrees with memory.
	g, err := Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if h, s := g.Counts(); h != 0 || s != 2 || g.tokens["invoice"] != f.tokens["invoice"] {
		t.Errorf("stored: %d ham, %d spam, invoice %+v", h, s, g.tokens["invoice"])
	}
}

func TestCorruptFilterIsRebuiltFromMarks(t *testing.T) {
	damage := map[string]string{
		"count above messages": `UPDATE spam_tokens SET spam = spam + 1000 WHERE token = 'casino'`,
		"negative count":       `UPDATE spam_tokens SET ham = -3 WHERE token = 'casino'`,
		"lost rows":            `DELETE FROM spam_tokens WHERE token = 'casino'`,
		"checksum":             `UPDATE spam_meta SET checksum = checksum + 1`,
		"message count":        `UPDATE spam_meta SET spam_messages = -1`,
	}
	for name, q := range damage {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st, ids := testStore(t, "cheap casino bonus jackpot", "my invoice is wrong", "free casino spins")
			for i, spam := range []bool{true, false, true} {
				if err := st.SetSpam(ctx, ids[i], spam); err != nil {
					t.Fatal(err)
				}
			}
			f := New()
			if _, err := f.TrainMarked(ctx, st); err != nil {
				t.Fatal(err)
			}
			// Seed training from folders comes on top (and is lost by a rebuild).
			if err := f.TrainTokens(ctx, st, synthetic(false, 10), synthetic(true, 10)); err != nil {
				t.Fatal(err)
			}
			if _, err := rawDB(t, st).Exec(q); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(ctx, st); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Load of a damaged filter: %v, want ErrCorrupt", err)
			}
			var reported []error
			g, err := Open(ctx, st, func(err error) { reported = append(reported, err) })
			if err != nil {
				t.Fatal(err)
			}
			if len(reported) != 1 || !strings.Contains(reported[0].Error(), "corrupt") {
				t.Errorf("reported %v, want one corruption", reported)
			}
			if h, s := g.Counts(); h != 1 || s != 2 {
				t.Errorf("rebuilt with %d ham, %d spam, want the 1 and 2 marked", h, s)
			}
			if g.tokens["casino"] != (store.SpamCount{Spam: 2}) || g.tokens["invoice"] != (store.SpamCount{Ham: 1}) {
				t.Errorf("rebuilt counts casino %+v invoice %+v", g.tokens["casino"], g.tokens["invoice"])
			}
			if _, err := Load(ctx, st); err != nil {
				t.Errorf("Load after the rebuild: %v", err)
			}
		})
	}
}
