package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// searchHeaderLines is the header and the query line.
const searchHeaderLines = 2

// linesPerHit is a result's summary line and its snippet.
const linesPerHit = 2

// searchState is the search screen: a query and its results.
type searchState struct {
	input      textinput.Model
	inputFocus bool
	query      string // the query of hits
	hits       []searchRow
	running    bool
	ran        bool
	err        string
	seq        int // the newest search started
	cursor     int
	offset     int
}

func newSearchState() searchState {
	in := textinput.New()
	in.Prompt = "search: "
	in.Placeholder = "words in subjects, bodies or addresses (F)"
	return searchState{input: in}
}

// setDark styles the query line for the terminal's background, with a
// steady cursor.
func (s *searchState) setDark(dark bool) {
	st := textinput.DefaultStyles(dark)
	st.Cursor.Blink = false
	s.input.SetStyles(st)
}

// openSearch shows the search screen with the query ready to edit.
func (m *model) openSearch() {
	m.screen = screenSearch
	m.search.inputFocus = true
	m.search.input.Focus()
	m.search.input.CursorEnd()
}

// searchKey handles a key on the search screen.
func (m *model) searchKey(msg tea.KeyPressMsg) tea.Cmd {
	k, s := m.keys, &m.search
	if s.inputFocus {
		switch {
		case key.Matches(msg, k.RunSearch):
			q := strings.TrimSpace(s.input.Value())
			if q == "" {
				return nil
			}
			s.seq = m.nextSeq()
			s.running, s.err = true, ""
			s.query = q
			s.inputFocus = false
			s.input.Blur()
			return runSearch(m.st, s.seq, q)
		case key.Matches(msg, k.Cancel):
			m.screen = screenList
			s.input.Blur()
			return m.reloadList()
		case msg.String() == "down" && len(s.hits) > 0:
			s.inputFocus = false
			s.input.Blur()
			return nil
		}
		var cmd tea.Cmd
		s.input, cmd = s.input.Update(msg)
		return cmd
	}
	page := max(m.bodyHeight(searchHeaderLines)/linesPerHit, 1)
	switch {
	case key.Matches(msg, k.Up):
		s.move(-1)
	case key.Matches(msg, k.Down):
		s.move(1)
	case key.Matches(msg, k.PageUp):
		s.move(-page)
	case key.Matches(msg, k.PageDown):
		s.move(page)
	case key.Matches(msg, k.Top):
		s.move(-len(s.hits))
	case key.Matches(msg, k.Bottom):
		s.move(len(s.hits))
	case key.Matches(msg, k.Open):
		if s.cursor < len(s.hits) {
			h := s.hits[s.cursor]
			return m.openThread(ticketRow{Account: h.Account, Number: h.Ticket, Subject: h.Subject}, screenSearch)
		}
	case key.Matches(msg, k.Search):
		s.inputFocus = true
		s.input.Focus()
		s.input.CursorEnd()
	case key.Matches(msg, k.Help):
		m.openOverlay()
	case key.Matches(msg, k.Back):
		m.screen = screenList
		return m.reloadList()
	}
	return nil
}

// move moves the result cursor by delta, within the results.
func (s *searchState) move(delta int) {
	if len(s.hits) == 0 {
		return
	}
	s.cursor = min(max(s.cursor+delta, 0), len(s.hits)-1)
}

// searchDone takes the results of the newest search.
func (m *model) searchDone(msg searchDoneMsg) {
	s := &m.search
	if msg.seq != s.seq {
		return
	}
	s.running, s.ran = false, true
	s.cursor, s.offset = 0, 0
	s.hits = msg.hits
	s.err = errorText(msg.err)
}

// layoutSearch keeps the result cursor in view.
func (m *model) layoutSearch() {
	s := &m.search
	h := max(m.bodyHeight(searchHeaderLines)/linesPerHit, 1)
	if s.cursor < s.offset {
		s.offset = s.cursor
	}
	if s.cursor >= s.offset+h {
		s.offset = s.cursor - h + 1
	}
	s.offset = max(min(s.offset, max(len(s.hits)-h, 0)), 0)
}

// searchView draws the query and the results.
func (m *model) searchView() []string {
	st, s := m.styles, &m.search
	header := st.Title.Render(m.title) + "  " + st.TabActive.Render("[search]")
	if s.ran && s.err == "" {
		what := "matches"
		if len(s.hits) == 1 {
			what = "match"
		}
		header += st.Dim.Render(fmt.Sprintf("  %d %s for %q", len(s.hits), what, s.query))
	}
	lines := []string{header, s.input.View()}
	switch {
	case s.running:
		return append(lines, st.Dim.Render("  searching…"))
	case s.err != "":
		return append(lines, st.Error.Render("  error: "+s.err))
	case s.ran && len(s.hits) == 0:
		return append(lines, st.Dim.Render("  no matches"))
	case !s.ran:
		return append(lines, st.Dim.Render("  type words and press enter"))
	}
	nums := make([]int64, len(s.hits))
	for i, h := range s.hits {
		nums[i] = h.Ticket
	}
	numW := numberWidth(nums...)
	h := max(m.bodyHeight(searchHeaderLines)/linesPerHit, 1)
	end := min(s.offset+h, len(s.hits))
	loc := m.now().Location()
	for i := s.offset; i < end; i++ {
		hit := s.hits[i]
		cur := " "
		if i == s.cursor && !s.inputFocus {
			cur = "›"
		}
		fromW := min(28, max(m.width/4, 8))
		top := cur + " " + cell(fmt.Sprintf("#%d", hit.Ticket), numW) + " " +
			hit.Date.In(loc).Format("2006-01-02") + " " + cell(hit.From, fromW) + " " + hit.Subject
		snippet := strings.Repeat(" ", 2+numW+1) + hit.Snippet
		style := st.Row
		if i == s.cursor && !s.inputFocus {
			style = st.RowSelected.Inherit(style)
		}
		lines = append(lines, style.Render(clip(top, m.width)), st.Dim.Render(clip(snippet, m.width)))
	}
	return lines
}
