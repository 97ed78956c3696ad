package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Ticket states.
const (
	StateOpen    = "open"
	StatePending = "pending" // waiting on the customer
	StateOnHold  = "on-hold" // waiting on a third party
	StateSolved  = "solved"
	StateClosed  = "closed"
)

// Message kinds.
const (
	KindCustomer = "customer" // written by a customer
	KindReply    = "reply"    // a public staff reply
	KindNote     = "note"     // an internal note, never sent
	KindAuto     = "auto"     // automated mail, ours (thank-you) or theirs (auto-reply)
)

// Ticket is one customer conversation.
type Ticket struct {
	ID            int64     `json:"-"`
	Account       string    `json:"account"`
	Number        int64     `json:"number"`
	Project       string    `json:"project"`
	Subject       string    `json:"subject"`
	Requester     string    `json:"requester"`
	RequesterName string    `json:"requester_name,omitempty"`
	ReplyKey      string    `json:"-"`
	State         string    `json:"state"`
	Labels        []string  `json:"labels"`
	Messages      int       `json:"messages"`
	Created       time.Time `json:"created"`
	Updated       time.Time `json:"updated"`
	Unread        bool      `json:"unread"`
	Unsubscribed  bool      `json:"unsubscribed"`
	Assignee      string    `json:"assignee"`
	Spam          bool      `json:"spam"`
	SpamScore     float64   `json:"spam_score"`
	RootMessageID string    `json:"-"`
}

// Attachment describes one attached part of a message.
type Attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
}

// Message is one mail (or note) of a ticket.
type Message struct {
	ID           int64        `json:"-"`
	TicketID     int64        `json:"-"`
	UID          uint32       `json:"-"`
	MessageID    string       `json:"message_id"`
	InReplyTo    string       `json:"in_reply_to,omitempty"`
	References   []string     `json:"references,omitempty"`
	From         string       `json:"from"`
	FromName     string       `json:"from_name,omitempty"`
	To           []string     `json:"to,omitempty"`
	Cc           []string     `json:"cc,omitempty"`
	Subject      string       `json:"subject"`
	Date         time.Time    `json:"date"`
	Kind         string       `json:"kind"`
	Body         string       `json:"body"`
	Attachments  []Attachment `json:"attachments,omitempty"`
	AutoReason   string       `json:"auto_reason,omitempty"`
	ParseWarning string       `json:"parse_warning,omitempty"`
	ThreadedBy   string       `json:"threaded_by,omitempty"`
	SpamScore    float64      `json:"spam_score,omitempty"`
	Unverified   string       `json:"unverified,omitempty"`
	// Outbox is the delivery state of a reply or note written here
	// (queued, sending, sent, failed); empty for mail that came in.
	Outbox      string `json:"outbox,omitempty"`
	OutboxError string `json:"outbox_error,omitempty"`
}

// ListFilter selects tickets for List.
type ListFilter struct {
	State string // "", "all", "open" or "closed"
	Limit int    // 0 means no limit
}

const ticketColumns = `t.id, a.name, t.number, t.project, t.subject, t.requester, t.requester_name,
	t.reply_key, t.state, t.root_message_id, t.created, t.updated, t.unread, t.unsubscribed,
	t.assignee, t.spam, t.spam_score,
	(SELECT count(*) FROM messages m WHERE m.ticket_id = t.id),
	(SELECT coalesce(group_concat(label, char(31)), '') FROM (SELECT label FROM ticket_labels l WHERE l.ticket_id = t.id ORDER BY label))`

type rowScanner interface{ Scan(dest ...any) error }

func scanTicket(r rowScanner) (*Ticket, error) {
	var t Ticket
	var created, updated, labels string
	var unread, unsub, spam int
	if err := r.Scan(&t.ID, &t.Account, &t.Number, &t.Project, &t.Subject, &t.Requester, &t.RequesterName,
		&t.ReplyKey, &t.State, &t.RootMessageID, &created, &updated, &unread, &unsub,
		&t.Assignee, &spam, &t.SpamScore, &t.Messages, &labels); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	t.Created, t.Updated = parseTime(created), parseTime(updated)
	t.Unread, t.Unsubscribed, t.Spam = unread != 0, unsub != 0, spam != 0
	t.Labels = []string{}
	if labels != "" {
		t.Labels = strings.Split(labels, "\x1f")
	}
	return &t, nil
}

// List returns tickets, most recently updated first.
func (s *Store) List(ctx context.Context, f ListFilter) ([]*Ticket, error) {
	q := `SELECT ` + ticketColumns + ` FROM tickets t JOIN accounts a ON a.id = t.account_id`
	var args []any
	switch f.State {
	case "", "all":
	case StateOpen, StateClosed:
		q += ` WHERE t.state = ?`
		args = append(args, f.State)
	default:
		return nil, fmt.Errorf("unknown state %q (want open, closed or all)", f.State)
	}
	q += ` ORDER BY t.updated DESC, t.number DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return s.tickets(ctx, q, args...)
}

// tickets runs a query selecting ticketColumns and scans every row.
func (s *Store) tickets(ctx context.Context, q string, args ...any) ([]*Ticket, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Ticket
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ErrAmbiguous is returned when a ticket number exists in several accounts.
var ErrAmbiguous = errors.New("ticket number exists in several accounts")

// TicketByNumber finds ticket #n in any account.
func (s *Store) TicketByNumber(ctx context.Context, n int64) (*Ticket, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+ticketColumns+` FROM tickets t JOIN accounts a ON a.id = t.account_id WHERE t.number = ?`, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var found *Ticket
	for rows.Next() {
		if found != nil {
			return nil, fmt.Errorf("ticket #%d: %w", n, ErrAmbiguous)
		}
		if found, err = scanTicket(rows); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if found == nil {
		return nil, fmt.Errorf("ticket #%d: %w", n, ErrNotFound)
	}
	return found, nil
}

// Ticket returns the ticket with the given row id.
func (s *Store) Ticket(ctx context.Context, id int64) (*Ticket, error) {
	return scanTicket(s.db.QueryRowContext(ctx, `SELECT `+ticketColumns+` FROM tickets t JOIN accounts a ON a.id = t.account_id WHERE t.id = ?`, id))
}

const messageColumns = `m.id, coalesce(m.ticket_id, 0), coalesce(m.uid, 0), m.message_id, m.in_reply_to, m.refs,
	m.from_addr, m.from_name, m.to_addrs, m.cc_addrs, m.subject, m.date, m.kind, m.body, m.attachments,
	m.auto_reason, m.parse_warning, m.threaded_by, m.spam_score, m.unverified,
	coalesce(o.state, ''), coalesce(o.last_error, '')`

func scanMessage(r rowScanner) (*Message, error) {
	var m Message
	var refs, to, cc, date, atts string
	if err := r.Scan(&m.ID, &m.TicketID, &m.UID, &m.MessageID, &m.InReplyTo, &refs, &m.From, &m.FromName,
		&to, &cc, &m.Subject, &date, &m.Kind, &m.Body, &atts, &m.AutoReason, &m.ParseWarning, &m.ThreadedBy,
		&m.SpamScore, &m.Unverified, &m.Outbox, &m.OutboxError); err != nil {
		return nil, err
	}
	m.References, m.To, m.Cc = splitList(refs), splitList(to), splitList(cc)
	m.Date = parseTime(date)
	if atts != "" {
		if err := json.Unmarshal([]byte(atts), &m.Attachments); err != nil {
			m.ParseWarning = strings.TrimSpace(m.ParseWarning + " (attachment list unreadable)")
		}
	}
	return &m, nil
}

// Messages returns a ticket's messages in arrival order (the order they
// reached this store, which is the mailbox's UID order on a rebuild): a
// customer's clock cannot put an answer before what it answers.
func (s *Store) Messages(ctx context.Context, ticketID int64) ([]*Message, error) {
	return s.queryMessages(ctx, `WHERE m.ticket_id = ? ORDER BY m.id`, ticketID)
}

// queryMessages runs a query of messages (with their outbox state) with
// the given WHERE and ORDER BY clauses.
func (s *Store) queryMessages(ctx context.Context, where string, args ...any) ([]*Message, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages m
		LEFT JOIN outbox o ON o.message_id = m.message_id AND o.ticket_id = m.ticket_id
		`+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MarkRead clears a ticket's unread mark (local view state).
func (s *Store) MarkRead(ctx context.Context, ticketID int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE tickets SET unread = 0 WHERE id = ?`, ticketID)
	return err
}

// splitList splits a space-separated list stored in one column.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}
