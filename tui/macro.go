package tui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"desk/store"
	"desk/tui/sanitize"
)

// A macro is a file NAME.md in the macro folder (<configdir>/macros): an
// optional header between two "---" lines, then the body, e.g.
//
//	---
//	status: solved
//	assignee: me
//	labels: billing, refund
//	kind: reply
//	---
//	Thanks, the refund is on its way.
//
// Header keys: status (a ticket status), assignee (me, none or a staff
// name), labels (separated by commas or spaces), kind (reply or note). A
// file without a header is all body. Applying a macro fills the composer
// with the body and the header as quick-action lines (/status solved,
// /assign @me, /label ~billing ~refund), which act on send like typed ones.
type macro struct {
	name  string
	kind  string // store.KindReply, store.KindNote, or "" for either
	text  string // the body and the quick-action lines
	about string // the header in short, for the picker
}

// macroError is a bad macro file, at a line.
type macroError struct {
	file string // relative to the macro folder
	line int
	msg  string
}

func (e *macroError) Error() string { return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.msg) }

// parseMacro reads the macro file named file (for errors) from data.
func parseMacro(file string, data string) (macro, error) {
	mc := macro{name: strings.TrimSuffix(file, filepath.Ext(file))}
	fail := func(line int, format string, args ...any) (macro, error) {
		return macro{}, &macroError{file: file, line: line, msg: fmt.Sprintf(format, args...)}
	}
	data = strings.ReplaceAll(data, "\r\n", "\n")
	lines := strings.Split(data, "\n")
	var actions, about []string
	body := lines
	if strings.TrimSpace(lines[0]) == "---" {
		end := -1
		for i := 1; i < len(lines) && end < 0; i++ {
			if strings.TrimSpace(lines[i]) == "---" {
				end = i
			}
		}
		if end < 0 {
			return fail(1, `the header has no closing "---" line`)
		}
		for i := 1; i < end; i++ {
			line := strings.TrimSpace(lines[i])
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
			if !ok || v == "" {
				return fail(i+1, "want key: value (status, assignee, labels, kind)")
			}
			var action string
			switch k {
			case "status":
				action = "/status " + v
			case "assignee":
				action = "/assign @" + strings.TrimPrefix(v, "@")
				if strings.EqualFold(v, "none") {
					action = "/unassign"
				}
			case "labels":
				words := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
				for i, w := range words {
					words[i] = "~" + strings.TrimPrefix(w, "~")
				}
				action = "/label " + strings.Join(words, " ")
			case "kind":
				if v != store.KindReply && v != store.KindNote {
					return fail(i+1, "kind: want reply or note, not %q", v)
				}
				mc.kind = v
				about = append(about, v)
				continue
			default:
				return fail(i+1, "unknown key %q (keys: status, assignee, labels, kind)", k)
			}
			// The one reading of quick actions checks the line now.
			if _, _, summary, _, err := quickActions(action); err != nil {
				return fail(i+1, "%v", err)
			} else if k == "status" {
				about = append(about, v)
			} else {
				about = append(about, summary...)
			}
			actions = append(actions, action)
		}
		body = lines[end+1:]
	}
	text := strings.TrimSpace(strings.Join(body, "\n"))
	if len(actions) > 0 {
		text = strings.TrimSpace(text + "\n\n" + strings.Join(actions, "\n"))
	}
	if text == "" {
		return fail(1, "empty macro: no body and no header")
	}
	mc.text, mc.about = text, strings.Join(about, " · ")
	return mc, nil
}

// macrosLoadedMsg carries the macro folder's macros and its bad files.
type macrosLoadedMsg struct {
	macros []macro
	errs   []error
}

// loadMacros reads every NAME.md of dir. A missing folder has no macros.
func loadMacros(dir string) tea.Cmd {
	return func() tea.Msg {
		var msg macrosLoadedMsg
		if dir == "" {
			return msg
		}
		paths, err := filepath.Glob(filepath.Join(dir, "*.md"))
		if err != nil {
			msg.errs = append(msg.errs, err)
			return msg
		}
		sort.Strings(paths)
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				msg.errs = append(msg.errs, fmt.Errorf("%s: %w", filepath.Base(p), errors.Unwrap(err)))
				continue
			}
			mc, err := parseMacro(filepath.Base(p), string(data))
			if err != nil {
				msg.errs = append(msg.errs, err)
				continue
			}
			msg.macros = append(msg.macros, mc)
		}
		return msg
	}
}

// macroPicker is the fuzzy-filtered list of macros.
type macroPicker struct {
	input  textinput.Model
	macros []macro
	errs   []string
	shown  []int // indexes of macros matching the filter, best first
	cursor int
	loaded bool
	want   string // :macro NAME: apply NAME once loaded
}

// openPicker loads the macros and shows the picker; want, when set, is
// applied at once if it is a macro's name.
func (m *model) openPicker(want string) tea.Cmd {
	if m.opts.ReadOnly {
		return m.readOnly()
	}
	if m.compose == nil {
		if _, ok := m.actionRow(); !ok {
			return m.setFlash("macro: no ticket selected", true)
		}
	}
	p := &macroPicker{input: m.lineInput("macro: "), want: want}
	p.input.SetValue(want)
	m.picker = p
	return loadMacros(m.opts.MacroDir)
}

// macrosLoaded fills the picker, or applies the macro :macro NAME asked
// for.
func (m *model) macrosLoaded(msg macrosLoadedMsg) {
	p := m.picker
	if p == nil {
		return
	}
	p.macros, p.loaded, p.errs = msg.macros, true, nil
	for _, err := range msg.errs {
		p.errs = append(p.errs, sanitize.Line(err.Error()))
	}
	p.filter()
	if p.want == "" {
		return
	}
	for _, mc := range p.macros {
		if strings.EqualFold(mc.name, p.want) {
			m.picker = nil
			m.applyMacro(mc)
			return
		}
	}
	p.want = "" // no such macro: the picker stays, filtered by the name
}

// fuzzyScore scores how well pattern matches s as a subsequence, lower is
// better; ok is false when it does not.
func fuzzyScore(pattern, s string) (score int, ok bool) {
	pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	last := -1
	for _, r := range pattern {
		i := strings.IndexRune(s[last+1:], r)
		if i < 0 {
			return 0, false
		}
		if last >= 0 {
			score += i // the gap since the previous match
		} else {
			score += i * 2 // a late start counts more
		}
		last += 1 + i
	}
	return score, true
}

// filter keeps the macros whose name matches the typed text, best first.
func (p *macroPicker) filter() {
	type hit struct{ i, score int }
	var hits []hit
	for i, mc := range p.macros {
		if s, ok := fuzzyScore(strings.TrimSpace(p.input.Value()), mc.name); ok {
			hits = append(hits, hit{i, s})
		}
	}
	sort.SliceStable(hits, func(a, b int) bool { return hits[a].score < hits[b].score })
	p.shown = p.shown[:0]
	for _, h := range hits {
		p.shown = append(p.shown, h.i)
	}
	p.cursor = min(p.cursor, max(len(p.shown)-1, 0))
}

// pickerKey handles a key while the picker is open.
func (m *model) pickerKey(msg tea.KeyPressMsg) tea.Cmd {
	p := m.picker
	var ok bool
	if p.cursor, ok = choiceKey(msg.String(), p.cursor, len(p.shown)); ok {
		return nil
	}
	switch msg.String() {
	case "esc":
		m.picker = nil
		return nil
	case "enter":
		if len(p.shown) == 0 {
			return nil
		}
		m.picker = nil
		return m.applyMacro(p.macros[p.shown[p.cursor]])
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	p.filter()
	return cmd
}

// applyMacro fills the composer with a macro, opening it (on the open
// thread, or the ticket under the list's cursor) if needed. Its header
// became quick-action lines: they act on send, like typed ones.
func (m *model) applyMacro(mc macro) tea.Cmd {
	var cmd tea.Cmd
	if m.compose == nil {
		kind := mc.kind
		if kind == "" {
			kind = store.KindReply
		}
		if m.screen == screenThread {
			cmd = m.openComposer(kind)
		} else if r, ok := m.current(); ok {
			cmd = tea.Batch(m.openThread(r, screenList), m.openComposer(kind))
		}
		if m.compose == nil {
			return cmd
		}
	}
	c := m.compose
	if mc.kind != "" && mc.kind != c.kind && strings.TrimSpace(c.ta.Value()) != "" {
		// Switching would turn what was typed into the other kind: an
		// internal note's text would go to the customer.
		return tea.Batch(cmd, m.setFlash("macro "+mc.name+" is a "+mc.kind+"; this draft is a "+c.kind+
			" with text: send or clear it first", true))
	}
	if old := c.kind; mc.kind != "" && mc.kind != old {
		c.setKind(mc.kind)
		cmd = tea.Batch(cmd, deleteDraft(m.st, c.ticketID, old))
	}
	text := mc.text
	if old := strings.TrimSpace(c.ta.Value()); old != "" {
		text = old + "\n\n" + text
	}
	c.ta.SetValue(text)
	c.err = ""
	return tea.Batch(cmd, m.scheduleDraft(), m.setFlash("macro "+mc.name+": review, then ctrl+s", false))
}

// pickerView draws the picker over the whole body.
func (m *model) pickerView() []string {
	p, s := m.picker, m.styles
	lines := []string{s.Title.Render("Macros") + s.Dim.Render(" — type to filter, enter applies, esc closes"), p.input.View()}
	for _, e := range p.errs {
		lines = append(lines, s.Error.Render("  "+e))
	}
	switch {
	case !p.loaded:
		lines = append(lines, s.Dim.Render("  loading…"))
	case len(p.macros) == 0 && m.opts.MacroDir == "":
		lines = append(lines, s.Dim.Render("  no macro folder: macros are files in <config dir>/macros/NAME.md"))
	case len(p.macros) == 0:
		lines = append(lines, s.Dim.Render("  no macros: add files "+sanitize.Line(m.opts.MacroDir)+"/NAME.md"))
	case len(p.shown) == 0:
		lines = append(lines, s.Dim.Render("  nothing matches"))
	}
	h := max(m.height-len(m.footer())-len(lines), 1)
	first := max(p.cursor-h+1, 0)
	for i := first; i < len(p.shown) && i < first+h; i++ {
		mc := p.macros[p.shown[i]]
		cur := "  "
		if i == p.cursor {
			cur = "› "
		}
		about := firstLine(mc.text)
		if mc.about != "" {
			about = sanitize.Line(mc.about) + " — " + about
		}
		text := cur + cell(sanitize.Line(mc.name), 20) + " " + about
		if i == p.cursor {
			text = s.RowSelected.Render(cell(text, m.width))
		}
		lines = append(lines, text)
	}
	return lines
}

// firstLine is the first line of a macro's text, cleaned.
func firstLine(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	return sanitize.Line(line)
}
