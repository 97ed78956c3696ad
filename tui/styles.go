package tui

import "charm.land/lipgloss/v2"

// Styles holds every style the interface draws with. No style adds padding,
// margins or borders: widths are computed on plain text and the styles only
// colour it, so truncation stays exact.
type Styles struct {
	Title        lipgloss.Style // the header's title and a thread's subject
	Tab          lipgloss.Style // a state filter that is not selected
	TabActive    lipgloss.Style // the selected state filter
	Dim          lipgloss.Style // secondary text: counts, dates, hints
	ColumnHeader lipgloss.Style // the list's column names
	Rule         lipgloss.Style // horizontal separators

	Row         lipgloss.Style // a ticket or search result
	RowUnread   lipgloss.Style // layered over Row for unread tickets
	RowClosed   lipgloss.Style // layered over Row for solved and closed tickets
	RowSpam     lipgloss.Style // layered over Row for spam
	RowMarked   lipgloss.Style // layered over the rest for marked tickets
	RowSelected lipgloss.Style // layered over the rest for the cursor row

	Customer  lipgloss.Style // author line of a customer message
	Staff     lipgloss.Style // author line of a staff reply
	Auto      lipgloss.Style // author line of automated mail
	NoteBadge lipgloss.Style // the NOTE badge of an internal note
	Note      lipgloss.Style // author line and body of an internal note
	Body      lipgloss.Style // message text
	Warning   lipgloss.Style // parse warnings
	Attach    lipgloss.Style // attachment lines
	Event     lipgloss.Style // a system event between messages
	Fold      lipgloss.Style // a folded quote or signature
	Quote     lipgloss.Style // an opened quote or signature

	Queued lipgloss.Style // outbox mark: queued or sending
	Failed lipgloss.Style // outbox mark: failed

	ComposeTitle lipgloss.Style // the composer's title line
	Error        lipgloss.Style // errors and the discard question
	Status       lipgloss.Style // the status line
	StatusError  lipgloss.Style // an offline account or a failure
	Flash        lipgloss.Style // a transient message
}

// DefaultStyles returns the styles for a dark (isDark) or light terminal
// background.
func DefaultStyles(isDark bool) Styles {
	ld := lipgloss.LightDark(isDark)
	accent := ld(lipgloss.Color("#5A3FD6"), lipgloss.Color("#9F8CFF"))
	dim := ld(lipgloss.Color("#707070"), lipgloss.Color("#8A8A8A"))
	green := ld(lipgloss.Color("#1F7A3A"), lipgloss.Color("#6BD08A"))
	yellow := ld(lipgloss.Color("#8A6100"), lipgloss.Color("#E5C07B"))
	red := ld(lipgloss.Color("#B3261E"), lipgloss.Color("#FF7B72"))
	blue := ld(lipgloss.Color("#1F5FAD"), lipgloss.Color("#79B8FF"))
	plain := lipgloss.NewStyle()
	return Styles{
		Title:        plain.Bold(true).Foreground(accent),
		Tab:          plain.Foreground(dim),
		TabActive:    plain.Bold(true).Underline(true),
		Dim:          plain.Foreground(dim),
		ColumnHeader: plain.Foreground(dim).Bold(true),
		Rule:         plain.Foreground(dim),

		Row:         plain,
		RowUnread:   plain.Bold(true),
		RowClosed:   plain.Foreground(dim),
		RowSpam:     plain.Foreground(dim).Strikethrough(true),
		RowMarked:   plain.Foreground(accent).Bold(true),
		RowSelected: plain.Reverse(true),

		Customer:  plain.Bold(true).Foreground(blue),
		Staff:     plain.Bold(true).Foreground(green),
		Auto:      plain.Foreground(dim).Italic(true),
		NoteBadge: plain.Bold(true).Reverse(true).Foreground(yellow),
		Note:      plain.Foreground(yellow),
		Body:      plain,
		Warning:   plain.Foreground(yellow),
		Attach:    plain.Foreground(dim),
		Event:     plain.Foreground(dim).Italic(true),
		Fold:      plain.Foreground(dim),
		Quote:     plain.Foreground(dim),

		Queued: plain.Foreground(yellow),
		Failed: plain.Bold(true).Foreground(red),

		ComposeTitle: plain.Bold(true).Foreground(accent),
		Error:        plain.Bold(true).Foreground(red),
		Status:       plain.Foreground(dim),
		StatusError:  plain.Foreground(red),
		Flash:        plain.Bold(true),
	}
}
