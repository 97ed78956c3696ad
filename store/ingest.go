package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Account is one synced desk mailbox and its sync cursor.
type Account struct {
	ID            int64
	Name          string
	Address       string
	Mailbox       string
	UIDValidity   uint32
	UIDNext       uint32 // every UID below it has been ingested
	HighestModSeq uint64
	BaselineUID   uint32 // UIDNEXT at the first sync; 0 before it
}

// EnsureAccount returns the account row named name, creating it or updating
// its address and mailbox.
func (s *Store) EnsureAccount(ctx context.Context, name, address, mailbox string) (*Account, error) {
	var a *Account
	err := s.Update(ctx, func(tx *Tx) error {
		_, err := tx.tx.Exec(`INSERT INTO accounts (name, address, mailbox) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET address = excluded.address, mailbox = excluded.mailbox`,
			name, strings.ToLower(address), mailbox)
		if err != nil {
			return err
		}
		a, err = tx.Account(name)
		return err
	})
	return a, err
}

// Tx is a write transaction of the store, handed to Update callbacks.
type Tx struct {
	tx     *sql.Tx
	store  *Store
	stmts  map[string]*sql.Stmt // prepared statements bound to tx
	queued bool                 // local work was queued: wake the workers after commit
	search []searchRow          // index rows not yet written, see flushSearch
	// blocking holds, per account asked in the transaction, whether it
	// blocks any sender (see IsBlocked).
	blocking map[int64]bool
}

// Update runs fn in one write transaction, committing if fn returns nil.
func (s *Store) Update(ctx context.Context, fn func(tx *Tx) error) error {
	t := &Tx{store: s}
	err := s.update(ctx, func(tx *sql.Tx) error {
		t.tx = tx
		if err := fn(t); err != nil {
			return err
		}
		return t.flushSearch()
	})
	if err == nil && t.queued {
		s.wake()
	}
	return err
}

// Account reads an account and its cursor by name.
func (t *Tx) Account(name string) (*Account, error) {
	var a Account
	err := t.queryRow(`SELECT id, name, address, mailbox, uidvalidity, uid_next, highest_modseq, baseline_uid
		FROM accounts WHERE name = ?`, name).Scan(&a.ID, &a.Name, &a.Address, &a.Mailbox,
		&a.UIDValidity, &a.UIDNext, &a.HighestModSeq, &a.BaselineUID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("account %q: %w", name, ErrNotFound)
	}
	return &a, err
}

// SetCursor records how far the account's mailbox has been ingested. Call it
// in the same transaction as the messages it covers.
func (t *Tx) SetCursor(accountID int64, uidValidity, uidNext uint32, highestModSeq uint64) error {
	_, err := t.exec(`UPDATE accounts SET uidvalidity = ?, uid_next = ?, highest_modseq = ?, synced_at = ? WHERE id = ?`,
		uidValidity, uidNext, highestModSeq, formatTime(time.Now()), accountID)
	return err
}

// SetBaseline records the UIDNEXT of the account's first sync.
func (t *Tx) SetBaseline(accountID int64, uid uint32) error {
	_, err := t.exec(`UPDATE accounts SET baseline_uid = ? WHERE id = ?`, uid, accountID)
	return err
}

// ForgetUIDs drops the account's UID map after a UIDVALIDITY change; the
// messages stay and are matched again by Message-ID.
func (t *Tx) ForgetUIDs(accountID int64) error {
	_, err := t.exec(`UPDATE messages SET uid = NULL WHERE account_id = ?`, accountID)
	return err
}

// HasMessageID reports whether a message with this Message-ID is stored.
func (t *Tx) HasMessageID(accountID int64, messageID string) (bool, error) {
	var n int
	err := t.queryRow(`SELECT count(*) FROM messages WHERE account_id = ? AND message_id = ?`, accountID, messageID).Scan(&n)
	return n > 0, err
}

// HasMessages reports whether any message of the account is stored.
func (t *Tx) HasMessages(accountID int64) (bool, error) {
	var n int
	err := t.queryRow(`SELECT count(*) FROM (SELECT 1 FROM messages WHERE account_id = ? LIMIT 1)`, accountID).Scan(&n)
	return n > 0, err
}

// claimable selects the id of the stored message of an account (the first
// argument) with a Message-ID (the second) that may take a UID: see ClaimUID.
const claimable = `SELECT id FROM messages WHERE account_id = ? AND message_id = ? AND (uid IS NULL OR expunged = 1)
	ORDER BY uid IS NOT NULL LIMIT 1`

// ClaimUID gives uid to a stored message with this Message-ID that has no
// UID yet (a reply written here whose copy came back from the mailbox, or a
// message seen before a UIDVALIDITY change) or that had left the mailbox
// and came back (a root moved back from Junk). It reports whether one matched.
func (t *Tx) ClaimUID(accountID int64, messageID string, uid uint32) (bool, error) {
	if messageID == "" {
		return false, nil
	}
	res, err := t.exec(`UPDATE messages SET uid = ?, expunged = 0 WHERE id = (`+claimable+`)`, uid, accountID, messageID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Arrival is what the store holds already of a message fetched from the
// mailbox.
type Arrival struct {
	Stored    bool  // a message has its UID: it was ingested
	Claimable int64 // the stored message its UID goes to (see ClaimUID), or 0
	// RootCopyOf is the number of the ticket whose reply key the message
	// has (it is a copy of that ticket's root), or 0.
	RootCopyOf int64
}

// Arrival looks up, in one statement, what ingesting the message with this
// UID, Message-ID and reply key must first know: whether the UID is stored, the message that
// ClaimUID would give the UID to, and the ticket owning the reply key.
func (t *Tx) Arrival(accountID int64, uid uint32, messageID, replyKey string) (Arrival, error) {
	var a Arrival
	err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM messages WHERE account_id = ? AND uid = ?),
		coalesce((`+claimable+`), 0),
		coalesce((SELECT number FROM tickets WHERE account_id = ? AND reply_key = ?), 0)`,
		accountID, uid, accountID, messageID, accountID, strings.ToLower(replyKey)).Scan(&a.Stored, &a.Claimable, &a.RootCopyOf)
	if messageID == "" {
		a.Claimable = 0
	}
	return a, err
}

// GiveUID gives uid to the stored message id (an Arrival's Claimable).
func (t *Tx) GiveUID(id int64, uid uint32) error {
	_, err := t.exec(`UPDATE messages SET uid = ?, expunged = 0 WHERE id = ?`, uid, id)
	return err
}

func (t *Tx) ticketWhere(where string, args ...any) (*Ticket, error) {
	tk, err := scanTicket(t.queryRow(`SELECT `+ticketColumns+` FROM tickets t JOIN accounts a ON a.id = t.account_id WHERE `+where, args...))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return tk, err
}

// TicketByReplyKey finds the ticket owning a reply key, or nil.
func (t *Tx) TicketByReplyKey(accountID int64, key string) (*Ticket, error) {
	return t.ticketWhere(`t.account_id = ? AND t.reply_key = ?`, accountID, strings.ToLower(key))
}

// TicketByNumber finds ticket n of the account, or nil.
func (t *Tx) TicketByNumber(accountID int64, n int64) (*Ticket, error) {
	return t.ticketWhere(`t.account_id = ? AND t.number = ?`, accountID, n)
}

// TicketByMessageIDs finds the ticket holding any of the Message-IDs (the
// last one given wins, as In-Reply-To and the end of References are the
// nearest ancestors), or nil.
func (t *Tx) TicketByMessageIDs(accountID int64, ids []string) (*Ticket, error) {
	for i := len(ids) - 1; i >= 0; i-- {
		if ids[i] == "" {
			continue
		}
		tk, err := t.ticketWhere(`t.id = (SELECT ticket_id FROM messages WHERE account_id = ? AND message_id = ? AND ticket_id IS NOT NULL LIMIT 1)`, accountID, ids[i])
		if tk != nil || err != nil {
			return tk, err
		}
	}
	return nil, nil
}

// IsParticipant reports whether addr wrote to, or was written to, in the ticket.
func (t *Tx) IsParticipant(ticketID int64, addr string) (bool, error) {
	addr = strings.ToLower(addr)
	var n int
	err := t.queryRow(`SELECT count(*) FROM tickets WHERE id = ? AND requester = ?`, ticketID, addr).Scan(&n)
	if err != nil || n > 0 {
		return n > 0, err
	}
	padded := " " + addr + " "
	err = t.queryRow(`SELECT count(*) FROM messages WHERE ticket_id = ? AND (from_addr = ?
		OR instr(' ' || to_addrs || ' ', ?) > 0 OR instr(' ' || cc_addrs || ' ', ?) > 0)`,
		ticketID, addr, padded, padded).Scan(&n)
	return n > 0, err
}

// CreateTicket inserts a new open, unread ticket with the spam filter's
// verdict (Spam, SpamScore) and returns it with its row id.
func (t *Tx) CreateTicket(accountID int64, tk *Ticket) error {
	res, err := t.exec(`INSERT INTO tickets (account_id, number, project, subject, requester, requester_name,
		reply_key, state, root_message_id, created, updated, unread, spam, spam_score)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		accountID, tk.Number, tk.Project, tk.Subject, strings.ToLower(tk.Requester), tk.RequesterName,
		strings.ToLower(tk.ReplyKey), StateOpen, tk.RootMessageID, formatTime(tk.Created), formatTime(tk.Created),
		boolInt(tk.Spam), tk.SpamScore)
	if err != nil {
		return fmt.Errorf("store: create ticket #%d: %w", tk.Number, err)
	}
	tk.ID, err = res.LastInsertId()
	tk.State = StateOpen
	return err
}

// OpenTicket creates a ticket (see CreateTicket) with its first message,
// root, and indexes the message. The ticket's updated time and unread mark
// are written once: they are those root gives, unless root is dated after
// the ticket's creation.
func (t *Tx) OpenTicket(accountID int64, tk *Ticket, root *Message) error {
	if err := t.CreateTicket(accountID, tk); err != nil {
		return err
	}
	root.TicketID = tk.ID
	if err := t.insertMessage(accountID, root); err != nil || !root.Date.After(tk.Created) {
		return err
	}
	return t.touchTicket(root)
}

// AddMessage stores a message (ticketID 0 keeps it outside any ticket),
// indexes it for search, and bumps the ticket's updated time and unread mark.
func (t *Tx) AddMessage(accountID int64, m *Message) error {
	if err := t.insertMessage(accountID, m); err != nil || m.TicketID == 0 {
		return err
	}
	return t.touchTicket(m)
}

// insertMessage stores a message and queues its row of the search index.
func (t *Tx) insertMessage(accountID int64, m *Message) error {
	var atts string
	if len(m.Attachments) > 0 {
		b, err := json.Marshal(m.Attachments)
		if err != nil {
			return err
		}
		atts = string(b)
	}
	var ticket, uid any
	if m.TicketID != 0 {
		ticket = m.TicketID
	}
	if m.UID != 0 {
		uid = m.UID
	}
	res, err := t.exec(`INSERT INTO messages (account_id, ticket_id, uid, message_id, in_reply_to, refs,
		from_addr, from_name, to_addrs, cc_addrs, subject, date, kind, body, attachments, auto_reason,
		parse_warning, threaded_by, spam_score, unverified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		accountID, ticket, uid, m.MessageID, m.InReplyTo, strings.Join(m.References, " "),
		strings.ToLower(m.From), m.FromName, strings.ToLower(strings.Join(m.To, " ")), strings.ToLower(strings.Join(m.Cc, " ")),
		m.Subject, formatTime(m.Date), m.Kind, m.Body, atts, m.AutoReason, m.ParseWarning, m.ThreadedBy,
		m.SpamScore, m.Unverified)
	if err != nil {
		return fmt.Errorf("store: add message %s: %w", m.MessageID, err)
	}
	if m.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	t.search = append(t.search, searchRow{key: ftsKey(m.TicketID, m.ID), subject: m.Subject, body: m.Body,
		sender: m.From + " " + m.FromName, recipients: strings.Join(append(slices.Clip(m.To), m.Cc...), " ")})
	return t.addRefs(m)
}

// touchTicket bumps the updated time and unread mark of m's ticket.
func (t *Tx) touchTicket(m *Message) error {
	// Only a row that changes is written: updated is in seven indexes.
	date, unread := formatTime(m.Date), boolInt(m.Kind == KindCustomer)
	_, err := t.exec(`UPDATE tickets SET updated = max(updated, ?), unread = unread OR ?
		WHERE id = ? AND (updated < ? OR (unread = 0 AND ?))`, date, unread, m.TicketID, date, unread)
	return err
}

// searchRow is one message's row of the full-text index.
type searchRow struct {
	key                               int64
	subject, body, sender, recipients string
}

// flushSearch writes the index rows AddMessage queued, in rowid order, and
// runs before anything else reads or moves index rows in the transaction.
// FTS5 writes its pending terms out as a new segment (to be merged later)
// whenever a rowid is not above the last one, and the ticket-keyed rowids
// of a sync batch come out of order: written as they came, every reply to
// an older ticket cost a segment. One row a statement: a statement of
// several rows opens a savepoint, and FTS5 writes a segment at each.
func (t *Tx) flushSearch() error {
	slices.SortFunc(t.search, func(a, b searchRow) int { return cmp.Compare(a.key, b.key) })
	for _, r := range t.search {
		if _, err := t.exec(`INSERT INTO search_fts (rowid, subject, body, sender, recipients) VALUES (?, ?, ?, ?, ?)`,
			r.key, r.subject, r.body, r.sender, r.recipients); err != nil {
			return fmt.Errorf("store: index message: %w", err)
		}
	}
	t.search = t.search[:0]
	return nil
}

// SetState changes a ticket's state without queueing a keyword change (for
// state read from the server).
func (t *Tx) SetState(ticketID int64, state string) error {
	_, err := t.exec(`UPDATE tickets SET state = ? WHERE id = ?`, state, ticketID)
	return err
}

// ApplyServerKeywords sets a ticket's status, assignee and labels from the
// keywords its root message carries on the server, unless local changes are
// still queued for it (those win until pushed).
func (t *Tx) ApplyServerKeywords(ticketID int64, kw ServerKeywords) (changed bool, err error) {
	var pending int
	if err := t.queryRow(`SELECT count(*) FROM keyword_queue WHERE ticket_id = ?`, ticketID).Scan(&pending); err != nil || pending > 0 {
		return false, err
	}
	state := kw.Status
	if !IsStatus(state) {
		state = StateOpen
	}
	assignee := NormalizeAssignee(kw.Assignee)
	res, err := t.exec(`UPDATE tickets SET state = ?, assignee = ? WHERE id = ? AND (state <> ? OR assignee <> ?)`,
		state, assignee, ticketID, state, assignee)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	changed = n > 0
	labels := sortedLabels(kw.Labels)
	var current []string
	rows, err := t.query(`SELECT label FROM ticket_labels WHERE ticket_id = ? ORDER BY label`, ticketID)
	if err != nil {
		return false, err
	}
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			rows.Close()
			return false, err
		}
		current = append(current, l)
	}
	rows.Close()
	if strings.Join(current, "\x1f") == strings.Join(labels, "\x1f") {
		return changed, nil
	}
	if _, err := t.exec(`DELETE FROM ticket_labels WHERE ticket_id = ?`, ticketID); err != nil {
		return false, err
	}
	for _, l := range labels {
		if _, err := t.exec(`INSERT OR IGNORE INTO ticket_labels (ticket_id, label) VALUES (?, ?)`, ticketID, l); err != nil {
			return false, err
		}
	}
	return true, nil
}

// RootUIDs maps the UID of every ticket's root message to the ticket id;
// given UIDs, only the roots among them (a few changed messages are looked
// up without reading every root).
func (s *Store) RootUIDs(ctx context.Context, accountID int64, only ...uint32) (map[uint32]int64, error) {
	cond, args := `m.uid IS NOT NULL`, []any{accountID}
	if len(only) > 0 {
		list, err := json.Marshal(only)
		if err != nil {
			return nil, err
		}
		cond = `m.uid IN (SELECT value FROM json_each(?))` // an index lookup per UID
		args = append(args, string(list))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT m.uid, t.id FROM messages m
		JOIN tickets t ON t.id = m.ticket_id AND t.root_message_id = m.message_id
		WHERE m.account_id = ? AND m.expunged = 0 AND `+cond, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uint32]int64{}
	for rows.Next() {
		var uid uint32
		var id int64
		if err := rows.Scan(&uid, &id); err != nil {
			return nil, err
		}
		out[uid] = id
	}
	return out, rows.Err()
}

// SetUnsubscribed records that the ticket's customer asked for no more mail.
func (t *Tx) SetUnsubscribed(ticketID int64) error {
	_, err := t.exec(`UPDATE tickets SET unsubscribed = 1 WHERE id = ?`, ticketID)
	return err
}

// SetHighestModSeq records the CONDSTORE mod-sequence up to which keyword
// changes have been read.
func (t *Tx) SetHighestModSeq(accountID int64, modseq uint64) error {
	_, err := t.exec(`UPDATE accounts SET highest_modseq = ? WHERE id = ?`, modseq, accountID)
	return err
}

// addRefs records every Message-ID m refers to (In-Reply-To and
// References), so that mail referring to the same messages threads
// together even when the message they refer to is not (yet) stored.
func (t *Tx) addRefs(m *Message) error {
	seen := map[string]bool{"": true, m.MessageID: true}
	for _, ref := range append([]string{m.InReplyTo}, m.References...) {
		if seen[ref] {
			continue
		}
		seen[ref] = true
		if _, err := t.exec(`INSERT INTO message_refs (message_id, ref) VALUES (?, ?)`, m.ID, ref); err != nil {
			return fmt.Errorf("store: message refs: %w", err)
		}
	}
	return nil
}

// TicketsReferring returns the tickets holding a message that refers to one
// of ids (by In-Reply-To or References), lowest number first. It looks up
// ticket ids first (usually there are none) and reads whole tickets only
// for those found.
func (t *Tx) TicketsReferring(accountID int64, ids []string) ([]*Ticket, error) {
	var found []int64
	for _, id := range ids {
		// The unary + keeps SQLite on the reference index: the account
		// index would read every message (quadratic over a full sync).
		rows, err := t.query(`SELECT DISTINCT m.ticket_id FROM message_refs r JOIN messages m ON m.id = r.message_id
			WHERE r.ref = ? AND +m.account_id = ? AND m.ticket_id IS NOT NULL`, id, accountID)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var tid int64
			if err := rows.Scan(&tid); err != nil {
				rows.Close()
				return nil, err
			}
			if !slices.Contains(found, tid) {
				found = append(found, tid)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]*Ticket, 0, len(found))
	for _, id := range found {
		tk, err := t.ticketWhere(`t.id = ?`, id)
		if err != nil {
			return nil, err
		}
		if tk != nil {
			out = append(out, tk)
		}
	}
	slices.SortFunc(out, func(x, y *Ticket) int { return cmp.Compare(x.Number, y.Number) })
	return out, nil
}

// MergeTicket moves everything of ticket from (messages, events,
// participants, labels, queued mail and keyword changes, drafts: every row
// of every table that refers to tickets) into ticket into and deletes
// ticket from. Where into already has a row with the same key (a label, a
// participant, a draft of the same kind), into's row is kept.
func (t *Tx) MergeTicket(into, from int64) error {
	rows, err := t.query(`SELECT m.name, f."from" FROM sqlite_master m, pragma_foreign_key_list(m.name) f
		WHERE m.type = 'table' AND f."table" = 'tickets'`)
	if err != nil {
		return err
	}
	type ref struct{ table, column string }
	var refs []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.table, &r.column); err != nil {
			rows.Close()
			return err
		}
		refs = append(refs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range refs {
		if _, err := t.exec(`UPDATE OR IGNORE "`+r.table+`" SET "`+r.column+`" = ? WHERE "`+r.column+`" = ?`, into, from); err != nil {
			return fmt.Errorf("store: merge ticket rows of %s: %w", r.table, err)
		}
	}
	if _, err := t.exec(`UPDATE tickets SET
		created = min(created, (SELECT created FROM tickets WHERE id = ?)),
		updated = max(updated, (SELECT updated FROM tickets WHERE id = ?)),
		unread = unread OR (SELECT unread FROM tickets WHERE id = ?)
		WHERE id = ?`, from, from, from, into); err != nil {
		return err
	}
	if err := t.flushSearch(); err != nil {
		return err
	}
	if err := t.moveSearchRows(into, from); err != nil {
		return err
	}
	_, err = t.exec(`DELETE FROM tickets WHERE id = ?`, from)
	return err
}
