package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"

	"desk/store"
)

// composer is the inline editor for a reply or an internal note.
type composer struct {
	kind     string
	ticketID int64
	number   int64
	to       string // the requester, for the title
	ta       textarea.Model
	confirm  bool   // asking "discard draft? y/n"
	err      string // why the last send was refused
}

// openComposer opens the editor under the open thread.
func (m *model) openComposer(kind string) {
	t := m.thread
	if t == nil || t.row.ID == 0 {
		return // a ticket named by number is not found yet
	}
	ta := textarea.New()
	ta.ShowLineNumbers = false
	ta.MaxHeight = 0 // the height is set from the window; no line limit
	ta.MaxWidth = 0
	ta.CharLimit = 0
	ta.Prompt = "┃ "
	if kind == store.KindNote {
		ta.Placeholder = "Only staff see this."
	} else {
		ta.Placeholder = "Write the reply…"
	}
	c := &composer{kind: kind, ticketID: t.row.ID, number: t.row.Number, to: t.row.Requester, ta: ta}
	c.setDark(m.isDark)
	c.ta.Focus()
	m.compose = c
	t.pin = pinBottom // the newest message is the one answered
	m.help.ShowAll = false
}

// setDark styles the editor for the terminal's background, with a steady
// cursor: a blinking one would keep a timer running.
func (c *composer) setDark(dark bool) {
	st := textarea.DefaultStyles(dark)
	st.Cursor.Blink = false
	c.ta.SetStyles(st)
}

// textareaHeight is the editor's height for a window height.
func textareaHeight(windowH int) int {
	return min(max((windowH-6)/4, 2), 10)
}

// setSize fits the editor to the window.
func (c *composer) setSize(w, h int) {
	c.ta.SetWidth(max(w, 4))
	c.ta.SetHeight(textareaHeight(h))
}

// height is the composer's lines: title, editor, message line.
func (c *composer) height() int {
	return 1 + c.ta.Height() + 1
}

// title names what is being written.
func (c *composer) title() string {
	if c.kind == store.KindNote {
		return "Internal note — never sent to the customer — ctrl+s save, esc cancel"
	}
	return "Reply to " + orUnknown(c.to) + " — ctrl+s send, esc cancel"
}

// view draws the composer at width w.
func (c *composer) view(s Styles, w int) []string {
	title := s.ComposeTitle
	if c.kind == store.KindNote {
		title = s.Note.Bold(true)
	}
	lines := []string{title.Render(clip(c.title(), w))}
	lines = append(lines, strings.Split(c.ta.View(), "\n")...)
	switch {
	case c.confirm:
		lines = append(lines, s.Error.Render(clip("discard draft? y/n", w)))
	case c.err != "":
		lines = append(lines, s.Error.Render(clip(c.err, w)))
	default:
		lines = append(lines, "")
	}
	return lines
}

// composeKey handles a key while the composer is open.
func (m *model) composeKey(msg tea.KeyPressMsg) tea.Cmd {
	c, k := m.compose, m.keys
	if c.confirm {
		switch {
		case key.Matches(msg, k.Discard):
			m.compose = nil
			return m.setFlash("draft discarded", false)
		case key.Matches(msg, k.Keep):
			c.confirm = false
		}
		return nil
	}
	switch {
	case key.Matches(msg, k.Send):
		return m.send()
	case key.Matches(msg, k.Cancel):
		if strings.TrimSpace(c.ta.Value()) != "" {
			c.confirm = true
			return nil
		}
		m.compose = nil
		return nil
	}
	c.err = ""
	var cmd tea.Cmd
	c.ta, cmd = c.ta.Update(msg)
	return cmd
}

// send queues the draft: it shows in the thread at once, marked queued,
// and the store write runs in a Cmd. An empty draft is refused.
func (m *model) send() tea.Cmd {
	c, t := m.compose, m.thread
	body := c.ta.Value()
	if strings.TrimSpace(body) == "" {
		c.err = "empty message: nothing to send"
		return nil
	}
	m.compose = nil
	m.seq++
	local := m.seq
	view := newMessageView(&store.Message{
		Kind: c.kind, FromName: m.author, Date: m.now(), Body: body, Outbox: store.OutboxQueued,
	})
	if t != nil && t.row.ID == c.ticketID {
		t.pending = append(t.pending, pendingReply{local: local, view: view})
		t.dirty, t.pin = true, pinBottom
	}
	return queueReply(m.st, local, c.ticketID, c.kind, m.author, body)
}

// replyQueued follows a QueueReply: on success re-read the thread, list and
// outbox; on failure give the draft back, so nothing typed is lost.
func (m *model) replyQueued(msg replyQueuedMsg) tea.Cmd {
	t := m.thread
	if t != nil {
		for i := range t.pending {
			if t.pending[i].local == msg.local {
				if msg.err != nil {
					t.pending = append(t.pending[:i], t.pending[i+1:]...)
				} else {
					t.pending[i].messageID = msg.messageID
				}
				t.dirty = true
				break
			}
		}
	}
	if msg.err != nil {
		flash := m.setFlash("not queued: "+errorText(msg.err), true)
		if t != nil && t.row.ID == msg.ticketID && m.compose == nil {
			m.openComposer(msg.kind)
			if m.compose != nil {
				m.compose.ta.SetValue(msg.body)
				m.compose.err = "not queued: " + errorText(msg.err)
			}
		}
		return flash
	}
	what := "reply queued"
	if msg.kind == store.KindNote {
		what = "note saved"
	}
	if n := m.numberOf(msg.ticketID); n != 0 {
		what += fmt.Sprintf(" on #%d", n)
	}
	return tea.Batch(
		m.reloadThread(),
		m.reloadList(),
		loadOutbox(m.st),
		m.setFlash(what, false),
	)
}

// numberOf is the number of a ticket shown somewhere, or 0.
func (m *model) numberOf(id int64) int64 {
	if t := m.thread; t != nil && t.row.ID == id {
		return t.row.Number
	}
	for _, r := range m.rows {
		if r.ID == id {
			return r.Number
		}
	}
	return 0
}
