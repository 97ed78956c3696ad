package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"desk/store"
)

// The preview pane shows the ticket under the list's cursor: its header
// and the end of its thread, drawn by the thread view's own rendering. It
// sits beside the list on wide windows and below it on narrow ones. It
// follows the cursor, reading each ticket in a Cmd and dropping reads the
// cursor has moved past, and never marks a ticket read: only opening does.

// previewBesideWidth is the narrowest window that shows the preview beside
// the list rather than below it.
const previewBesideWidth = 120

// The preview's share of the room below the list's column names, in
// percent: the default, the step of one resize key, and the bounds.
const (
	previewShare    = 50
	previewStep     = 10
	previewMinShare = 20
	previewMaxShare = 80
)

// previewState is the preview pane.
type previewState struct {
	on    bool
	share int          // percent of the room the pane takes
	want  int          // the seq of the newest read asked for
	t     *threadState // the ticket shown, nil when none is under the cursor

	lines            []string // the rendered end of t's thread
	dirty            bool     // t changed since lines were rendered
	renderW, renderH int
}

// previewLoadedMsg carries a read of the previewed ticket.
type previewLoadedMsg struct {
	id     int64 // the ticket asked for
	thread threadLoadedMsg
}

// loadPreview reads a ticket for the preview, leaving it unread.
func loadPreview(st *store.Store, seq int, ref ticketRef) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		msg, _ := readThread(ctx, st, seq, ref)
		return previewLoadedMsg{id: ref.ID, thread: msg}
	}
}

// togglePreview shows or hides the preview pane.
func (m *model) togglePreview() tea.Cmd {
	p := &m.preview
	p.on = !p.on
	if p.share == 0 {
		p.share = previewShare
	}
	p.t, p.lines = nil, nil
	m.layoutList()
	return m.followPreview()
}

// resizePreview grows (delta > 0) or shrinks the preview pane by a step.
func (m *model) resizePreview(delta int) {
	p := &m.preview
	if !p.on {
		return
	}
	p.share = min(max(p.share+delta*previewStep, previewMinShare), previewMaxShare)
	m.layoutList()
}

// followPreview starts reading the ticket under the cursor when the
// preview shows another one; Update calls it after every message.
func (m *model) followPreview() tea.Cmd {
	p := &m.preview
	if !p.on || m.screen != screenList {
		return nil
	}
	r, ok := m.current()
	if !ok {
		if p.t != nil {
			p.t, p.dirty = nil, true
		}
		return nil
	}
	if p.t != nil && p.t.row.ID == r.ID {
		return nil
	}
	p.t = &threadState{ref: ticketRef{ID: r.ID, Account: r.Account, Number: r.Number}, row: r, open: map[foldID]bool{}}
	p.dirty = true
	return m.reloadPreview()
}

// reloadPreview re-reads the previewed ticket, keeping what it shows until
// the read lands.
func (m *model) reloadPreview() tea.Cmd {
	p := &m.preview
	if !p.on || p.t == nil {
		return nil
	}
	p.want = m.nextSeq()
	return loadPreview(m.st, p.want, p.t.ref)
}

// applyPreview takes a read of the previewed ticket, unless the cursor
// has moved on or a newer read was asked for.
func (m *model) applyPreview(msg previewLoadedMsg) {
	p := &m.preview
	if !p.on || p.t == nil || msg.id != p.t.ref.ID || msg.thread.seq != p.want {
		return
	}
	t, th := p.t, msg.thread
	t.loaded, p.dirty = true, true
	if th.err != nil {
		t.err = errorText(th.err)
		return
	}
	t.err = ""
	t.row, t.msgs, t.events = th.row, th.msgs, th.events
}

// previewBeside reports whether the pane goes beside the list.
func (m *model) previewBeside() bool { return m.width >= previewBesideWidth }

// listWidth is the width the list's columns take.
func (m *model) listWidth() int {
	if !m.preview.on || !m.previewBeside() {
		return m.width
	}
	return m.width - m.previewWidth() - 1 // a rule between them
}

// previewWidth is the width of the pane beside the list, the space after
// the rule between them included.
func (m *model) previewWidth() int { return m.width * m.preview.share / 100 }

// previewHeight is the height of the pane below the list, its top rule
// included; 0 when the window is too low for it.
func (m *model) previewHeight() int {
	if !m.preview.on || m.previewBeside() {
		return 0
	}
	room := m.bodyHeight(listHeaderLines)
	h := room * m.preview.share / 100
	if h < 2 || room-h < 1 {
		return 0
	}
	return h
}

// listRows is how many rows of the list are visible.
func (m *model) listRows() int { return max(m.bodyHeight(listHeaderLines)-m.previewHeight(), 1) }

// withPreview lays the list's lines (the tabs line, the column names and
// the rows) out with the preview pane beside or below them.
func (m *model) withPreview(lines []string) []string {
	if !m.preview.on || len(lines) == 0 {
		return lines
	}
	s := m.styles
	out := []string{lines[0]} // the tabs span the window
	if m.previewBeside() {
		h := m.bodyHeight(listHeaderLines) + 1 // the column names and the rows
		lw, pw := m.listWidth(), m.previewWidth()
		left, right := fitHeight(lines[1:], h), m.previewLines(pw-1, h)
		sep := s.Rule.Render("│") + " "
		for i := range left {
			out = append(out, cell(left[i], lw)+sep+right[i])
		}
		return out
	}
	ph := m.previewHeight()
	if ph == 0 {
		return lines
	}
	out = append(out, fitHeight(lines[1:], 1+m.listRows())...)
	out = append(out, s.Rule.Render(strings.Repeat("─", m.width)))
	return append(out, m.previewLines(m.width, ph-1)...)
}

// previewLines draws the pane at w×h: the ticket's header and the end of
// its thread, rendered once per read and size.
func (m *model) previewLines(w, h int) []string {
	p := &m.preview
	if p.t == nil {
		return fitHeight([]string{m.styles.Dim.Render(" no ticket under the cursor")}, h)
	}
	lines := m.threadHeader(p.t.row, w)
	if p.dirty || p.renderW != w || p.renderH != h {
		p.lines = m.threadEnd(p.t, w, h-len(lines))
		p.dirty, p.renderW, p.renderH = false, w, h
	}
	for i := range lines {
		lines[i] = clip(lines[i], w)
	}
	return fitHeight(append(lines, p.lines...), h)
}

// threadEnd renders the end of t's thread at width w for h lines: from the
// earliest message whose part of the thread still fits (at least the last
// message, from its top), rendering only those.
func (m *model) threadEnd(t *threadState, w, h int) []string {
	from := len(t.msgs) - 1
	if t.loaded && t.err == "" && from > 0 {
		used := len(m.messageLines(t, t.msgs[from], w, 0, 0))
		for from > 0 {
			n := len(m.messageLines(t, t.msgs[from-1], w, 0, 0)) + 1 // a blank line between
			if used+n > h {
				break
			}
			used += n
			from--
		}
	}
	return m.threadContent(t, w, max(from, 0))
}
