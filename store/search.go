package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The full-text index search_fts has one row per message, keyed by ticket
// (migration 0009): the rowid is the ticket id in the high 32 bits and the
// message id in the low ones, so a match names its tickets directly.
const (
	ftsTicket  = "(f.rowid >> 32)"                       // the ticket of a search_fts row f
	ftsMessage = "(f.rowid & 4294967295)"                // the message of a search_fts row f
	messageKey = "((coalesce(ticket_id, 0) << 32) | id)" // the search_fts rowid of a messages row
)

// ftsKey is the search_fts rowid of message messageID of ticket ticketID
// (0: outside any ticket).
func ftsKey(ticketID, messageID int64) int64 { return ticketID<<32 | messageID }

// moveSearchRows re-keys the index rows of ticket from's messages to ticket
// into, as a merge moves them.
func (t *Tx) moveSearchRows(into, from int64) error {
	lo, hi := ftsKey(from, 0), ftsKey(from+1, 0)
	if _, err := t.exec(`INSERT INTO search_fts (rowid, subject, body, sender, recipients)
		SELECT (? << 32) | `+ftsMessage+`, subject, body, sender, recipients FROM search_fts f WHERE rowid >= ? AND rowid < ?`,
		into, lo, hi); err != nil {
		return fmt.Errorf("store: merge search rows: %w", err)
	}
	_, err := t.exec(`DELETE FROM search_fts WHERE rowid >= ? AND rowid < ?`, lo, hi)
	return err
}

// SearchHit is one message matching a full-text search.
type SearchHit struct {
	Ticket  int64     `json:"ticket"`
	Account string    `json:"account"`
	Date    time.Time `json:"date"`
	From    string    `json:"from"`
	Subject string    `json:"subject"`
	Snippet string    `json:"snippet"`
}

// FTSQuery turns what a user typed into an FTS5 query: every word is quoted
// (so "J-993" or "from:x" are searched as text, not parsed as operators) and
// all words must match.
func FTSQuery(input string) string {
	var terms []string
	for _, w := range strings.Fields(input) {
		terms = append(terms, `"`+strings.ReplaceAll(w, `"`, `""`)+`"`)
	}
	return strings.Join(terms, " ")
}

// Search finds messages whose subject, body or addresses contain every word
// of query, best matches first.
func (s *Store) Search(ctx context.Context, query string, limit int) ([]SearchHit, error) {
	q := FTSQuery(query)
	if q == "" {
		return nil, nil
	}
	if limit <= 0 {
		limit = 200
	}
	rows, err := s.db.QueryContext(ctx, `SELECT t.number, a.name, m.date, m.from_addr, m.subject,
		snippet(search_fts, 1, '', '', '…', 12)
		FROM search_fts f JOIN messages m ON m.id = `+ftsMessage+`
		JOIN tickets t ON t.id = m.ticket_id JOIN accounts a ON a.id = t.account_id
		WHERE search_fts MATCH ? ORDER BY rank LIMIT ?`, q, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SearchHit
	for rows.Next() {
		var h SearchHit
		var date string
		if err := rows.Scan(&h.Ticket, &h.Account, &date, &h.From, &h.Subject, &h.Snippet); err != nil {
			return nil, err
		}
		h.Date = parseTime(date)
		out = append(out, h)
	}
	return out, rows.Err()
}
