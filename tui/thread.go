package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"desk/store"
)

// threadHeaderLines is the subject, the ticket's facts and a rule.
const threadHeaderLines = 3

// scroll pins where a thread's viewport goes after its next render.
type scroll int

const (
	keepOffset scroll = iota
	pinTop
	pinBottom
)

// threadState is an open ticket.
type threadState struct {
	ref     ticketRef
	row     ticketRow // ID is 0 until a ticket named by number is found
	msgs    []messageView
	loaded  bool
	err     string
	first   int // the seq of the read that opened it: older reads are another ticket's
	applied int // the newest read applied
	back    screen

	vp      viewport.Model
	dirty   bool // msgs changed since the content was rendered
	renderW int  // the width the content was rendered at
	pin     scroll
	pending []pendingReply // replies being queued here, shown until a read has them

	events []eventView
	open   map[foldID]bool // folds opened (quotes and signatures start closed)
	folds  []foldLine      // where the folds were drawn, in order
}

// foldID names a fold: the message (by Message-ID) and its part.
type foldID struct {
	message string
	part    int
}

// foldLine is a fold drawn at a line of the thread's content.
type foldLine struct {
	line int
	id   foldID
}

// pendingReply is a reply or note shown before the store has it.
type pendingReply struct {
	local     int    // numbers it within the session
	messageID string // set once the store has it
	view      messageView
}

// openThread shows a ticket and starts reading it.
func (m *model) openThread(r ticketRow, back screen) tea.Cmd {
	ref := ticketRef{ID: r.ID, Account: r.Account, Number: r.Number}
	seq := m.nextSeq()
	vp := viewport.New()
	tk := m.keyset.of(ctxThread)
	vp.KeyMap = viewport.KeyMap{
		PageDown:     tk.PageDown,
		PageUp:       tk.PageUp,
		HalfPageUp:   tk.HalfPageUp,
		HalfPageDown: tk.HalfPageDown,
		Up:           tk.Up,
		Down:         tk.Down,
	}
	vp.MouseWheelEnabled = false
	m.thread = &threadState{ref: ref, row: r, first: seq, back: back, vp: vp, dirty: true, pin: pinTop, open: map[foldID]bool{}}
	m.thread.row.Unread = false
	for i := range m.rows {
		if m.rows[i].ID == r.ID && r.ID != 0 {
			m.rows[i].Unread = false
		}
	}
	m.screen = screenThread
	return loadThread(m.st, seq, ref)
}

// readThread reads the ticket ref names, its messages (nested by reply)
// and its events, without marking it read; it returns the store's ticket
// too, nil on error.
func readThread(ctx context.Context, st *store.Store, seq int, ref ticketRef) (threadLoadedMsg, *store.Ticket) {
	t, err := resolveTicket(ctx, st, ref)
	if err != nil {
		return threadLoadedMsg{seq: seq, err: err}, nil
	}
	ms, err := st.Messages(ctx, t.ID)
	if err != nil {
		return threadLoadedMsg{seq: seq, err: err}, nil
	}
	msgs := make([]messageView, 0, len(ms))
	for _, m := range ms {
		msgs = append(msgs, newMessageView(m))
	}
	evs, err := st.Events(ctx, t.ID)
	if err != nil {
		return threadLoadedMsg{seq: seq, err: err}, nil
	}
	events := make([]eventView, 0, len(evs))
	for _, e := range evs {
		events = append(events, newEventView(e))
	}
	return threadLoadedMsg{seq: seq, row: newTicketRow(t), msgs: nestMessages(msgs), events: events}, t
}

// reloadThread re-reads the open ticket, if any.
func (m *model) reloadThread() tea.Cmd {
	t := m.thread
	if t == nil {
		return nil
	}
	ref := t.ref
	if t.row.ID != 0 {
		ref.ID = t.row.ID
	}
	return loadThread(m.st, m.nextSeq(), ref)
}

// closeThread goes back to where the thread was opened from.
func (m *model) closeThread() tea.Cmd {
	back := m.thread.back
	m.thread, m.compose = nil, nil
	m.screen = back
	return tea.Batch(m.reloadList(), m.reloadPreview())
}

// applyThread takes a completed read of the open ticket. A re-read keeps
// the scroll position, unless the view was at the bottom: then it follows.
func (m *model) applyThread(msg threadLoadedMsg) tea.Cmd {
	t := m.thread
	if t == nil || msg.seq < t.first || msg.seq < t.applied {
		return nil
	}
	t.applied = msg.seq
	if msg.err != nil {
		t.err = errorText(msg.err)
		t.loaded = true
		t.dirty = true
		return nil
	}
	if t.loaded && t.pin == keepOffset && t.vp.AtBottom() {
		t.pin = pinBottom
	}
	t.err = ""
	t.row, t.msgs, t.events, t.loaded, t.dirty = msg.row, msg.msgs, msg.events, true, true
	t.ref.ID = msg.row.ID
	t.dropStored()
	m.noticeNewMessages()
	if msg.markedRead {
		for i := range m.rows {
			if m.rows[i].ID == msg.row.ID {
				m.rows[i].Unread = false
			}
		}
	}
	return nil
}

// threadKey handles a key on an open thread.
func (m *model) threadKey(msg tea.KeyPressMsg) tea.Cmd {
	k, t := m.keys, m.thread
	switch {
	case key.Matches(msg, k.Back):
		return m.closeThread()
	case key.Matches(msg, k.Reply):
		return m.openComposer(store.KindReply)
	case key.Matches(msg, k.Note):
		return m.openComposer(store.KindNote)
	case key.Matches(msg, k.History):
		return m.showHistory()
	case key.Matches(msg, k.Save):
		return m.startSave()
	case key.Matches(msg, k.Search):
		m.openSearch()
	case key.Matches(msg, k.Top):
		t.vp.GotoTop()
	case key.Matches(msg, k.Bottom):
		t.vp.GotoBottom()
	case key.Matches(msg, k.Up), key.Matches(msg, k.Down), key.Matches(msg, k.PageUp), key.Matches(msg, k.PageDown),
		key.Matches(msg, k.HalfPageUp), key.Matches(msg, k.HalfPageDown):
		var cmd tea.Cmd
		t.vp, cmd = t.vp.Update(msg)
		return cmd
	case t.loaded && t.err == "" && t.row.ID != 0:
		return m.actionKey(msg, t.row)
	default:
		return m.globalKey(msg)
	}
	return nil
}

// showHistory lists every ticket of the open ticket's requester, as a
// section of its own.
func (m *model) showHistory() tea.Cmd {
	r := m.thread.row
	if r.Requester == "" {
		return nil
	}
	q := "requester:" + r.Requester
	if strings.ContainsAny(r.Requester, " ()\"") {
		return m.setFlash("this requester's address cannot be searched", true)
	}
	title := "History: " + r.Requester
	i, err := m.sectionByTitle(title)
	if err != nil {
		m.sections = append(m.sections, section{Section: Section{Title: title}})
		i = len(m.sections) - 1
	}
	if err := m.sections[i].setQuery(q); err != nil {
		return m.setFlash(errorText(err), true)
	}
	m.thread, m.compose = nil, nil
	m.screen = screenList
	return m.switchSection(i)
}

// foldKey handles the second key of z: o, c, a act on the first fold in
// view; R opens and M closes every fold.
func (m *model) foldKey(second string) tea.Cmd {
	t := m.thread
	if t == nil {
		return nil
	}
	switch second {
	case "R":
		for _, f := range t.folds {
			t.open[f.id] = true
		}
	case "M":
		t.open = map[foldID]bool{}
	case "o", "c", "a":
		top, bottom := t.vp.YOffset(), t.vp.YOffset()+t.vp.Height()
		for _, f := range t.folds {
			if f.line >= top && f.line < bottom {
				t.open[f.id] = second == "o" || (second == "a" && !t.open[f.id])
				break
			}
		}
	default:
		return nil
	}
	t.dirty = true
	return nil
}

// layoutThread sizes the viewport between the header and the composer and
// renders the messages when they or the width changed.
func (m *model) layoutThread() {
	t := m.thread
	composerH := 0
	if m.compose != nil {
		m.compose.setSize(m.width, m.height)
		composerH = m.compose.height()
	}
	h := max(m.bodyHeight(threadHeaderLines)-composerH, 1)
	if t.vp.Height() != h && t.pin == keepOffset && t.vp.AtBottom() && t.loaded {
		t.pin = pinBottom
	}
	t.vp.SetWidth(m.width)
	t.vp.SetHeight(h)
	if t.dirty || t.renderW != m.width {
		if t.pin == keepOffset && t.renderW != m.width && t.vp.AtBottom() && t.loaded {
			t.pin = pinBottom
		}
		off := t.vp.YOffset()
		t.vp.SetContent(strings.Join(m.threadContent(t, m.width, 0), "\n"))
		t.vp.SetYOffset(off)
		t.dirty, t.renderW = false, m.width
	}
	if !t.loaded {
		return // a pin waits for the messages
	}
	switch t.pin {
	case pinTop:
		t.vp.GotoTop()
	case pinBottom:
		t.vp.GotoBottom()
	}
	t.pin = keepOffset
}

// threadHeader is a ticket's subject, its facts and a rule, at width w.
func (m *model) threadHeader(r ticketRow, w int) []string {
	s := m.styles
	title := s.Title.Render(fmt.Sprintf("#%d %s", r.Number, r.Subject))
	var facts []string
	if r.State != "" {
		facts = append(facts, r.State)
	}
	if r.Project != "" {
		facts = append(facts, r.Project)
	}
	switch {
	case r.RequesterName != "" && r.Requester != "":
		facts = append(facts, r.RequesterName+" <"+r.Requester+">")
	case r.Requester != "":
		facts = append(facts, r.Requester)
	}
	if len(r.Labels) > 0 {
		facts = append(facts, "labels: "+strings.Join(r.Labels, ", "))
	}
	if p := m.presenceFact(r.Account, r.Number); p != "" {
		facts = append(facts, p)
	}
	return []string{
		title,
		s.Dim.Render(strings.Join(facts, " · ")),
		s.Rule.Render(strings.Repeat("─", max(w, 1))),
	}
}

// threadView draws the open thread and, below it, the composer.
func (m *model) threadView() []string {
	lines := m.threadHeader(m.thread.row, m.width)
	lines = append(lines, strings.Split(m.thread.vp.View(), "\n")...)
	if m.compose != nil {
		lines = append(lines, m.compose.view(m.styles, m.width)...)
	}
	return lines
}

// threadContent renders t's messages from the one at index from, with the
// system events between them by time, at width w; it notes where folds
// are. The thread view draws all of it in a viewport, the preview its end.
func (m *model) threadContent(t *threadState, w, from int) []string {
	s := m.styles
	t.folds = t.folds[:0]
	switch {
	case t.err != "":
		return []string{s.Error.Render("error: " + t.err)}
	case !t.loaded:
		return []string{s.Dim.Render("loading…")}
	}
	msgs := append([]messageView(nil), t.msgs...)
	for _, p := range t.pending {
		msgs = append(msgs, p.view)
	}
	if len(msgs) == 0 && len(t.events) == 0 {
		return []string{s.Dim.Render("no messages")}
	}
	from = min(from, max(len(msgs)-1, 0))
	var out []string
	ev := 0
	attNum := 1 // attachments are numbered through the thread, for S (save)
	for _, mv := range msgs[:from] {
		attNum += len(mv.Attachments)
	}
	for from > 0 && ev < len(t.events) && t.events[ev].At.Before(msgs[from].Date) {
		ev++ // shown with the messages not drawn
	}
	events := func(before time.Time, all bool) {
		for ; ev < len(t.events) && (all || t.events[ev].At.Before(before)); ev++ {
			e := t.events[ev]
			text := "── " + e.What
			if e.Actor != "" {
				text += " by " + e.Actor
			}
			text += " · " + e.At.In(m.now().Location()).Format("2006-01-02 15:04") + " "
			out = append(out, s.Event.Render(clip(text+strings.Repeat("─", max(w-ansi.StringWidth(text), 0)), w)))
		}
	}
	for i, mv := range msgs[from:] {
		events(mv.Date, false)
		if i > 0 {
			out = append(out, "")
		}
		out = append(out, m.messageLines(t, mv, w, len(out), attNum)...)
		attNum += len(mv.Attachments)
	}
	events(time.Time{}, true)
	return out
}

// messageLines renders one message of t: author line, warnings,
// attachments (numbered from attNum), body with its folds, indented by its
// depth in the reply tree; at is the content line the message starts at.
func (m *model) messageLines(t *threadState, mv messageView, w int, at, attNum int) []string {
	s := m.styles
	headPrefix, bodyPrefix, indent := nestPrefixes(mv.Depth, w)
	w -= indent
	// The author shrinks first, so the date and the delivery mark stay.
	rest := s.Dim.Render(" · " + mv.Date.In(m.now().Location()).Format("2006-01-02 15:04"))
	switch mv.Outbox {
	case store.OutboxQueued, store.OutboxSending:
		rest += " " + s.Queued.Render(mv.Outbox)
	}
	whoW := max(w-ansi.StringWidth(rest), min(w, 16))
	var head string
	bodyStyle, gutter := s.Body, ""
	switch mv.Kind {
	case store.KindCustomer:
		head = s.Customer.Render(clip("Support Bot on behalf of "+orUnknown(mv.From), whoW))
	case store.KindReply:
		head = s.Staff.Render(clip(orUnknown(mv.FromName)+" (reply)", whoW))
	case store.KindNote:
		const badge = " NOTE "
		head = s.NoteBadge.Render(badge) + " " +
			s.Note.Render(clip("internal note by "+orUnknown(mv.FromName), whoW-len(badge)-1))
		bodyStyle, gutter = s.Note, "│ "
	default: // automated mail, ours or theirs
		who := mv.From
		if mv.FromName != "" {
			who = mv.FromName
		}
		text := "auto: " + orUnknown(who)
		if mv.AutoReason != "" {
			text += " (" + mv.AutoReason + ")"
		}
		head = s.Auto.Render(clip(text, whoW))
	}
	head += rest
	lines := []string{clip(head, w)}
	if mv.Outbox == store.OutboxFailed {
		// A failure is not retried by itself: show all of it, wrapped.
		text := "failed"
		if mv.OutboxError != "" {
			text += ": " + mv.OutboxError
		}
		for _, l := range wrap(text, w) {
			lines = append(lines, s.Failed.Render(l))
		}
	}
	if mv.Unverified != "" {
		lines = append(lines, s.Warning.Render(clip("⚠ unverified sender ("+mv.Unverified+"): the From address may be forged", w)))
	}
	if mv.Warning != "" {
		lines = append(lines, s.Warning.Render(clip("⚠ "+mv.Warning, w)))
	}
	for i, a := range mv.Attachments {
		desc := fmt.Sprintf("attached %d: %s (", attNum+i, a.Name)
		if a.Type != "" {
			desc += a.Type + ", "
		}
		desc += humanSize(a.Size) + ")"
		lines = append(lines, s.Attach.Render(clip(desc, w)))
	}
	for i, p := range splitBody(mv.Body) {
		id := foldID{message: mv.MessageID, part: i}
		if p.kind != partText && !t.open[id] {
			t.folds = append(t.folds, foldLine{line: at + len(lines), id: id})
			lines = append(lines, s.Fold.Render(clip(gutter+foldSummary(p), w)))
			continue
		}
		if p.kind != partText {
			t.folds = append(t.folds, foldLine{line: at + len(lines), id: id})
		}
		style := bodyStyle
		if p.kind != partText {
			style = s.Quote
		}
		for _, l := range wrap(strings.Join(p.lines, "\n"), w-ansi.StringWidth(gutter)) {
			lines = append(lines, style.Render(gutter+l))
		}
	}
	if indent > 0 {
		lines[0] = s.Rule.Render(headPrefix) + lines[0]
		for i := 1; i < len(lines); i++ {
			lines[i] = bodyPrefix + lines[i]
		}
	}
	return lines
}

// orUnknown stands in for an empty name or address.
func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// dropStored forgets the pending replies that a read now shows.
func (t *threadState) dropStored() {
	have := map[string]bool{}
	for _, mv := range t.msgs {
		have[mv.MessageID] = true
	}
	kept := t.pending[:0]
	for _, p := range t.pending {
		if p.messageID == "" || !have[p.messageID] {
			kept = append(kept, p)
		}
	}
	t.pending = kept
}
