package tui

import (
	"strings"

	"desk/tui/sanitize"
)

// Presence connects sessions that share one process (desk serve): each
// session tells it what it shows, and asks it who else is on a ticket.
// Methods are called from the session's Update and View and must not
// block.
type Presence interface {
	// Focus reports that this session shows ticket number of account
	// (number 0: no ticket) and whether it is writing a reply.
	Focus(account string, number int64, replying bool)
	// Others describes the other sessions on a ticket, e.g.
	// "Bo viewing", "Cy replying"; empty when there are none.
	Others(account string, number int64) []string
}

// PresenceChanged tells a session that someone else's focus moved: it only
// makes the view redraw.
type PresenceChanged struct{}

// focus is what this session last reported to Presence.
type focus struct {
	account  string
	number   int64
	replying bool
}

// reportFocus tells Presence when this session's ticket or composer
// changed.
func (m *model) reportFocus() {
	if m.opts.Presence == nil {
		return
	}
	var f focus
	if m.thread != nil && m.screen == screenThread {
		f = focus{account: m.thread.row.Account, number: m.thread.row.Number, replying: m.compose != nil}
	}
	if f != m.focus {
		m.focus = f
		m.opts.Presence.Focus(f.account, f.number, f.replying)
	}
}

// othersOn is who else is on a ticket ("Bo viewing, Cy replying"); "" when
// alone or outside desk serve.
func (m *model) othersOn(account string, number int64) string {
	if m.opts.Presence == nil || number == 0 {
		return ""
	}
	return sanitize.Line(strings.Join(m.opts.Presence.Others(account, number), ", "))
}

// presenceFact is who else is on a ticket, for its header; "" when alone.
func (m *model) presenceFact(account string, number int64) string {
	if others := m.othersOn(account, number); others != "" {
		return "also here: " + others
	}
	return ""
}
