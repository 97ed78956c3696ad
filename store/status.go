package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Change is what a one-key or bulk action does to tickets; zero fields
// leave that part alone.
type Change struct {
	Status       string  // a status from Statuses, or "" to keep it
	Assignee     *string // a staff name, "" to unassign, nil to keep
	AddLabels    []string
	RemoveLabels []string
	Spam         *bool
}

// Snapshot is a ticket's shared state before a change: applying it with
// Restore undoes the change.
type Snapshot struct {
	TicketID int64
	Status   string
	Assignee string
	Labels   []string
	Spam     bool
}

// ServerKeywords is the shared ticket state decoded from the keywords of a
// ticket's root message.
type ServerKeywords struct {
	Status   string // "" means open
	Assignee string // as decoded by AssigneeFromKeyword
	Labels   []string
}

// keywordAtom makes s safe inside an IMAP keyword: lower case, and every
// rune but a-z 0-9 . - as '_'.
func keywordAtom(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// AssigneeKeyword is the keyword that assigns a ticket to name.
func AssigneeKeyword(name string) string { return KeywordAssigneePrefix + keywordAtom(name) }

// AssigneeFromKeyword reads the name back from the part of an assignee
// keyword after its prefix.
func AssigneeFromKeyword(atom string) string {
	return NormalizeAssignee(strings.ReplaceAll(atom, "_", " "))
}

// LabelName is the form a label is stored in: what its keyword carries.
func LabelName(s string) string { return strings.Trim(keywordAtom(strings.TrimPrefix(s, "~")), "_") }

// statusKeyword is the keyword that carries a status, "" for open.
func statusKeyword(status string) string {
	switch status {
	case StateOpen:
		return ""
	case StateClosed:
		return KeywordClosed
	}
	return KeywordStatusPrefix + status
}

// ReopensOnReply reports whether a customer reply moves a ticket in this
// status back to open.
func ReopensOnReply(status string) bool {
	return status == StatePending || status == StateSolved || status == StateClosed
}

// snapshot reads a ticket's shared state.
func (t *Tx) snapshot(id int64) (Snapshot, error) {
	s := Snapshot{TicketID: id}
	var spam int
	var labels string
	err := t.queryRow(`SELECT state, assignee, spam,
		(SELECT coalesce(group_concat(label, char(31)), '') FROM (SELECT label FROM ticket_labels WHERE ticket_id = t.id ORDER BY label))
		FROM tickets t WHERE id = ?`, id).Scan(&s.Status, &s.Assignee, &spam, &labels)
	if err != nil {
		return s, fmt.Errorf("ticket %d: %w", id, ErrNotFound)
	}
	s.Spam = spam != 0
	if labels != "" {
		s.Labels = strings.Split(labels, "\x1f")
	}
	return s, nil
}

// ChangeStatus moves a ticket to status here and queues the keyword changes
// that share it, recording a system event by actor.
func (t *Tx) ChangeStatus(id int64, status, actor string) error {
	if !IsStatus(status) {
		return fmt.Errorf("unknown status %q (want %s)", status, strings.Join(Statuses, ", "))
	}
	var old string
	if err := t.queryRow(`SELECT state FROM tickets WHERE id = ?`, id).Scan(&old); err != nil {
		return fmt.Errorf("ticket %d: %w", id, ErrNotFound)
	}
	if old == status {
		return nil
	}
	if _, err := t.exec(`UPDATE tickets SET state = ? WHERE id = ?`, status, id); err != nil {
		return err
	}
	if k := statusKeyword(old); k != "" {
		if err := t.QueueKeyword(id, k, false); err != nil {
			return err
		}
	}
	if k := statusKeyword(status); k != "" {
		if err := t.QueueKeyword(id, k, true); err != nil {
			return err
		}
	}
	if status == StateClosed {
		if err := t.queueNotice(id, NoticeClosed, KeywordClosedNotified); err != nil {
			return err
		}
	}
	return t.AddEvent(id, actor, "status "+old+" → "+status)
}

// setAssignee assigns a ticket ("" unassigns) and queues the keywords.
func (t *Tx) setAssignee(id int64, name, actor string) error {
	name = NormalizeAssignee(name)
	var old string
	if err := t.queryRow(`SELECT assignee FROM tickets WHERE id = ?`, id).Scan(&old); err != nil {
		return fmt.Errorf("ticket %d: %w", id, ErrNotFound)
	}
	if old == name {
		return nil
	}
	if _, err := t.exec(`UPDATE tickets SET assignee = ? WHERE id = ?`, name, id); err != nil {
		return err
	}
	if old != "" {
		if err := t.QueueKeyword(id, AssigneeKeyword(old), false); err != nil {
			return err
		}
	}
	what := "unassigned"
	if name != "" {
		what = "assigned to " + name
		if err := t.QueueKeyword(id, AssigneeKeyword(name), true); err != nil {
			return err
		}
	}
	return t.AddEvent(id, actor, what)
}

// setLabel adds or removes one label and queues its keyword.
func (t *Tx) setLabel(id int64, label string, add bool, actor string) error {
	label = LabelName(label)
	if label == "" {
		return nil
	}
	q, what := `DELETE FROM ticket_labels WHERE ticket_id = ? AND label = ?`, "unlabelled "
	if add {
		q, what = `INSERT OR IGNORE INTO ticket_labels (ticket_id, label) VALUES (?, ?)`, "labelled "
	}
	res, err := t.exec(q, id, label)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if err := t.QueueKeyword(id, KeywordLabelPrefix+label, add); err != nil {
		return err
	}
	return t.AddEvent(id, actor, what+label)
}

// setSpam marks a ticket spam or not and queues the keywords.
func (t *Tx) setSpam(id int64, spam bool, actor string) error {
	res, err := t.exec(`UPDATE tickets SET spam = ? WHERE id = ? AND spam <> ?`, boolInt(spam), id, boolInt(spam))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if err := t.QueueKeyword(id, KeywordSpam, spam); err != nil {
		return err
	}
	if err := t.QueueKeyword(id, KeywordHam, !spam); err != nil {
		return err
	}
	what := "marked not spam"
	if spam {
		what = "marked spam"
	}
	return t.AddEvent(id, actor, what)
}

// apply makes one change to one ticket.
func (t *Tx) apply(id int64, c Change, actor string) error {
	if c.Status != "" {
		if err := t.ChangeStatus(id, c.Status, actor); err != nil {
			return err
		}
	}
	if c.Assignee != nil {
		if err := t.setAssignee(id, *c.Assignee, actor); err != nil {
			return err
		}
	}
	for _, l := range c.AddLabels {
		if err := t.setLabel(id, l, true, actor); err != nil {
			return err
		}
	}
	for _, l := range c.RemoveLabels {
		if err := t.setLabel(id, l, false, actor); err != nil {
			return err
		}
	}
	if c.Spam != nil {
		return t.setSpam(id, *c.Spam, actor)
	}
	return nil
}

// ApplyChange makes c to every ticket of ids in one transaction, as actor,
// and returns their state before it (for Restore).
func (s *Store) ApplyChange(ctx context.Context, actor string, ids []int64, c Change) ([]Snapshot, error) {
	if c.Status != "" && !IsStatus(c.Status) {
		return nil, fmt.Errorf("unknown status %q (want %s)", c.Status, strings.Join(Statuses, ", "))
	}
	var before []Snapshot
	err := s.Update(ctx, func(tx *Tx) error {
		before = before[:0]
		for _, id := range ids {
			snap, err := tx.snapshot(id)
			if err != nil {
				return err
			}
			before = append(before, snap)
			if err := tx.apply(id, c, actor); err != nil {
				return err
			}
		}
		return nil
	})
	return before, err
}

// Restore puts tickets back to snapshots taken by ApplyChange (undo).
func (s *Store) Restore(ctx context.Context, actor string, snaps []Snapshot) error {
	return s.Update(ctx, func(tx *Tx) error {
		for _, snap := range snaps {
			now, err := tx.snapshot(snap.TicketID)
			if err != nil {
				return err
			}
			assignee, spam := snap.Assignee, snap.Spam
			c := Change{Status: snap.Status, Assignee: &assignee, Spam: &spam,
				AddLabels: missing(snap.Labels, now.Labels), RemoveLabels: missing(now.Labels, snap.Labels)}
			if err := tx.apply(snap.TicketID, c, actor); err != nil {
				return err
			}
		}
		return nil
	})
}

// missing lists what of want is not in have.
func missing(want, have []string) []string {
	var out []string
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			out = append(out, w)
		}
	}
	return out
}

// sortedLabels returns labels normalized, deduplicated and sorted.
func sortedLabels(labels []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range labels {
		if l = LabelName(l); l != "" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}
