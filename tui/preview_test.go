package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"desk/store"
)

func TestPreviewGolden(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			h := newHarness(t, newFixture(t), sz.w, sz.h)
			h.selectNumber(101)
			h.press(keyOf('p'))
			checkFits(t, h.m.View().Content, sz.w, sz.h)
			golden.RequireEqual(t, h.goldenScreen())
		})
	}
}

func TestPreviewKeys(t *testing.T) {
	for _, tc := range []struct {
		w, h   int
		beside bool
	}{{80, 24, false}, {160, 48, true}} {
		t.Run(fmt.Sprintf("%dx%d", tc.w, tc.h), func(t *testing.T) {
			h := newHarness(t, newFixture(t), tc.w, tc.h)
			rows := h.m.listRows()
			h.press(keyOf('p'))
			if !h.m.preview.on || h.m.previewBeside() != tc.beside {
				t.Fatalf("p: preview on=%v beside=%v, want on beside=%v", h.m.preview.on, h.m.previewBeside(), tc.beside)
			}
			if !strings.Contains(h.screen(), "p hide preview") {
				t.Errorf("the hint line does not say how to hide the preview:\n%s", h.screen())
			}
			size := func() int {
				if tc.beside {
					return h.m.previewWidth()
				}
				return h.m.previewHeight()
			}
			checkLayout := func() {
				t.Helper()
				checkFits(t, h.m.View().Content, tc.w, tc.h)
				if tc.beside && h.m.listWidth()+1+h.m.previewWidth() != tc.w {
					t.Errorf("list %d + rule + preview %d is not the width %d", h.m.listWidth(), h.m.previewWidth(), tc.w)
				}
				if !tc.beside && h.m.listRows()+h.m.previewHeight() != rows {
					t.Errorf("list rows %d + preview %d are not the room %d", h.m.listRows(), h.m.previewHeight(), rows)
				}
			}
			checkLayout()
			start := size()
			h.press(keyOf('+'))
			if size() <= start {
				t.Errorf("+ did not grow the preview: %d, was %d", size(), start)
			}
			checkLayout()
			for range 10 {
				h.press(keyOf('-'))
			}
			if h.m.preview.share != previewMinShare || size() == 0 {
				t.Errorf("- ten times: share %d size %d, want the least share %d, still shown", h.m.preview.share, size(), previewMinShare)
			}
			checkLayout()
			for range 10 {
				h.press(keyOf('+'))
			}
			if h.m.preview.share != previewMaxShare || h.m.listRows() < 1 {
				t.Errorf("+ ten times: share %d, %d list rows", h.m.preview.share, h.m.listRows())
			}
			checkLayout()
			h.press(keyOf('p'))
			if h.m.preview.on || h.m.listRows() != rows || h.m.listWidth() != tc.w {
				t.Errorf("p again: on=%v rows %d width %d, want the whole list back", h.m.preview.on, h.m.listRows(), h.m.listWidth())
			}
			h.press(keyOf('+'))
			if h.m.preview.on {
				t.Error("+ turned a hidden preview on")
			}
		})
	}
}

func TestPreviewInHelpAndCommandLine(t *testing.T) {
	h := newHarness(t, newFixture(t), 100, 30)
	h.press(keyOf('?'))
	h.typeText("preview")
	s := h.screen()
	for _, want := range []string{"p ", "bigger preview", "smaller preview", ":preview"} {
		if !strings.Contains(s, want) {
			t.Errorf("the overlay filtered by preview lacks %q:\n%s", want, s)
		}
	}
	h.press(keyEsc, keyOf(':'))
	h.typeText("preview")
	h.press(keyEnter)
	if !h.m.preview.on {
		t.Errorf(":preview did not show the preview:\n%s", h.screen())
	}
}

func TestPreviewFollowsCursorWithoutMarkingRead(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 160, 48)
	h.press(keyOf('p'))
	h.selectNumber(101)
	s := h.screen()
	if !strings.Contains(s, "│ #101 Cannot log in") || !strings.Contains(s, "Nothing in spam.") {
		t.Fatalf("the preview does not show #101 and its latest message:\n%s", s)
	}
	if !f.ticket(t, 101).Unread {
		t.Error("previewing #101 marked it read in the store")
	}
	if r, _ := h.m.current(); !r.Unread || !strings.Contains(s, "●") {
		t.Errorf("previewing #101 cleared its unread mark on the list:\n%s", s)
	}
	// Move past it and back: still unread.
	h.press(keyDown)
	if r, _ := h.m.current(); r.Number == 101 || !strings.Contains(h.screen(), fmt.Sprintf("│ #%d ", r.Number)) {
		t.Errorf("the preview did not follow the cursor to #%d:\n%s", r.Number, h.screen())
	}
	h.press(keyOf('k'))
	if !f.ticket(t, 101).Unread {
		t.Error("moving past #101 with the preview on marked it read")
	}
	// Opening it marks it read, and back on the list the preview still
	// shows it.
	h.press(keyEnter)
	if f.ticket(t, 101).Unread {
		t.Error("opening #101 did not mark it read")
	}
	h.press(keyEsc)
	if !strings.Contains(h.screen(), "│ #101 Cannot log in") {
		t.Errorf("back on the list the preview lost #101:\n%s", h.screen())
	}
}

// collect runs cmd and every Cmd it batches, returning their messages
// without handing them to the model.
func collect(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case nil:
		return nil
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, collect(c)...)
		}
		return out
	default:
		return []tea.Msg{msg}
	}
}

// previewRead picks the preview read among msgs.
func previewRead(t *testing.T, msgs []tea.Msg) previewLoadedMsg {
	t.Helper()
	for _, msg := range msgs {
		if p, ok := msg.(previewLoadedMsg); ok {
			return p
		}
	}
	t.Fatalf("no preview read among %d messages", len(msgs))
	return previewLoadedMsg{}
}

func TestPreviewDropsStaleReads(t *testing.T) {
	h := newHarness(t, newFixture(t), 160, 48)
	h.press(keyOf('p'))
	_, cmd := h.m.Update(keyDown)
	stale := previewRead(t, collect(cmd))
	_, cmd = h.m.Update(keyDown)
	fresh := previewRead(t, collect(cmd))
	want, _ := h.m.current()
	if fresh.id != want.ID || stale.id == want.ID {
		t.Fatalf("reads of %d then %d, cursor on %d", stale.id, fresh.id, want.ID)
	}
	h.send(stale)
	if h.m.preview.t.loaded || h.m.preview.t.row.ID != want.ID {
		t.Errorf("a read the cursor moved past was applied: preview of %d loaded=%v", h.m.preview.t.row.ID, h.m.preview.t.loaded)
	}
	if !strings.Contains(h.screen(), "loading…") {
		t.Errorf("the preview does not say it is loading:\n%s", h.screen())
	}
	h.send(fresh)
	if !h.m.preview.t.loaded || strings.Contains(h.screen(), "loading…") {
		t.Errorf("the current read was not applied:\n%s", h.screen())
	}
}

func TestPreviewRereadsOnChange(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 80, 24)
	h.press(keyOf('p'))
	h.selectNumber(103)
	f.addMessage(t, 103, &store.Message{MessageID: "late@example.org", InReplyTo: "m103.0@example.com",
		From: "bob@example.org", Date: testNow, Kind: store.KindCustomer, Body: "Any news on the invoice?"})
	h.send(store.TicketsChanged{Numbers: []int64{103}})
	if !strings.Contains(h.screen(), "Any news on the invoice?") {
		t.Errorf("the preview did not show the new message:\n%s", h.screen())
	}
}

func TestPreviewClickStaysInList(t *testing.T) {
	h := newHarness(t, newFixture(t), 80, 24)
	h.press(keyOf('p'))
	before := h.m.cursor
	y := listHeaderLines + h.m.listRows() + 2 // inside the preview below the list
	h.send(tea.MouseClickMsg{X: 5, Y: y, Button: tea.MouseLeft})
	if h.m.cursor != before || h.m.screen != screenList {
		t.Errorf("a click in the preview moved the cursor to %d (screen %d)", h.m.cursor, h.m.screen)
	}
}

func TestPreviewOfLongThread(t *testing.T) {
	f := newFixture(t)
	// #103 gets a 500-message chain, each answering the one before.
	err := f.st.Update(context.Background(), func(tx *store.Tx) error {
		prev := "m103.0@example.com"
		for i := range 500 {
			id := fmt.Sprintf("chain%d@example.org", i)
			if err := tx.AddMessage(f.account.ID, &store.Message{TicketID: f.ids[103], MessageID: id, InReplyTo: prev,
				From: "bob@example.org", Date: testNow.Add(time.Duration(i) * time.Second), Kind: store.KindCustomer,
				Body: fmt.Sprintf("message %d", i)}); err != nil {
				return err
			}
			prev = id
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, f, 80, 24)
	h.press(keyOf('p'))
	h.selectNumber(103)
	checkFits(t, h.m.View().Content, 80, 24)
	if s := h.screen(); !strings.Contains(s, "message 499") || !strings.Contains(s, "└┄ ") {
		t.Errorf("the preview does not end with the newest message, deeper than shown:\n%s", s)
	}
}

func TestPreviewMovesBelowWhenNarrow(t *testing.T) {
	h := newHarness(t, newFixture(t), 160, 48)
	h.press(keyOf('p'))
	h.selectNumber(103)
	if !strings.Contains(h.screen(), "│ #103 Invoice for October") {
		t.Fatalf("no preview beside the list at 160 columns:\n%s", h.screen())
	}
	h.send(tea.WindowSizeMsg{Width: 100, Height: 30})
	checkFits(t, h.m.View().Content, 100, 30)
	if s := h.screen(); !strings.Contains(s, strings.Repeat("─", 100)+"\n#103 Invoice for October") {
		t.Errorf("at 100 columns the preview is not below the list:\n%s", s)
	}
}
