package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// SaveDraft keeps what staff are typing for a ticket (kind is KindReply or
// KindNote); an empty body deletes the draft.
func (s *Store) SaveDraft(ctx context.Context, ticketID int64, kind, body string) error {
	if strings.TrimSpace(body) == "" {
		return s.DeleteDraft(ctx, ticketID, kind)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO drafts (ticket_id, kind, body, updated) VALUES (?, ?, ?, ?)
		ON CONFLICT (ticket_id, kind) DO UPDATE SET body = excluded.body, updated = excluded.updated`,
		ticketID, kind, body, formatTime(time.Now()))
	return err
}

// Draft returns the saved draft of a ticket and kind, "" if none.
func (s *Store) Draft(ctx context.Context, ticketID int64, kind string) (string, error) {
	var body string
	err := s.db.QueryRowContext(ctx, `SELECT body FROM drafts WHERE ticket_id = ? AND kind = ?`, ticketID, kind).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return body, err
}

// DeleteDraft drops a draft once sent or discarded.
func (s *Store) DeleteDraft(ctx context.Context, ticketID int64, kind string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM drafts WHERE ticket_id = ? AND kind = ?`, ticketID, kind)
	return err
}
