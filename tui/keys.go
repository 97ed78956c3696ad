package tui

import "charm.land/bubbles/v2/key"

// KeyMap holds every key binding of the interface with its help text: the
// one registry the hint line, the ? overlay and the : command line read.
// Which bindings are live depends on the context.
type KeyMap struct {
	Up           key.Binding // move up a row or a line
	Down         key.Binding // move down a row or a line
	PageUp       key.Binding // move up a page
	PageDown     key.Binding // move down a page
	HalfPageUp   key.Binding // scroll a thread up half a page
	HalfPageDown key.Binding // scroll a thread down half a page
	Top          key.Binding // go to the first row or line
	Bottom       key.Binding // go to the last row or line

	Open        key.Binding // open the ticket or search result under the cursor
	NextSection key.Binding // the next section tab
	PrevSection key.Binding // the previous section tab
	EditQuery   key.Binding // edit the section's query
	Search      key.Binding // full-text search of messages
	Reply       key.Binding // write a public reply
	Note        key.Binding // write an internal note
	Status      key.Binding // choose a status
	Assign      key.Binding // assign (then m: take it)
	Labels      key.Binding // add or remove labels
	Spam        key.Binding // mark spam or not spam
	Toggle      key.Binding // close or reopen
	Undo        key.Binding // undo the last status, assignee, label or spam change
	Mark        key.Binding // mark the ticket and move down
	MarkRange   key.Binding // mark from the last mark to the cursor
	MarkQuery   key.Binding // mark every ticket of a query
	History     key.Binding // the requester's other tickets
	Preview     key.Binding // show or hide the preview pane
	PreviewMore key.Binding // make the preview pane bigger
	PreviewLess key.Binding // make the preview pane smaller
	Macro       key.Binding // pick a macro: body, status, assignee, labels
	Save        key.Binding // save an attachment into a folder
	Fold        key.Binding // z then o/c/a/R/M: fold quotes and signatures
	Help        key.Binding // the key overlay
	Command     key.Binding // the command line
	Back        key.Binding // leave the screen (quits from the list)
	Quit        key.Binding // quit from anywhere

	RunSearch  key.Binding // run the typed query
	Send       key.Binding // queue the draft
	ToggleKind key.Binding // switch a draft between reply and note
	Editor     key.Binding // edit the draft in $EDITOR
	Cancel     key.Binding // leave the composer or the query
	Discard    key.Binding // confirm discarding a draft
	Keep       key.Binding // keep editing a draft
	Complete   key.Binding // complete the word in the command line
}

// DefaultKeyMap returns desk's key bindings.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return KeyMap{
		Up:           b([]string{"up", "k"}, "↑/k", "up"),
		Down:         b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:       b([]string{"pgup", "b", "ctrl+b"}, "pgup/b", "page up"),
		PageDown:     b([]string{"pgdown", "f", "ctrl+f"}, "pgdn/f", "page down"),
		HalfPageUp:   b([]string{"ctrl+u"}, "ctrl+u", "½ page up"),
		HalfPageDown: b([]string{"d", "ctrl+d"}, "d", "½ page down"),
		Top:          b([]string{"g", "home"}, "g", "top"),
		Bottom:       b([]string{"G", "end"}, "G", "bottom"),

		Open:        b([]string{"enter"}, "enter", "open"),
		NextSection: b([]string{"tab"}, "tab", "next section"),
		PrevSection: b([]string{"shift+tab"}, "shift+tab", "previous section"),
		EditQuery:   b([]string{"/"}, "/", "edit query"),
		Search:      b([]string{"F"}, "F", "find in messages"),
		Reply:       b([]string{"r"}, "r", "reply"),
		Note:        b([]string{"n"}, "n", "internal note"),
		Status:      b([]string{"s"}, "s", "status"),
		Assign:      b([]string{"a"}, "a", "assign (a m: take)"),
		Labels:      b([]string{"l"}, "l", "labels"),
		Spam:        b([]string{"!"}, "!", "spam / not spam"),
		Toggle:      b([]string{"c"}, "c", "close/reopen"),
		Undo:        b([]string{"u"}, "u", "undo"),
		Mark:        b([]string{"space"}, "space", "mark"),
		MarkRange:   b([]string{"V"}, "V", "mark range"),
		MarkQuery:   b([]string{"*"}, "*", "mark by query"),
		History:     b([]string{"h"}, "h", "customer history"),
		Preview:     b([]string{"p"}, "p", "preview"),
		PreviewMore: b([]string{"+", "="}, "+", "bigger preview"),
		PreviewLess: b([]string{"-"}, "-", "smaller preview"),
		Macro:       b([]string{"M"}, "M", "macro"),
		Save:        b([]string{"S"}, "S", "save an attachment"),
		Fold:        b([]string{"z"}, "z o/c/a/R/M", "fold quotes"),
		Help:        b([]string{"?"}, "?", "keys"),
		Command:     b([]string{":"}, ":", "command"),
		Back:        b([]string{"q", "esc"}, "q/esc", "back"),
		Quit:        b([]string{"ctrl+c"}, "ctrl+c", "quit"),

		RunSearch:  b([]string{"enter"}, "enter", "run"),
		Send:       b([]string{"ctrl+s"}, "ctrl+s", "send"),
		ToggleKind: b([]string{"ctrl+t"}, "ctrl+t", "reply/note"),
		Editor:     b([]string{"ctrl+e"}, "ctrl+e", "$EDITOR"),
		Cancel:     b([]string{"esc"}, "esc", "cancel"),
		Discard:    b([]string{"y"}, "y", "discard draft"),
		Keep:       b([]string{"n", "N", "esc"}, "N", "keep editing"),
		Complete:   b([]string{"tab"}, "tab", "complete"),
	}
}

// bindings is one context's help: the hint line and every binding. It
// implements help.KeyMap.
type bindings struct {
	short []key.Binding
	full  [][]key.Binding
}

// ShortHelp returns the bindings of the hint line.
func (b bindings) ShortHelp() []key.Binding { return b.short }

// FullHelp returns every binding of the context, in columns.
func (b bindings) FullHelp() [][]key.Binding { return b.full }

// actions are the bindings that change tickets, in the list and a thread.
func (k KeyMap) actions() []key.Binding {
	return []key.Binding{k.Reply, k.Note, k.Status, k.Assign, k.Labels, k.Spam, k.Toggle, k.Undo}
}

// listHelp is the help of the ticket list.
func (k KeyMap) listHelp() bindings {
	quit := k.Back
	quit.SetHelp("q", "quit")
	return bindings{
		short: []key.Binding{k.Help, k.Open, k.Reply, k.Status, k.Assign, k.Mark, k.EditQuery, k.NextSection, quit},
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
			{k.Open, k.NextSection, k.PrevSection, k.EditQuery, k.Search, k.Command},
			append(k.actions(), k.Macro),
			{k.Mark, k.MarkRange, k.MarkQuery, k.Preview, k.PreviewMore, k.PreviewLess, k.Help, quit, k.Quit},
		},
	}
}

// previewHelp is the help of the list while the preview pane is on.
func (k KeyMap) previewHelp() bindings {
	hide, resize := k.Preview, k.PreviewMore
	hide.SetHelp(k.Preview.Help().Key, "hide preview")
	resize.SetHelp(k.PreviewMore.Help().Key+"/"+k.PreviewLess.Help().Key, "resize")
	h := k.listHelp()
	h.short = []key.Binding{k.Help, k.Open, hide, resize, k.Reply, k.Status, k.Assign, k.Mark, h.short[len(h.short)-1]}
	return h
}

// markedHelp is the help of the list while tickets are marked.
func (k KeyMap) markedHelp() bindings {
	clear := k.Cancel
	clear.SetHelp("esc", "clear marks")
	h := k.listHelp()
	h.short = []key.Binding{k.Status, k.Assign, k.Labels, k.Spam, k.Toggle, k.Mark, k.MarkRange, clear}
	return h
}

// threadHelp is the help of an open thread.
func (k KeyMap) threadHelp() bindings {
	return bindings{
		short: []key.Binding{k.Help, k.Reply, k.Note, k.Status, k.Assign, k.Fold, k.History, k.Back},
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.HalfPageUp, k.HalfPageDown, k.Top, k.Bottom},
			append(k.actions(), k.Macro),
			{k.Fold, k.History, k.Save, k.Search, k.Command, k.Help, k.Back, k.Quit},
		},
	}
}

// composeHelp is the help while a draft is being written.
func (k KeyMap) composeHelp() bindings {
	short := []key.Binding{k.Send, k.ToggleKind, k.Editor, k.Cancel, k.Quit}
	return bindings{short: short, full: [][]key.Binding{append(short, k.Macro)}}
}

// confirmHelp is the help while asking whether to discard a draft.
func (k KeyMap) confirmHelp() bindings {
	all := []key.Binding{k.Discard, k.Keep}
	return bindings{short: all, full: [][]key.Binding{all}}
}

// promptHelp is the help while a query or command is typed.
func (k KeyMap) promptHelp() bindings {
	all := []key.Binding{k.RunSearch, k.Complete, k.Cancel, k.Quit}
	return bindings{short: all, full: [][]key.Binding{all}}
}

// searchInputHelp is the help while the search words are typed.
func (k KeyMap) searchInputHelp() bindings {
	results := k.Down
	results.SetHelp("↓", "results")
	back := k.Cancel
	back.SetHelp("esc", "back")
	all := []key.Binding{k.RunSearch, results, back, k.Quit}
	return bindings{short: all, full: [][]key.Binding{all}}
}

// searchResultsHelp is the help while moving through search results.
func (k KeyMap) searchResultsHelp() bindings {
	edit := k.Search
	edit.SetHelp("F", "edit words")
	return bindings{
		short: []key.Binding{k.Help, k.Open, edit, k.Down, k.Back},
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
			{k.Open, edit, k.Help, k.Back, k.Quit},
		},
	}
}
