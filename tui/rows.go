package tui

import (
	"strings"
	"time"

	"desk/store"
	"desk/tui/sanitize"
)

// This file is the one gate between store values and the screen: every
// string that came from a mail (or from a server) is cleaned here, once per
// field, when the view models are built. Rendering code only ever sees the
// clean copies.

// ticketRow is a ticket as the interface shows it.
type ticketRow struct {
	ID            int64
	Account       string // identifies the account; never drawn
	Number        int64
	State         string
	Subject       string
	Requester     string // address
	RequesterName string
	Project       string
	Labels        []string
	Assignee      string
	Updated       time.Time
	Unread        bool
	Spam          bool
}

// newTicketRow cleans a store ticket for display.
func newTicketRow(t *store.Ticket) ticketRow {
	labels := make([]string, 0, len(t.Labels))
	for _, l := range t.Labels {
		if l = sanitize.Line(l); l != "" {
			labels = append(labels, l)
		}
	}
	subject := sanitize.Line(t.Subject)
	if subject == "" {
		subject = "(no subject)"
	}
	return ticketRow{
		ID:            t.ID,
		Account:       t.Account,
		Number:        t.Number,
		State:         sanitize.Line(t.State),
		Subject:       subject,
		Requester:     sanitize.Line(t.Requester),
		RequesterName: sanitize.Line(t.RequesterName),
		Project:       sanitize.Line(t.Project),
		Labels:        labels,
		Assignee:      sanitize.Line(t.Assignee),
		Updated:       t.Updated,
		Unread:        t.Unread,
		Spam:          t.Spam,
	}
}

// attachmentView is an attachment as the interface lists it.
type attachmentView struct {
	Name string
	Type string
	Size int
}

// messageView is a message as the thread shows it.
type messageView struct {
	MessageID   string   // identifies the message; never drawn
	UID         uint32   // its UID in the mailbox, 0 until it is there; never drawn
	InReplyTo   string   // the Message-ID it answers; never drawn
	References  []string // the Message-IDs before it, oldest first; never drawn
	Depth       int      // its depth in the ticket's reply tree (nest.go)
	Kind        string
	From        string
	FromName    string
	Date        time.Time
	Outbox      string
	OutboxError string
	AutoReason  string
	Warning     string
	Unverified  string // why the sender could not be verified
	Attachments []attachmentView
	Body        string // multi-line, tabs expanded, trailing blank lines dropped
}

// newMessageView cleans a store message for display.
func newMessageView(m *store.Message) messageView {
	atts := make([]attachmentView, 0, len(m.Attachments))
	for _, a := range m.Attachments {
		name := sanitize.Line(a.Filename)
		if name == "" {
			name = "(unnamed)"
		}
		atts = append(atts, attachmentView{Name: name, Type: sanitize.Line(a.ContentType), Size: a.Size})
	}
	body := sanitize.Text(m.Body)
	body = strings.ReplaceAll(body, "\t", "    ")
	body = strings.TrimRight(body, " \n")
	return messageView{
		MessageID:   m.MessageID,
		UID:         m.UID,
		InReplyTo:   m.InReplyTo,
		References:  m.References,
		Kind:        m.Kind,
		From:        sanitize.Line(m.From),
		FromName:    sanitize.Line(m.FromName),
		Date:        m.Date,
		Outbox:      sanitize.Line(m.Outbox),
		OutboxError: sanitize.Line(m.OutboxError),
		AutoReason:  sanitize.Line(m.AutoReason),
		Warning:     sanitize.Line(m.ParseWarning),
		Unverified:  sanitize.Line(m.Unverified),
		Attachments: atts,
		Body:        body,
	}
}

// eventView is a system event as a thread shows it inline.
type eventView struct {
	At    time.Time
	Actor string
	What  string
}

// newEventView cleans a ticket event for display (its actor can come from
// a mailbox).
func newEventView(e store.TicketEvent) eventView {
	return eventView{At: e.At, Actor: sanitize.Line(e.Actor), What: sanitize.Line(e.What)}
}

// searchRow is a search hit as the results list shows it.
type searchRow struct {
	Account string // identifies the account; never drawn
	Ticket  int64
	Date    time.Time
	From    string
	Subject string
	Snippet string
}

// newSearchRow cleans a search hit for display.
func newSearchRow(h store.SearchHit) searchRow {
	return searchRow{
		Account: h.Account,
		Ticket:  h.Ticket,
		Date:    h.Date,
		From:    sanitize.Line(h.From),
		Subject: sanitize.Line(h.Subject),
		Snippet: sanitize.Line(h.Snippet),
	}
}

// syncView is an account's sync state as the status line shows it.
type syncView struct {
	Account string
	Phase   store.SyncPhase
	Done    int
	Total   int
	Err     string
	RetryAt time.Time
}

// newSyncView cleans a sync event for display (its error may quote a
// server).
func newSyncView(s store.SyncStatus) syncView {
	return syncView{
		Account: sanitize.Line(s.Account),
		Phase:   s.Phase,
		Done:    s.Done,
		Total:   s.Total,
		Err:     sanitize.Line(s.Err),
		RetryAt: s.RetryAt,
	}
}

// outboxView is the outbox as the status line shows it.
type outboxView struct {
	Queued    int
	Failed    int
	LastError string
}

// newOutboxView cleans an outbox event for display (its error may quote a
// server).
func newOutboxView(o store.OutboxChanged) outboxView {
	return outboxView{Queued: o.Queued, Failed: o.Failed, LastError: sanitize.Line(o.LastError)}
}

// errorText cleans an error for the status line: store and driver errors
// can quote stored values.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return sanitize.Line(err.Error())
}
