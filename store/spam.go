package store

import (
	"context"
	"fmt"
	"strings"
)

// Spam marks of a ticket (tickets.spam_mark) and training classes of a
// message (messages.spam_trained).
const (
	SpamMarkSpam = "spam"
	SpamMarkHam  = "ham"
)

// SpamStats are the spam filter's totals.
type SpamStats struct {
	HamMessages  int64   // messages trained as ham
	SpamMessages int64   // messages trained as spam
	Threshold    float64 // chosen cut-off; 0 means the filter's default
	Checksum     int64   // sum of every token count, as recorded with each change
	Generation   int64   // bumped by every change
}

// SpamCount is how many trained messages of each class hold a token.
type SpamCount struct{ Ham, Spam int64 }

// SpamDelta is a change to the filter: counts to add per token (negative to
// untrain) and messages to add per class.
type SpamDelta struct {
	Tokens       map[string]SpamCount
	HamMessages  int64
	SpamMessages int64
}

// SpamStats reads the filter's totals.
func (s *Store) SpamStats(ctx context.Context) (SpamStats, error) {
	var st SpamStats
	err := s.db.QueryRowContext(ctx, `SELECT ham_messages, spam_messages, threshold, checksum, generation
		FROM spam_meta WHERE id = 1`).Scan(&st.HamMessages, &st.SpamMessages, &st.Threshold, &st.Checksum, &st.Generation)
	if err != nil {
		return st, fmt.Errorf("store: spam filter totals: %w", err)
	}
	return st, nil
}

// SpamTokens calls fn for every token of the filter, in no fixed order.
func (s *Store) SpamTokens(ctx context.Context, fn func(token string, c SpamCount) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT token, ham, spam FROM spam_tokens`)
	if err != nil {
		return fmt.Errorf("store: spam tokens: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tok string
		var c SpamCount
		if err := rows.Scan(&tok, &c.Ham, &c.Spam); err != nil {
			return fmt.Errorf("store: spam tokens: %w", err)
		}
		if err := fn(tok, c); err != nil {
			return err
		}
	}
	return rows.Err()
}

// AddSpamCounts applies a change to the filter, keeping its checksum, and
// returns its new generation. Tokens whose counts reach zero are dropped.
func (t *Tx) AddSpamCounts(d SpamDelta) (generation int64, err error) {
	up, err := t.tx.Prepare(`INSERT INTO spam_tokens (token, ham, spam) VALUES (?, ?, ?)
		ON CONFLICT (token) DO UPDATE SET ham = ham + excluded.ham, spam = spam + excluded.spam`)
	if err != nil {
		return 0, err
	}
	defer up.Close()
	drop, err := t.tx.Prepare(`DELETE FROM spam_tokens WHERE token = ? AND ham = 0 AND spam = 0`)
	if err != nil {
		return 0, err
	}
	defer drop.Close()
	var sum int64
	for tok, c := range d.Tokens {
		if c.Ham == 0 && c.Spam == 0 {
			continue
		}
		if _, err := up.Exec(tok, c.Ham, c.Spam); err != nil {
			return 0, fmt.Errorf("store: spam token: %w", err)
		}
		if c.Ham < 0 || c.Spam < 0 {
			if _, err := drop.Exec(tok); err != nil {
				return 0, err
			}
		}
		sum += c.Ham + c.Spam
	}
	err = t.queryRow(`UPDATE spam_meta SET ham_messages = ham_messages + ?, spam_messages = spam_messages + ?,
		checksum = checksum + ?, generation = generation + 1 WHERE id = 1 RETURNING generation`,
		d.HamMessages, d.SpamMessages, sum).Scan(&generation)
	return generation, err
}

// SetSpamThreshold records the filter's cut-off (0: the default).
func (t *Tx) SetSpamThreshold(v float64) error {
	_, err := t.exec(`UPDATE spam_meta SET threshold = ?, generation = generation + 1 WHERE id = 1`, v)
	return err
}

// ResetSpamFilter empties the filter and forgets what every message was
// trained as, so that every marked ticket is trained again. The threshold
// is kept.
func (t *Tx) ResetSpamFilter() error {
	for _, q := range []string{
		`DELETE FROM spam_tokens`,
		`UPDATE spam_meta SET ham_messages = 0, spam_messages = 0, checksum = 0, generation = generation + 1 WHERE id = 1`,
		`UPDATE messages SET spam_trained = '' WHERE spam_trained <> ''`,
	} {
		if _, err := t.exec(q); err != nil {
			return fmt.Errorf("store: reset spam filter: %w", err)
		}
	}
	return nil
}

// SpamTraining is a customer message of a marked ticket whose training
// does not match the mark yet.
type SpamTraining struct {
	MessageID int64
	Mark      string // the class to train it as: SpamMarkSpam or SpamMarkHam
	Trained   string // the class it counts in now ("" for none)
	From      string
	FromName  string
	Subject   string
	Body      string
}

// PendingSpamTraining lists up to limit customer messages whose ticket is
// marked spam or ham but which are not (yet) trained as marked.
func (t *Tx) PendingSpamTraining(limit int) ([]SpamTraining, error) {
	rows, err := t.query(`SELECT m.id, t.spam_mark, m.spam_trained, m.from_addr, m.from_name, m.subject, m.body
		FROM tickets t CROSS JOIN messages m ON m.ticket_id = t.id -- from the marked tickets, not every message in id order
		WHERE t.spam_mark <> '' AND m.kind = ? AND m.spam_trained <> t.spam_mark ORDER BY m.id LIMIT ?`, KindCustomer, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SpamTraining
	for rows.Next() {
		var p SpamTraining
		if err := rows.Scan(&p.MessageID, &p.Mark, &p.Trained, &p.From, &p.FromName, &p.Subject, &p.Body); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SetSpamTrained records the class a message now counts in.
func (t *Tx) SetSpamTrained(messageID int64, class string) error {
	_, err := t.exec(`UPDATE messages SET spam_trained = ? WHERE id = ?`, class, messageID)
	return err
}

// ApplySpamMark sets a ticket's spam mark ("", SpamMarkSpam or SpamMarkHam)
// from the keywords its root carries on the server, unless a local change
// of those keywords is still queued. A mark also sets the ticket's spam
// flag; no mark leaves the filter's verdict as it is.
func (t *Tx) ApplySpamMark(ticketID int64, mark string) (changed bool, err error) {
	var pending int
	err = t.queryRow(`SELECT count(*) FROM keyword_queue WHERE ticket_id = ? AND keyword IN (?, ?)`,
		ticketID, KeywordSpam, KeywordHam).Scan(&pending)
	if err != nil || pending > 0 {
		return false, err
	}
	q := `UPDATE tickets SET spam_mark = ? WHERE id = ? AND spam_mark <> ?`
	args := []any{mark, ticketID, mark}
	if mark != "" {
		q = `UPDATE tickets SET spam_mark = ?, spam = ? WHERE id = ? AND (spam_mark <> ? OR spam <> ?)`
		spam := boolInt(mark == SpamMarkSpam)
		args = []any{mark, spam, ticketID, mark, spam}
	}
	res, err := t.exec(q, args...)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// isSpam reports whether a ticket is in the spam view.
func (t *Tx) isSpam(ticketID int64) (bool, error) {
	var spam int
	err := t.queryRow(`SELECT spam FROM tickets WHERE id = ?`, ticketID).Scan(&spam)
	return spam != 0, err
}

// KnownRequester reports whether addr opened an earlier ticket of the
// account that is not spam.
func (t *Tx) KnownRequester(accountID int64, addr string) (bool, error) {
	var n int
	// The unary + keeps SQLite on the requester index: the account and
	// spam indexes would read every ticket (quadratic over a full sync).
	// EXISTS stops at the first: a frequent requester has many tickets.
	err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM tickets WHERE +account_id = ? AND requester = ? AND +spam = 0)`,
		accountID, strings.ToLower(addr)).Scan(&n)
	return n > 0, err
}

// SetSpamMany marks tickets spam (or not spam) in one transaction, as
// SetSpam does for one (see there); marking spam also skips the automated
// mail still queued for them.
func (s *Store) SetSpamMany(ctx context.Context, ticketIDs []int64, spam bool) error {
	mark := SpamMarkHam
	if spam {
		mark = SpamMarkSpam
	}
	return s.Update(ctx, func(tx *Tx) error {
		for _, id := range ticketIDs {
			res, err := tx.tx.Exec(`UPDATE tickets SET spam = ?, spam_mark = ? WHERE id = ?`, boolInt(spam), mark, id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("ticket %d: %w", id, ErrNotFound)
			}
			if spam {
				if _, err := tx.tx.Exec(`UPDATE outbox SET state = ?, last_error = 'the ticket is spam'
					WHERE ticket_id = ? AND kind = ? AND state = ?`, OutboxSkipped, id, KindAuto, OutboxQueued); err != nil {
					return err
				}
			}
			if err := tx.QueueKeyword(id, KeywordSpam, spam); err != nil {
				return err
			}
			if err := tx.QueueKeyword(id, KeywordHam, !spam); err != nil {
				return err
			}
		}
		return nil
	})
}
