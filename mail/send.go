package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"desk/store"
)

// smtpSession is one SMTP connection, opened on the first message of a
// flush and reused for the rest.
type smtpSession struct {
	acct   *Account
	client *smtp.Client
}

func (s *smtpSession) close() {
	if s.client != nil {
		_ = s.client.Quit()
		s.client = nil
	}
}

// send delivers raw to rcpt from the desk address.
func (s *smtpSession) send(ctx context.Context, rcpt []string, raw []byte) error {
	if s.client == nil {
		c, err := s.acct.dialSMTP(ctx)
		if err != nil {
			return err
		}
		s.client = c
	}
	if err := s.client.SendMail(s.acct.Address, rcpt, bytes.NewReader(raw)); err != nil {
		s.client.Close()
		s.client = nil
		return fmt.Errorf("smtp: %w", err)
	}
	return nil
}

// dialSMTP connects to the account's SMTP server and authenticates when it
// offers AUTH (PLAIN, else LOGIN).
func (a *Account) dialSMTP(ctx context.Context) (*smtp.Client, error) {
	ep, err := a.endpoint(a.SMTP, "smtp", 587, 465)
	if err != nil {
		return nil, err
	}
	var c *smtp.Client
	switch {
	case ep.plain:
		c, err = smtp.Dial(ep.host)
	default:
		tc, terr := a.tlsConfig(ep.host)
		if terr != nil {
			return nil, terr
		}
		if ep.implicit {
			c, err = smtp.DialTLS(ep.host, tc)
		} else {
			c, err = smtp.DialStartTLS(ep.host, tc)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("smtp %s: %w", ep.host, err)
	}
	c.CommandTimeout = time.Minute
	c.SubmissionTimeout = 5 * time.Minute
	if ok, _ := c.Extension("AUTH"); ok {
		pass, err := a.secret(ctx)
		if err != nil {
			c.Close()
			return nil, err
		}
		mech := sasl.NewPlainClient("", a.User, pass)
		if !c.SupportsAuth(sasl.Plain) && c.SupportsAuth(sasl.Login) {
			mech = sasl.NewLoginClient(a.User, pass)
		}
		if err := c.Auth(mech); err != nil {
			c.Close()
			return nil, fmt.Errorf("smtp %s: login as %s: %w", ep.host, a.User, err)
		}
	}
	return c, nil
}

// permanent reports whether an SMTP failure is final (5xx): it is shown to
// staff, not retried silently.
func permanent(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se) && se.Code >= 500
}

// retryDelay is the capped exponential backoff after a temporary failure.
func retryDelay(attempts int) time.Duration {
	d := 5 * time.Second << min(attempts, 10)
	return min(d, 15*time.Minute)
}

// flushOutbox works through the account's due outbox items: composes,
// claims automated mail, sends by SMTP and appends the copies to the
// mailbox. With c nil (IMAP unreachable) it still sends staff replies;
// claims and copies wait for the connection.
func (w *worker) flushOutbox(ctx context.Context, c *conn) error {
	items, err := w.svc.st.DueOutbox(ctx, w.row.ID, time.Now())
	if err != nil || len(items) == 0 {
		return err
	}
	sess := &smtpSession{acct: w.acct}
	defer sess.close()
	defer w.svc.emitOutbox(ctx)
	for _, o := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := w.deliver(ctx, c, sess, o); err != nil {
			return err
		}
	}
	return nil
}

// deliver moves one outbox item as far as it can go. Errors it returns are
// connection or store failures; an SMTP refusal is recorded on the item.
func (w *worker) deliver(ctx context.Context, c *conn, sess *smtpSession, o *store.OutboxItem) error {
	st := w.svc.st
	if o.State == store.OutboxSent {
		return w.appendCopy(ctx, c, o)
	}
	t, err := st.Ticket(ctx, o.TicketID)
	if err != nil {
		return err
	}
	if len(o.Raw) == 0 {
		thread, err := st.Messages(ctx, o.TicketID)
		if err != nil {
			return err
		}
		if o.Raw, o.Rcpt, err = staffMail(w.acct, t, thread, o); err != nil {
			return st.SetOutboxState(ctx, o.ID, store.OutboxFailed, err.Error(), time.Time{})
		}
		if err := st.SetOutboxRaw(ctx, o.ID, o.Raw, o.Rcpt); err != nil {
			return err
		}
	}
	if o.Kind == store.KindNote {
		if c == nil {
			return nil
		}
		if err := st.SetOutboxState(ctx, o.ID, store.OutboxSent, "", time.Time{}); err != nil {
			return err
		}
		return w.appendCopy(ctx, c, o)
	}
	if o.Kind == store.KindAuto && t.Unsubscribed {
		return st.SetOutboxState(ctx, o.ID, store.OutboxSkipped, "customer unsubscribed", time.Time{})
	}
	if o.Claim != "" {
		if c == nil {
			return nil
		}
		root, err := w.rootUID(ctx, t.ID)
		if err != nil || root == 0 {
			return err
		}
		won, err := w.claim(c, root, o.Claim)
		if err != nil {
			return err
		}
		if !won {
			return st.SetOutboxState(ctx, o.ID, store.OutboxSkipped, "sent by another client", time.Time{})
		}
		if err := st.ClaimDone(ctx, o.ID); err != nil {
			return err
		}
	}
	if err := st.SetOutboxState(ctx, o.ID, store.OutboxSending, "", time.Time{}); err != nil {
		return err
	}
	if err := sess.send(ctx, o.Rcpt, o.Raw); err != nil {
		w.log.Warn("send failed", "account", w.acct.Name, "ticket", t.Number, "err", err)
		if permanent(err) {
			return st.SetOutboxState(ctx, o.ID, store.OutboxFailed, oneLineError(err), time.Time{})
		}
		return st.SetOutboxState(ctx, o.ID, store.OutboxQueued, oneLineError(err), time.Now().Add(retryDelay(o.Attempts)))
	}
	if err := st.SetOutboxState(ctx, o.ID, store.OutboxSent, "", time.Time{}); err != nil {
		return err
	}
	w.svc.emit(store.TicketsChanged{Account: w.acct.Name, Numbers: []int64{t.Number}})
	return w.appendCopy(ctx, c, o)
}

// rootUID is the UID of a ticket's root message, 0 if not known.
func (w *worker) rootUID(ctx context.Context, ticketID int64) (uint32, error) {
	roots, err := w.svc.st.RootUIDs(ctx, w.row.ID)
	if err != nil {
		return 0, err
	}
	for uid, id := range roots {
		if id == ticketID {
			return uid, nil
		}
	}
	return 0, nil
}

// appendCopy stores a sent mail (or a note) in the desk mailbox, marked
// \Seen, so that teammates and a rebuild see it.
func (w *worker) appendCopy(ctx context.Context, c *conn, o *store.OutboxItem) error {
	if c == nil || o.Appended {
		return nil
	}
	cmd := c.Append(w.acct.Mailbox, int64(len(o.Raw)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}, Time: o.Created})
	if _, err := cmd.Write(o.Raw); err != nil {
		cmd.Close()
		return fmt.Errorf("imap: append copy: %w", err)
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("imap: append copy: %w", err)
	}
	data, err := cmd.Wait()
	if err != nil {
		return fmt.Errorf("imap: append copy: %w", err)
	}
	if data != nil && data.UID != 0 && data.UIDValidity == w.row.UIDValidity {
		if err := w.svc.st.Update(ctx, func(tx *store.Tx) error {
			_, err := tx.ClaimUID(w.row.ID, o.MessageID, uint32(data.UID))
			return err
		}); err != nil {
			return err
		}
	}
	return w.svc.st.MarkAppended(ctx, o.ID)
}
