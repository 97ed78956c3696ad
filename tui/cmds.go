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

// listLoadedMsg carries the ticket list read for one filter.
type listLoadedMsg struct {
	seq    int
	filter string
	rows   []ticketRow
	err    error
}

// threadLoadedMsg carries a ticket and its messages.
type threadLoadedMsg struct {
	seq        int
	row        ticketRow
	msgs       []messageView
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

// stateSetMsg reports a SetTicketState.
type stateSetMsg struct {
	ticketID int64
	number   int64
	state    string
	err      error
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

// loadList reads the tickets of one state filter.
func loadList(st *store.Store, seq int, filter string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		ts, err := st.List(ctx, store.ListFilter{State: filter})
		rows := make([]ticketRow, 0, len(ts))
		for _, t := range ts {
			rows = append(rows, newTicketRow(t))
		}
		return listLoadedMsg{seq: seq, filter: filter, rows: rows, err: err}
	}
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
		t, err := resolveTicket(ctx, st, ref)
		if err != nil {
			return threadLoadedMsg{seq: seq, err: err}
		}
		ms, err := st.Messages(ctx, t.ID)
		if err != nil {
			return threadLoadedMsg{seq: seq, err: err}
		}
		msgs := make([]messageView, 0, len(ms))
		for _, m := range ms {
			msgs = append(msgs, newMessageView(m))
		}
		row := newTicketRow(t)
		marked := false
		if t.Unread {
			if err := st.MarkRead(ctx, t.ID); err != nil {
				return threadLoadedMsg{seq: seq, err: err}
			}
			marked = true
		}
		row.Unread = false
		return threadLoadedMsg{seq: seq, row: row, msgs: msgs, markedRead: marked}
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

// setState closes or reopens a ticket.
func setState(st *store.Store, ticketID, number int64, state string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := dbContext()
		defer cancel()
		err := st.SetTicketState(ctx, ticketID, state)
		return stateSetMsg{ticketID: ticketID, number: number, state: state, err: err}
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
