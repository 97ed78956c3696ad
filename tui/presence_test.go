package tui

import (
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// fakePresence is another session on ticket 101, writing a reply.
type fakePresence struct{ focused []int64 }

func (p *fakePresence) Focus(_ string, number int64, _ bool) { p.focused = append(p.focused, number) }

func (p *fakePresence) Others(_ string, number int64) []string {
	if number == 101 {
		return []string{"Bo replying", "\x1b[31mEve\x1b[0m viewing"}
	}
	return nil
}

// TestPresenceOnListAndThread: who else is on a ticket shows on its list
// row and in its thread header (sanitized), and opening a ticket reports
// this session's focus.
func TestPresenceOnListAndThread(t *testing.T) {
	f := newFixture(t)
	p := &fakePresence{}
	h := newHarnessOpts(t, f, 120, 30, Options{Author: "Dana", Title: "desk — test", Presence: p})
	scr := h.screen()
	var row string
	for _, line := range strings.Split(scr, "\n") {
		if strings.Contains(line, "#101") {
			row = line
		}
	}
	if !strings.Contains(row, "[Bo replying, Eve viewing] Cannot log in") {
		t.Fatalf("list row of #101 shows no presence: %q", row)
	}
	if strings.Contains(scr, "\x1b[31m") {
		t.Fatal("presence text reached the screen unsanitized")
	}
	for _, line := range strings.Split(scr, "\n") {
		if strings.Contains(line, "#102") && strings.Contains(line, "Bo replying") {
			t.Fatalf("presence shown on a ticket nobody else is on: %q", line)
		}
	}
	h.selectNumber(101)
	h.press(keyEnter)
	if !strings.Contains(h.screen(), "also here: Bo replying, Eve viewing") {
		t.Fatalf("thread header shows no presence:\n%s", h.screen())
	}
	if len(p.focused) == 0 || p.focused[len(p.focused)-1] != 101 {
		t.Fatalf("focus reports %v, want the opened ticket 101 last", p.focused)
	}
}

// TestComposerParticipants: /add_email and /remove_email lines change the
// ticket's participants on send, show in the review line, and a bad
// address is refused where it was typed.
func TestComposerParticipants(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 120, 30)
	h.selectNumber(101)
	h.press(keyEnter)
	h.press(keyOf('r'))
	h.typeText("/add_email not-an-address")
	h.send(keyCtrlS)
	if !strings.Contains(h.screen(), `"not-an-address" is not an address`) {
		t.Fatalf("bad address not refused:\n%s", h.screen())
	}
	for range "not-an-address" {
		h.send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	h.typeText("cc@example.org")
	h.send(tea.KeyPressMsg{Code: tea.KeyEnter})
	h.typeText("Copying our partner.")
	if !strings.Contains(h.screen(), "cc cc@example.org") {
		t.Fatalf("review line does not show the new participant:\n%s", h.screen())
	}
	h.send(keyCtrlS)
	ps, err := f.st.Participants(context.Background(), f.ticket(t, 101).ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Addr != "cc@example.org" {
		t.Fatalf("participants after send: %+v", ps)
	}
	msgs := f.messages(t, 101)
	if last := msgs[len(msgs)-1]; last.Body != "Copying our partner." {
		t.Fatalf("the quick-action line leaked into the reply: %q", last.Body)
	}
}
