package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"desk/store"
)

// listHeaderLines is the header and the column names above the rows.
const listHeaderLines = 2

// listKey handles a key on the ticket list.
func (m *model) listKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	page := m.bodyHeight(listHeaderLines)
	switch {
	case key.Matches(msg, k.Up):
		m.moveCursor(-1)
	case key.Matches(msg, k.Down):
		m.moveCursor(1)
	case key.Matches(msg, k.PageUp):
		m.moveCursor(-page)
	case key.Matches(msg, k.PageDown):
		m.moveCursor(page)
	case key.Matches(msg, k.Top):
		m.moveCursor(-len(m.rows))
	case key.Matches(msg, k.Bottom):
		m.moveCursor(len(m.rows))
	case key.Matches(msg, k.Filter):
		return m.cycleFilter()
	case key.Matches(msg, k.Open):
		if r, ok := m.current(); ok {
			return m.openThread(r, screenList)
		}
	case key.Matches(msg, k.Reply), key.Matches(msg, k.Note):
		if r, ok := m.current(); ok {
			kind := store.KindReply
			if key.Matches(msg, k.Note) {
				kind = store.KindNote
			}
			cmd := m.openThread(r, screenList)
			m.openComposer(kind)
			return cmd
		}
	case key.Matches(msg, k.Toggle):
		if r, ok := m.current(); ok {
			return m.toggleState(r)
		}
	case key.Matches(msg, k.Search):
		m.openSearch()
	case key.Matches(msg, k.Help):
		m.help.ShowAll = !m.help.ShowAll
	case msg.String() == "q":
		return tea.Quit
	}
	return nil
}

// current is the row under the cursor.
func (m *model) current() (ticketRow, bool) {
	if m.cursor < 0 || m.cursor >= len(m.rows) {
		return ticketRow{}, false
	}
	return m.rows[m.cursor], true
}

// moveCursor moves the list cursor by delta rows, within the list.
func (m *model) moveCursor(delta int) {
	if len(m.rows) == 0 {
		return
	}
	m.cursor = min(max(m.cursor+delta, 0), len(m.rows)-1)
	r := m.rows[m.cursor]
	m.selected = ticketKey{r.Account, r.Number}
}

// cycleFilter moves to the next state filter and reads it.
func (m *model) cycleFilter() tea.Cmd {
	for i, f := range filters {
		if f == m.filter {
			m.filter = filters[(i+1)%len(filters)]
			break
		}
	}
	m.rows, m.loaded, m.listErr = nil, false, ""
	return m.reloadList()
}

// applyList takes a completed list read, keeping the cursor on the same
// ticket when it is still listed.
func (m *model) applyList(msg listLoadedMsg) {
	if msg.filter != m.filter || msg.seq < m.listSeq {
		return // a newer read, or one for another filter, wins
	}
	m.listSeq = msg.seq
	if msg.err != nil {
		m.listErr = errorText(msg.err)
		m.loaded = true
		return
	}
	m.listErr = ""
	m.rows, m.loaded = msg.rows, true
	if t := m.thread; t != nil {
		for i := range m.rows {
			if m.rows[i].ID == t.row.ID {
				m.rows[i].Unread = false // being read right now
			}
		}
	}
	if len(m.rows) == 0 {
		m.cursor = 0
		return
	}
	for i, r := range m.rows {
		if r.Account == m.selected.account && r.Number == m.selected.number {
			m.cursor = i
			return
		}
	}
	m.moveCursor(0) // the ticket left the list: stay at the same place
}

// layoutList keeps the cursor row in view.
func (m *model) layoutList() {
	h := m.bodyHeight(listHeaderLines)
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+h {
		m.offset = m.cursor - h + 1
	}
	m.offset = min(m.offset, max(len(m.rows)-h, 0))
	m.offset = max(m.offset, 0)
}

// headerLine is the title and the state filters.
func (m *model) headerLine() string {
	s := m.styles
	var tabs []string
	for _, f := range filters {
		if f == m.filter {
			tabs = append(tabs, s.TabActive.Render("["+f+"]"))
		} else {
			tabs = append(tabs, s.Tab.Render(" "+f+" "))
		}
	}
	line := s.Title.Render(m.title) + "  " + strings.Join(tabs, "")
	if m.loaded && m.listErr == "" {
		line += s.Dim.Render(fmt.Sprintf("  %d %s", len(m.rows), plural(len(m.rows), "ticket")))
	}
	return line
}

// plural is word, with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// listColumns are the widths of the list's cells for a window width.
type listColumns struct {
	num, state, subject, requester, project, age int
}

func (m *model) columns() listColumns {
	c := listColumns{state: 6, age: 4}
	nums := make([]int64, len(m.rows))
	for i, r := range m.rows {
		nums[i] = r.Number
	}
	c.num = numberWidth(nums...)
	// "›● " then "#N state " … " age": the fixed part.
	fixed := 3 + c.num + 1 + c.state + 1 + 1 + c.age
	rest := m.width - fixed
	switch {
	case rest >= 80:
		c.requester, c.project = 26, 12
	case rest >= 60:
		c.requester, c.project = 20, 10
	case rest >= 36:
		c.requester = rest / 3 // the project goes first
	}
	c.subject = rest
	if c.requester > 0 {
		c.subject -= c.requester + 1
	}
	if c.project > 0 {
		c.subject -= c.project + 1
	}
	c.subject = max(c.subject, 1)
	return c
}

// formatRow lays out one row's cells as plain text.
func (c listColumns) formatRow(cur, mark, num, state, subject, requester, project, age string) string {
	var b strings.Builder
	b.WriteString(cur + mark + " ")
	b.WriteString(cell(num, c.num) + " ")
	b.WriteString(cell(state, c.state) + " ")
	b.WriteString(cell(subject, c.subject))
	if c.requester > 0 {
		b.WriteString(" " + cell(requester, c.requester))
	}
	if c.project > 0 {
		b.WriteString(" " + cell(project, c.project))
	}
	b.WriteString(" " + cellRight(age, c.age))
	return b.String()
}

// listView draws the ticket list.
func (m *model) listView() []string {
	s := m.styles
	c := m.columns()
	lines := []string{
		m.headerLine(),
		s.ColumnHeader.Render(c.formatRow(" ", " ", "#", "STATE", "SUBJECT", "REQUESTER", "PROJECT", "AGE")),
	}
	switch {
	case !m.loaded:
		return append(lines, s.Dim.Render("  loading…"))
	case m.listErr != "":
		return append(lines, s.Error.Render("  error: "+m.listErr))
	case len(m.rows) == 0:
		what := "tickets"
		if m.filter != "all" {
			what = m.filter + " tickets"
		}
		return append(lines, s.Dim.Render("  no "+what))
	}
	h := m.bodyHeight(listHeaderLines)
	now := m.now()
	end := min(m.offset+h, len(m.rows))
	for i := m.offset; i < end; i++ {
		r := m.rows[i]
		cur, mark := " ", " "
		if i == m.cursor {
			cur = "›"
		}
		if r.Unread {
			mark = "●"
		}
		text := c.formatRow(cur, mark, fmt.Sprintf("#%d", r.Number), r.State, r.Subject,
			r.Requester, r.Project, age(now, r.Updated))
		style := s.Row
		if r.State == store.StateClosed {
			style = s.RowClosed.Inherit(style)
		}
		if r.Unread {
			style = s.RowUnread.Inherit(style)
		}
		if i == m.cursor {
			style = s.RowSelected.Inherit(style)
		}
		lines = append(lines, style.Render(text))
	}
	return lines
}

// toggleState closes an open ticket or reopens a closed one: shown at once,
// written through the store in a Cmd.
func (m *model) toggleState(r ticketRow) tea.Cmd {
	if r.ID == 0 {
		return nil
	}
	state, verb := store.StateClosed, "closed"
	if r.State == store.StateClosed {
		state, verb = store.StateOpen, "reopened"
	}
	m.setRowState(r.ID, state)
	return tea.Batch(
		setState(m.st, r.ID, r.Number, state),
		m.setFlash(fmt.Sprintf("ticket #%d %s", r.Number, verb), false),
	)
}

// setRowState shows a ticket's new state wherever it is drawn.
func (m *model) setRowState(id int64, state string) {
	for i := range m.rows {
		if m.rows[i].ID == id {
			m.rows[i].State = state
		}
	}
	if t := m.thread; t != nil && t.row.ID == id {
		t.row.State = state
	}
}

// stateSet follows a state change: re-read, or report the failure.
func (m *model) stateSet(msg stateSetMsg) tea.Cmd {
	cmds := []tea.Cmd{m.reloadList()}
	if msg.err != nil {
		cmds = append(cmds, m.setFlash(fmt.Sprintf("ticket #%d: %s", msg.number, errorText(msg.err)), true))
		if t := m.thread; t != nil && t.row.ID == msg.ticketID {
			cmds = append(cmds, m.reloadThread())
		}
	}
	return tea.Batch(cmds...)
}
