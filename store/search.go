package store

import (
	"context"
	"strings"
	"time"
)

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
		snippet(messages_fts, 1, '', '', '…', 12)
		FROM messages_fts f JOIN messages m ON m.id = f.rowid
		JOIN tickets t ON t.id = m.ticket_id JOIN accounts a ON a.id = t.account_id
		WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?`, q, limit)
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
