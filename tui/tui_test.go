package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"desk/store"
)

// sizes are the window sizes of the golden tests.
var sizes = []struct{ w, h int }{{80, 24}, {160, 48}}

// goldenViews are the screens every golden test draws, at every size.
var goldenViews = []struct {
	name  string
	setup func(h *harness)
}{
	{"list", func(h *harness) {}},
	{"list_all_marked", func(h *harness) {
		h.press(keyTab, keyTab, keyTab, keyTab, keySpace, keySpace)
	}},
	{"thread", func(h *harness) { h.selectNumber(101); h.press(keyEnter) }},
	{"composer", func(h *harness) {
		h.selectNumber(103)
		h.press(keyEnter, keyOf('r'))
		h.typeText("Sent again.")
		h.press(keyEnter)
		h.typeText("/status pending")
	}},
	{"note", func(h *harness) { h.selectNumber(103); h.press(keyEnter, keyOf('n')); h.typeText("Checked.") }},
	{"search", func(h *harness) { h.press(keyOf('F')); h.typeText("invoice"); h.press(keyEnter) }},
	{"overlay", func(h *harness) { h.press(keyOf('?')); h.typeText("mark") }},
	{"query_error", func(h *harness) { h.press(keyOf('/')); h.typeText(` from:"alice`); h.press(keyEnter) }},
	{"command", func(h *harness) { h.press(keyOf(':')); h.typeText("st"); h.press(keyTab) }},
	{"status_chooser", func(h *harness) { h.press(keyOf('s')) }},
}

func TestGolden(t *testing.T) {
	for _, v := range goldenViews {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s_%dx%d", v.name, sz.w, sz.h), func(t *testing.T) {
				h := newHarness(t, newFixture(t), sz.w, sz.h)
				v.setup(h)
				checkFits(t, h.m.View().Content, sz.w, sz.h)
				golden.RequireEqual(t, h.goldenScreen())
			})
		}
	}
}

func TestLoadingBeforeFirstRead(t *testing.T) {
	f := newFixture(t)
	m := newModel(f.st, Options{})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	v := m.View()
	if !v.AltScreen {
		t.Error("view is not on the alt screen")
	}
	if !strings.Contains(v.Content, "loading…") || strings.Contains(v.Content, "no tickets") {
		t.Errorf("before the first read the list must say loading…:\n%s", v.Content)
	}
}

func TestEmptyList(t *testing.T) {
	st, err := store.Open(t.TempDir() + "/desk.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := newHarness(t, &fixture{st: st}, 80, 24)
	if !strings.Contains(h.screen(), "no tickets match status:open -is:spam") {
		t.Errorf("empty list:\n%s", h.screen())
	}
}

func TestFitsEveryWidth(t *testing.T) {
	f := newFixture(t)
	for _, w := range []int{120, 80, 60, 45, 30, 12} {
		h := newHarness(t, f, w, 15)
		checkFits(t, h.m.View().Content, w, 15)
		h.press(keyOf('?'))
		checkFits(t, h.m.View().Content, w, 15)
		h.press(keyOf('?'), keyEnter)
		checkFits(t, h.m.View().Content, w, 15)
		h.press(keyOf('n'))
		checkFits(t, h.m.View().Content, w, 15)
		h.press(keyEsc, keyEsc, keyOf('F'))
		h.typeText("the")
		h.press(keyEnter)
		checkFits(t, h.m.View().Content, w, 15)
	}
}

func TestOpenMarksRead(t *testing.T) {
	f := newFixture(t)
	if !f.ticket(t, 101).Unread {
		t.Fatal("fixture: #101 should start unread")
	}
	h := newHarness(t, f, 100, 30)
	if !strings.Contains(h.screen(), "●") {
		t.Errorf("unread tickets are not marked:\n%s", h.screen())
	}
	h.selectNumber(101)
	h.press(keyEnter)
	if f.ticket(t, 101).Unread {
		t.Error("opening #101 did not mark it read in the store")
	}
	if h.m.screen != screenThread || !strings.Contains(h.screen(), "#101 Cannot log in") {
		t.Fatalf("thread not shown:\n%s", h.screen())
	}
	h.press(keyOf('q'))
	if h.m.screen != screenList || h.quit {
		t.Fatal("q in a thread must go back to the list")
	}
	if r, _ := h.m.current(); r.Number != 101 || r.Unread {
		t.Errorf("back on the list: cursor on #%d unread=%v, want #101 read", r.Number, r.Unread)
	}
}

func TestThreadShowsKinds(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 60)
	h.selectNumber(101)
	h.press(keyEnter)
	s := h.screen()
	for _, want := range []string{
		"Support Bot on behalf of alice@example.com",
		"auto: Support Bot (thank-you)",
		"NOTE",
		"internal note by Carol",
		"Bob (reply)",
		"failed: 554 5.7.1 message rejected",
		`⚠ unknown charset "x-foo", read as latin-1`,
		"attached 1: screenshot.png (image/png, 47 KB)",
		"Alice Liddell <alice@example.com>",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("thread lacks %q:\n%s", want, s)
		}
	}
	// Messages come in date order.
	if strings.Index(s, "I cannot log in") > strings.Index(s, "Nothing in spam") {
		t.Error("messages are not in date order")
	}
}

func TestReplyQueued(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.selectNumber(103)
	h.press(keyEnter, keyOf('r'))
	if !strings.Contains(h.screen(), "Reply to bob@example.org — ctrl+s send") {
		t.Fatalf("composer title missing:\n%s", h.screen())
	}
	h.typeText("Sent again, see attachment.")
	// The reply shows at once, before the store write has run.
	_, cmd := h.m.Update(keyCtrlS)
	if s := h.screen(); !strings.Contains(s, "Dana (reply)") || !strings.Contains(s, "queued") {
		t.Errorf("reply not shown at once as queued:\n%s", s)
	}
	h.run(cmd)
	ms := f.messages(t, 103)
	last := ms[len(ms)-1]
	if last.Kind != store.KindReply || last.Outbox != store.OutboxQueued || last.FromName != "Dana" ||
		last.Body != "Sent again, see attachment." {
		t.Errorf("store has %+v, want a queued reply by Dana", last)
	}
	s := h.screen()
	if h.m.compose != nil || h.m.screen != screenThread {
		t.Error("ctrl+s must return to the thread")
	}
	if strings.Count(s, "Sent again, see attachment.") != 1 {
		t.Errorf("reply should show exactly once:\n%s", s)
	}
	for _, want := range []string{"Dana (reply)", "queued", "reply queued on #103", "outbox: 1 queued, 1 failed"} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
}

func TestNoteFromList(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.selectNumber(105)
	h.press(keyOf('n'))
	if !strings.Contains(h.screen(), "Internal note — never sent to the customer") {
		t.Fatalf("note composer title missing:\n%s", h.screen())
	}
	h.typeText("VIP customer")
	h.press(keyCtrlS)
	ms := f.messages(t, 105)
	last := ms[len(ms)-1]
	if last.Kind != store.KindNote || last.Body != "VIP customer" || last.Outbox != store.OutboxQueued {
		t.Errorf("store has %+v, want a queued note", last)
	}
	if s := h.screen(); !strings.Contains(s, "internal note by Dana") || !strings.Contains(s, "note saved") {
		t.Errorf("note not shown:\n%s", s)
	}
}

func TestEmptyDraftRefused(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.press(keyEnter, keyOf('r'))
	h.typeText("   ")
	h.press(keyCtrlS)
	if h.m.compose == nil || !strings.Contains(h.screen(), "empty message: nothing to send") {
		t.Errorf("empty draft not refused:\n%s", h.screen())
	}
	if n := len(f.messages(t, 101)); n != 5 {
		t.Errorf("ticket has %d messages, want 5: nothing may be queued", n)
	}
}

func TestDiscardDraft(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.press(keyEnter, keyOf('r'))
	h.press(keyEsc)
	if h.m.compose != nil {
		t.Fatal("esc on an empty draft should close the composer at once")
	}
	h.press(keyOf('r'))
	h.typeText("half a thought")
	h.press(keyEsc)
	if !strings.Contains(h.screen(), "Discard draft? (y/N)") {
		t.Fatalf("no confirmation:\n%s", h.screen())
	}
	h.press(keyOf('n'))
	if h.m.compose == nil || h.m.compose.confirm || h.m.compose.ta.Value() != "half a thought" {
		t.Fatal("n must keep the draft")
	}
	h.press(keyEsc, keyOf('y'))
	if h.m.compose != nil {
		t.Fatal("y must discard the draft")
	}
	if n := len(f.messages(t, 101)); n != 5 {
		t.Errorf("ticket has %d messages, want 5", n)
	}
}

func TestCloseAndReopen(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.selectNumber(103)
	_, cmd := h.m.Update(keyOf('c'))
	if r, _ := h.m.current(); r.State != store.StateClosed {
		t.Error("closing is not shown at once")
	}
	h.run(cmd)
	if st := f.ticket(t, 103).State; st != store.StateClosed {
		t.Errorf("store state %q, want closed", st)
	}
	kw, err := f.st.PendingKeywords(context.Background(), f.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c := keywordChanges(kw, store.KeywordClosed); len(c) != 1 || !c[0].Add || c[0].TicketID != f.ids[103] {
		t.Errorf("pending keywords %+v, want %s added on #103", kw, store.KeywordClosed)
	}
	s := h.screen()
	if !strings.Contains(s, "Closed #103 · u undo") {
		t.Errorf("no status message:\n%s", s)
	}
	if strings.Contains(s, "Invoice for October") {
		t.Errorf("a closed ticket stays in the open list:\n%s", s)
	}

	// Reopen it from its thread in the All section.
	h.press(keyTab, keyTab, keyTab, keyTab)
	h.selectNumber(103)
	h.press(keyEnter, keyOf('c'))
	if st := f.ticket(t, 103).State; st != store.StateOpen {
		t.Errorf("store state %q, want open", st)
	}
	if s := h.screen(); !strings.Contains(s, "Reopened #103") || !strings.Contains(s, "open · billing") {
		t.Errorf("reopening not shown:\n%s", s)
	}
	kw, _ = f.st.PendingKeywords(context.Background(), f.account.ID)
	if c := keywordChanges(kw, store.KeywordClosed); len(c) != 1 || c[0].Add {
		t.Errorf("pending keywords %+v, want one removal", kw)
	}
}

func TestSearchOpensTicket(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.press(keyOf('F'))
	h.typeText("password")
	h.press(keyEnter)
	s := h.screen()
	if !strings.Contains(s, "#101") || !strings.Contains(s, "alice@example.com") || !strings.Contains(s, "Cannot log in") {
		t.Fatalf("search for a body word did not find #101:\n%s", s)
	}
	h.press(keyEnter)
	if h.m.screen != screenThread || h.m.thread.row.ID != f.ids[101] {
		t.Fatalf("enter on a result must open its ticket:\n%s", h.screen())
	}
	h.press(keyEsc)
	if h.m.screen != screenSearch {
		t.Error("back from a result goes to the results")
	}
	h.press(keyEsc)
	if h.m.screen != screenList {
		t.Error("esc from search goes to the list")
	}
}

func TestSearchNoMatch(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.press(keyOf('F'))
	h.typeText("J-993 zebra")
	h.press(keyEnter)
	if s := h.screen(); !strings.Contains(s, "no matches") {
		t.Errorf("want no matches:\n%s", s)
	}
}

// hostile is what a mail must never get onto the terminal.
var hostile = []string{"\x07", "\u202E", "]52;", "\x1b[2J", "]8;", "\x1b[31m", "\r"}

// checkClean fails if raw (a styled view) carries anything from hostile,
// or if any escape is left once the styling is stripped.
func checkClean(t *testing.T, what, raw string) {
	t.Helper()
	if strings.ContainsAny(ansi.Strip(raw), "\x1b\x9b") {
		t.Errorf("%s has an escape outside the styling", what)
	}
	for _, bad := range hostile {
		if strings.Contains(raw, bad) {
			t.Errorf("%s contains %q", what, bad)
		}
	}
}

func TestHostileTextIsSanitized(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	checkClean(t, "list", h.m.View().Content)
	if s := h.screen(); !strings.Contains(s, "Pay now fdp.exe") {
		t.Errorf("hostile subject not shown as text:\n%s", s)
	}
	h.selectNumber(102)
	h.press(keyEnter)
	raw := h.m.View().Content
	checkClean(t, "thread", raw)
	s := h.screen()
	for _, want := range []string{"#102 Pay now fdp.exe", "Click here now", "attached 1: invoicefdp.exe"} {
		if !strings.Contains(s, want) {
			t.Errorf("thread lacks %q:\n%s", want, s)
		}
	}
	h.press(keyOf('q'), keyOf('F'))
	h.typeText("click")
	h.press(keyEnter)
	checkClean(t, "search", h.m.View().Content)
	if !strings.Contains(h.screen(), "#102") {
		t.Errorf("search did not find #102:\n%s", h.screen())
	}
}

func TestTicketsChangedRefreshesThread(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.selectNumber(103)
	h.press(keyEnter)
	f.addMessage(t, 103, &store.Message{MessageID: "new@example.org", From: "bob@example.org", FromName: "Bob Builder",
		Subject: "Re: Invoice", Date: testNow.Add(-time.Minute), Kind: store.KindCustomer, Body: "Any news on this?"})
	h.send(store.TicketsChanged{Account: "acme", Numbers: []int64{103}})
	if s := h.screen(); !strings.Contains(s, "Any news on this?") {
		t.Errorf("open thread not refreshed:\n%s", s)
	}
	if f.ticket(t, 103).Unread {
		t.Error("a message arriving in the open thread is read")
	}
}

func TestThreadFollowsOnlyAtBottom(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 60, 14)
	h.selectNumber(101)
	h.press(keyEnter)
	vp := &h.m.thread.vp
	if vp.AtBottom() {
		t.Fatal("fixture: thread #101 should not fit in 14 lines")
	}
	h.press(keyOf('j'))
	off := vp.YOffset()
	add := func(body string) {
		f.addMessage(t, 101, &store.Message{MessageID: body + "@example.com", From: "alice@example.com",
			Date: testNow, Kind: store.KindCustomer, Body: body})
		h.send(store.TicketsChanged{Account: "acme", Numbers: []int64{101}})
	}
	add("first follow-up")
	if vp.YOffset() != off {
		t.Errorf("scroll moved from %d to %d on refresh", off, vp.YOffset())
	}
	h.press(keyOf('G'))
	add("second follow-up")
	if !vp.AtBottom() || !strings.Contains(h.screen(), "second follow-up") {
		t.Errorf("at the bottom, a refresh must follow:\n%s", h.screen())
	}
	// Other tickets' changes do not re-read the thread.
	before := h.m.thread.applied
	h.send(store.TicketsChanged{Account: "acme", Numbers: []int64{105}})
	if h.m.thread.applied != before {
		t.Error("a change to another ticket re-read the open thread")
	}
}

func TestCursorKeptAcrossReload(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.selectNumber(102)
	addNewTicket(t, f, 106, "Brand new")
	h.send(store.TicketsChanged{Account: "acme"})
	if !strings.Contains(h.screen(), "Brand new") {
		t.Fatalf("new ticket not listed:\n%s", h.screen())
	}
	if r, _ := h.m.current(); r.Number != 102 {
		t.Errorf("cursor on #%d after reload, want #102", r.Number)
	}
}

// addNewTicket adds ticket n, updated now, so that it sorts first.
func addNewTicket(t *testing.T, f *fixture, n int64, subject string) {
	t.Helper()
	id := fmt.Sprintf("m%d@example.com", n)
	err := f.st.Update(context.Background(), func(tx *store.Tx) error {
		tk := &store.Ticket{Number: n, Project: "acme", Subject: subject, Requester: "eve@example.com",
			ReplyKey: fmt.Sprintf("key%d", n), RootMessageID: id, Created: testNow}
		if err := tx.CreateTicket(f.account.ID, tk); err != nil {
			return err
		}
		return tx.AddMessage(f.account.ID, &store.Message{TicketID: tk.ID, MessageID: id,
			From: "eve@example.com", Date: testNow, Kind: store.KindCustomer, Body: "hi"})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNewTicketShowsAtTop: with the list at its top, a ticket arriving
// above the cursor is shown (the cursor keeps its ticket, one row lower).
func TestNewTicketShowsAtTop(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	first, _ := h.m.current()
	addNewTicket(t, f, 106, "Brand new")
	h.send(store.TicketsChanged{Account: "acme"})
	if r, _ := h.m.current(); r.Number != first.Number || h.m.offset != 0 || h.m.cursor != 1 {
		t.Fatalf("cursor #%d at %d, offset %d; want #%d at 1, offset 0", r.Number, h.m.cursor, h.m.offset, first.Number)
	}
	if !strings.Contains(h.screen(), "Brand new") {
		t.Fatalf("the new ticket is not on screen:\n%s", h.screen())
	}
}

func TestListNavigation(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.press(keyOf('G'))
	if h.m.cursor != h.m.total-1 {
		t.Errorf("G: cursor %d, want %d", h.m.cursor, h.m.total-1)
	}
	h.press(keyOf('g'))
	if h.m.cursor != 0 {
		t.Errorf("g: cursor %d, want 0", h.m.cursor)
	}
	h.press(tea.KeyPressMsg{Code: tea.KeyPgDown})
	if h.m.cursor != h.m.total-1 {
		t.Errorf("pgdn: cursor %d", h.m.cursor)
	}
	h.press(tea.KeyPressMsg{Code: tea.KeyUp}, keyDown, keyOf('k'))
	if h.m.cursor != h.m.total-2 {
		t.Errorf("up, down, k: cursor %d", h.m.cursor)
	}
}

func TestRendersOnlyVisibleRows(t *testing.T) {
	f := newFixture(t)
	err := f.st.Update(context.Background(), func(tx *store.Tx) error {
		for i := int64(0); i < 40; i++ {
			tk := &store.Ticket{Number: 200 + i, Project: "acme", Subject: fmt.Sprintf("Bulk %d", i),
				Requester: "bulk@example.com", ReplyKey: fmt.Sprintf("bulk%d", i),
				RootMessageID: fmt.Sprintf("bulk%d@example.com", i), Created: testNow.Add(-time.Duration(i) * time.Hour)}
			if err := tx.CreateTicket(f.account.ID, tk); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, f, 80, 12)
	checkFits(t, h.m.View().Content, 80, 12)
	for i := 0; i < 30; i++ {
		h.press(keyDown)
	}
	s := h.screen()
	checkFits(t, h.m.View().Content, 80, 12)
	r, _ := h.m.current()
	if !strings.Contains(s, "›") || !strings.Contains(s, fmt.Sprintf("#%d", r.Number)) {
		t.Errorf("cursor row #%d not in view:\n%s", r.Number, s)
	}
	if strings.Contains(s, "Bulk 0 ") {
		t.Errorf("rows above the window are drawn:\n%s", s)
	}
}

func TestStatusLine(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 120, 20)
	if s := h.screen(); !strings.Contains(s, "outbox: 1 failed") {
		t.Errorf("outbox counts not read at start:\n%s", s)
	}
	h.send(store.SyncStatus{Account: "acme", Phase: store.PhaseSyncing, Done: 120, Total: 300})
	if s := h.screen(); !strings.Contains(s, "acme: syncing 120/300") {
		t.Errorf("sync progress missing:\n%s", s)
	}
	if len(h.pending) != 0 {
		t.Errorf("no countdown runs, yet a timer was set: %v", h.pending)
	}
	h.send(store.SyncStatus{Account: "acme", Phase: store.PhaseOffline, Err: "dial tcp: \x1b[2Jconnection refused",
		RetryAt: testNow.Add(12 * time.Second)})
	if s := h.screen(); !strings.Contains(s, "acme: offline — retry in 12s: dial tcp: connection refused") {
		t.Errorf("offline countdown missing:\n%s", s)
	}
	checkClean(t, "status", h.m.View().Content)
	if len(h.pending) != 1 || h.pending[0] != time.Second {
		t.Fatalf("want one 1s tick scheduled, got %v", h.pending)
	}
	// A second event while the tick is pending does not start another.
	h.send(store.SyncStatus{Account: "acme", Phase: store.PhaseOffline, RetryAt: testNow.Add(11 * time.Second)})
	if len(h.pending) != 1 {
		t.Fatalf("ticks pile up: %v", h.pending)
	}
	h.send(countdownMsg{})
	if len(h.pending) != 2 {
		t.Fatalf("the tick did not continue while counting down: %v", h.pending)
	}
	h.send(store.SyncStatus{Account: "acme", Phase: store.PhaseIdle})
	h.send(countdownMsg{})
	if len(h.pending) != 2 {
		t.Fatalf("the tick continued with nothing to count: %v", h.pending)
	}
	if s := h.screen(); !strings.Contains(s, "acme: idle") {
		t.Errorf("idle missing:\n%s", s)
	}
	h.send(store.OutboxChanged{Queued: 2, Failed: 1, LastError: "550 \x07no"})
	if s := h.screen(); !strings.Contains(s, "outbox: 2 queued, 1 failed (550 no)") {
		t.Errorf("outbox counts missing:\n%s", s)
	}

	off := newHarnessOpts(t, f, 100, 20, Options{Offline: true})
	if s := off.screen(); !strings.Contains(s, "offline (no account configured)") {
		t.Errorf("offline option not shown:\n%s", s)
	}
}

func TestFlashExpires(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.press(keyOf('c'))
	if !strings.Contains(h.screen(), "Closed #101") {
		t.Fatalf("no status message:\n%s", h.screen())
	}
	h.send(flashExpiredMsg{seq: h.m.flashSeq})
	if strings.Contains(h.screen(), "Closed #101") {
		t.Error("status message did not expire")
	}
}

func TestHelpOverlay(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	if s := h.screen(); !strings.Contains(s, "? keys") || !strings.Contains(s, "s status") {
		t.Errorf("hint line missing:\n%s", s)
	}
	h.press(keyOf('?'))
	for _, want := range []string{"internal note", "close/reopen", "next section", "page down", "mark by query"} {
		if !strings.Contains(h.screen(), want) {
			t.Errorf("overlay lacks %q:\n%s", want, h.screen())
		}
	}
	h.typeText("status")
	if !strings.Contains(h.screen(), ":status") {
		t.Errorf("overlay lacks the commands:\n%s", h.screen())
	}
	for range "status" {
		h.press(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	h.typeText("take")
	s := h.screen()
	if !strings.Contains(s, "assign (a m: take)") || strings.Contains(s, "page down") {
		t.Errorf("overlay does not filter:\n%s", s)
	}
	h.press(keyEnter) // runs a: the assign chord waits for its second key
	if h.m.overlay != nil || h.m.chord != "a" || !strings.Contains(h.screen(), "assign: m me") {
		t.Fatalf("enter did not run the entry:\n%s", h.screen())
	}
	h.press(keyOf('m'))
	if tk := f.ticket(t, 101); tk.Assignee != "dana" {
		t.Errorf("a m assigned %q, want dana", tk.Assignee)
	}
	h.press(keyOf('?'), keyEsc)
	if h.m.overlay != nil {
		t.Error("esc does not close the overlay")
	}
}

func TestQuit(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.press(keyEnter, keyOf('r'))
	h.typeText("draft")
	h.press(keyCtrlC)
	if !h.quit {
		t.Error("ctrl+c in the composer did not quit")
	}
	h = newHarness(t, f, 100, 30)
	h.press(keyOf('q'))
	if !h.quit {
		t.Error("q on the list did not quit")
	}
}

func TestPendingReplyKeptUntilStored(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.press(keyEnter, keyOf('r'))
	h.typeText("hold on")
	_, queue := h.m.Update(keyCtrlS)
	// A re-read that started before the reply was stored must not hide it.
	h.run(h.m.reloadThread())
	if !strings.Contains(h.screen(), "hold on") {
		t.Fatalf("pending reply hidden by an older read:\n%s", h.screen())
	}
	h.run(queue)
	if n := strings.Count(h.screen(), "hold on"); n != 1 {
		t.Errorf("reply shown %d times, want once:\n%s", n, h.screen())
	}
}
