package tui

import (
	"fmt"
	netmail "net/mail"
	"os"
	"os/exec"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"

	"desk/store"
)

// draftDelay is how long typing pauses before the draft is saved.
const draftDelay = 700 * time.Millisecond

// composer is the inline editor for a reply or an internal note.
type composer struct {
	kind     string
	ticketID int64
	number   int64
	to       string // the requester, for the title
	status   string // the ticket's status when the composer opened
	ta       textarea.Model
	confirm  bool   // asking "discard draft? y/N"
	err      string // why the last send was refused
	saveSeq  int    // numbers draft saves: only the newest pending one runs
	seen     int    // messages in the thread when writing started (-1: not read yet)
	newer    int    // messages that arrived since
	warned   bool   // the collision warning was shown: the next send goes
	dark     bool
}

// draftSaveMsg asks to save the draft if no newer keystroke came.
type draftSaveMsg struct{ seq int }

// draftLoadedMsg carries a saved draft for the composer that asked.
type draftLoadedMsg struct {
	ticketID int64
	kind     string
	body     string
}

// editorDoneMsg carries the file $EDITOR wrote.
type editorDoneMsg struct {
	path string
	err  error
}

// openComposer opens the editor under the open thread and restores the
// ticket's saved draft.
func (m *model) openComposer(kind string) tea.Cmd {
	t := m.thread
	if t == nil || t.row.ID == 0 {
		return nil // a ticket named by number is not found yet
	}
	if m.opts.ReadOnly {
		return m.readOnly()
	}
	ta := textarea.New()
	ta.ShowLineNumbers = false
	ta.MaxHeight = 0 // the height is set from the window; no line limit
	ta.MaxWidth = 0
	ta.CharLimit = 0
	c := &composer{ticketID: t.row.ID, number: t.row.Number, to: t.row.Requester, status: t.row.State, ta: ta, seen: len(t.msgs)}
	if !t.loaded {
		c.seen = -1 // counted when the thread's first read lands
	}
	c.dark = m.isDark
	c.setKind(kind)
	c.ta.Focus()
	m.compose = c
	t.pin = pinBottom // the newest message is the one answered
	return loadDraft(m.st, c.ticketID, kind)
}

// setKind makes the draft a reply or a note: placeholder and border.
func (c *composer) setKind(kind string) {
	c.kind = kind
	if kind == store.KindNote {
		c.ta.Placeholder = "Only staff see this. /status pending, /label ~x, /assign @me on their own lines act on send."
		c.ta.Prompt = "▌ "
	} else {
		c.ta.Placeholder = "Write the reply… /close, /status pending, /label ~x on their own lines act on send."
		c.ta.Prompt = "┃ "
	}
	c.setDark(c.dark)
}

// setDark styles the editor for the terminal's background and the draft's
// kind (a note's border is the note colour), with a steady cursor: a
// blinking one would keep a timer running.
func (c *composer) setDark(dark bool) {
	c.dark = dark
	st := textarea.DefaultStyles(dark)
	st.Cursor.Blink = false
	border := DefaultStyles(dark).ComposeTitle
	if c.kind == store.KindNote {
		border = DefaultStyles(dark).Note
	}
	st.Focused.Prompt = border
	st.Blurred.Prompt = border
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

// height is the composer's lines: title, editor, review line.
func (c *composer) height() int {
	return 1 + c.ta.Height() + 1
}

// title names what is being written.
func (c *composer) title() string {
	if c.kind == store.KindNote {
		return "Internal note — never sent to the customer — ctrl+s save, ctrl+t make it a reply, esc cancel"
	}
	return "Reply to " + orUnknown(c.to) + " — ctrl+s send, ctrl+t make it a note, esc cancel"
}

// review says what sending will do: to whom, and the ticket afterwards.
func (c *composer) review() string {
	_, ch, summary, _, err := quickActions(c.ta.Value())
	if err != nil {
		return err.Error()
	}
	who := "→ " + orUnknown(c.to)
	if c.kind == store.KindNote {
		who = "→ staff only"
	}
	status := c.status
	if ch.Status != "" {
		status = ch.Status
	}
	text := who + " · status after send: " + status
	if len(summary) > 0 {
		text += " · " + strings.Join(summary, ", ")
	}
	return text
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
		lines = append(lines, s.Error.Render(clip("Discard draft? (y/N)", w)))
	case c.err != "":
		lines = append(lines, s.Error.Render(clip(c.err, w)))
	default:
		lines = append(lines, s.Dim.Render(clip(c.review(), w)))
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
			return tea.Batch(deleteDraft(m.st, c.ticketID, c.kind), m.setFlash("draft discarded", false))
		case key.Matches(msg, k.Keep):
			c.confirm = false
		}
		return nil
	}
	switch {
	case key.Matches(msg, k.Send):
		return m.send()
	case key.Matches(msg, k.ToggleKind):
		old := c.kind
		kind := store.KindNote
		if c.kind == store.KindNote {
			kind = store.KindReply
		}
		c.setKind(kind)
		return tea.Batch(deleteDraft(m.st, c.ticketID, old), m.scheduleDraft())
	case key.Matches(msg, k.Editor):
		return m.runEditor()
	case key.Matches(msg, k.Macro):
		return m.openPicker("")
	case key.Matches(msg, k.Cancel):
		if strings.TrimSpace(c.ta.Value()) != "" {
			c.confirm = true
			return nil
		}
		m.compose = nil
		return deleteDraft(m.st, c.ticketID, c.kind)
	}
	c.err = ""
	var cmd tea.Cmd
	c.ta, cmd = c.ta.Update(msg)
	return tea.Batch(cmd, m.scheduleDraft())
}

// scheduleDraft saves the draft once typing pauses.
func (m *model) scheduleDraft() tea.Cmd {
	c := m.compose
	c.saveSeq++
	seq := c.saveSeq
	return m.after(draftDelay, func(time.Time) tea.Msg { return draftSaveMsg{seq: seq} })
}

// saveDraftNow saves the draft if no keystroke came since msg was
// scheduled.
func (m *model) saveDraftNow(msg draftSaveMsg) tea.Cmd {
	c := m.compose
	if c == nil || msg.seq != c.saveSeq {
		return nil
	}
	return saveDraft(m.st, c.ticketID, c.kind, c.ta.Value())
}

// draftLoaded restores a saved draft into an untouched composer.
func (m *model) draftLoaded(msg draftLoadedMsg) {
	c := m.compose
	if c == nil || c.ticketID != msg.ticketID || c.kind != msg.kind || c.ta.Value() != "" || msg.body == "" {
		return
	}
	c.ta.SetValue(msg.body)
	c.err = "draft restored"
}

// runEditor hands the draft to $EDITOR (only when running locally).
func (m *model) runEditor() tea.Cmd {
	editor := os.Getenv("VISUAL")
	if editor == "" {
		editor = os.Getenv("EDITOR")
	}
	if m.opts.Remote || editor == "" {
		m.compose.err = "no $EDITOR here: set EDITOR (not available over SSH)"
		return nil
	}
	f, err := os.CreateTemp("", "desk-draft-*.txt")
	if err != nil {
		m.compose.err = errorText(err)
		return nil
	}
	_, err = f.WriteString(m.compose.ta.Value())
	f.Close()
	if err != nil {
		m.compose.err = errorText(err)
		return nil
	}
	path := f.Name()
	return tea.ExecProcess(exec.Command("sh", "-c", editor+` "$1"`, "sh", path), func(err error) tea.Msg {
		return editorDoneMsg{path: path, err: err}
	})
}

// editorDone takes the text back from $EDITOR.
func (m *model) editorDone(msg editorDoneMsg) tea.Cmd {
	defer os.Remove(msg.path)
	c := m.compose
	if c == nil {
		return nil
	}
	if msg.err != nil {
		c.err = "editor: " + errorText(msg.err)
		return nil
	}
	b, err := os.ReadFile(msg.path)
	if err != nil {
		c.err = errorText(err)
		return nil
	}
	c.ta.SetValue(strings.TrimRight(string(b), "\n"))
	return m.scheduleDraft()
}

// send queues the draft: it shows in the thread at once, marked queued,
// and the store write runs in a Cmd; quick actions apply with it. An empty
// draft is refused, and the first send after new messages arrived only
// warns.
func (m *model) send() tea.Cmd {
	c, t := m.compose, m.thread
	body, ch, _, emails, err := quickActions(c.ta.Value())
	if err != nil {
		c.err = err.Error()
		return nil
	}
	if ch.Assignee != nil && strings.EqualFold(*ch.Assignee, "me") {
		me := m.author
		ch.Assignee = &me
	}
	hasChange := ch.Status != "" || ch.Assignee != nil || ch.Spam != nil || len(ch.AddLabels)+len(ch.RemoveLabels) > 0 ||
		len(emails.add)+len(emails.remove) > 0
	if strings.TrimSpace(body) == "" && !hasChange {
		c.err = "empty message: nothing to send"
		return nil
	}
	if c.newer > 0 && !c.warned {
		c.warned = true
		c.err = fmt.Sprintf("⚠ %d new %s arrived while you typed (shown above) — ctrl+s again to send anyway",
			c.newer, plural(c.newer, "message"))
		return nil
	}
	m.compose = nil
	cmds := []tea.Cmd{deleteDraft(m.st, c.ticketID, c.kind)}
	if hasChange {
		cmds = append(cmds, applyChange(m.st, m.author, []int64{c.ticketID}, ch, fmt.Sprintf("Updated #%d", c.number)))
	}
	if len(emails.add)+len(emails.remove) > 0 {
		cmds = append(cmds, editParticipants(m.st, m.author, c.ticketID, emails))
	}
	if strings.TrimSpace(body) == "" {
		return tea.Batch(cmds...)
	}
	m.seq++
	local := m.seq
	view := newMessageView(&store.Message{
		Kind: c.kind, FromName: m.author, Date: m.now(), Body: body, Outbox: store.OutboxQueued,
	})
	if t != nil && t.row.ID == c.ticketID {
		t.pending = append(t.pending, pendingReply{local: local, view: view})
		t.dirty, t.pin = true, pinBottom
	}
	return tea.Batch(append(cmds, queueReply(m.st, local, c.ticketID, c.kind, m.author, body))...)
}

// noticeNewMessages counts messages that arrived in the thread while a
// draft of it is open.
func (m *model) noticeNewMessages() {
	c, t := m.compose, m.thread
	if c == nil || t == nil || t.row.ID != c.ticketID {
		return
	}
	if c.seen < 0 {
		c.seen, c.status = len(t.msgs), t.row.State
		return
	}
	if n := len(t.msgs) - c.seen; n > c.newer {
		c.newer, c.warned = n, false
	}
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
	if c := m.compose; c != nil && c.ticketID == msg.ticketID {
		c.seen++ // our own message is no collision
	}
	return tea.Batch(
		m.reloadThread(),
		m.refresh(),
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

// participantEdits are the /add_email and /remove_email lines of a draft.
type participantEdits struct{ add, remove []string }

// quickActions takes the quick-action lines out of a draft: /close,
// /reopen, /status S, /label ~a ~b, /unlabel ~a, /assign @me|@name,
// /unassign, /spam, /add_email a@b, /remove_email a@b. It returns the rest
// of the text, the change, a summary for the review line, and the
// participant edits.
func quickActions(draft string) (body string, ch store.Change, summary []string, emails participantEdits, err error) {
	var kept []string
	for _, line := range strings.Split(draft, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], "/") {
			kept = append(kept, line)
			continue
		}
		args := f[1:]
		switch f[0] {
		case "/close", "/reopen":
			ch.Status = store.StateClosed
			if f[0] == "/reopen" {
				ch.Status = store.StateOpen
			}
		case "/status":
			if len(args) != 1 || !store.IsStatus(args[0]) {
				return "", ch, nil, emails, fmt.Errorf("/status wants one of %s", strings.Join(store.Statuses, ", "))
			}
			ch.Status = args[0]
		case "/label", "/unlabel":
			if len(args) == 0 {
				return "", ch, nil, emails, fmt.Errorf("%s wants labels, e.g. %s ~billing", f[0], f[0])
			}
			for _, a := range args {
				l := store.LabelName(a)
				if f[0] == "/label" {
					ch.AddLabels = append(ch.AddLabels, l)
					summary = append(summary, "+"+l)
				} else {
					ch.RemoveLabels = append(ch.RemoveLabels, l)
					summary = append(summary, "-"+l)
				}
			}
		case "/assign":
			if len(args) == 0 {
				return "", ch, nil, emails, fmt.Errorf("/assign wants @me or @name")
			}
			name := strings.TrimPrefix(strings.Join(args, " "), "@")
			ch.Assignee = &name
			summary = append(summary, "assign "+name)
		case "/unassign":
			none := ""
			ch.Assignee = &none
			summary = append(summary, "unassign")
		case "/spam":
			spam := true
			ch.Spam = &spam
			summary = append(summary, "spam")
		case "/add_email", "/remove_email":
			if len(args) == 0 {
				return "", ch, nil, emails, fmt.Errorf("%s wants addresses, e.g. %s ana@example.com", f[0], f[0])
			}
			for _, a := range args {
				addr, perr := netmail.ParseAddress(a)
				if perr != nil || addr.Name != "" {
					return "", ch, nil, emails, fmt.Errorf("%s: %q is not an address", f[0], a)
				}
				if f[0] == "/add_email" {
					emails.add = append(emails.add, addr.Address)
					summary = append(summary, "cc "+addr.Address)
				} else {
					emails.remove = append(emails.remove, addr.Address)
					summary = append(summary, "no cc "+addr.Address)
				}
			}
		default:
			kept = append(kept, line) // not ours: text that starts with a slash
		}
	}
	return strings.TrimSpace(strings.Join(kept, "\n")), ch, summary, emails, nil
}
