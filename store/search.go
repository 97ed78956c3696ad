package store

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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
// into, as a merge moves them. The index keeps no text (it is contentless),
// so the rows are indexed again from the messages.
func (t *Tx) moveSearchRows(into, from int64) error {
	lo, hi := ftsKey(from, 0), ftsKey(from+1, 0)
	if _, err := t.exec(`INSERT INTO search_fts (rowid, subject, body, sender, recipients)
		SELECT (? << 32) | id, subject, body, from_addr || ' ' || from_name, to_addrs || ' ' || cc_addrs FROM messages
		WHERE id IN (SELECT `+ftsMessage+` FROM search_fts f WHERE rowid >= ? AND rowid < ?)`,
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
	rows, err := s.db.QueryContext(ctx, `SELECT t.number, a.name, m.date, m.from_addr, m.subject, m.body
		FROM search_fts f JOIN messages m ON m.id = `+ftsMessage+`
		JOIN tickets t ON t.id = m.ticket_id JOIN accounts a ON a.id = t.account_id
		WHERE search_fts MATCH ? ORDER BY rank LIMIT ?`, q, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	terms := wordSpans(query)
	var out []SearchHit
	for rows.Next() {
		var h SearchHit
		var date, body string
		if err := rows.Scan(&h.Ticket, &h.Account, &date, &h.From, &h.Subject, &body); err != nil {
			return nil, err
		}
		h.Date = parseTime(date)
		h.Snippet = snippet(body, query, terms)
		out = append(out, h)
	}
	return out, rows.Err()
}

// snippetWords is how many words a search hit's snippet shows.
const snippetWords = 12

// snippet is the part of body around the first word of query (its words
// at terms) that body holds, snippetWords words long, with "…" where it
// cuts the text; the start of body when it holds none (the match was in
// another column, or differs in accents). The index keeps no text to cut
// a snippet from.
func snippet(body, query string, terms [][2]int) string {
	var words [][2]int
	hit := -1
	for w := range wordsOf(body) {
		words = append(words, w)
		if hit < 0 && slices.ContainsFunc(terms, func(t [2]int) bool { return strings.EqualFold(body[w[0]:w[1]], query[t[0]:t[1]]) }) {
			hit = len(words) - 1
		}
		if hit >= 0 && len(words) > hit+snippetWords {
			break // one word past the snippet shows that the text goes on
		}
	}
	if len(words) == 0 {
		return ""
	}
	first := max(0, min(hit-2, len(words)-snippetWords))
	last := min(first+snippetWords, len(words)) - 1
	end := words[last][1]
	// Punctuation that closes the last word ("again.") stays with it.
	for end < len(body) && (last+1 == len(words) || end < words[last+1][0]) {
		r, size := utf8.DecodeRuneInString(body[end:])
		if unicode.IsSpace(r) {
			break
		}
		end += size
	}
	out := body[words[first][0]:end]
	if first > 0 {
		out = "…" + out
	}
	if last < len(words)-1 {
		out += "…"
	}
	return out
}

// wordSpans returns the start and end of every word of s.
func wordSpans(s string) [][2]int {
	return slices.Collect(wordsOf(s))
}

// wordsOf yields the start and end of every run of letters, digits and
// marks in s, as the index's tokenizer splits text.
func wordsOf(s string) iter.Seq[[2]int] {
	return func(yield func([2]int) bool) {
		start := -1
		for i, r := range s {
			inWord := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
			switch {
			case inWord && start < 0:
				start = i
			case !inWord && start >= 0:
				if !yield([2]int{start, i}) {
					return
				}
				start = -1
			}
		}
		if start >= 0 {
			yield([2]int{start, len(s)})
		}
	}
}
