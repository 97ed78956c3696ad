package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"desk/store"
)

// Every store access runs inside a tea.Cmd, off the Update loop. The
// functions below take what they need as arguments (never the model), so a
// closure cannot see the model change under it.

// dbTimeout bounds one store access; the store is local, so this is only a
// guard against a wedged database.
const dbTimeout = 30 * time.Second

// listLoadedMsg carries one window of a section's rows.
type listLoadedMsg struct {
	seq     int
	section int
	text    string // the query text read
	start   int
	rows    []ticketRow
	keepAt  int // the row of the ticket asked to keep, -1 if gone or not asked
	err     error
}

// countLoadedMsg carries the count of one section's query.
type countLoadedMsg struct {
	seq     int
	section int
	text    string
	total   int
	err     error
}

// countsLoadedMsg carries every section's count (-1 where unknown).
type countsLoadedMsg struct {
	seq    int
	counts []int
}

// threadLoadedMsg carries a ticket and its messages.
type threadLoadedMsg struct {
	seq        int
	row        ticketRow
	msgs       []messageView
	events     []eventView
	markedRead bool
	err        error
}

// outboxLoadedMsg carries the outbox counts read from the store.
type outboxLoadedMsg struct {
	queued, failed int
	err            error
}

// replyQueuedMsg reports a QueueReply.
type replyQueuedMsg struct {
	local     int // the pending entry shown while it was being stored
	ticketID  int64
	kind      string
	body      string
	messageID string
	err       error
}

// senderBlockedMsg reports a BlockSender.
type senderBlockedMsg struct {
	pattern string
	err     error
}

// changeAppliedMsg reports an ApplyChange (or, with undo set, a Restore).
type changeAppliedMsg struct {
	label string // "Closed #123", "Assigned 4 tickets to ana"
	snaps []store.Snapshot
	undo  bool
	err   error
}

// markedMsg carries the tickets a mark by query or range found.
type markedMsg struct {
	ids []int64
	err error
}

// searchDoneMsg carries search results.
type searchDoneMsg struct {
	seq  int
	hits []searchRow
	err  error
}

// countdownMsg redraws the status line while a retry counts down.
type countdownMsg struct{}

// flashExpiredMsg clears transient message seq if it is still shown.
type flashExpiredMsg struct{ seq int }

// ticketRef names a ticket: by row id when known, else by account and
// number (as a search hit does).
type ticketRef struct {
	ID      int64
	Account string
	Number  int64
}

func dbContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), dbTimeout)
}

// listRequest is one window read of a section.
type listRequest struct {
	seq, section int
	query        *store.Query
	text         string
	env          store.QueryEnv
	start, size  int
	keep         int64 // a ticket to find, so the window can be read around it
	before       int   // rows to read above the kept ticket
	limit        int   // the section's most tickets; 0 means all
}

// capped is n tickets of a section that shows at most limit (0: all).
func capped(n, limit int) int {
	if limit > 0 {
		return min(n, limit)
	}
	return n
}

// loadList finds the kept ticket and reads a window of a section.
func loadList(st *store.Store, r listRequest) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		msg := listLoadedMsg{seq: r.seq, section: r.section, text: r.text, start: r.start, keepAt: -1}
		if r.keep != 0 {
			if msg.keepAt, msg.err = st.TicketIndex(ctx, r.query, r.env, r.keep); msg.err != nil {
				return msg
			}
			if r.limit > 0 && msg.keepAt >= r.limit {
				msg.keepAt = -1 // beyond the section's limit
			}
			if msg.keepAt >= 0 && (msg.keepAt < r.start || msg.keepAt >= r.start+r.size) {
				msg.start = max(msg.keepAt-r.before, 0)
			}
		}
		ts, err := st.QueryTickets(ctx, r.query, r.env, msg.start, capped(msg.start+r.size, r.limit)-msg.start)
		msg.rows, msg.err = ticketRows(ts), err
		return msg
	}
}

// countSection counts the tickets of a section.
func countSection(st *store.Store, r listRequest) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		n, err := st.CountTickets(ctx, r.query, r.env)
		return countLoadedMsg{seq: r.seq, section: r.section, text: r.text, total: capped(n, r.limit), err: err}
	}
}

// loadCounts counts every section, each up to its limit.
func loadCounts(st *store.Store, seq int, qs []*store.Query, limits []int, env store.QueryEnv) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		msg := countsLoadedMsg{seq: seq, counts: make([]int, len(qs))}
		for i, q := range qs {
			msg.counts[i] = -1
			if q != nil {
				if n, err := st.CountTickets(ctx, q, env); err == nil {
					msg.counts[i] = capped(n, limits[i])
				}
			}
		}
		return msg
	}
}

// ticketRows cleans store tickets for display.
func ticketRows(ts []*store.Ticket) []ticketRow {
	rows := make([]ticketRow, 0, len(ts))
	for _, t := range ts {
		rows = append(rows, newTicketRow(t))
	}
	return rows
}

// resolveTicket finds the ticket ref names.
func resolveTicket(ctx context.Context, st *store.Store, ref ticketRef) (*store.Ticket, error) {
	if ref.ID != 0 {
		return st.Ticket(ctx, ref.ID)
	}
	t, err := st.TicketByNumber(ctx, ref.Number)
	if !errors.Is(err, store.ErrAmbiguous) {
		return t, err
	}
	// The number exists in several accounts: pick the one named.
	all, err := st.List(ctx, store.ListFilter{State: "all"})
	if err != nil {
		return nil, err
	}
	for _, t := range all {
		if t.Number == ref.Number && t.Account == ref.Account {
			return t, nil
		}
	}
	return nil, fmt.Errorf("ticket #%d: %w", ref.Number, store.ErrNotFound)
}

// loadThread reads a ticket and its messages and marks it read.
func loadThread(st *store.Store, seq int, ref ticketRef) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		msg, t := readThread(ctx, st, seq, ref)
		if msg.err != nil {
			return msg
		}
		if t.Unread {
			if err := st.MarkRead(ctx, t.ID); err != nil {
				return threadLoadedMsg{seq: seq, err: err}
			}
			msg.markedRead = true
		}
		msg.row.Unread = false
		return msg
	}
}

// loadOutbox reads the outbox counts.
func loadOutbox(st *store.Store) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		q, f, err := st.OutboxCounts(ctx)
		return outboxLoadedMsg{queued: q, failed: f, err: err}
	}
}

// queueReply stores a reply or note in the outbox.
func queueReply(st *store.Store, local int, ticketID int64, kind, author, body string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		msg := replyQueuedMsg{local: local, ticketID: ticketID, kind: kind, body: body}
		var m *store.Message
		m, msg.err = st.QueueReply(ctx, ticketID, kind, author, body)
		if m != nil {
			msg.messageID = m.MessageID
		}
		return msg
	}
}

// applyChange makes one change to tickets.
func applyChange(st *store.Store, actor string, ids []int64, c store.Change, label string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		snaps, err := st.ApplyChange(ctx, actor, ids, c)
		return changeAppliedMsg{label: label, snaps: snaps, err: err}
	}
}

// editParticipants adds and removes a ticket's external participants (the
// composer's /add_email and /remove_email).
func editParticipants(st *store.Store, actor string, ticketID int64, e participantEdits) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		for _, a := range e.add {
			if err := st.AddParticipant(ctx, ticketID, a, actor); err != nil {
				return changeAppliedMsg{label: "participants", err: err}
			}
		}
		for _, a := range e.remove {
			if err := st.RemoveParticipant(ctx, ticketID, a, actor); err != nil {
				return changeAppliedMsg{label: "participants", err: err}
			}
		}
		return store.TicketsChanged{}
	}
}

// blockSender blocks a ticket's requester (or its domain) and marks the
// ticket spam.
func blockSender(st *store.Store, actor string, ticketID int64, domain bool) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		pattern, err := st.BlockSender(ctx, ticketID, domain, actor)
		return senderBlockedMsg{pattern: pattern, err: err}
	}
}

// restore undoes a change.
func restore(st *store.Store, actor string, snaps []store.Snapshot, label string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		return changeAppliedMsg{label: label, undo: true, err: st.Restore(ctx, actor, snaps)}
	}
}

// markByQuery finds the tickets of a query, or of a range of a section.
func markByQuery(st *store.Store, q *store.Query, env store.QueryEnv, offset, limit int) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		ids, err := st.QueryIDs(ctx, q, env, offset, limit)
		return markedMsg{ids: ids, err: err}
	}
}

// runSearch runs a full-text search.
func runSearch(st *store.Store, seq int, query string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		hits, err := st.Search(ctx, query, 200)
		rows := make([]searchRow, 0, len(hits))
		for _, h := range hits {
			rows = append(rows, newSearchRow(h))
		}
		return searchDoneMsg{seq: seq, hits: rows, err: err}
	}
}

// loadDraft reads a ticket's saved draft of kind.
func loadDraft(st *store.Store, ticketID int64, kind string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		body, err := st.Draft(ctx, ticketID, kind)
		if err != nil {
			return nil // no draft to restore is not worth a word
		}
		return draftLoadedMsg{ticketID: ticketID, kind: kind, body: body}
	}
}

// saveDraft keeps what is typed; a failure shows on the status line.
func saveDraft(st *store.Store, ticketID int64, kind, body string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		if err := st.SaveDraft(ctx, ticketID, kind, body); err != nil {
			return draftFailedMsg{err: err}
		}
		return nil
	}
}

// deleteDraft drops a draft once sent or discarded.
func deleteDraft(st *store.Store, ticketID int64, kind string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		if err := st.DeleteDraft(ctx, ticketID, kind); err != nil {
			return draftFailedMsg{err: err}
		}
		return nil
	}
}

// draftFailedMsg reports a draft that could not be saved or dropped.
type draftFailedMsg struct{ err error }

// sectionSavedMsg reports a section written into the config.
type sectionSavedMsg struct {
	section Section
	err     error
}

// saveSection writes a section with save (the config's writer).
func saveSection(save func(Section) error, s Section) tea.Cmd {
	return func() tea.Msg {
		return sectionSavedMsg{section: s, err: save(s)}
	}
}
