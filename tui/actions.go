package tui

import (
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"desk/store"
)

// undoEntry is one change that u can take back.
type undoEntry struct {
	label string
	snaps []store.Snapshot
}

// maxUndo bounds the undo stack.
const maxUndo = 50

// statusKeys are the second key of the s chord.
var statusKeys = []struct {
	key    string
	status string
}{{"o", store.StateOpen}, {"p", store.StatePending}, {"h", store.StateOnHold}, {"s", store.StateSolved}, {"c", store.StateClosed}}

// target is what an action applies to: the marked tickets, or the one
// under the cursor (or open in the thread).
type target struct {
	ids        []int64
	label      string // "#123" or "4 tickets"
	fromCursor bool   // the ticket under the list's cursor
}

// targets picks what an action applies to.
func (m *model) targets(r ticketRow) target {
	if len(m.marks) > 0 && m.screen == screenList {
		ids := make([]int64, 0, len(m.marks))
		for id := range m.marks {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		return target{ids: ids, label: fmt.Sprintf("%d %s", len(ids), plural(len(ids), "ticket"))}
	}
	return target{ids: []int64{r.ID}, label: fmt.Sprintf("#%d", r.Number), fromCursor: m.screen == screenList}
}

// actionKey handles the keys that change tickets, on the list (r is the
// row under the cursor) or in a thread (r is the open ticket).
func (m *model) actionKey(msg tea.KeyPressMsg, r ticketRow) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.Status), key.Matches(msg, k.Assign), key.Matches(msg, k.Fold) && m.screen == screenThread:
		if !key.Matches(msg, k.Fold) && m.opts.ReadOnly {
			return m.readOnly()
		}
		m.chord = msg.String()
	case key.Matches(msg, k.Labels):
		if m.opts.ReadOnly {
			return m.readOnly()
		}
		m.openPrompt(promptLabels, "")
	case key.Matches(msg, k.Spam):
		spam := !r.Spam
		what := "Marked %s spam"
		if !spam {
			what = "Marked %s not spam"
		}
		return m.change(r, store.Change{Spam: &spam}, what)
	case key.Matches(msg, k.Toggle):
		status, what := store.StateClosed, "Closed %s"
		if r.State == store.StateClosed {
			status, what = store.StateOpen, "Reopened %s"
		}
		return m.change(r, store.Change{Status: status}, what)
	case key.Matches(msg, k.Undo):
		return m.undoLast()
	default:
		return m.globalKey(msg)
	}
	return nil
}

// globalKey handles the keys that work on every screen.
func (m *model) globalKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Help):
		m.openOverlay()
	case key.Matches(msg, m.keys.Command):
		m.openPrompt(promptCommand, "")
	case key.Matches(msg, m.keys.Undo):
		return m.undoLast()
	}
	return nil
}

// chordKey handles the second key of a two-key command.
func (m *model) chordKey(msg tea.KeyPressMsg) tea.Cmd {
	first := m.chord
	m.chord = ""
	if msg.String() == "esc" {
		return nil
	}
	r, ok := m.actionRow()
	if first == "z" {
		return m.foldKey(msg.String())
	}
	if !ok {
		return nil
	}
	switch first {
	case "s":
		for _, sk := range statusKeys {
			if msg.String() == sk.key {
				return m.change(r, store.Change{Status: sk.status}, "Set %s to "+sk.status)
			}
		}
	case "a":
		switch msg.String() {
		case "m":
			me := m.author
			return m.change(r, store.Change{Assignee: &me}, "Took %s")
		case "-", "n":
			none := ""
			return m.change(r, store.Change{Assignee: &none}, "Unassigned %s")
		case "a", "enter", "/":
			m.openPrompt(promptAssign, "")
		}
	}
	return nil
}

// chordHint is the hint line while a chord waits for its second key.
func (m *model) chordHint() string {
	switch m.chord {
	case "s":
		var parts []string
		for _, sk := range statusKeys {
			parts = append(parts, sk.key+" "+sk.status)
		}
		return "status: " + strings.Join(parts, " · ") + " · esc cancel"
	case "a":
		return "assign: m me · - nobody · a type a name · esc cancel"
	case "z":
		return "fold: o open · c close · a toggle · R open all · M close all · esc cancel"
	}
	return ""
}

// actionRow is the ticket an action names: the open thread's, or the row
// under the cursor.
func (m *model) actionRow() (ticketRow, bool) {
	if m.screen == screenThread && m.thread != nil {
		return m.thread.row, m.thread.row.ID != 0
	}
	if len(m.marks) > 0 {
		r, _ := m.current()
		return r, true
	}
	return m.current()
}

// readOnly refuses a change.
func (m *model) readOnly() tea.Cmd { return m.setFlash("read-only: nothing can be changed", true) }

// change applies c to the action's targets: shown at once where it can be,
// written in a Cmd; the cursor moves on to the next ticket. what describes
// it, with %s for the targets ("Closed %s").
func (m *model) change(r ticketRow, c store.Change, what string) tea.Cmd {
	if m.opts.ReadOnly {
		return m.readOnly()
	}
	t := m.targets(r)
	if len(t.ids) == 0 || t.ids[0] == 0 {
		return nil
	}
	label := fmt.Sprintf(what, t.label)
	for _, id := range t.ids {
		m.showChange(id, c)
	}
	if len(m.marks) > 0 {
		m.clearMarks()
	} else if t.fromCursor && !m.opts.StayAfterAction {
		if next, ok := m.rowAt(m.cursor + 1); ok {
			m.cursor++
			m.selected = next.ID
		}
	}
	return applyChange(m.st, m.author, t.ids, c, label)
}

// showChange draws a change before the store has it.
func (m *model) showChange(id int64, c store.Change) {
	apply := func(r *ticketRow) {
		if r.ID != id {
			return
		}
		if c.Status != "" {
			r.State = c.Status
		}
		if c.Assignee != nil {
			r.Assignee = store.NormalizeAssignee(*c.Assignee)
		}
		if c.Spam != nil {
			r.Spam = *c.Spam
		}
	}
	for i := range m.rows {
		apply(&m.rows[i])
	}
	if t := m.thread; t != nil {
		apply(&t.row)
	}
}

// changeApplied follows a change: offer undo, re-read, or report.
func (m *model) changeApplied(msg changeAppliedMsg) tea.Cmd {
	cmds := []tea.Cmd{m.refresh(), m.reloadThread()}
	switch {
	case msg.err != nil:
		cmds = append(cmds, m.setFlash(msg.label+": "+errorText(msg.err), true))
	case msg.undo:
		cmds = append(cmds, m.setFlash("Undone: "+msg.label, false))
	default:
		m.undo = append(m.undo, undoEntry{label: msg.label, snaps: msg.snaps})
		if len(m.undo) > maxUndo {
			m.undo = m.undo[1:]
		}
		cmds = append(cmds, m.setFlash(msg.label+" · u undo", false))
	}
	return tea.Batch(cmds...)
}

// undoLast takes back the newest change.
func (m *model) undoLast() tea.Cmd {
	if m.opts.ReadOnly {
		return m.readOnly()
	}
	if len(m.undo) == 0 {
		return m.setFlash("nothing to undo", false)
	}
	e := m.undo[len(m.undo)-1]
	m.undo = m.undo[:len(m.undo)-1]
	return restore(m.st, m.author, e.snaps, e.label)
}

// toggleMark marks or unmarks the ticket under the cursor.
func (m *model) toggleMark() {
	r, ok := m.current()
	if !ok {
		return
	}
	if m.marks[r.ID] {
		delete(m.marks, r.ID)
	} else {
		m.marks[r.ID] = true
	}
	m.markAnchor = m.cursor
}

// markRange marks every ticket from the last mark to the cursor.
func (m *model) markRange() tea.Cmd {
	lo, hi := min(m.markAnchor, m.cursor), max(m.markAnchor, m.cursor)
	m.markAnchor = m.cursor
	sec := m.sections[m.sec]
	return markByQuery(m.st, sec.query, m.env(), lo, hi-lo+1)
}

// clearMarks unmarks everything.
func (m *model) clearMarks() {
	if len(m.marks) > 0 {
		m.marks = map[int64]bool{}
	}
}

// marked adds what a mark by query or range found.
func (m *model) marked(msg markedMsg) tea.Cmd {
	if msg.err != nil {
		return m.setFlash("mark: "+errorText(msg.err), true)
	}
	for _, id := range msg.ids {
		m.marks[id] = true
	}
	return m.setFlash(fmt.Sprintf("%d marked", len(m.marks)), false)
}

// wheel scrolls the list or the thread.
func (m *model) wheel(msg tea.MouseWheelMsg) tea.Cmd {
	delta := 0
	switch msg.Button {
	case tea.MouseWheelUp:
		delta = -3
	case tea.MouseWheelDown:
		delta = 3
	}
	switch {
	case m.screen == screenThread && m.thread != nil:
		if delta < 0 {
			m.thread.vp.ScrollUp(-delta)
		} else {
			m.thread.vp.ScrollDown(delta)
		}
	case m.screen == screenList:
		return m.moveCursor(delta)
	}
	return nil
}

// click selects a tab or a row of the list.
func (m *model) click(msg tea.MouseClickMsg) tea.Cmd {
	if m.screen != screenList || msg.Button != tea.MouseLeft || m.overlay != nil {
		return nil
	}
	if msg.Y == 0 {
		if i := m.tabAt(msg.X); i >= 0 && i != m.sec {
			return m.switchSection(i)
		}
		return nil
	}
	row := m.offset + msg.Y - listHeaderLines
	if msg.Y < listHeaderLines || row >= m.total || msg.Y >= listHeaderLines+m.listRows() || msg.X >= m.listWidth() {
		return nil // the column names, past the rows, or the preview
	}
	if row == m.cursor {
		if r, ok := m.current(); ok {
			return m.openThread(r, screenList)
		}
	}
	return m.moveCursor(row - m.cursor)
}
