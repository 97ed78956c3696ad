package tui

import (
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// overlay is the ? help: every key and command of the current context,
// filtered as you type; enter runs the chosen entry.
type overlay struct {
	input   textinput.Model
	entries []overlayEntry
	shown   []int // indexes of entries that match the filter
	cursor  int
}

// overlayEntry is one line of the overlay: a key binding, or a command.
type overlayEntry struct {
	keys, desc string
	key        string // the key to press, for a binding
	command    string // the command to start, for a command
}

// openOverlay shows the help of the current context.
func (m *model) openOverlay() {
	var entries []overlayEntry
	seen := map[string]bool{}
	for _, col := range m.currentHelp().FullHelp() {
		for _, b := range col {
			h := b.Help()
			if !b.Enabled() || len(b.Keys()) == 0 || seen[h.Key+h.Desc] {
				continue
			}
			seen[h.Key+h.Desc] = true
			entries = append(entries, overlayEntry{keys: h.Key, desc: h.Desc, key: b.Keys()[0]})
		}
	}
	for _, c := range commands {
		entries = append(entries, overlayEntry{keys: ":" + c.name, desc: c.help, command: c.name})
	}
	m.overlay = &overlay{input: m.lineInput("filter: "), entries: entries}
	m.overlay.filter()
}

// lineInput is a focused one-line input with a steady cursor (a blinking
// one would keep a timer running).
func (m *model) lineInput(prompt string) textinput.Model {
	in := textinput.New()
	in.Prompt = prompt
	st := textinput.DefaultStyles(m.isDark)
	st.Cursor.Blink = false
	in.SetStyles(st)
	in.Focus()
	return in
}

// choiceKey moves a cursor over n choices on up and down (ctrl+p, ctrl+n);
// ok is false for any other key.
func choiceKey(k string, cursor, n int) (next int, ok bool) {
	switch k {
	case "up", "ctrl+p":
		return max(cursor-1, 0), true
	case "down", "ctrl+n":
		return min(cursor+1, max(n-1, 0)), true
	}
	return cursor, false
}

// filter keeps the entries whose keys or description contain every typed
// word.
func (o *overlay) filter() {
	words := strings.Fields(strings.ToLower(o.input.Value()))
	o.shown = o.shown[:0]
	for i, e := range o.entries {
		text := strings.ToLower(e.keys + " " + e.desc)
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(text, w)
		}
		if ok {
			o.shown = append(o.shown, i)
		}
	}
	o.cursor = min(o.cursor, max(len(o.shown)-1, 0))
}

// overlayKey handles a key while the overlay is open.
func (m *model) overlayKey(msg tea.KeyPressMsg) tea.Cmd {
	o := m.overlay
	var ok bool
	if o.cursor, ok = choiceKey(msg.String(), o.cursor, len(o.shown)); ok {
		return nil
	}
	switch msg.String() {
	case "esc", "?":
		if msg.String() == "esc" || o.input.Value() == "" {
			m.overlay = nil
			return nil
		}
	case "enter":
		m.overlay = nil
		if len(o.shown) == 0 {
			return nil
		}
		e := o.entries[o.shown[o.cursor]]
		if e.command != "" {
			m.openPrompt(promptCommand, e.command+" ")
			return nil
		}
		return m.handleKey(keyPress(e.key))
	}
	var cmd tea.Cmd
	o.input, cmd = o.input.Update(msg)
	o.filter()
	return cmd
}

// keyPress is the key press a binding's key name stands for.
func keyPress(name string) tea.KeyPressMsg {
	named := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab, "space": tea.KeySpace,
		"up": tea.KeyUp, "down": tea.KeyDown, "pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown,
		"home": tea.KeyHome, "end": tea.KeyEnd,
	}
	var mod tea.KeyMod
	switch {
	case strings.HasPrefix(name, "ctrl+"):
		mod, name = tea.ModCtrl, strings.TrimPrefix(name, "ctrl+")
	case strings.HasPrefix(name, "shift+"):
		mod, name = tea.ModShift, strings.TrimPrefix(name, "shift+")
	}
	if code, ok := named[name]; ok {
		k := tea.KeyPressMsg{Code: code, Mod: mod}
		if code == tea.KeySpace {
			k.Text = " "
		}
		return k
	}
	r := []rune(name)[0]
	if mod != 0 {
		return tea.KeyPressMsg{Code: r, Mod: mod}
	}
	return tea.KeyPressMsg{Code: r, Text: name}
}

// overlayView draws the overlay over the whole body.
func (m *model) overlayView() []string {
	o, s := m.overlay, m.styles
	lines := []string{s.Title.Render("Keys and commands") + s.Dim.Render(" — type to filter, enter runs, esc closes"), o.input.View()}
	h := max(m.height-len(m.footer())-len(lines), 1)
	first := max(o.cursor-h+1, 0)
	keyW := 14
	for i := first; i < len(o.shown) && i < first+h; i++ {
		e := o.entries[o.shown[i]]
		cur := "  "
		if i == o.cursor {
			cur = "› "
		}
		text := cur + cell(e.keys, keyW) + " " + e.desc
		if i == o.cursor {
			lines = append(lines, s.RowSelected.Render(cell(text, m.width)))
		} else {
			lines = append(lines, text)
		}
	}
	if len(o.shown) == 0 {
		lines = append(lines, s.Dim.Render("  nothing matches"))
	}
	return lines
}
