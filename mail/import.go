package mail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"desk/store"
)

// importBatch is how many imported messages share one transaction.
const importBatch = 100

// Import files the messages next yields (until io.EOF) into the store as
// the offline account a, for triage of an export: they thread into tickets
// as synced mail does, but every one counts as history, so nothing is ever
// sent for them. A message whose Message-ID is already stored is skipped,
// so an import can run again. progress, if set, is told the running count
// after every batch. It returns how many messages were added.
func Import(ctx context.Context, st *store.Store, a *Account, next func() ([]byte, error), progress func(done int)) (int, error) {
	a.fillDefaults()
	row, err := st.EnsureAccount(ctx, a.Name, a.Address, a.Mailbox)
	if err != nil {
		return 0, err
	}
	added, done := 0, false
	for !done && ctx.Err() == nil {
		err := st.Update(ctx, func(tx *store.Tx) error {
			// Every UID is below the baseline: history, never answered.
			if err := tx.SetBaseline(row.ID, math.MaxUint32); err != nil {
				return err
			}
			row.BaselineUID = math.MaxUint32
			for range importBatch {
				raw, err := next()
				if errors.Is(err, io.EOF) {
					done = true
					break
				}
				if err != nil {
					return err
				}
				uid := max(row.UIDNext, 1)
				m := a.prepareMessage(fetched{UID: uid, InternalDate: time.Now(), Raw: raw})
				if id := m.p.MessageID; id != "" {
					if dup, err := tx.HasMessageID(row.ID, id); err != nil || dup {
						if err != nil {
							return err
						}
						continue
					}
				}
				if _, err := a.ingest(tx, row, m); err != nil {
					return err
				}
				row.UIDNext = uid + 1
				added++
			}
			return tx.SetCursor(row.ID, 1, row.UIDNext, 0)
		})
		if err != nil {
			return added, err
		}
		if progress != nil {
			progress(added)
		}
	}
	return added, ctx.Err()
}

// ExportMessage renders a stored message as mail for an mbox: the stored
// headers and text (attachments are not kept in the store, only named).
func ExportMessage(t *store.Ticket, m *store.Message) []byte {
	var h gomail.Header
	h.SetDate(m.Date)
	h.SetAddressList("From", []*gomail.Address{{Name: m.FromName, Address: m.From}})
	setAddresses(&h, "To", plainAddresses(m.To))
	setAddresses(&h, "Cc", plainAddresses(m.Cc))
	h.SetSubject(m.Subject)
	h.SetMsgIDList("Message-Id", []string{m.MessageID})
	if m.InReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{m.InReplyTo})
	}
	if len(m.References) > 0 {
		h.SetMsgIDList("References", m.References)
	}
	h.Set("X-Desk-Ticket", t.Account+" #"+strconv.FormatInt(t.Number, 10))
	h.Set("X-Desk-Kind", m.Kind)
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	var buf bytes.Buffer
	w, err := gomail.CreateSingleInlineWriter(&buf, h)
	if err != nil {
		return nil
	}
	body := m.Body
	for _, at := range m.Attachments {
		body += "\n[attachment not exported: " + at.Filename + ", " + at.ContentType + "]"
	}
	_, _ = io.WriteString(w, strings.ReplaceAll(body, "\n", "\r\n"))
	_ = w.Close()
	return buf.Bytes()
}

// plainAddresses makes bare addresses into a header's address list.
func plainAddresses(addrs []string) []gomail.Address {
	out := make([]gomail.Address, len(addrs))
	for i, a := range addrs {
		out[i] = gomail.Address{Address: a}
	}
	return out
}
