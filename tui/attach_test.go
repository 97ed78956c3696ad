package tui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"desk/store"
)

// TestSaveAttachment: S asks which attachment (numbered through the
// thread) and where; the save runs through Options.SaveAttachment with the
// message's account, UID and part index, and its result is shown. A message
// not yet in the mailbox cannot be saved from, and without the option the
// key says it is not available.
func TestSaveAttachment(t *testing.T) {
	f := newFixture(t)
	f.addMessage(t, 101, &store.Message{MessageID: "logs@example.com", From: "alice@example.com",
		Date: testNow, Kind: store.KindCustomer, Body: "logs",
		Attachments: []store.Attachment{{Filename: "server.log", ContentType: "text/plain", Size: 10}}})
	type call struct {
		account string
		uid     uint32
		index   int
		dir     string
	}
	var calls []call
	save := func(_ context.Context, account string, uid uint32, index int, dir string) (string, error) {
		calls = append(calls, call{account, uid, index, dir})
		return dir + "/server.log", nil
	}
	h := newHarnessOpts(t, f, 120, 40, Options{Author: "Dana", Title: "desk — test", SaveAttachment: save})
	h.selectNumber(101)
	h.press(keyEnter)
	if !strings.Contains(h.screen(), "attached 2: server.log") {
		t.Fatalf("attachments are not numbered through the thread:\n%s", h.screen())
	}
	h.press(keyOf('S'))
	h.typeText("2 /srv/out")
	h.send(tea.KeyPressMsg{Code: tea.KeyEnter})
	if len(calls) != 0 || !strings.Contains(h.screen(), "not in the mailbox yet") {
		t.Fatalf("saved from a message without a UID: %v\n%s", calls, h.screen())
	}
	h.send(tea.KeyPressMsg{Code: tea.KeyEscape})
	shot := f.messages(t, 101)[len(f.messages(t, 101))-2] // the customer mail with screenshot.png
	h.press(keyOf('S'))
	h.typeText("1 /srv/out")
	h.send(tea.KeyPressMsg{Code: tea.KeyEnter})
	if shot.UID == 0 || len(calls) != 1 || calls[0] != (call{f.account.Name, shot.UID, 0, "/srv/out"}) {
		t.Fatalf("save calls %+v, want UID %d index 0", calls, shot.UID)
	}
	if !strings.Contains(h.screen(), "saved /srv/out/server.log") {
		t.Fatalf("no confirmation:\n%s", h.screen())
	}

	plain := newHarness(t, f, 120, 40)
	plain.selectNumber(101)
	plain.press(keyEnter)
	plain.press(keyOf('S'))
	if !strings.Contains(plain.screen(), "not available here") {
		t.Fatalf("S without SaveAttachment:\n%s", plain.screen())
	}
}

// TestBlockCommand: ":block domain" blocks the selected ticket's requester
// domain, marks the ticket spam and says so; a wrong argument is refused
// where it was typed.
func TestBlockCommand(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 120, 30)
	h.selectNumber(101)
	h.press(keyOf(':'))
	h.typeText("block everyone")
	h.send(tea.KeyPressMsg{Code: tea.KeyEnter})
	if !strings.Contains(h.screen(), "block domain") || f.ticket(t, 101).Spam {
		t.Fatalf("a bad block argument was not refused:\n%s", h.screen())
	}
	h.send(tea.KeyPressMsg{Code: tea.KeyEscape})
	h.press(keyOf(':'))
	h.typeText("block domain")
	h.send(tea.KeyPressMsg{Code: tea.KeyEnter})
	if !f.ticket(t, 101).Spam {
		t.Fatal("the ticket of a blocked sender is not spam")
	}
	if !strings.Contains(h.screen(), "blocked example.com") {
		t.Fatalf("no confirmation:\n%s", h.screen())
	}
}
