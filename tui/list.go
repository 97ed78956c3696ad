package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"desk/store"
)

// listHeaderLines is the tabs line and the column names above the rows.
const listHeaderLines = 2

// minWindow is the fewest rows the list reads at a time; a window is three
// pages when pages are taller.
const minWindow = 150

// The list holds one window of its section's rows, read from the store,
// and draws only the visible ones: a section of 100,000 tickets costs the
// same as one of a hundred. The cursor and offset count rows of the whole
// section; rows[0] is row start.

// listKey handles a key on the ticket list.
func (m *model) listKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	page := m.listRows()
	switch {
	case key.Matches(msg, k.Up):
		return m.moveCursor(-1)
	case key.Matches(msg, k.Down):
		return m.moveCursor(1)
	case key.Matches(msg, k.PageUp):
		return m.moveCursor(-page)
	case key.Matches(msg, k.PageDown):
		return m.moveCursor(page)
	case key.Matches(msg, k.Top):
		return m.moveCursor(-m.total)
	case key.Matches(msg, k.Bottom):
		return m.moveCursor(m.total)
	case key.Matches(msg, k.NextSection):
		return m.switchSection((m.sec + 1) % len(m.sections))
	case key.Matches(msg, k.PrevSection):
		return m.switchSection((m.sec + len(m.sections) - 1) % len(m.sections))
	case key.Matches(msg, k.EditQuery):
		m.openPrompt(promptQuery, m.sections[m.sec].Query)
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
			return tea.Batch(cmd, m.openComposer(kind))
		}
	case key.Matches(msg, k.Mark):
		m.toggleMark()
		return m.moveCursor(1)
	case key.Matches(msg, k.MarkRange):
		return m.markRange()
	case key.Matches(msg, k.MarkQuery):
		m.openPrompt(promptMark, "")
	case key.Matches(msg, k.Back) && len(m.marks) > 0 && msg.String() == "esc":
		m.clearMarks()
	case key.Matches(msg, k.Search):
		m.openSearch()
	case key.Matches(msg, k.Preview):
		return m.togglePreview()
	case key.Matches(msg, k.PreviewMore):
		m.resizePreview(1)
	case key.Matches(msg, k.PreviewLess):
		m.resizePreview(-1)
	case key.Matches(msg, k.Back) && msg.String() != "esc":
		// Back from the list quits; esc there only ever clears.
		return tea.Quit
	default:
		if r, ok := m.current(); ok {
			return m.actionKey(msg, r)
		}
		return m.globalKey(msg)
	}
	return nil
}

// current is the row under the cursor, if it is loaded.
func (m *model) current() (ticketRow, bool) {
	i := m.cursor - m.start
	if m.cursor >= m.total || i < 0 || i >= len(m.rows) {
		return ticketRow{}, false
	}
	return m.rows[i], true
}

// rowAt is row i of the section, if it is loaded.
func (m *model) rowAt(i int) (ticketRow, bool) {
	j := i - m.start
	if j < 0 || j >= len(m.rows) {
		return ticketRow{}, false
	}
	return m.rows[j], true
}

// moveCursor moves the cursor by delta rows, within the section, and reads
// the window around it when it nears the edge of the loaded rows.
func (m *model) moveCursor(delta int) tea.Cmd {
	if m.total == 0 {
		return nil
	}
	m.cursor = min(max(m.cursor+delta, 0), m.total-1)
	m.layoutList()
	if r, ok := m.current(); ok {
		m.selected = r.ID
	}
	return m.ensureWindow()
}

// windowSize is how many rows one read takes.
func (m *model) windowSize() int { return max(3*m.listRows(), minWindow) }

// ensureWindow reads a new window when the visible rows, with a page
// around them, are not all loaded: reading ahead, so that moving rarely
// waits.
func (m *model) ensureWindow() tea.Cmd {
	h := m.listRows()
	lo, hi := max(m.offset-h, 0), min(m.offset+2*h, m.total)
	if lo >= m.start && hi <= m.start+len(m.rows) {
		return nil
	}
	start := max(m.offset-m.windowSize()/3, 0)
	if start == m.wantStart && m.windowPending {
		return nil
	}
	return m.readWindow(start, 0, false)
}

// readWindow reads the section's rows from start; keep, when not 0, is a
// ticket whose position the read finds so the cursor can stay on it. With
// count the section is counted too, in its own Cmd: the rows paint first.
func (m *model) readWindow(start int, keep int64, count bool) tea.Cmd {
	sec := m.sections[m.sec]
	m.wantStart, m.windowPending = start, true
	r := listRequest{
		seq: m.nextSeq(), section: m.sec, query: sec.query, text: sec.Query, env: m.env(), limit: sec.Limit,
		start: start, size: m.windowSize(), keep: keep, before: m.windowSize() / 3,
	}
	if !count {
		return loadList(m.st, r)
	}
	return tea.Batch(loadList(m.st, r), countSection(m.st, r))
}

// reloadList re-reads the current window and the section's count,
// keeping the cursor on the selected ticket.
func (m *model) reloadList() tea.Cmd {
	if m.sections[m.sec].query == nil {
		return nil
	}
	return m.readWindow(m.start, m.selected, true)
}

// refresh re-reads the list, every section's count and the preview: after
// a change here or from the workers.
func (m *model) refresh() tea.Cmd {
	return tea.Batch(m.reloadList(), m.reloadCounts(), m.reloadPreview())
}

// reloadCounts re-reads every section's count.
func (m *model) reloadCounts() tea.Cmd {
	qs, limits := make([]*store.Query, len(m.sections)), make([]int, len(m.sections))
	for i, s := range m.sections {
		qs[i], limits[i] = s.query, s.Limit
	}
	return loadCounts(m.st, m.nextSeq(), qs, limits, m.env())
}

// switchSection shows section i from its top.
func (m *model) switchSection(i int) tea.Cmd {
	m.sec = i
	m.rows, m.start, m.total, m.loaded, m.listErr, m.counted = nil, 0, 0, false, "", false
	m.cursor, m.offset, m.selected = 0, 0, 0
	m.clearMarks()
	return m.reloadList()
}

// applyList takes a completed window read of the current section.
func (m *model) applyList(msg listLoadedMsg) {
	sec := m.sections[m.sec]
	if msg.section != m.sec || msg.text != sec.Query || msg.seq < m.listSeq {
		return // a newer read, or one of another section or query, wins
	}
	m.listSeq = msg.seq
	if msg.start == m.wantStart {
		m.windowPending = false
	}
	m.loaded = true
	if msg.err != nil {
		m.listErr = errorText(msg.err)
		return
	}
	m.listErr = ""
	m.rows, m.start = msg.rows, msg.start
	if !m.counted || m.start+len(m.rows) > m.total {
		// Until the count lands, the list is as long as what was read.
		m.total = max(m.total, m.start+len(m.rows))
	}
	if t := m.thread; t != nil {
		for i := range m.rows {
			if m.rows[i].ID == t.row.ID {
				m.rows[i].Unread = false // being read right now
			}
		}
	}
	if msg.keepAt >= 0 {
		// Keep the selected ticket where it was on the screen, except at
		// the top of the list: there new tickets show above it as they come.
		screenRow := m.cursor - m.offset
		atTop := m.offset == 0
		m.cursor = msg.keepAt
		m.offset = m.cursor - screenRow
		if atTop {
			m.offset = 0
		}
	}
	m.clampCursor()
}

// applyCount takes the count of the current section.
func (m *model) applyCount(msg countLoadedMsg) {
	if msg.section != m.sec || msg.text != m.sections[m.sec].Query || msg.seq < m.countedSeq || msg.err != nil {
		return
	}
	m.countedSeq, m.counted = msg.seq, true
	m.total = msg.total
	m.sections[m.sec].count, m.sections[m.sec].known = msg.total, true
	m.clampCursor()
}

// clampCursor keeps the cursor within the section and in view.
func (m *model) clampCursor() {
	m.cursor = min(m.cursor, max(m.total-1, 0))
	m.layoutList()
	if r, ok := m.current(); ok {
		m.selected = r.ID
	}
}

// applyCounts takes the section counts.
func (m *model) applyCounts(msg countsLoadedMsg) {
	if msg.seq < m.countSeq || len(msg.counts) != len(m.sections) {
		return
	}
	m.countSeq = msg.seq
	for i, n := range msg.counts {
		if n >= 0 {
			m.sections[i].count, m.sections[i].known = n, true
		}
	}
}

// layoutList keeps the cursor row in view.
func (m *model) layoutList() {
	h := m.listRows()
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+h {
		m.offset = m.cursor - h + 1
	}
	m.offset = max(min(m.offset, m.total-h), 0)
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
	num, state, subject, requester, assignee, project, age int
}

func (m *model) columns() listColumns {
	c := listColumns{state: 7, age: 4}
	nums := make([]int64, len(m.rows))
	for i, r := range m.rows {
		nums[i] = r.Number
	}
	c.num = numberWidth(nums...)
	// "›*● " then "#N state " … " age": the fixed part.
	fixed := 4 + c.num + 1 + c.state + 1 + 1 + c.age
	rest := m.listWidth() - fixed
	switch {
	case rest >= 100:
		c.requester, c.assignee, c.project = 26, 10, 12
	case rest >= 60:
		c.requester, c.project = 20, 10
	case rest >= 36:
		c.requester = rest / 3 // the project goes first
	}
	c.subject = rest
	for _, w := range []int{c.requester, c.assignee, c.project} {
		if w > 0 {
			c.subject -= w + 1
		}
	}
	c.subject = max(c.subject, 1)
	return c
}

// formatRow lays out one row's cells as plain text.
func (c listColumns) formatRow(cur, mark, unread, num, state, subject, requester, assignee, project, age string) string {
	var b strings.Builder
	b.WriteString(cur + mark + unread + " ")
	b.WriteString(cell(num, c.num) + " ")
	b.WriteString(cell(state, c.state) + " ")
	b.WriteString(cell(subject, c.subject))
	for _, col := range []struct {
		text string
		w    int
	}{{requester, c.requester}, {assignee, c.assignee}, {project, c.project}} {
		if col.w > 0 {
			b.WriteString(" " + cell(col.text, col.w))
		}
	}
	b.WriteString(" " + cellRight(age, c.age))
	return b.String()
}

// listView draws the ticket list and, when it is on, the preview pane.
func (m *model) listView() []string { return m.withPreview(m.listLines()) }

// listLines draws the ticket list: the tabs, the column names and the
// visible rows.
func (m *model) listLines() []string {
	s := m.styles
	c := m.columns()
	lines := []string{
		m.tabsLine(),
		s.ColumnHeader.Render(c.formatRow(" ", " ", " ", "#", "STATUS", "SUBJECT", "REQUESTER", "ASSIGNEE", "PROJECT", "AGE")),
	}
	sec := m.sections[m.sec]
	switch {
	case sec.query == nil:
		return append(lines, s.Error.Render("  section: "+sec.err))
	case !m.loaded:
		return append(lines, s.Dim.Render("  loading…"))
	case m.listErr != "":
		return append(lines, s.Error.Render("  error: "+m.listErr))
	case m.total == 0:
		return append(lines, s.Dim.Render("  no tickets match "+sec.Query))
	}
	h := m.listRows()
	now := m.now()
	end := min(m.offset+h, m.total)
	for i := m.offset; i < end; i++ {
		r, ok := m.rowAt(i)
		if !ok {
			lines = append(lines, s.Dim.Render("  …"))
			continue
		}
		cur, mark, unread := " ", " ", " "
		if i == m.cursor {
			cur = "›"
		}
		if m.marks[r.ID] {
			mark = "*"
		}
		if r.Unread {
			unread = "●"
		}
		subject := r.Subject
		if others := m.othersOn(r.Account, r.Number); others != "" {
			subject = "[" + others + "] " + subject // presence first: the cell may cut the subject
		}
		text := c.formatRow(cur, mark, unread, fmt.Sprintf("#%d", r.Number), r.State, subject,
			r.Requester, r.Assignee, r.Project, Age(now, r.Updated))
		style := s.Row
		switch {
		case r.Spam:
			style = s.RowSpam.Inherit(style)
		case r.State == store.StateClosed || r.State == store.StateSolved:
			style = s.RowClosed.Inherit(style)
		}
		if r.Unread {
			style = s.RowUnread.Inherit(style)
		}
		if m.marks[r.ID] {
			style = s.RowMarked.Inherit(style)
		}
		if i == m.cursor {
			style = s.RowSelected.Inherit(style)
		}
		lines = append(lines, style.Render(text))
	}
	return lines
}
