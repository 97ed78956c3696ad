package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"desk/store"
)

// Section is a saved view: a titled query (in the store's query language)
// shown as a tab with a live count.
type Section struct {
	Title string
	Query string
	Sort  string // the order of its tickets (store.ParseOrder); "" is newest activity first
	Limit int    // the most tickets it shows; 0 means all
}

// DefaultSections are the sections when the config names none.
func DefaultSections() []Section {
	return []Section{
		{Title: "Open", Query: "status:open -is:spam"},
		{Title: "Mine", Query: "assignee:me status:unsolved -is:spam"},
		{Title: "Unassigned", Query: "assignee:none status:unsolved -is:spam"},
		{Title: "Pending", Query: "status:pending -is:spam"},
		{Title: "All", Query: "-is:spam"},
		{Title: "Spam", Query: "is:spam"},
	}
}

// section is a section and what is known of it.
type section struct {
	Section
	order store.Order  // Sort, parsed
	query *store.Query // parsed, in order; nil when Query or Sort does not parse
	err   string       // why Query or Sort does not parse
	count int
	known bool // count holds a completed read
}

// newSections parses the configured sections.
func newSections(list []Section) []section {
	if len(list) == 0 {
		list = DefaultSections()
	}
	out := make([]section, 0, len(list))
	for _, s := range list {
		sec := section{Section: s}
		var err error
		if sec.order, err = store.ParseOrder(s.Sort); err != nil {
			sec.err = errorText(err)
		} else {
			sec.setQuery(s.Query)
		}
		out = append(out, sec)
	}
	return out
}

// setQuery parses text as the section's query; on an error the old query
// stays and the error is returned.
func (s *section) setQuery(text string) error {
	q, err := store.ParseQuery(text)
	if err != nil {
		if s.query == nil {
			s.err = errorText(err)
		}
		return err
	}
	q.Order = s.order
	s.Query, s.query, s.err, s.known = text, q, "", false
	return nil
}

// sectionByTitle finds a section by title, case-insensitively, or by a
// unique prefix.
func (m *model) sectionByTitle(title string) (int, error) {
	found := -1
	for i, s := range m.sections {
		if strings.EqualFold(s.Title, title) {
			return i, nil
		}
		if strings.HasPrefix(strings.ToLower(s.Title), strings.ToLower(title)) {
			if found >= 0 {
				return -1, fmt.Errorf("%q names several sections", title)
			}
			found = i
		}
	}
	if found < 0 {
		return -1, fmt.Errorf("no section %q", title)
	}
	return found, nil
}

// tab is one section's tab as drawn on the tabs line.
type tab struct {
	section int
	label   string
	x       int // its first column
}

// tabLabel is a section's title with its count, when known, and its
// order when it is not the default (newest activity first).
func (sec section) tabLabel() string {
	label := sec.Title
	if sec.known {
		label = fmt.Sprintf("%s %d", sec.Title, sec.count)
	}
	if o := sec.order.String(); o != "" {
		label += " by " + o
	}
	return label
}

// tabLayout places the tabs: after the title when everything fits, else
// without it, and from the current section's left when even that is too
// wide, so the current tab is always in view.
func (m *model) tabLayout() (showTitle bool, tabs []tab) {
	width := func(from int) int {
		w := 0
		for _, sec := range m.sections[from:] {
			w += ansi.StringWidth(sec.tabLabel()) + 2
		}
		return w
	}
	first := 0
	titleW := ansi.StringWidth(m.title) + 1
	showTitle = titleW+width(0) <= m.width
	if !showTitle {
		titleW = 0
		for first < m.sec && width(first) > m.width {
			first++
		}
	}
	x := titleW
	for i := first; i < len(m.sections); i++ {
		label := m.sections[i].tabLabel()
		tabs = append(tabs, tab{section: i, label: label, x: x})
		x += ansi.StringWidth(label) + 2
	}
	return showTitle, tabs
}

// tabsLine is the title and the sections as tabs with counts.
func (m *model) tabsLine() string {
	s := m.styles
	var b strings.Builder
	showTitle, tabs := m.tabLayout()
	if showTitle {
		b.WriteString(s.Title.Render(m.title) + " ")
	}
	for _, t := range tabs {
		if t.section == m.sec {
			b.WriteString(s.TabActive.Render("[" + t.label + "]"))
		} else {
			b.WriteString(s.Tab.Render(" " + t.label + " "))
		}
	}
	if m.opts.ReadOnly {
		b.WriteString(s.Dim.Render("  read-only"))
	}
	return b.String()
}

// tabAt is the section whose tab is drawn at column x of the tabs line, or
// -1.
func (m *model) tabAt(x int) int {
	_, tabs := m.tabLayout()
	for _, t := range tabs {
		if x >= t.x && x < t.x+ansi.StringWidth(t.label)+2 {
			return t.section
		}
	}
	return -1
}
