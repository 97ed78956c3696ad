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

// Automated notices an outbox row may carry; each has a template per
// project (templates/<project>/<notice>.md).
const (
	NoticeThankYou = "thank_you"
	NoticeNewNote  = "new_note"
	NoticeClosed   = "closed"
	// NoticeNewParticipant tells an address staff added to a ticket that
	// it now receives the ticket's mail.
	NoticeNewParticipant = "new_participant"
)

// KeywordClosedNotified is claimed on a ticket's root before the closed
// notice goes out, so that only one client sends it.
const KeywordClosedNotified = "$Desk-Closed-Notified"

// Participant is an external address that receives a ticket's replies
// besides the requester.
type Participant struct {
	Addr  string    `json:"addr"`
	Name  string    `json:"name,omitempty"`
	Added time.Time `json:"added"`
}

// QueueReplyFiles is QueueReply with attachments: the files at paths are
// read when the reply is composed, once, and their bytes then stay in the
// outbox until it is sent.
func (s *Store) QueueReplyFiles(ctx context.Context, ticketID int64, kind, author, body string, paths []string) (*Message, error) {
	if kind == KindNote && len(paths) > 0 {
		return nil, errors.New("an internal note cannot carry attachments")
	}
	m, err := s.QueueReply(ctx, ticketID, kind, author, body)
	if err != nil || len(paths) == 0 {
		return m, err
	}
	files, err := json.Marshal(paths)
	if err != nil {
		return nil, err
	}
	_, err = s.db.ExecContext(ctx, `UPDATE outbox SET files = ? WHERE message_id = ?`, string(files), m.MessageID)
	return m, err
}

// queueNotice queues an automated notice (to rcpt, or when none is given to
// the requester), composed when it leaves, claimed
// with keyword on the ticket's root.
func (t *Tx) queueNotice(ticketID int64, notice, keyword string, rcpt ...string) error {
	var accountID int64
	var address string
	if err := t.queryRow(`SELECT a.id, a.address FROM tickets t JOIN accounts a ON a.id = t.account_id WHERE t.id = ?`,
		ticketID).Scan(&accountID, &address); err != nil {
		return err
	}
	return t.QueueOutbox(&OutboxItem{AccountID: accountID, TicketID: ticketID, Kind: KindAuto, Notice: notice,
		MessageID: NewMessageID(address), Claim: keyword, Rcpt: rcpt})
}

// SetNoticeRaw fixes the composed bytes of an automated notice and adds it
// to the ticket's thread as m, in one transaction.
func (s *Store) SetNoticeRaw(ctx context.Context, o *OutboxItem, m *Message) error {
	return s.Update(ctx, func(tx *Tx) error {
		if _, err := tx.tx.Exec(`UPDATE outbox SET raw = ?, rcpt = ? WHERE id = ?`, o.Raw, strings.Join(o.Rcpt, " "), o.ID); err != nil {
			return err
		}
		return tx.AddMessage(o.AccountID, m)
	})
}

// DiscardOutbox drops a reply that has not left (failed or still queued):
// its outbox row and its message go, and the ticket records who discarded
// it. It is the other half of RetryOutbox.
func (s *Store) DiscardOutbox(ctx context.Context, messageID, actor string) error {
	return s.Update(ctx, func(tx *Tx) error {
		var ticketID int64
		var kind string
		err := tx.tx.QueryRow(`SELECT ticket_id, kind FROM outbox WHERE message_id = ? AND state IN ('failed', 'queued')`,
			messageID).Scan(&ticketID, &kind)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("no unsent message %s: %w", messageID, ErrNotFound)
		} else if err != nil {
			return err
		}
		if err := tx.dropUnsent(messageID); err != nil {
			return err
		}
		return tx.AddEvent(ticketID, actor, "discarded an unsent "+kind)
	})
}

// dropUnsent deletes an outbox item that has not left and the local copy
// of its message.
func (t *Tx) dropUnsent(messageID string) error {
	if _, err := t.tx.Exec(`DELETE FROM outbox WHERE message_id = ?`, messageID); err != nil {
		return err
	}
	if _, err := t.tx.Exec(`DELETE FROM search_fts WHERE rowid IN (SELECT `+messageKey+` FROM messages WHERE message_id = ? AND uid IS NULL)`, messageID); err != nil {
		return err
	}
	_, err := t.tx.Exec(`DELETE FROM messages WHERE message_id = ? AND uid IS NULL`, messageID)
	return err
}

// KeepInternal turns a staff reply that must not leave (the customer
// unsubscribed) into an internal note, and records why on the ticket.
func (s *Store) KeepInternal(ctx context.Context, o *OutboxItem, why string) error {
	return s.Update(ctx, func(tx *Tx) error {
		if _, err := tx.tx.Exec(`UPDATE outbox SET kind = ?, raw = NULL, rcpt = '' WHERE id = ?`, KindNote, o.ID); err != nil {
			return err
		}
		if _, err := tx.tx.Exec(`UPDATE messages SET kind = ? WHERE message_id = ? AND ticket_id = ?`, KindNote, o.MessageID, o.TicketID); err != nil {
			return err
		}
		return tx.AddEvent(o.TicketID, o.Author, "reply kept internal: "+why)
	})
}

// SkipOutbox marks an item skipped, with why, and records it on the ticket
// (automated mail suppressed by a rate limit, an unsubscribe or a switch).
func (s *Store) SkipOutbox(ctx context.Context, o *OutboxItem, why string) error {
	return s.Update(ctx, func(tx *Tx) error {
		if _, err := tx.tx.Exec(`UPDATE outbox SET state = ?, last_error = ? WHERE id = ?`, OutboxSkipped, why, o.ID); err != nil {
			return err
		}
		return tx.AddEvent(o.TicketID, "", "automated mail not sent: "+why)
	})
}

// LoseClaim marks an automated mail skipped because another client of the
// mailbox claimed and sent it, and removes its local copy from the thread:
// the winner's sent copy arrives with the next sync, so each client shows
// the one mail the customer got.
func (s *Store) LoseClaim(ctx context.Context, o *OutboxItem, why string) error {
	return s.Update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(`UPDATE outbox SET state = ?, last_error = ? WHERE id = ?`, OutboxSkipped, why, o.ID); err != nil {
			return err
		}
		var id int64
		err := tx.queryRow(`SELECT id FROM messages WHERE ticket_id = ? AND message_id = ? AND uid IS NULL`,
			o.TicketID, o.MessageID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM search_fts WHERE rowid = ?`, ftsKey(o.TicketID, id)); err != nil {
			return err
		}
		_, err = tx.exec(`DELETE FROM messages WHERE id = ?`, id)
		return err
	})
}

// SentAuto is an automated mail sent: its recipients and its ticket's
// project.
type SentAuto struct {
	Rcpt    []string
	Project string
}

// AutoMailsSent lists the account's automated mails sent since a time, for
// the rate limits: a flush reads them once and counts what it sends.
func (s *Store) AutoMailsSent(ctx context.Context, accountID int64, since time.Time) ([]SentAuto, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT o.rcpt, t.project FROM outbox o JOIN tickets t ON t.id = o.ticket_id
		WHERE o.account_id = ? AND o.kind = 'auto' AND o.state = 'sent' AND o.sent_at >= ?`, accountID, formatTime(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SentAuto
	for rows.Next() {
		var rcpt string
		var a SentAuto
		if err := rows.Scan(&rcpt, &a.Project); err != nil {
			return nil, err
		}
		a.Rcpt = splitList(rcpt)
		out = append(out, a)
	}
	return out, rows.Err()
}

// AddParticipant adds an external address to a ticket (in the caller's
// transaction); it reports false when the address was already there.
func (t *Tx) AddParticipant(ticketID int64, addr, name string) (bool, error) {
	res, err := t.exec(`INSERT OR IGNORE INTO participants (ticket_id, addr, name, added) VALUES (?, ?, ?, ?)`,
		ticketID, strings.ToLower(addr), name, formatTime(time.Now()))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// AddParticipant adds addr to a ticket's participants and records who
// added it (for the composer's /add_email).
func (s *Store) AddParticipant(ctx context.Context, ticketID int64, addr, actor string) error {
	return s.Update(ctx, func(tx *Tx) error {
		added, err := tx.AddParticipant(ticketID, addr, "")
		if err != nil || !added {
			return err
		}
		if err := tx.AddEvent(ticketID, actor, "added participant "+strings.ToLower(addr)); err != nil {
			return err
		}
		// Only this client knows of the addition: no claim is needed.
		return tx.queueNotice(ticketID, NoticeNewParticipant, "", strings.ToLower(addr))
	})
}

// RemoveParticipant removes addr from a ticket's participants (for the
// composer's /remove_email); a notice telling them they were added that
// has not left yet never will.
func (s *Store) RemoveParticipant(ctx context.Context, ticketID int64, addr, actor string) error {
	addr = strings.ToLower(addr)
	return s.Update(ctx, func(tx *Tx) error {
		res, err := tx.tx.Exec(`DELETE FROM participants WHERE ticket_id = ? AND addr = ?`, ticketID, addr)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s is not a participant: %w", addr, ErrNotFound)
		}
		var unsent []string
		rows, err := tx.tx.Query(`SELECT message_id FROM outbox WHERE ticket_id = ? AND notice = ? AND rcpt = ? AND state = 'queued'`,
			ticketID, NoticeNewParticipant, addr)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			unsent = append(unsent, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range unsent {
			if err := tx.dropUnsent(id); err != nil {
				return err
			}
		}
		return tx.AddEvent(ticketID, actor, "removed participant "+addr)
	})
}

// Participants lists a ticket's external participants, oldest first.
func (s *Store) Participants(ctx context.Context, ticketID int64) ([]Participant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT addr, name, added FROM participants WHERE ticket_id = ? ORDER BY added, addr`, ticketID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Participant
	for rows.Next() {
		var p Participant
		var added string
		if err := rows.Scan(&p.Addr, &p.Name, &added); err != nil {
			return nil, err
		}
		p.Added = parseTime(added)
		out = append(out, p)
	}
	return out, rows.Err()
}
