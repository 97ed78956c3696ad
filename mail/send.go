package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-smtp"

	"desk/store"
)

// smtpSession is one SMTP connection, opened on the first message of a
// flush and reused for the rest. A failed dial is remembered for the rest
// of the flush: an unreachable server costs one connection attempt, not
// one per item.
type smtpSession struct {
	acct    *Account
	client  *smtp.Client
	stop    func() bool // unregisters the close-on-cancel of the connection
	dialErr error
}

// open connects unless connected. Cancelling ctx cuts the connection at
// once.
func (s *smtpSession) open(ctx context.Context) error {
	if s.client != nil || s.dialErr != nil {
		return s.dialErr
	}
	c, err := s.acct.dialSMTP(ctx)
	if err != nil {
		s.dialErr = err
		return err
	}
	s.client = c
	s.stop = context.AfterFunc(ctx, func() { c.Close() })
	return nil
}

func (s *smtpSession) close() {
	if s.client != nil {
		_ = s.client.Quit()
		s.drop()
	}
}

// drop closes the connection without a goodbye.
func (s *smtpSession) drop() {
	s.stop()
	s.client.Close()
	s.client = nil
}

// send delivers raw to rcpt from the desk address. Cancelling ctx cuts the
// connection at once.
func (s *smtpSession) send(ctx context.Context, rcpt []string, raw []byte) error {
	if err := s.open(ctx); err != nil {
		return err
	}
	if err := s.client.SendMail(s.acct.Address, rcpt, bytes.NewReader(raw)); err != nil {
		s.drop()
		return fmt.Errorf("smtp: %w", err)
	}
	return nil
}

// idleConn bounds every read and write on an SMTP connection by the
// account's timeout. go-smtp sets its own deadlines only around commands
// and leaves the greeting of a STARTTLS dial and the TLS handshake without
// one; this covers them all, and a slow but moving upload is not cut.
type idleConn struct {
	net.Conn
	limit time.Duration
}

func (c *idleConn) Read(b []byte) (int, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(c.limit))
	return c.Conn.Read(b)
}

func (c *idleConn) Write(b []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(c.limit))
	return c.Conn.Write(b)
}

// SetDeadline ignores go-smtp's deadlines: the idle limit replaces them.
func (c *idleConn) SetDeadline(time.Time) error { return nil }

// dialSMTP connects to the account's SMTP server (plain on loopback only,
// STARTTLS or implicit TLS, the certificate verified), and authenticates
// when it offers AUTH.
func (a *Account) dialSMTP(ctx context.Context) (*smtp.Client, error) {
	ep, err := a.endpoint(a.SMTP, "smtp", 587, 465)
	if err != nil {
		return nil, err
	}
	limit := a.Send.timeout()
	raw, err := (&net.Dialer{Timeout: limit}).DialContext(ctx, "tcp", ep.host)
	if err != nil {
		return nil, fmt.Errorf("smtp %s: %w", ep.host, err)
	}
	var conn net.Conn = &idleConn{Conn: raw, limit: limit}
	// Greet now (after STARTTLS, again: that runs the TLS handshake), so
	// that a refusal at the greeting or a failed handshake shows as such.
	var c *smtp.Client
	switch {
	case ep.plain:
		c = smtp.NewClient(conn)
		err = c.Hello("localhost")
	default:
		tc, terr := a.tlsConfig(ep.host)
		if terr != nil {
			conn.Close()
			return nil, terr
		}
		phase := "TLS"
		if ep.implicit {
			c = smtp.NewClient(tls.Client(conn, tc))
		} else if c, err = smtp.NewClientStartTLS(conn, tc); err == nil {
			phase = "after STARTTLS"
		}
		if err == nil {
			if err = c.Hello("localhost"); err != nil && !errors.As(err, new(*smtp.SMTPError)) {
				err = fmt.Errorf("%s: %w", phase, err)
			}
		}
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("smtp %s: %w", ep.host, err)
	}
	if ok, _ := c.Extension("AUTH"); ok {
		mech, err := a.authClient(ctx, c.SupportsAuth)
		if err != nil {
			c.Close()
			return nil, err
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

// retryDelay is the capped exponential backoff after the given number of
// failed attempts (1 or more): base, 2·base, 4·base… up to 15 minutes.
func retryDelay(base time.Duration, attempts int) time.Duration {
	d := base << min(max(attempts-1, 0), 20)
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
	f := &flush{sess: &smtpSession{acct: w.acct}}
	defer f.sess.close()
	defer w.svc.emitOutbox(ctx)
	for _, o := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := w.deliver(ctx, c, f, o); err != nil {
			return err
		}
	}
	return w.holdBack(ctx, f)
}

// flush is one pass over the outbox: its SMTP session, the automated mail
// counted against the rate limits, and the automated mail held back
// because the SMTP server was found unreachable earlier in the pass.
type flush struct {
	sess   *smtpSession
	rates  *rateCounts // read at the first automated mail
	unsent []*store.OutboxItem
}

// heldBack reports whether the SMTP server was found unreachable earlier
// in the flush; automated mail o then waits, unclaimed and unread (its
// ticket, rate limits and claim are looked at on its next attempt), to be
// recorded with the others at the end of the flush.
//
// A server that refused for good (a 5xx at its greeting or login) holds
// nothing back: each item goes on to be composed and recorded failed, so
// that its thread shows the failure.
func (f *flush) heldBack(o *store.OutboxItem) bool {
	if f.sess.dialErr == nil || permanent(f.sess.dialErr) {
		return false
	}
	f.unsent = append(f.unsent, o)
	return true
}

// holdBack records the items of a flush that SMTP was unreachable for,
// queued again after their backoff, in one transaction: an outbox full
// of thank-yous costs one commit, not one per item.
func (w *worker) holdBack(ctx context.Context, f *flush) error {
	if len(f.unsent) == 0 {
		return nil
	}
	w.log.Warn("send failed", "account", w.acct.Name, "items", len(f.unsent), "err", f.sess.dialErr)
	return w.svc.st.Update(ctx, func(tx *store.Tx) error {
		for _, o := range f.unsent {
			state, msg, retry := w.failure(o, f.sess.dialErr)
			if err := tx.SetOutboxState(o.ID, state, msg, retry); err != nil {
				return err
			}
		}
		return nil
	})
}

// deliver moves one outbox item as far as it can go. Errors it returns are
// connection or store failures; an SMTP refusal is recorded on the item.
func (w *worker) deliver(ctx context.Context, c *conn, f *flush, o *store.OutboxItem) error {
	st := w.svc.st
	if o.State == store.OutboxSent {
		return w.appendCopy(ctx, c, o)
	}
	if o.Claim != "" && c != nil && f.heldBack(o) {
		return nil
	}
	t, err := st.Ticket(ctx, o.TicketID)
	if err != nil {
		return err
	}
	if o.Claim != "" && len(o.Raw) == 0 {
		// Automated mail is composed (and joins its thread) only once it
		// can leave: with the mailbox connected, to claim it, and the
		// SMTP server answering. A flush that cannot send composes
		// nothing; a server that refuses for good still gets the mail
		// composed, and recorded failed below.
		if c == nil {
			return nil
		}
		if err := f.sess.open(ctx); err != nil && !permanent(err) {
			return w.sendFailed(ctx, t, o, err)
		}
	}
	if ready, err := w.compose(ctx, t, o); !ready || err != nil {
		return err
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
	if o.Kind == store.KindAuto {
		if f.rates == nil {
			if f.rates, err = w.loadRates(ctx); err != nil {
				return err
			}
		}
		if why := f.rates.limited(w.acct.Send, t.Project, o.Rcpt); why != "" {
			w.log.Info("automated mail suppressed", "account", w.acct.Name, "ticket", t.Number, "why", why)
			return st.SkipOutbox(ctx, o, why)
		}
	}
	if o.Claim != "" {
		if c == nil {
			return nil
		}
		root, err := st.RootUID(ctx, t.ID)
		if err != nil || root == 0 {
			return err
		}
		// Connect before claiming: a claim is a promise to send, and an
		// unreachable server should not cost a claim per item.
		if err := f.sess.open(ctx); err != nil {
			return w.sendFailed(ctx, t, o, err)
		}
		won, why, err := w.claim(c, root, o.Claim)
		if err != nil {
			return err
		}
		if !won {
			return st.LoseClaim(ctx, o, why)
		}
		if err := st.ClaimDone(ctx, o.ID); err != nil {
			return err
		}
	}
	if err := st.SetOutboxState(ctx, o.ID, store.OutboxSending, "", time.Time{}); err != nil {
		return err
	}
	if err := f.sess.send(ctx, o.Rcpt, o.Raw); err != nil {
		return w.sendFailed(ctx, t, o, err)
	}
	if err := st.SetOutboxState(ctx, o.ID, store.OutboxSent, "", time.Time{}); err != nil {
		return err
	}
	if o.Kind == store.KindAuto {
		f.rates.sent(t.Project, o.Rcpt)
	}
	w.svc.emit(store.TicketsChanged{Account: w.acct.Name, Numbers: []int64{t.Number}})
	return w.appendCopy(ctx, c, o)
}

// compose fixes an item's bytes on its first attempt (every retry then
// sends the same mail, with the same Message-ID). It reports false when
// the item is not to leave: automated mail to an unsubscribed customer or
// with its template off. A staff reply to an unsubscribed customer becomes
// an internal note.
func (w *worker) compose(ctx context.Context, t *store.Ticket, o *store.OutboxItem) (bool, error) {
	st := w.svc.st
	if t.Unsubscribed {
		switch o.Kind {
		case store.KindAuto:
			return false, st.SkipOutbox(ctx, o, "the customer unsubscribed")
		case store.KindReply:
			w.log.Warn("reply kept internal: customer unsubscribed", "account", w.acct.Name, "ticket", t.Number)
			if err := st.KeepInternal(ctx, o, "the customer unsubscribed"); err != nil {
				return false, err
			}
			o.Kind, o.Raw, o.Rcpt = store.KindNote, nil, nil
		}
	}
	if len(o.Raw) > 0 {
		return true, nil
	}
	var err error
	if o.Notice != "" {
		if !w.acct.Send.noticeOn(t.Project, o.Notice) {
			return false, st.SetOutboxState(ctx, o.ID, store.OutboxSkipped, "the "+o.Notice+" notice is off for this project", time.Time{})
		}
		if len(o.Rcpt) == 0 {
			o.Rcpt = []string{t.Requester}
		}
		if o.Raw, err = noticeMail(w.acct, t, o.Notice, o.MessageID, o.Created, o.Rcpt); err != nil {
			return false, st.SetOutboxState(ctx, o.ID, store.OutboxFailed, oneLineError(err), time.Time{})
		}
		m := &store.Message{TicketID: t.ID, MessageID: o.MessageID, InReplyTo: t.RootMessageID, From: w.acct.Address,
			FromName: w.acct.SupportBotName, To: o.Rcpt, Subject: ticketSubject(t.Subject, t.Number), Date: o.Created,
			Kind: store.KindAuto, Body: bodyOf(o.Raw)}
		return true, st.SetNoticeRaw(ctx, o, m)
	}
	thread, err := st.Messages(ctx, o.TicketID)
	if err != nil {
		return false, err
	}
	cc, err := st.Participants(ctx, o.TicketID)
	if err != nil {
		return false, err
	}
	if o.Raw, o.Rcpt, err = staffMail(w.acct, t, thread, o, cc...); err != nil {
		return false, st.SetOutboxState(ctx, o.ID, store.OutboxFailed, oneLineError(err), time.Time{})
	}
	return true, st.SetOutboxRaw(ctx, o.ID, o.Raw, o.Rcpt)
}

// sendFailed records a failed SMTP attempt: a 5xx fails the item with the
// server's reply; anything else (4xx, refused or cut connection, timeout,
// TLS failure) queues it again after a capped backoff, until MaxAttempts.
func (w *worker) sendFailed(ctx context.Context, t *store.Ticket, o *store.OutboxItem, err error) error {
	w.log.Warn("send failed", "account", w.acct.Name, "ticket", t.Number, "err", err)
	state, msg, retry := w.failure(o, err)
	return w.svc.st.SetOutboxState(ctx, o.ID, state, msg, retry)
}

// failure is the state a failed SMTP attempt moves an item to, with its
// error and, for a retry, when: a 5xx fails it; anything else queues it
// again after a capped backoff, until MaxAttempts.
func (w *worker) failure(o *store.OutboxItem, err error) (state, msg string, retry time.Time) {
	msg = oneLineError(err)
	attempts := o.Attempts + 1
	switch {
	case permanent(err):
		return store.OutboxFailed, msg, time.Time{}
	case attempts >= w.acct.Send.maxAttempts():
		return store.OutboxFailed, fmt.Sprintf("gave up after %d attempts: %s", attempts, msg), time.Time{}
	}
	return store.OutboxQueued, msg, time.Now().Add(retryDelay(w.acct.Send.retryBase(), attempts))
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
