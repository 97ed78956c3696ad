package tui

import (
	"errors"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"desk/store"
	"desk/tui/sanitize"
)

// promptKind is what a line typed at the bottom is for.
type promptKind int

const (
	promptQuery   promptKind = iota // the section's query
	promptMark                      // a query whose tickets get marked
	promptAssign                    // a staff name
	promptLabels                    // labels to add (+x or x) and remove (-x)
	promptCommand                   // a : command
	promptSave                      // "N DIR": save attachment N of the thread into DIR
)

// prompt is a line being typed at the bottom of the screen.
type prompt struct {
	kind   promptKind
	input  textinput.Model
	err    string
	errPos int // the byte offset in the input the error points at
}

// promptTitles are the prompts' labels.
var promptTitles = map[promptKind]string{
	promptQuery:   "query: ",
	promptMark:    "mark: ",
	promptAssign:  "assign to: ",
	promptLabels:  "labels (+add -remove): ",
	promptCommand: ":",
	promptSave:    "save attachment (number folder): ",
}

// openPrompt starts typing a line of kind, starting with value.
func (m *model) openPrompt(kind promptKind, value string) {
	in := m.lineInput(promptTitles[kind])
	in.SetValue(value)
	in.CursorEnd()
	m.prompt = &prompt{kind: kind, input: in}
	m.layout()
}

// promptLines draws the prompt: the input and, under an error, a caret at
// the place the error points at.
func (m *model) promptLines() []string {
	p := m.prompt
	lines := []string{p.input.View()}
	if p.err != "" {
		pos := min(max(p.errPos, 0), len(p.input.Value()))
		col := ansi.StringWidth(p.input.Prompt) + ansi.StringWidth(p.input.Value()[:pos])
		lines = append(lines, m.styles.Error.Render(strings.Repeat(" ", col)+"^ "+p.err))
	}
	return lines
}

// promptKey handles a key while a line is typed.
func (m *model) promptKey(msg tea.KeyPressMsg) tea.Cmd {
	p, k := m.prompt, m.keys
	switch {
	case key.Matches(msg, k.Cancel):
		m.prompt = nil
		return nil
	case key.Matches(msg, k.RunSearch):
		return m.runPrompt()
	case key.Matches(msg, k.Complete):
		m.complete()
		return nil
	}
	p.err = ""
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return cmd
}

// fail shows err under the prompt, pointing at pos.
func (p *prompt) fail(err error, pos int) tea.Cmd {
	var qe *store.QueryError
	if errors.As(err, &qe) {
		p.err, p.errPos = qe.Msg, pos+qe.Pos
	} else {
		p.err, p.errPos = errorText(err), pos
	}
	return nil
}

// runPrompt acts on the typed line.
func (m *model) runPrompt() tea.Cmd {
	p := m.prompt
	text := p.input.Value()
	switch p.kind {
	case promptQuery:
		return m.setQuery(text, 0)
	case promptMark:
		q, err := store.ParseQuery(text)
		if err != nil {
			return p.fail(err, 0)
		}
		m.prompt = nil
		return markByQuery(m.st, q, m.env(), 0, -1)
	case promptAssign:
		m.prompt = nil
		return m.assignTo(strings.TrimSpace(text))
	case promptLabels:
		m.prompt = nil
		return m.labelWith(strings.Fields(text))
	case promptSave:
		return m.saveAttachment(text)
	}
	return m.runCommand(text)
}

// setQuery makes text the current section's query; pos is where text
// starts in the prompt, for errors.
func (m *model) setQuery(text string, pos int) tea.Cmd {
	sec := &m.sections[m.sec]
	if err := sec.setQuery(strings.TrimSpace(text)); err != nil {
		return m.prompt.fail(err, pos)
	}
	m.prompt = nil
	return m.switchSection(m.sec)
}

// assignTo assigns the targets to name ("me", "none" or "" mean the obvious).
func (m *model) assignTo(name string) tea.Cmd {
	r, ok := m.actionRow()
	if !ok {
		return nil
	}
	switch strings.ToLower(strings.TrimPrefix(name, "@")) {
	case "me":
		name = m.author
	case "none", "nobody", "":
		none := ""
		return m.change(r, store.Change{Assignee: &none}, "Unassigned %s")
	}
	name = strings.TrimPrefix(name, "@")
	return m.change(r, store.Change{Assignee: &name}, "Assigned %s to "+store.NormalizeAssignee(name))
}

// labelWith adds the labels written x, +x or ~x and removes those written
// -x.
func (m *model) labelWith(words []string) tea.Cmd {
	r, ok := m.actionRow()
	if !ok || len(words) == 0 {
		return nil
	}
	var c store.Change
	for _, w := range words {
		if strings.HasPrefix(w, "-") {
			c.RemoveLabels = append(c.RemoveLabels, store.LabelName(w[1:]))
		} else {
			c.AddLabels = append(c.AddLabels, store.LabelName(strings.TrimPrefix(w, "+")))
		}
	}
	return m.change(r, c, "Labelled %s "+strings.Join(words, " "))
}

// commands are the : commands, for completion and the overlay.
var commands = []struct{ name, help string }{
	{"status", "status open|pending|on-hold|solved|closed"},
	{"assign", "assign NAME|me|none"},
	{"unassign", "unassign"},
	{"label", "label a -b: add a, remove b"},
	{"spam", "mark spam"},
	{"notspam", "mark not spam"},
	{"block", "block [domain]: the requester (or its domain) is spam from now on"},
	{"close", "close"},
	{"reopen", "reopen"},
	{"section", "section NAME: switch section"},
	{"query", "query Q: set the section's query"},
	{"mark", "mark Q: mark the tickets of a query"},
	{"undo", "undo the last change"},
	{"macro", "macro [NAME]: fill the composer from a macro"},
	{"save", "save NAME: keep the section's query as a section in the config"},
	{"help", "the key overlay"},
	{"preview", "show or hide the preview pane (+/- resize)"},
	{"quit", "quit desk"},
}

// runCommand runs a : command line.
func (m *model) runCommand(line string) tea.Cmd {
	p := m.prompt
	fields := strings.Fields(line)
	if len(fields) == 0 {
		m.prompt = nil
		return nil
	}
	name, rest := fields[0], strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), fields[0]))
	restPos := len(line) - len(strings.TrimLeft(line, " ")) + len(name) + 1
	r, haveRow := m.actionRow()
	needRow := func() bool {
		if !haveRow {
			p.fail(errors.New("no ticket selected"), 0)
		}
		return haveRow
	}
	switch name {
	case "status":
		if !store.IsStatus(rest) {
			return p.fail(errors.New("want a status: "+strings.Join(store.Statuses, ", ")), restPos)
		}
		if !needRow() {
			return nil
		}
		m.prompt = nil
		return m.change(r, store.Change{Status: rest}, "Set %s to "+rest)
	case "assign", "unassign":
		if !needRow() {
			return nil
		}
		m.prompt = nil
		if name == "unassign" {
			rest = "none"
		}
		return m.assignTo(rest)
	case "label":
		if !needRow() {
			return nil
		}
		m.prompt = nil
		return m.labelWith(strings.Fields(rest))
	case "spam", "notspam", "close", "reopen":
		if !needRow() {
			return nil
		}
		m.prompt = nil
		spam := name == "spam"
		switch name {
		case "close":
			return m.change(r, store.Change{Status: store.StateClosed}, "Closed %s")
		case "reopen":
			return m.change(r, store.Change{Status: store.StateOpen}, "Reopened %s")
		case "spam":
			return m.change(r, store.Change{Spam: &spam}, "Marked %s spam")
		}
		return m.change(r, store.Change{Spam: &spam}, "Marked %s not spam")
	case "block":
		if rest != "" && rest != "domain" {
			return p.fail(errors.New("block blocks the requester; block domain, the requester's domain"), restPos)
		}
		if !needRow() {
			return nil
		}
		m.prompt = nil
		if m.opts.ReadOnly {
			return m.readOnly()
		}
		return blockSender(m.st, m.author, r.ID, rest == "domain")
	case "section":
		i, err := m.sectionByTitle(rest)
		if err != nil {
			return p.fail(err, restPos)
		}
		m.prompt = nil
		m.screen, m.thread, m.compose = screenList, nil, nil
		return m.switchSection(i)
	case "query":
		m.screen, m.thread, m.compose = screenList, nil, nil
		return m.setQuery(rest, restPos)
	case "mark":
		q, err := store.ParseQuery(rest)
		if err != nil {
			return p.fail(err, restPos)
		}
		m.prompt = nil
		return markByQuery(m.st, q, m.env(), 0, -1)
	case "undo":
		m.prompt = nil
		return m.undoLast()
	case "macro":
		m.prompt = nil
		return m.openPicker(rest)
	case "save":
		if rest == "" {
			return p.fail(errors.New("save wants a name for the section"), restPos)
		}
		if m.opts.SaveSection == nil {
			return p.fail(errors.New("no config file to save into (run desk with a config)"), 0)
		}
		m.prompt = nil
		sec := m.sections[m.sec].Section
		sec.Title = rest
		return saveSection(m.opts.SaveSection, sec)
	case "help":
		m.prompt = nil
		m.openOverlay()
		return nil
	case "preview":
		m.prompt = nil
		m.screen, m.thread, m.compose = screenList, nil, nil
		return m.togglePreview()
	case "quit", "q":
		return tea.Quit
	}
	return p.fail(errors.New("unknown command "+name+" (tab completes)"), 0)
}

// complete completes the word before the cursor: command names, statuses,
// sections, staff names and labels, query fields and their values.
func (m *model) complete() {
	p := m.prompt
	value := p.input.Value()
	start := strings.LastIndexAny(value, " (") + 1
	word := value[start:]
	var cands []string
	switch p.kind {
	case promptCommand:
		cands = m.commandCompletions(value[:start], word)
	case promptAssign:
		cands = m.staffNames()
	case promptLabels:
		cands = m.knownLabels()
	default:
		cands = m.queryCompletions(word)
	}
	matches := completions(cands, word)
	if len(matches) == 0 {
		return
	}
	done := commonPrefix(matches)
	if len(matches) == 1 && !strings.HasSuffix(done, ":") {
		done += " "
	}
	p.input.SetValue(value[:start] + done)
	p.input.CursorEnd()
	if len(matches) > 1 {
		p.err, p.errPos = strings.Join(matches, "  "), start
	}
}

// completions are the candidates that start with word, case-insensitively.
func completions(cands []string, word string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cands {
		if strings.HasPrefix(strings.ToLower(c), strings.ToLower(word)) && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// commonPrefix is the longest prefix of every string in list.
func commonPrefix(list []string) string {
	p := list[0]
	for _, s := range list[1:] {
		for !strings.HasPrefix(s, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}

// commandCompletions are the words that can follow before in a command.
func (m *model) commandCompletions(before, word string) []string {
	args := strings.Fields(before)
	if len(args) == 0 {
		var out []string
		for _, c := range commands {
			out = append(out, c.name)
		}
		return out
	}
	switch args[0] {
	case "status":
		return store.Statuses
	case "assign":
		return append(m.staffNames(), "me", "none")
	case "section":
		var out []string
		for _, s := range m.sections {
			out = append(out, s.Title)
		}
		return out
	case "label":
		return m.knownLabels()
	case "query", "mark":
		return m.queryCompletions(word)
	}
	return nil
}

// queryCompletions are the query words that could complete word.
func (m *model) queryCompletions(word string) []string {
	field, _, hasValue := strings.Cut(word, ":")
	neg := ""
	if strings.HasPrefix(field, "-") {
		neg, field = "-", field[1:]
	}
	if !hasValue {
		var out []string
		for _, f := range store.QueryFields {
			out = append(out, neg+f+":")
		}
		return out
	}
	var values []string
	switch field {
	case "status":
		values = append(append(values, store.Statuses...), "unsolved")
	case "assignee":
		values = append(m.staffNames(), "me", "none")
	case "label":
		values = m.knownLabels()
	case "is":
		values = []string{"unread", "read", "unverified", "spam", "assigned", "unassigned"}
	case "has":
		values = []string{"attachment"}
	case "updated", "created":
		values = []string{"today", "<1d", "<1w", ">1w", ">30d"}
	}
	out := make([]string, 0, len(values))
	for _, v := range values {
		out = append(out, neg+field+":"+v)
	}
	return out
}

// staffNames are the configured staff and everyone assigned in view.
func (m *model) staffNames() []string {
	names := append([]string(nil), m.opts.Staff...)
	for _, r := range m.rows {
		if r.Assignee != "" {
			names = append(names, r.Assignee)
		}
	}
	return names
}

// knownLabels are the labels of the tickets in view.
func (m *model) knownLabels() []string {
	var out []string
	for _, r := range m.rows {
		out = append(out, r.Labels...)
	}
	return out
}

// sectionSaved follows :save: the section is a tab now (replacing one of
// the same title), and stays in the config.
func (m *model) sectionSaved(msg sectionSavedMsg) tea.Cmd {
	if msg.err != nil {
		return m.setFlash("save: "+errorText(msg.err), true)
	}
	i, err := m.sectionByTitle(msg.section.Title)
	if err != nil || !strings.EqualFold(m.sections[i].Title, msg.section.Title) {
		m.sections = append(m.sections, newSections([]Section{msg.section})...)
		i = len(m.sections) - 1
	} else {
		m.sections[i] = newSections([]Section{msg.section})[0]
	}
	return tea.Batch(m.switchSection(i), m.reloadCounts(), m.setFlash("saved section "+sanitize.Line(msg.section.Title)+" in the config", false))
}
