package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParticipantsAndFiles(t *testing.T) {
	st := testStore(t)
	acct := testAccount(t, st, "work", "support@desk.test")
	tk := addTicket(t, st, acct, 3, "Hello", "alice@customer.test", "hi")
	ctx := context.Background()
	if err := st.AddParticipant(ctx, tk.ID, "Bob@Customer.test", "Ana"); err != nil {
		t.Fatal(err)
	}
	if err := st.AddParticipant(ctx, tk.ID, "bob@customer.test", "Ana"); err != nil {
		t.Fatal(err) // already there: no error, no second event
	}
	ps, err := st.Participants(ctx, tk.ID)
	if err != nil || len(ps) != 1 || ps[0].Addr != "bob@customer.test" {
		t.Fatalf("participants %+v, %v", ps, err)
	}
	if err := st.RemoveParticipant(ctx, tk.ID, "carol@customer.test", "Ana"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing a stranger: %v", err)
	}
	if err := st.AddParticipant(ctx, tk.ID, "dan@customer.test", "Ana"); err != nil {
		t.Fatal(err)
	}
	if err := st.RemoveParticipant(ctx, tk.ID, "Dan@customer.test", "Ana"); err != nil {
		t.Fatal(err)
	}
	ev, _ := st.Events(ctx, tk.ID)
	if len(ev) != 3 || ev[0].What != "added participant bob@customer.test" || ev[2].What != "removed participant dan@customer.test" {
		t.Fatalf("events %+v", ev)
	}

	// Attachments ride with the outbox item; a note cannot have any.
	file := filepath.Join(t.TempDir(), "log.txt")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.QueueReplyFiles(ctx, tk.ID, KindNote, "Ana", "note", []string{file}); err == nil {
		t.Fatal("a note took an attachment")
	}
	m, err := st.QueueReplyFiles(ctx, tk.ID, KindReply, "Ana", "see attached", []string{file})
	if err != nil {
		t.Fatal(err)
	}
	due, err := st.DueOutbox(ctx, acct.ID, m.Date.Add(1))
	if err != nil {
		t.Fatal(err)
	}
	var notices, replies []*OutboxItem
	for _, o := range due {
		switch {
		case o.MessageID == m.MessageID:
			replies = append(replies, o)
		case o.Notice == NoticeNewParticipant:
			notices = append(notices, o)
		}
	}
	if len(replies) != 1 || strings.Join(replies[0].Files, ",") != file {
		t.Fatalf("due replies %+v", replies)
	}
	// Adding bob queued one new_participant notice, to bob only; dan's
	// went with dan.
	if len(notices) != 1 || strings.Join(notices[0].Rcpt, ",") != "bob@customer.test" {
		t.Fatalf("due notices %+v", notices)
	}
}
