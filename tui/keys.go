package tui

import "charm.land/bubbles/v2/key"

// KeyMap holds every key binding of the interface with its help text. Which
// bindings are live depends on the screen; the help line shows those.
type KeyMap struct {
	Up           key.Binding // move up a row or a line
	Down         key.Binding // move down a row or a line
	PageUp       key.Binding // move up a page
	PageDown     key.Binding // move down a page
	HalfPageUp   key.Binding // scroll a thread up half a page
	HalfPageDown key.Binding // scroll a thread down half a page
	Top          key.Binding // go to the first row or line
	Bottom       key.Binding // go to the last row or line

	Open   key.Binding // open the ticket or search result under the cursor
	Filter key.Binding // cycle the list's state filter
	Reply  key.Binding // write a public reply
	Note   key.Binding // write an internal note
	Toggle key.Binding // close or reopen a ticket
	Search key.Binding // full-text search, or edit the query
	Help   key.Binding // toggle the full help
	Back   key.Binding // leave the screen (quits from the list)
	Quit   key.Binding // quit from anywhere

	RunSearch key.Binding // run the typed query
	Send      key.Binding // queue the draft
	Cancel    key.Binding // leave the composer or the query
	Discard   key.Binding // confirm discarding a draft
	Keep      key.Binding // keep editing a draft
}

// DefaultKeyMap returns desk's key bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:           key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:         key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:       key.NewBinding(key.WithKeys("pgup", "b"), key.WithHelp("pgup/b", "page up")),
		PageDown:     key.NewBinding(key.WithKeys("pgdown", "space", "f"), key.WithHelp("pgdn/space", "page down")),
		HalfPageUp:   key.NewBinding(key.WithKeys("u", "ctrl+u"), key.WithHelp("u", "½ page up")),
		HalfPageDown: key.NewBinding(key.WithKeys("d", "ctrl+d"), key.WithHelp("d", "½ page down")),
		Top:          key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:       key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),

		Open:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Filter: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "open/closed/all")),
		Reply:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reply")),
		Note:   key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "internal note")),
		Toggle: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "close/reopen")),
		Search: key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
		Help:   key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more keys")),
		Back:   key.NewBinding(key.WithKeys("q", "esc"), key.WithHelp("q/esc", "back")),
		Quit:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),

		RunSearch: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "search")),
		Send:      key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "send")),
		Cancel:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Discard:   key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "discard draft")),
		Keep:      key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n", "keep editing")),
	}
}

// bindings is one screen's help: a short line and full columns. It
// implements help.KeyMap.
type bindings struct {
	short []key.Binding
	full  [][]key.Binding
}

// ShortHelp returns the bindings of the one-line help.
func (b bindings) ShortHelp() []key.Binding { return b.short }

// FullHelp returns the bindings of the full help, in columns.
func (b bindings) FullHelp() [][]key.Binding { return b.full }

// listHelp is the help of the ticket list.
func (k KeyMap) listHelp() bindings {
	quit := k.Back
	quit.SetHelp("q", "quit")
	return bindings{
		short: []key.Binding{k.Open, k.Filter, k.Reply, k.Toggle, k.Search, k.Help, quit},
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
			{k.Open, k.Filter, k.Search},
			{k.Reply, k.Note, k.Toggle},
			{k.Help, quit, k.Quit},
		},
	}
}

// threadHelp is the help of an open thread.
func (k KeyMap) threadHelp() bindings {
	return bindings{
		short: []key.Binding{k.Reply, k.Note, k.Toggle, k.Down, k.PageDown, k.Help, k.Back},
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.HalfPageUp, k.HalfPageDown, k.Top, k.Bottom},
			{k.Reply, k.Note, k.Toggle, k.Search},
			{k.Help, k.Back, k.Quit},
		},
	}
}

// composeHelp is the help while a draft is being written.
func (k KeyMap) composeHelp() bindings {
	return bindings{
		short: []key.Binding{k.Send, k.Cancel, k.Quit},
		full:  [][]key.Binding{{k.Send, k.Cancel, k.Quit}},
	}
}

// confirmHelp is the help while asking whether to discard a draft.
func (k KeyMap) confirmHelp() bindings {
	return bindings{
		short: []key.Binding{k.Discard, k.Keep},
		full:  [][]key.Binding{{k.Discard, k.Keep}},
	}
}

// searchInputHelp is the help while the query is being typed.
func (k KeyMap) searchInputHelp() bindings {
	results := k.Down
	results.SetHelp("↓", "results")
	back := k.Cancel
	back.SetHelp("esc", "back")
	return bindings{
		short: []key.Binding{k.RunSearch, results, back, k.Quit},
		full:  [][]key.Binding{{k.RunSearch, results, back, k.Quit}},
	}
}

// searchResultsHelp is the help while moving through search results.
func (k KeyMap) searchResultsHelp() bindings {
	edit := k.Search
	edit.SetHelp("/", "edit query")
	return bindings{
		short: []key.Binding{k.Open, edit, k.Down, k.Help, k.Back},
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
			{k.Open, edit},
			{k.Help, k.Back, k.Quit},
		},
	}
}
