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
	"context"
	"fmt"
	"os/exec"
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
	// Remote is set over SSH (desk serve): nothing may run on the server
	// on the user's behalf (no $EDITOR, no shell commands).
	Remote bool
	// Presence, when set, shares which ticket each session shows.
	Presence Presence
	ReadOnly bool // observers: nothing can be changed or sent
	// SaveAttachment fetches attachment index (0-based) of the message with
	// uid in account's mailbox and writes it into dir, returning the path;
	// nil where saving is not offered (desk serve). The TUI calls it in a
	// Cmd: it never dials a server itself.
	SaveAttachment func(ctx context.Context, account string, uid uint32, index int, dir string) (string, error)
	Sections       []Section // saved views; DefaultSections when empty
	Staff          []string  // staff names, for completing assignees
	// StayAfterAction keeps the cursor on a ticket after an action instead
	// of moving to the next one.
	StayAfterAction bool
	// Keys are the bindings after the config's remaps, with the custom
	// commands (NewKeys); nil means the defaults.
	Keys *Keys
	// MacroDir is the folder of macro files (macro.go); "" means none.
	MacroDir string
	// SaveSection writes a section into the config (:save NAME); nil
	// where there is no config file to write.
	SaveSection func(Section) error
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

// flashFor is how long a transient message stays on the status line.
const flashFor = 5 * time.Second

// model is the root model: it owns every screen and the status line.
type model struct {
	st     *store.Store
	opts   Options
	title  string
	author string
	keys   KeyMap // the bindings of the context with the focus
	keyset *Keys  // every context's bindings and the custom commands
	styles Styles
	help   help.Model
	isDark bool

	// now is the clock (tests fix it); after schedules a message (tests
	// stub it so no timer runs).
	now   func() time.Time
	after func(time.Duration, func(time.Time) tea.Msg) tea.Cmd
	// execProcess hands the terminal to a process (tests run it in place).
	execProcess func(*exec.Cmd, tea.ExecCallback) tea.Cmd

	width, height int
	screen        screen
	seq           int // numbers every store read, newest highest

	// The ticket list: sections, and a window of the current one's rows.
	sections      []section
	sec           int
	rows          []ticketRow
	start         int  // the section row of rows[0]
	total         int  // rows in the section
	loaded        bool // rows hold a completed read of the section
	listErr       string
	listSeq       int // the newest list read applied
	countSeq      int // the newest counts read applied
	wantStart     int // the start of the newest window asked for
	windowPending bool
	counted       bool // total holds a count of the section, not a lower bound
	countedSeq    int  // the newest section count applied
	cursor        int
	offset        int
	selected      int64 // the ticket under the cursor, kept across reloads

	marks      map[int64]bool // marked tickets: actions apply to all of them
	markAnchor int            // where V marks a range from
	undo       []undoEntry
	chord      string // the first key of a two-key command ("a", "s", "z")
	prompt     *prompt
	overlay    *overlay
	picker     *macroPicker

	thread  *threadState
	compose *composer
	search  searchState
	preview previewState

	// The status line.
	syncs     map[string]syncView
	outbox    outboxView
	flash     string
	flashErr  bool
	flashSeq  int
	countdown bool // a countdownMsg is scheduled

	focus focus // last reported to opts.Presence
}

func newModel(st *store.Store, opts Options) *model {
	author := strings.TrimSpace(opts.Author)
	if author == "" {
		author = "staff"
	}
	m := &model{
		st:          st,
		opts:        opts,
		title:       sanitize.Line(opts.Title),
		author:      author,
		help:        help.New(),
		isDark:      true,
		now:         time.Now,
		after:       tea.Tick,
		execProcess: tea.ExecProcess,
		width:       80,
		height:      24,
		sections:    newSections(opts.Sections),
		marks:       map[int64]bool{},
		syncs:       map[string]syncView{},
	}
	if m.title == "" {
		m.title = "desk"
	}
	m.keyset = opts.Keys
	if m.keyset == nil {
		m.keyset, _ = NewKeys(nil, nil) // the defaults are valid (TestDefaultKeys)
	}
	m.syncKeys()
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
	return tea.Batch(m.refresh(), loadOutbox(m.st), tea.RequestBackgroundColor)
}

// env is what "me" and "now" mean in queries.
func (m *model) env() store.QueryEnv { return store.QueryEnv{Me: m.author, Now: m.now()} }

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

	case tea.MouseWheelMsg:
		cmd = m.wheel(msg)
	case tea.MouseClickMsg:
		cmd = m.click(msg)
	case listLoadedMsg:
		m.applyList(msg)
	case countLoadedMsg:
		m.applyCount(msg)
	case countsLoadedMsg:
		m.applyCounts(msg)
	case changeAppliedMsg:
		cmd = m.changeApplied(msg)
	case attachmentSavedMsg:
		cmd = m.attachmentSaved(msg)
	case senderBlockedMsg:
		if msg.err != nil {
			cmd = m.setFlash("block: "+errorText(msg.err), true)
		} else {
			cmd = tea.Batch(m.refresh(), m.reloadThread(), m.setFlash("blocked "+sanitize.Line(msg.pattern)+": its mail is spam from now on", false))
		}
	case markedMsg:
		cmd = m.marked(msg)
	case draftSaveMsg:
		cmd = m.saveDraftNow(msg)
	case draftLoadedMsg:
		m.draftLoaded(msg)
	case draftFailedMsg:
		cmd = m.setFlash("draft: "+errorText(msg.err), true)
	case editorDoneMsg:
		cmd = m.editorDone(msg)
	case commandDoneMsg:
		cmd = m.commandDone(msg)
	case macrosLoadedMsg:
		m.macrosLoaded(msg)
	case sectionSavedMsg:
		cmd = m.sectionSaved(msg)
	case threadLoadedMsg:
		cmd = m.applyThread(msg)
	case previewLoadedMsg:
		m.applyPreview(msg)
	case outboxLoadedMsg:
		if msg.err == nil {
			m.outbox.Queued, m.outbox.Failed = msg.queued, msg.failed
		}
	case replyQueuedMsg:
		cmd = m.replyQueued(msg)
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
	m.reportFocus()
	m.syncKeys()
	m.layout()
	if follow := m.followPreview(); follow != nil {
		cmd = tea.Batch(cmd, follow)
	}
	return m, cmd
}

// forward hands a message the root does not know to the focused component.
func (m *model) forward(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch {
	case m.picker != nil:
		m.picker.input, cmd = m.picker.input.Update(msg)
		m.picker.filter()
	case m.prompt != nil:
		m.prompt.input, cmd = m.prompt.input.Update(msg)
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
	m.syncKeys()
	if key.Matches(msg, m.keys.Quit) {
		return tea.Quit
	}
	switch {
	case m.overlay != nil:
		return m.overlayKey(msg)
	case m.picker != nil:
		return m.pickerKey(msg)
	case m.prompt != nil:
		return m.promptKey(msg)
	case m.chord != "":
		return m.chordKey(msg)
	case m.compose != nil:
		return m.composeKey(msg)
	}
	if m.screen != screenSearch {
		if cmd, ok := m.customKey(msg); ok {
			return cmd
		}
		if key.Matches(msg, m.keys.Macro) {
			return m.openPicker("")
		}
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
	if m.prompt == nil && m.compose == nil && m.picker == nil && !(m.screen == screenSearch && m.search.inputFocus) {
		return nil
	}
	return m.forward(msg)
}

// ticketsChanged re-reads what the workers changed.
func (m *model) ticketsChanged(msg store.TicketsChanged) tea.Cmd {
	cmds := []tea.Cmd{m.refresh()}
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
	if m.prompt != nil {
		m.prompt.input.SetWidth(max(m.width-ansi.StringWidth(m.prompt.input.Prompt)-1, 1))
	}
	m.layoutList()
	if m.thread != nil {
		m.layoutThread()
	}
	m.layoutSearch()
}

// currentHelp is the help of what has the focus, with the custom
// commands where they are bound.
func (m *model) currentHelp() help.KeyMap {
	h := m.contextHelp()
	if ctx := m.context(); len(m.keyset.commands) > 0 && (ctx == ctxList || ctx == ctxThread) {
		var col []key.Binding
		for _, c := range m.keyset.commands {
			col = append(col, c.binding())
		}
		h.full = append(h.full, col)
	}
	return h
}

// contextHelp is the help of the context with the focus.
func (m *model) contextHelp() bindings {
	switch {
	case m.prompt != nil:
		return m.keys.promptHelp()
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
	case len(m.marks) > 0:
		return m.keys.markedHelp()
	case m.preview.on:
		return m.keys.previewHelp()
	default:
		return m.keys.listHelp()
	}
}

// hintLine is the always-visible help: what the keys do in this mode.
func (m *model) hintLine() string {
	switch {
	case m.chord != "":
		return m.styles.Flash.Render(m.chordHint())
	case m.overlay != nil:
		return m.styles.Dim.Render("type to filter · ↑/↓ choose · enter run · esc close")
	case m.picker != nil:
		return m.styles.Dim.Render("type to filter · ↑/↓ choose · enter apply · esc close")
	case m.prompt == nil && m.screen == screenList && len(m.marks) > 0:
		return m.styles.Flash.Render(fmt.Sprintf("%d marked — actions apply to all · ", len(m.marks))) +
			m.help.ShortHelpView(m.currentHelp().ShortHelp())
	}
	return m.help.ShortHelpView(m.currentHelp().ShortHelp())
}

// footer is the prompt (when typing), the status line and the hint line,
// clipped to the width.
func (m *model) footer() []string {
	var lines []string
	if m.prompt != nil {
		lines = m.promptLines()
	}
	lines = append(lines, m.statusLine(), m.hintLine())
	for i := range lines {
		lines[i] = clip(lines[i], m.width)
	}
	return lines
}

// footerHeight is len(m.footer()), without drawing it.
func (m *model) footerHeight() int {
	n := 2
	if p := m.prompt; p != nil {
		n++
		if p.err != "" {
			n++
		}
	}
	return n
}

// bodyHeight is the height left between a screen's header lines and the
// footer.
func (m *model) bodyHeight(header int) int {
	return max(m.height-header-m.footerHeight(), 1)
}

// View draws the open screen.
func (m *model) View() tea.View {
	var lines []string
	switch {
	case m.overlay != nil:
		lines = m.overlayView()
	case m.picker != nil:
		lines = m.pickerView()
	case m.screen == screenThread:
		lines = m.threadView()
	case m.screen == screenSearch:
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
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = m.title
	return v
}
