package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Keywords on a ticket's root message that carry state shared by every
// client of the mailbox. Servers may fold case: compare with strings.EqualFold.
const (
	KeywordClosed         = "$Desk-Closed"
	KeywordLabelPrefix    = "$Desk-Label-"
	KeywordStatusPrefix   = "$Desk-Status-"   // pending, on-hold, solved (open and closed have their own forms)
	KeywordAssigneePrefix = "$Desk-Assignee-" // followed by the staff name, lower-cased, spaces as '_'
	KeywordSpam           = "$Desk-Spam"      // staff marked the ticket spam
	KeywordHam            = "$Desk-Ham"       // staff marked it not spam (overrides the filter)
	KeywordAcked          = "$Desk-Acked"     // the thank-you mail was claimed by a client
)

// Outbox states.
const (
	OutboxQueued  = "queued"
	OutboxSending = "sending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
	OutboxSkipped = "skipped" // automated mail another client already sent
)

// OutboxItem is one mail waiting to leave, or a note waiting to be appended.
type OutboxItem struct {
	ID        int64
	AccountID int64
	TicketID  int64
	Kind      string // KindReply, KindNote or KindAuto
	MessageID string
	Author    string
	Body      string
	Raw       []byte   // composed on the first attempt, then fixed
	Rcpt      []string // envelope recipients
	State     string
	Attempts  int
	LastError string
	Claim     string   // keyword to claim on the root before sending (automated mail)
	Notice    string   // the automated notice (NoticeClosed…) composed when it leaves, if any
	Files     []string // paths of files a staff reply attaches
	Appended  bool
	Created   time.Time
}

// QueueReply stores a staff reply or internal note for a ticket, before any
// network call: the message shows in the thread at once and the outbox row
// makes it leave (or, for a note, reach the mailbox) when the network allows.
func (s *Store) QueueReply(ctx context.Context, ticketID int64, kind, author, body string) (*Message, error) {
	if kind != KindReply && kind != KindNote {
		return nil, fmt.Errorf("store: cannot queue a %q", kind)
	}
	if strings.TrimSpace(body) == "" {
		return nil, errors.New("empty message: nothing to send")
	}
	var m *Message
	err := s.Update(ctx, func(tx *Tx) error {
		var accountID int64
		var address, subject string
		err := tx.tx.QueryRow(`SELECT a.id, a.address, t.subject FROM tickets t JOIN accounts a ON a.id = t.account_id
			WHERE t.id = ?`, ticketID).Scan(&accountID, &address, &subject)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("ticket %d: %w", ticketID, ErrNotFound)
		} else if err != nil {
			return err
		}
		now := time.Now()
		m = &Message{TicketID: ticketID, MessageID: NewMessageID(address), From: address, FromName: author,
			Subject: subject, Date: now, Kind: kind, Body: body}
		if err := tx.AddMessage(accountID, m); err != nil {
			return err
		}
		return tx.QueueOutbox(&OutboxItem{AccountID: accountID, TicketID: ticketID, Kind: kind,
			MessageID: m.MessageID, Author: author, Body: body, Created: now})
	})
	return m, err
}

// QueueOutbox adds an item to the outbox (Raw may be empty: it is then
// composed on the first attempt).
func (t *Tx) QueueOutbox(o *OutboxItem) error {
	if o.Created.IsZero() {
		o.Created = time.Now()
	}
	if o.Kind == KindAuto {
		// A ticket in the spam view never gets automated mail: nothing is queued.
		if spam, err := t.isSpam(o.TicketID); err != nil || spam {
			return err
		}
	}
	res, err := t.exec(`INSERT INTO outbox (account_id, ticket_id, kind, message_id, author, body, raw, rcpt,
		state, next_attempt, claim, created, notice) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
		o.AccountID, o.TicketID, o.Kind, o.MessageID, o.Author, o.Body, o.Raw, strings.Join(o.Rcpt, " "),
		formatTime(o.Created), o.Claim, formatTime(o.Created), o.Notice)
	if err != nil {
		return fmt.Errorf("store: queue %s: %w", o.Kind, err)
	}
	o.ID, err = res.LastInsertId()
	o.State = OutboxQueued
	t.queued = true
	return err
}

// NewMessageID makes a unique Message-ID (without brackets) on the domain
// of address.
func NewMessageID(address string) string {
	domain := "desk.invalid"
	if i := strings.LastIndexByte(address, '@'); i >= 0 && i < len(address)-1 {
		domain = address[i+1:]
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("desk.%d.%s@%s", time.Now().Unix(), hex.EncodeToString(b[:]), domain)
}

// SetTicketState changes a ticket's state here and queues the keyword change
// that shares it with every client of the mailbox. Closing an open ticket
// also queues the closed notice (the mail package sends it only if the
// project's template is on; its claim keyword stays, so a ticket closed
// again later does not notify twice).
func (s *Store) SetTicketState(ctx context.Context, ticketID int64, state string) error {
	if state != StateOpen && state != StateClosed {
		return fmt.Errorf("unknown state %q", state)
	}
	return s.Update(ctx, func(tx *Tx) error { return tx.ChangeStatus(ticketID, state, "") })
}

// SetSpam marks a ticket spam (or not spam) here and queues the keyword
// change that shares the mark with every client of the mailbox. The mark
// also trains the spam filter: the mail package trains every customer
// message of a marked ticket on its next sync pass (see PendingSpamTraining).
func (s *Store) SetSpam(ctx context.Context, ticketID int64, spam bool) error {
	return s.SetSpamMany(ctx, []int64{ticketID}, spam)
}

// QueueKeyword queues adding (or removing) a keyword on a ticket's root
// message; a newer change of the same keyword replaces an older one.
func (t *Tx) QueueKeyword(ticketID int64, keyword string, add bool) error {
	if _, err := t.exec(`DELETE FROM keyword_queue WHERE ticket_id = ? AND keyword = ?`, ticketID, keyword); err != nil {
		return err
	}
	_, err := t.exec(`INSERT INTO keyword_queue (account_id, ticket_id, keyword, added, created)
		SELECT account_id, id, ?, ?, ? FROM tickets WHERE id = ?`, keyword, boolInt(add), formatTime(time.Now()), ticketID)
	t.queued = true
	return err
}

// KeywordChange is a queued keyword change on a ticket's root message.
type KeywordChange struct {
	ID       int64
	TicketID int64
	RootUID  uint32 // 0 when the root's UID is not known (yet)
	Keyword  string
	Add      bool
}

// PendingKeywords lists the account's queued keyword changes, oldest first.
// A change whose root has left the mailbox (expunged, or moved to Junk)
// has RootUID 0 and stays queued: a STORE on a vanished UID succeeds and
// does nothing, which would lose it.
func (s *Store) PendingKeywords(ctx context.Context, accountID int64) ([]KeywordChange, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT q.id, q.ticket_id, coalesce(m.uid, 0), q.keyword, q.added
		FROM keyword_queue q JOIN tickets t ON t.id = q.ticket_id
		LEFT JOIN messages m ON m.ticket_id = t.id AND m.message_id = t.root_message_id AND m.uid IS NOT NULL
			AND m.expunged = 0
		WHERE q.account_id = ? ORDER BY q.id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []KeywordChange
	for rows.Next() {
		var k KeywordChange
		var add int
		if err := rows.Scan(&k.ID, &k.TicketID, &k.RootUID, &k.Keyword, &add); err != nil {
			return nil, err
		}
		k.Add = add != 0
		out = append(out, k)
	}
	return out, rows.Err()
}

// KeywordPushed removes a queued keyword change once the server has it.
func (s *Store) KeywordPushed(ctx context.Context, id int64) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM keyword_queue WHERE id = ?`, id)
	return err
}

const outboxColumns = `id, account_id, ticket_id, kind, message_id, author, body, coalesce(raw, x''), rcpt,
	state, attempts, last_error, claim, appended, created, notice, files`

func scanOutbox(r rowScanner) (*OutboxItem, error) {
	var o OutboxItem
	var rcpt, created, files string
	var appended int
	if err := r.Scan(&o.ID, &o.AccountID, &o.TicketID, &o.Kind, &o.MessageID, &o.Author, &o.Body, &o.Raw, &rcpt,
		&o.State, &o.Attempts, &o.LastError, &o.Claim, &appended, &created, &o.Notice, &files); err != nil {
		return nil, err
	}
	if files != "" {
		if err := json.Unmarshal([]byte(files), &o.Files); err != nil {
			return nil, fmt.Errorf("store: outbox %d files: %w", o.ID, err)
		}
	}
	o.Rcpt = splitList(rcpt)
	o.Appended = appended != 0
	o.Created = parseTime(created)
	return &o, nil
}

// DueOutbox lists the account's items that need work now: queued ones whose
// retry time has come, and sent ones whose copy is not yet in the mailbox.
func (s *Store) DueOutbox(ctx context.Context, accountID int64, now time.Time) ([]*OutboxItem, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE account_id = ?
		AND ((state = 'queued' AND next_attempt <= ?) OR (state = 'sent' AND appended = 0)) ORDER BY id`,
		accountID, formatTime(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*OutboxItem
	for rows.Next() {
		o, err := scanOutbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// NextOutboxAttempt is the earliest retry time of the account's queued
// items, or the zero time when none waits.
func (s *Store) NextOutboxAttempt(ctx context.Context, accountID int64) (time.Time, error) {
	var next sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT min(next_attempt) FROM outbox WHERE account_id = ? AND state = 'queued'`, accountID).Scan(&next)
	if err != nil || !next.Valid {
		return time.Time{}, err
	}
	return parseTime(next.String), nil
}

// SetOutboxRaw fixes the composed bytes and envelope recipients of an item.
func (s *Store) SetOutboxRaw(ctx context.Context, id int64, raw []byte, rcpt []string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET raw = ?, rcpt = ? WHERE id = ?`, raw, strings.Join(rcpt, " "), id)
	return err
}

// SetOutboxState moves an item to state, recording the error (if any) and,
// for a retry, when to try again. Every move to sending counts an attempt.
func (s *Store) SetOutboxState(ctx context.Context, id int64, state, lastError string, retryAt time.Time) error {
	q, args := outboxStateUpdate(id, state, lastError, retryAt)
	_, err := s.db.ExecContext(ctx, q, args...)
	return err
}

// SetOutboxState is Store.SetOutboxState in the caller's transaction, for
// several items in one commit.
func (t *Tx) SetOutboxState(id int64, state, lastError string, retryAt time.Time) error {
	q, args := outboxStateUpdate(id, state, lastError, retryAt)
	_, err := t.exec(q, args...)
	return err
}

// outboxStateUpdate is the statement that moves item id to state.
func outboxStateUpdate(id int64, state, lastError string, retryAt time.Time) (string, []any) {
	q := `UPDATE outbox SET state = ?, last_error = ?`
	args := []any{state, lastError}
	switch state {
	case OutboxSending:
		q += `, attempts = attempts + 1`
	case OutboxSent:
		q += `, sent_at = ?`
		args = append(args, formatTime(time.Now()))
	case OutboxQueued:
		q += `, next_attempt = ?`
		args = append(args, formatTime(retryAt))
	}
	return q + ` WHERE id = ?`, append(args, id)
}

// MarkAppended records that the item's copy is in the mailbox.
func (s *Store) MarkAppended(ctx context.Context, id int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET appended = 1 WHERE id = ?`, id)
	return err
}

// RecoverSending requeues items left in "sending" by a crash. They go out
// again with the same Message-ID: a rare duplicate is better than a loss.
func (s *Store) RecoverSending(ctx context.Context) (int, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE outbox SET state = 'queued' WHERE state = 'sending'`)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// RetryOutbox requeues a failed item for a new attempt now.
func (s *Store) RetryOutbox(ctx context.Context, messageID string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE outbox SET state = 'queued', next_attempt = ? WHERE message_id = ? AND state = 'failed'`,
		formatTime(time.Now()), messageID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("no failed message %s: %w", messageID, ErrNotFound)
	}
	s.wake()
	return nil
}

// OutboxCounts returns how many items wait to leave and how many failed.
func (s *Store) OutboxCounts(ctx context.Context) (queued, failed int, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT
		count(*) FILTER (WHERE state IN ('queued', 'sending')),
		count(*) FILTER (WHERE state = 'failed') FROM outbox`).Scan(&queued, &failed)
	return queued, failed, err
}

// ClaimDone records that an item's claim keyword is stored on the server,
// so that a retry after a failed send does not take our own claim for
// another client's.
func (s *Store) ClaimDone(ctx context.Context, id int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET claim = '' WHERE id = ?`, id)
	return err
}
