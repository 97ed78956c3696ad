package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"desk/store"
)

func TestSectionsAndQuery(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	if s := h.screen(); !strings.Contains(s, "[Open 4]") || !strings.Contains(s, "All 5") {
		t.Fatalf("tabs with counts missing:\n%s", s)
	}
	h.press(tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}) // back to the last section: Spam
	if s := h.screen(); !strings.Contains(s, "[Spam 0]") || !strings.Contains(s, "no tickets match is:spam") {
		t.Errorf("shift+tab to Spam:\n%s", s)
	}
	h.press(keyTab) // Open
	h.press(keyOf('/'))
	for range "status:open -is:spam" {
		h.press(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	h.typeText(`label:vip OR "password reset`)
	h.press(keyEnter)
	s := h.screen()
	if h.m.prompt == nil || !strings.Contains(s, `^ unclosed quote`) {
		t.Fatalf("a bad query must stay in the prompt with its error:\n%s", s)
	}
	// The caret sits under the quote.
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "query: ") && i+1 < len(lines) {
			if got, want := strings.Index(lines[i+1], "^"), strings.Index(l, `"`); got != want {
				t.Errorf("caret at column %d, quote at %d:\n%s\n%s", got, want, l, lines[i+1])
			}
		}
	}
	h.typeText(`"`)
	h.press(keyEnter)
	s = h.screen()
	if h.m.prompt != nil || !strings.Contains(s, "#103") || !strings.Contains(s, "#101") || strings.Contains(s, "#105") {
		t.Errorf("query label:vip OR \"password reset\" should list #101 and #103:\n%s", s)
	}
	if h.m.sections[0].Query != `label:vip OR "password reset"` {
		t.Errorf("section query %q", h.m.sections[0].Query)
	}
}

func TestStatusChooserMovesOnAndUndo(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.selectNumber(101)
	h.press(keyOf('s'))
	if !strings.Contains(h.screen(), "status: o open · p pending") {
		t.Fatalf("chooser not shown:\n%s", h.screen())
	}
	h.press(keyOf('p'))
	if got := f.ticket(t, 101).State; got != store.StatePending {
		t.Fatalf("state %q, want pending", got)
	}
	s := h.screen()
	if !strings.Contains(s, "Set #101 to pending · u undo") {
		t.Errorf("no toast:\n%s", s)
	}
	if r, _ := h.m.current(); r.Number != 105 {
		t.Errorf("cursor on #%d after the action, want the next ticket #105", r.Number)
	}
	if strings.Contains(s, "Cannot log in") {
		t.Errorf("a pending ticket stays in Open:\n%s", s)
	}
	kw, _ := f.st.PendingKeywords(context.Background(), f.account.ID)
	if c := keywordChanges(kw, store.KeywordStatusPrefix+"pending"); len(c) != 1 || !c[0].Add {
		t.Errorf("keyword queue %+v", kw)
	}
	h.press(keyOf('u'))
	if got := f.ticket(t, 101).State; got != store.StateOpen {
		t.Errorf("after undo: state %q, want open", got)
	}
	if !strings.Contains(h.screen(), "Undone: Set #101 to pending") || !strings.Contains(h.screen(), "Cannot log in") {
		t.Errorf("undo not shown:\n%s", h.screen())
	}
	h.press(keyOf('u'))
	if !strings.Contains(h.screen(), "nothing to undo") {
		t.Errorf("second undo:\n%s", h.screen())
	}
}

func TestAssignLabelsSpam(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 160, 30)
	h.selectNumber(101)
	h.press(keyOf('a'), keyOf('m'))
	if got := f.ticket(t, 101).Assignee; got != "dana" {
		t.Errorf("a m: assignee %q", got)
	}
	h.selectNumber(103)
	h.press(keyOf('a'), keyOf('a'))
	h.typeText("Bob B")
	h.press(keyEnter)
	if got := f.ticket(t, 103).Assignee; got != "bob b" {
		t.Errorf("a a Bob B: assignee %q", got)
	}
	if !strings.Contains(h.screen(), "Assigned #103 to bob b") {
		t.Errorf("no toast:\n%s", h.screen())
	}
	h.selectNumber(103)
	h.press(keyOf('l'))
	h.typeText("urgent -vip")
	h.press(keyEnter)
	if got := f.ticket(t, 103).Labels; strings.Join(got, ",") != "billing,urgent" {
		t.Errorf("labels %v, want billing,urgent", got)
	}
	h.selectNumber(102)
	h.press(keyOf('!'))
	if !f.ticket(t, 102).Spam {
		t.Error("! did not mark spam")
	}
	if strings.Contains(h.screen(), "Pay now") {
		t.Errorf("spam stays in Open:\n%s", h.screen())
	}
	h.press(keyOf('u'))
	if f.ticket(t, 102).Spam {
		t.Error("u did not undo the spam mark")
	}
}

func TestMarkAndBulk(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.press(keyOf('g'), keySpace, keySpace)
	if len(h.m.marks) != 2 || !strings.Contains(h.screen(), "2 marked — actions apply to all") {
		t.Fatalf("space did not mark and move:\n%s", h.screen())
	}
	h.press(keyOf('c'))
	for _, n := range []int64{101, 105} {
		if got := f.ticket(t, n).State; got != store.StateClosed {
			t.Errorf("#%d state %q after bulk close", n, got)
		}
	}
	if len(h.m.marks) != 0 || !strings.Contains(h.screen(), "Closed 2 tickets · u undo") {
		t.Errorf("bulk close:\n%s", h.screen())
	}
	h.press(keyOf('u'))
	for _, n := range []int64{101, 105} {
		if got := f.ticket(t, n).State; got != store.StateOpen {
			t.Errorf("#%d state %q after undo", n, got)
		}
	}
	// * marks by query; esc clears.
	h.press(keyOf('*'))
	h.typeText("from:alice OR from:bob")
	h.press(keyEnter)
	if len(h.m.marks) != 2 || !h.m.marks[f.ids[101]] || !h.m.marks[f.ids[103]] {
		t.Errorf("* marked %v", h.m.marks)
	}
	h.press(keyEsc)
	if len(h.m.marks) != 0 {
		t.Error("esc did not clear the marks")
	}
	// V marks from the last mark to the cursor.
	h.press(keyOf('g'), keySpace, keySpace) // marks rows 0, 1; anchor at 1
	h.press(keySpace)                       // row 2 marked, anchor 2
	h.press(keyOf('G'), keyOf('V'))
	if len(h.m.marks) != 4 {
		t.Errorf("V marked %d, want all 4", len(h.m.marks))
	}
	h.press(keyOf('s'), keyOf('h'))
	if got := f.ticket(t, 103).State; got != store.StateOnHold {
		t.Errorf("bulk on-hold: #103 %q", got)
	}
}

func TestCommandLine(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.selectNumber(103)
	h.press(keyOf(':'))
	h.typeText("sta")
	h.press(keyTab)
	if got := h.m.prompt.input.Value(); got != "status " {
		t.Errorf("completion gave %q", got)
	}
	h.typeText("so")
	h.press(keyTab, keyEnter)
	if got := f.ticket(t, 103).State; got != store.StateSolved {
		t.Errorf(":status solved: %q", got)
	}
	h.press(keyOf(':'))
	h.typeText("frobnicate")
	h.press(keyEnter)
	if !strings.Contains(h.screen(), "unknown command frobnicate") {
		t.Errorf("unknown command:\n%s", h.screen())
	}
	h.press(keyEsc, keyOf(':'))
	h.typeText("section pend")
	h.press(keyEnter)
	if h.m.sections[h.m.sec].Title != "Pending" {
		t.Errorf(":section pend went to %q", h.m.sections[h.m.sec].Title)
	}
	h.press(keyOf(':'))
	h.typeText("query updated:>1d")
	h.press(keyEnter)
	if s := h.screen(); !strings.Contains(s, "#104") || strings.Contains(s, "#101") {
		t.Errorf(":query updated:>1d:\n%s", s)
	}
}

func TestReadOnly(t *testing.T) {
	f := newFixture(t)
	h := newHarnessOpts(t, f, 100, 30, Options{Author: "Dana", ReadOnly: true})
	h.press(keyOf('c'))
	h.press(keyOf('!'))
	h.press(keyEnter, keyOf('r'))
	if tk := f.ticket(t, 101); tk.State != store.StateOpen || tk.Spam || h.m.compose != nil {
		t.Errorf("read-only changed something: %+v composer=%v", tk, h.m.compose != nil)
	}
	if !strings.Contains(h.screen(), "read-only") {
		t.Errorf("no read-only notice:\n%s", h.screen())
	}
}

func TestThreadEventsFoldsUnverified(t *testing.T) {
	f := newFixture(t)
	f.addMessage(t, 103, &store.Message{MessageID: "q@example.org", From: "bob@example.org", Date: testNow,
		Kind: store.KindCustomer, Unverified: "dmarc=fail",
		Body: "Still waiting.\n\nOn Monday, Support wrote:\n> first quoted\n> second quoted\n\n-- \nBob\nBuilder Inc."})
	h := newHarness(t, f, 100, 60)
	h.selectNumber(103)
	h.press(keyEnter, keyOf('a'), keyOf('m'))
	s := h.screen()
	for _, want := range []string{"── assigned to dana by Dana", "⚠ unverified sender (dmarc=fail)",
		"▸ 3 quoted lines · za", "▸ signature (3 lines) · za", "Still waiting."} {
		if !strings.Contains(s, want) {
			t.Errorf("thread lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "first quoted") {
		t.Error("quotes are not folded")
	}
	h.press(keyOf('z'), keyOf('R'))
	if s := h.screen(); !strings.Contains(s, "> first quoted") || !strings.Contains(s, "Builder Inc.") {
		t.Errorf("zR did not open the folds:\n%s", s)
	}
	h.press(keyOf('z'), keyOf('M'))
	if strings.Contains(h.screen(), "first quoted") {
		t.Error("zM did not close the folds")
	}
	h.press(keyOf('z'), keyOf('a'))
	if !strings.Contains(h.screen(), "first quoted") {
		t.Error("za did not open the first fold in view")
	}
}

func TestCustomerHistory(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.selectNumber(101)
	h.press(keyEnter, keyOf('h'))
	s := h.screen()
	if h.m.screen != screenList || !strings.Contains(s, "[History: alice@example.com 1]") || !strings.Contains(s, "#101") {
		t.Errorf("history:\n%s", s)
	}
}

func TestDraftSavedRestoredDiscarded(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	h := newHarness(t, f, 100, 30)
	h.selectNumber(103)
	h.press(keyEnter, keyOf('r'))
	h.typeText("half a thought")
	h.send(draftSaveMsg{seq: h.m.compose.saveSeq - 1}) // an older save does nothing
	if d, _ := f.st.Draft(ctx, f.ids[103], store.KindReply); d != "" {
		t.Errorf("a stale save stored %q", d)
	}
	h.send(draftSaveMsg{seq: h.m.compose.saveSeq})
	if d, _ := f.st.Draft(ctx, f.ids[103], store.KindReply); d != "half a thought" {
		t.Errorf("draft %q", d)
	}
	// Leave without discarding: the draft comes back.
	h2 := newHarness(t, f, 100, 30)
	h2.selectNumber(103)
	h2.press(keyEnter, keyOf('r'))
	if got := h2.m.compose.ta.Value(); got != "half a thought" || !strings.Contains(h2.screen(), "draft restored") {
		t.Errorf("restored %q:\n%s", got, h2.screen())
	}
	h2.press(keyEsc, keyOf('y'))
	if d, _ := f.st.Draft(ctx, f.ids[103], store.KindReply); d != "" {
		t.Errorf("discarded draft kept: %q", d)
	}
}

func TestQuickActionsAndToggle(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.selectNumber(103)
	h.press(keyEnter, keyOf('n'))
	h.press(tea.KeyPressMsg{Code: 't', Mod: tea.ModCtrl}) // make it a reply
	if h.m.compose.kind != store.KindReply || !strings.Contains(h.screen(), "Reply to bob@example.org") {
		t.Fatalf("ctrl+t did not switch to a reply:\n%s", h.screen())
	}
	h.typeText("Sent again.")
	h.press(keyEnter)
	h.typeText("/status pending")
	h.press(keyEnter)
	h.typeText("/label ~urgent")
	h.press(keyEnter)
	h.typeText("/assign @me")
	if s := h.screen(); !strings.Contains(s, "→ bob@example.org · status after send: pending · +urgent, assign me") {
		t.Errorf("review line:\n%s", s)
	}
	h.press(keyCtrlS)
	tk := f.ticket(t, 103)
	if tk.State != store.StatePending || tk.Assignee != "dana" || !strings.Contains(strings.Join(tk.Labels, ","), "urgent") {
		t.Errorf("quick actions not applied: %+v", tk)
	}
	ms := f.messages(t, 103)
	if last := ms[len(ms)-1]; last.Body != "Sent again." || last.Kind != store.KindReply {
		t.Errorf("sent %+v", last)
	}
}

func TestCollisionWarning(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 40)
	h.selectNumber(103)
	h.press(keyEnter, keyOf('r'))
	h.typeText("Here it is.")
	f.addMessage(t, 103, &store.Message{MessageID: "late@example.org", From: "bob@example.org", Date: testNow,
		Kind: store.KindCustomer, Body: "Never mind, found it."})
	h.send(store.TicketsChanged{Account: "acme", Numbers: []int64{103}})
	h.press(keyCtrlS)
	if h.m.compose == nil || !strings.Contains(h.screen(), "1 new message arrived while you typed") {
		t.Fatalf("no collision warning:\n%s", h.screen())
	}
	if n := len(f.messages(t, 103)); n != 2 {
		t.Errorf("sent despite the warning: %d messages", n)
	}
	h.press(keyCtrlS)
	if n := len(f.messages(t, 103)); n != 3 || h.m.compose != nil {
		t.Errorf("second ctrl+s did not send: %d messages", n)
	}
}

func TestMouse(t *testing.T) {
	f := newFixture(t)
	h := newHarness(t, f, 100, 30)
	h.send(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if h.m.cursor != 3 {
		t.Errorf("wheel: cursor %d, want 3", h.m.cursor)
	}
	h.send(tea.MouseClickMsg{Button: tea.MouseLeft, X: 5, Y: 2}) // the first row
	if h.m.cursor != 0 {
		t.Errorf("click: cursor %d, want 0", h.m.cursor)
	}
	h.send(tea.MouseClickMsg{Button: tea.MouseLeft, X: 5, Y: 2}) // again: open
	if h.m.screen != screenThread {
		t.Error("a click on the cursor row does not open it")
	}
	h.press(keyEsc)
	x := strings.Index(h.screen(), "All 5")
	h.send(tea.MouseClickMsg{Button: tea.MouseLeft, X: x, Y: 0})
	if h.m.sections[h.m.sec].Title != "All" {
		t.Errorf("click on a tab went to %q", h.m.sections[h.m.sec].Title)
	}
}

func TestBadInputKeepsLayout(t *testing.T) {
	f := newFixture(t)
	err := f.st.Update(context.Background(), func(tx *store.Tx) error {
		tk := &store.Ticket{Number: 900, Project: "acme", Subject: strings.Repeat("long subject ", 800),
			Requester: "big@example.com", ReplyKey: "key900", RootMessageID: "big0@example.com", Created: testNow}
		if err := tx.CreateTicket(f.account.ID, tk); err != nil {
			return err
		}
		for i := 0; i < 2000; i++ {
			body := "short"
			switch i {
			case 0:
				body = strings.Repeat("x", 500_000) // one line, no spaces
			case 1:
				body = ""
			}
			if err := tx.AddMessage(f.account.ID, &store.Message{TicketID: tk.ID, MessageID: fmt.Sprintf("big%d@example.com", i),
				From: "big@example.com", Date: testNow, Kind: store.KindCustomer, Body: body}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, f, 80, 24)
	checkFits(t, h.m.View().Content, 80, 24)
	h.selectNumber(900)
	h.press(keyEnter)
	checkFits(t, h.m.View().Content, 80, 24)
	h.press(keyOf('G'))
	checkFits(t, h.m.View().Content, 80, 24)
	if !strings.Contains(h.screen(), "short") {
		t.Errorf("the end of a 2,000-message thread:\n%s", h.screen())
	}
	h.press(keyEsc, keyOf('/'))
	h.typeText(`"unbalanced`)
	h.press(keyEnter)
	checkFits(t, h.m.View().Content, 80, 24)
	if !strings.Contains(h.screen(), "^ unclosed quote") {
		t.Errorf("query error not shown:\n%s", h.screen())
	}
}
