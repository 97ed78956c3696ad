package tui

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"desk/store"
)

// testNow is the fixed clock of every test: ages and dates in goldens are
// computed from it, in UTC.
var testNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// hostileSubject tries the clipboard (OSC 52), the bell, a screen clear and
// a right-to-left override.
const hostileSubject = "\x1b]52;c;ZXZpbA==\x07Pay now\x1b[2J \u202Efdp.exe"

// fixture is a store filled through the store API.
type fixture struct {
	st      *store.Store
	account *store.Account
	ids     map[int64]int64 // ticket number → row id
}

type seedMessage struct {
	kind, from, fromName, body, warning, autoReason string
	ago                                             time.Duration
	atts                                            []store.Attachment
	outbox, outboxErr                               string
}

type seedTicket struct {
	number                   int64
	subject, requester, name string
	project                  string
	closed, read             bool
	labels                   []string
	messages                 []seedMessage
}

func seedTickets() []seedTicket {
	return []seedTicket{
		{number: 101, subject: "Cannot log in", requester: "alice@example.com", name: "Alice Liddell", project: "acme",
			messages: []seedMessage{
				{kind: store.KindCustomer, from: "alice@example.com", fromName: "Alice Liddell", ago: 2 * time.Hour,
					body: "Hello,\r\n\r\nI cannot log in since yesterday. The password reset mail never arrives, whatever I try, on any browser.\r\n\r\nAlice"},
				{kind: store.KindAuto, from: "support@example.com", fromName: "Support Bot", autoReason: "thank-you", ago: 2*time.Hour - time.Minute,
					body: "Thank you for contacting us. Your ticket number is #101."},
				{kind: store.KindNote, from: "support@example.com", fromName: "Carol", ago: time.Hour,
					body: "Checked the logs: the reset mails bounce at their MX."},
				{kind: store.KindReply, from: "support@example.com", fromName: "Bob", ago: 50 * time.Minute,
					body: "Hi Alice, could you check your spam folder?", outbox: store.OutboxFailed, outboxErr: "554 5.7.1 message rejected"},
				{kind: store.KindCustomer, from: "alice@example.com", fromName: "Alice Liddell", ago: 5 * time.Minute,
					warning: `unknown charset "x-foo", read as latin-1`,
					atts:    []store.Attachment{{Filename: "screenshot.png", ContentType: "image/png", Size: 48213}},
					body:    "Nothing in spam.\tHere is a screenshot of the error."},
			}},
		{number: 102, subject: hostileSubject, requester: "mallory@evil.example", name: "Mallory\u202E\x07", project: "acme",
			messages: []seedMessage{
				{kind: store.KindCustomer, from: "mallory@evil.example", fromName: "Mallory\u202E", ago: 3 * time.Hour,
					atts: []store.Attachment{{Filename: "invoice\u202Efdp.exe", ContentType: "application/octet-stream", Size: 512}},
					body: "Click \x1b]8;;http://evil.example\x1b\\here\x1b]8;;\x1b\\ \x07\x1b[31mnow\x1b[0m\roverprinted"},
			}},
		{number: 103, subject: "Invoice for October", requester: "bob@example.org", name: "Bob Builder", project: "billing",
			read: true, labels: []string{"billing", "vip"},
			messages: []seedMessage{
				{kind: store.KindCustomer, from: "bob@example.org", fromName: "Bob Builder", ago: 50 * time.Hour,
					body: "Please send the October invoice again."},
			}},
		{number: 104, subject: "Thanks, solved", requester: "carol@example.net", project: "acme", closed: true, read: true,
			messages: []seedMessage{
				{kind: store.KindCustomer, from: "carol@example.net", ago: 40 * 24 * time.Hour, body: "All good now, thanks."},
			}},
		{number: 105, subject: "日本語の件名について質問があります：請求書の再発行", requester: "tanaka@example.jp", name: "田中太郎", project: "サポート",
			messages: []seedMessage{
				{kind: store.KindCustomer, from: "tanaka@example.jp", fromName: "田中太郎", ago: 30 * time.Minute,
					body: "請求書を再発行していただけますか。よろしくお願いします。"},
			}},
	}
}

// newFixture opens a store in a temp dir and fills it.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "desk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acct, err := st.EnsureAccount(ctx, "acme", "support@example.com", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, account: acct, ids: map[int64]int64{}}
	type failure struct {
		messageID, err string
	}
	var failures []failure
	uid := uint32(1)
	err = st.Update(ctx, func(tx *store.Tx) error {
		for _, s := range seedTickets() {
			first := s.messages[0]
			tk := &store.Ticket{Number: s.number, Project: s.project, Subject: s.subject, Requester: s.requester,
				RequesterName: s.name, ReplyKey: fmt.Sprintf("key%d", s.number),
				RootMessageID: fmt.Sprintf("m%d.0@example.com", s.number), Created: testNow.Add(-first.ago)}
			if err := tx.CreateTicket(acct.ID, tk); err != nil {
				return err
			}
			f.ids[s.number] = tk.ID
			for i, sm := range s.messages {
				m := &store.Message{TicketID: tk.ID, MessageID: fmt.Sprintf("m%d.%d@example.com", s.number, i),
					From: sm.from, FromName: sm.fromName, Subject: s.subject, Date: testNow.Add(-sm.ago),
					Kind: sm.kind, Body: sm.body, Attachments: sm.atts, AutoReason: sm.autoReason, ParseWarning: sm.warning}
				if sm.outbox == "" {
					m.UID = uid
					uid++
				}
				if err := tx.AddMessage(acct.ID, m); err != nil {
					return err
				}
				if sm.outbox != "" {
					if err := tx.QueueOutbox(&store.OutboxItem{AccountID: acct.ID, TicketID: tk.ID, Kind: sm.kind,
						MessageID: m.MessageID, Author: sm.fromName, Body: sm.body, Created: m.Date}); err != nil {
						return err
					}
					failures = append(failures, failure{m.MessageID, sm.outboxErr})
				}
			}
			if len(s.labels) > 0 {
				if _, err := tx.ApplyServerKeywords(tk.ID, store.ServerKeywords{Labels: s.labels}); err != nil {
					return err
				}
			}
			if s.closed {
				if err := tx.SetState(tk.ID, store.StateClosed); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range seedTickets() {
		if s.read {
			if err := st.MarkRead(ctx, f.ids[s.number]); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Fail the queued replies the way the send worker would.
	items, err := st.DueOutbox(ctx, acct.ID, testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		for _, fl := range failures {
			if it.MessageID == fl.messageID {
				if err := st.SetOutboxState(ctx, it.ID, store.OutboxFailed, fl.err, time.Time{}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return f
}

// ticket reads a ticket by number.
func (f *fixture) ticket(t *testing.T, n int64) *store.Ticket {
	t.Helper()
	tk, err := f.st.Ticket(context.Background(), f.ids[n])
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// messages reads a ticket's messages by number.
func (f *fixture) messages(t *testing.T, n int64) []*store.Message {
	t.Helper()
	ms, err := f.st.Messages(context.Background(), f.ids[n])
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// addMessage stores a new message in ticket n, as the sync worker would.
func (f *fixture) addMessage(t *testing.T, n int64, m *store.Message) {
	t.Helper()
	m.TicketID = f.ids[n]
	err := f.st.Update(context.Background(), func(tx *store.Tx) error { return tx.AddMessage(f.account.ID, m) })
	if err != nil {
		t.Fatal(err)
	}
}

// harness drives a model synchronously: messages go to Update and the
// returned Cmds run at once, their messages fed back, until none is left.
type harness struct {
	t       testing.TB
	m       *model
	quit    bool
	pending []time.Duration // what the model asked to be woken after
}

// newHarness makes a model over f's store at a fixed size and clock and
// runs its first load.
func newHarness(t *testing.T, f *fixture, w, h int) *harness {
	t.Helper()
	return newHarnessOpts(t, f, w, h, Options{Author: "Dana", Title: "desk — test"})
}

func newHarnessOpts(t *testing.T, f *fixture, w, h int, opts Options) *harness {
	t.Helper()
	hs := &harness{t: t, m: newModel(f.st, opts)}
	hs.m.now = func() time.Time { return testNow }
	hs.m.after = func(d time.Duration, _ func(time.Time) tea.Msg) tea.Cmd {
		hs.pending = append(hs.pending, d)
		return nil
	}
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.run(hs.m.Init())
	return hs
}

// send delivers one message and runs what it returns.
func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	_, cmd := h.m.Update(msg)
	h.run(cmd)
}

// run runs cmd and everything that follows from it.
func (h *harness) run(cmd tea.Cmd) {
	h.t.Helper()
	queue := []tea.Cmd{cmd}
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 1000 {
			h.t.Fatal("commands do not settle")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case tea.QuitMsg:
			h.quit = true
		default:
			_, next := h.m.Update(msg)
			queue = append(queue, next)
		}
	}
}

// press sends key presses, each with its Cmds run.
func (h *harness) press(keys ...tea.KeyPressMsg) {
	h.t.Helper()
	for _, k := range keys {
		h.send(k)
	}
}

// typeText types s into whatever has the focus.
func (h *harness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		if r == ' ' {
			h.send(keySpace)
			continue
		}
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// screen is the view with its styling removed.
func (h *harness) screen() string {
	return ansi.Strip(h.m.View().Content)
}

// goldenScreen is the screen with trailing spaces cut from every line, so
// golden files survive editors.
func (h *harness) goldenScreen() string {
	lines := strings.Split(h.screen(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// keyOf is a printable key press.
func keyOf(r rune) tea.KeyPressMsg { return tea.KeyPressMsg{Code: r, Text: string(r)} }

var (
	keyEnter = tea.KeyPressMsg{Code: tea.KeyEnter}
	keyEsc   = tea.KeyPressMsg{Code: tea.KeyEscape}
	keyTab   = tea.KeyPressMsg{Code: tea.KeyTab}
	keySpace = tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	keyDown  = tea.KeyPressMsg{Code: tea.KeyDown}
	keyCtrlS = tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl}
	keyCtrlC = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
)

// selectNumber moves the list cursor to ticket n.
func (h *harness) selectNumber(n int64) {
	h.t.Helper()
	h.press(keyOf('g'))
	for i := 0; i < h.m.total; i++ {
		if r, ok := h.m.current(); ok && r.Number == n {
			return
		}
		h.press(keyOf('j'))
	}
	h.t.Fatalf("ticket #%d is not listed:\n%s", n, h.screen())
}

// checkFits fails if the view has more lines than the height or a line
// wider than the width.
func checkFits(t *testing.T, view string, w, hgt int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != hgt {
		t.Errorf("view has %d lines, want %d", len(lines), hgt)
	}
	for i, l := range lines {
		if got := ansi.StringWidth(l); got > w {
			t.Errorf("line %d is %d wide, more than %d: %q", i, got, w, ansi.Strip(l))
		}
	}
}

// keywordChanges picks the queued changes of one keyword.
func keywordChanges(all []store.KeywordChange, keyword string) []store.KeywordChange {
	var out []store.KeywordChange
	for _, k := range all {
		if k.Keyword == keyword {
			out = append(out, k)
		}
	}
	return out
}
