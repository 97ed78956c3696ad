// Package tui is desk's terminal interface: the ticket list, a ticket's
// thread with an inline composer, full-text search, and a status line, as
// Bubble Tea models.
//
// The interface never touches the network. It reads the store inside
// tea.Cmds, writes only queued intents (a reply, a note, a state change, a
// read mark), and re-reads the store when the workers report a change with
// store.TicketsChanged, store.SyncStatus or store.OutboxChanged (sent to the
// program with tea.Program.Send). Every string that came from a mail passes
// through package sanitize once, when its view model is built (rows.go).
package tui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"desk/store"
	"desk/tui/sanitize"
)

// Options configure a TUI session.
type Options struct {
	Author  string // staff display name, used as reply/note author
	Title   string // shown in the header, e.g. "desk — demo" or account names
	Offline bool   // no account configured: status line says "offline (no account configured)"
}

// New returns the root model over st.
func New(st *store.Store, opts Options) tea.Model {
	return newModel(st, opts)
}

// screen is what the window shows.
type screen int

const (
	screenList screen = iota
	screenThread
	screenSearch
)

// filters are the list's state filters, in the order tab cycles them.
var filters = []string{store.StateOpen, store.StateClosed, "all"}

// flashFor is how long a transient message stays on the status line.
const flashFor = 5 * time.Second

// ticketKey identifies a ticket across reloads: numbers are stable, row ids
// need not be.
type ticketKey struct {
	account string
	number  int64
}

// model is the root model: it owns every screen and the status line.
type model struct {
	st     *store.Store
	opts   Options
	title  string
	author string
	keys   KeyMap
	styles Styles
	help   help.Model
	isDark bool

	// now is the clock (tests fix it); after schedules a message (tests
	// stub it so no timer runs).
	now   func() time.Time
	after func(time.Duration, func(time.Time) tea.Msg) tea.Cmd

	width, height int
	screen        screen
	seq           int // numbers every store read, newest highest

	// The ticket list.
	filter   string
	rows     []ticketRow
	loaded   bool // rows hold a completed read of filter
	listErr  string
	listSeq  int // the newest list read applied
	cursor   int
	offset   int
	selected ticketKey // the ticket under the cursor, kept across reloads

	thread  *threadState
	compose *composer
	search  searchState

	// The status line.
	syncs     map[string]syncView
	outbox    outboxView
	flash     string
	flashErr  bool
	flashSeq  int
	countdown bool // a countdownMsg is scheduled
}

func newModel(st *store.Store, opts Options) *model {
	author := strings.TrimSpace(opts.Author)
	if author == "" {
		author = "staff"
	}
	m := &model{
		st:     st,
		opts:   opts,
		title:  sanitize.Line(opts.Title),
		author: author,
		keys:   DefaultKeyMap(),
		help:   help.New(),
		isDark: true,
		now:    time.Now,
		after:  tea.Tick,
		width:  80,
		height: 24,
		filter: store.StateOpen,
		syncs:  map[string]syncView{},
	}
	if m.title == "" {
		m.title = "desk"
	}
	m.search = newSearchState()
	m.setDark(true)
	return m
}

// setDark picks the styles for the terminal's background.
func (m *model) setDark(dark bool) {
	m.isDark = dark
	m.styles = DefaultStyles(dark)
	m.help.Styles = help.DefaultStyles(dark)
	m.search.setDark(dark)
	if m.compose != nil {
		m.compose.setDark(dark)
	}
}

// nextSeq numbers a new store read.
func (m *model) nextSeq() int {
	m.seq++
	return m.seq
}

// Init paints from the store at once: the list and the outbox counts.
func (m *model) Init() tea.Cmd {
	return tea.Batch(m.reloadList(), loadOutbox(m.st), tea.RequestBackgroundColor)
}

// reloadList reads the list for the current filter.
func (m *model) reloadList() tea.Cmd {
	return loadList(m.st, m.nextSeq(), m.filter)
}

// Update handles one message.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 1), max(msg.Height, 1)
	case tea.BackgroundColorMsg:
		m.setDark(msg.IsDark())
	case tea.KeyPressMsg:
		cmd = m.handleKey(msg)
	case tea.PasteMsg:
		cmd = m.handlePaste(msg)

	case store.TicketsChanged:
		cmd = m.ticketsChanged(msg)
	case store.SyncStatus:
		v := newSyncView(msg)
		m.syncs[v.Account] = v
		cmd = m.startCountdown()
	case store.OutboxChanged:
		m.outbox = newOutboxView(msg)
		cmd = m.reloadThread() // delivery marks moved

	case listLoadedMsg:
		m.applyList(msg)
	case threadLoadedMsg:
		cmd = m.applyThread(msg)
	case outboxLoadedMsg:
		if msg.err == nil {
			m.outbox.Queued, m.outbox.Failed = msg.queued, msg.failed
		}
	case replyQueuedMsg:
		cmd = m.replyQueued(msg)
	case stateSetMsg:
		cmd = m.stateSet(msg)
	case searchDoneMsg:
		m.searchDone(msg)
	case countdownMsg:
		m.countdown = false
		cmd = m.startCountdown()
	case flashExpiredMsg:
		if msg.seq == m.flashSeq {
			m.flash = ""
		}
	default:
		// Cursor blinks and other component messages.
		cmd = m.forward(msg)
	}
	m.layout()
	return m, cmd
}

// forward hands a message the root does not know to the focused component.
func (m *model) forward(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch {
	case m.compose != nil:
		m.compose.ta, cmd = m.compose.ta.Update(msg)
	case m.screen == screenSearch:
		m.search.input, cmd = m.search.input.Update(msg)
	}
	return cmd
}

// handleKey routes a key press: quit first, then the composer if open, then
// the screen.
func (m *model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.keys.Quit) {
		return tea.Quit
	}
	if m.compose != nil {
		return m.composeKey(msg)
	}
	switch m.screen {
	case screenThread:
		return m.threadKey(msg)
	case screenSearch:
		return m.searchKey(msg)
	default:
		return m.listKey(msg)
	}
}

// handlePaste sends pasted text to whatever takes text.
func (m *model) handlePaste(msg tea.PasteMsg) tea.Cmd {
	if m.compose == nil && !(m.screen == screenSearch && m.search.inputFocus) {
		return nil
	}
	return m.forward(msg)
}

// ticketsChanged re-reads what the workers changed.
func (m *model) ticketsChanged(msg store.TicketsChanged) tea.Cmd {
	cmds := []tea.Cmd{m.reloadList()}
	if t := m.thread; t != nil && t.row.ID != 0 {
		touched := len(msg.Numbers) == 0
		for _, n := range msg.Numbers {
			if n == t.row.Number && (msg.Account == "" || msg.Account == t.row.Account) {
				touched = true
			}
		}
		if touched {
			cmds = append(cmds, m.reloadThread())
		}
	}
	return tea.Batch(cmds...)
}

// setFlash shows a transient message and schedules its removal.
func (m *model) setFlash(text string, isErr bool) tea.Cmd {
	m.flashSeq++
	m.flash, m.flashErr = text, isErr
	seq := m.flashSeq
	return m.after(flashFor, func(time.Time) tea.Msg { return flashExpiredMsg{seq: seq} })
}

// startCountdown schedules a redraw in a second while an offline account
// counts down to its retry, and only then.
func (m *model) startCountdown() tea.Cmd {
	if m.countdown {
		return nil
	}
	now := m.now()
	for _, s := range m.syncs {
		if s.Phase == store.PhaseOffline && s.RetryAt.After(now) {
			m.countdown = true
			return m.after(time.Second, func(time.Time) tea.Msg { return countdownMsg{} })
		}
	}
	return nil
}

// layout sizes the components for the window and the open screen; Update
// calls it after every message, so View only draws.
func (m *model) layout() {
	m.help.SetWidth(m.width)
	m.search.input.SetWidth(max(m.width-ansi.StringWidth(m.search.input.Prompt)-1, 1))
	m.layoutList()
	if m.thread != nil {
		m.layoutThread()
	}
	m.layoutSearch()
}

// currentHelp is the help of what has the focus.
func (m *model) currentHelp() help.KeyMap {
	switch {
	case m.compose != nil && m.compose.confirm:
		return m.keys.confirmHelp()
	case m.compose != nil:
		return m.keys.composeHelp()
	case m.screen == screenThread:
		return m.keys.threadHelp()
	case m.screen == screenSearch && m.search.inputFocus:
		return m.keys.searchInputHelp()
	case m.screen == screenSearch:
		return m.keys.searchResultsHelp()
	default:
		return m.keys.listHelp()
	}
}

// footer is the status line and the help, clipped to the width.
func (m *model) footer() []string {
	lines := []string{m.statusLine()}
	lines = append(lines, strings.Split(m.help.View(m.currentHelp()), "\n")...)
	for i := range lines {
		lines[i] = clip(lines[i], m.width)
	}
	return lines
}

// bodyHeight is the height left between a screen's header lines and the
// footer.
func (m *model) bodyHeight(header int) int {
	return max(m.height-header-len(m.footer()), 1)
}

// View draws the open screen.
func (m *model) View() tea.View {
	var lines []string
	switch m.screen {
	case screenThread:
		lines = m.threadView()
	case screenSearch:
		lines = m.searchView()
	default:
		lines = m.listView()
	}
	footer := m.footer()
	lines = fitHeight(lines, max(m.height-len(footer), 0))
	lines = append(lines, footer...)
	for i := range lines {
		lines[i] = clip(lines[i], m.width)
	}
	v := tea.NewView(strings.Join(lines, "\n"))
	v.AltScreen = true
	v.WindowTitle = m.title
	return v
}
