package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"desk/store"
)

const (
	// fetchBatch is how many messages are fetched and ingested per
	// transaction: memory stays bounded whatever the mailbox size.
	fetchBatch = 50
	// idleRestart is below the 30 minutes after which servers may drop an
	// idle client (RFC 2177).
	idleRestart = 25 * time.Minute
	// pollInterval is the NOOP period for servers without IDLE.
	pollInterval = 30 * time.Second
	maxBackoff   = 2 * time.Minute
)

// worker owns the IMAP connection of one account. Only its goroutine
// touches the connection.
type worker struct {
	svc     *Service
	acct    *Account
	row     *store.Account
	log     *slog.Logger
	updates chan struct{} // the server said something changed (EXISTS, FETCH)
	wake    <-chan struct{}
	modseq  uint64 // highest MODSEQ seen in this session
}

// conn is a logged-in IMAP session on the account's mailbox.
type conn struct {
	*imapclient.Client
	condstore bool
	idle      bool
}

// dialIMAP connects and logs in.
func (w *worker) dialIMAP(ctx context.Context) (*conn, error) {
	ep, err := w.acct.endpoint(w.acct.IMAP, "imap", 143, 993)
	if err != nil {
		return nil, err
	}
	opts := &imapclient.Options{
		Dialer: &net.Dialer{Timeout: 30 * time.Second},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(*imapclient.UnilateralDataMailbox) { w.poke() },
			Expunge: func(uint32) { w.poke() },
			Fetch: func(msg *imapclient.FetchMessageData) {
				_, _ = msg.Collect()
				w.poke()
			},
		},
	}
	var c *imapclient.Client
	switch {
	case ep.plain:
		c, err = imapclient.DialInsecure(ep.host, opts)
	default:
		if opts.TLSConfig, err = w.acct.tlsConfig(ep.host); err != nil {
			return nil, err
		}
		if ep.implicit {
			c, err = imapclient.DialTLS(ep.host, opts)
		} else {
			c, err = imapclient.DialStartTLS(ep.host, opts)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("imap %s: %w", ep.host, err)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	go func() {
		<-c.Closed()
		stop()
	}()
	pass, err := w.acct.secret(ctx)
	if err != nil {
		c.Close()
		return nil, err
	}
	if err := c.Login(w.acct.User, pass).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("imap %s: login as %s: %w", ep.host, w.acct.User, err)
	}
	caps := c.Caps()
	return &conn{Client: c, condstore: caps.Has(imap.CapCondStore), idle: caps.Has(imap.CapIdle)}, nil
}

// poke records that the server reported a change; it never blocks (it runs
// on the client's reader goroutine).
func (w *worker) poke() {
	select {
	case w.updates <- struct{}{}:
	default:
	}
}

// session connects and syncs; unless once, it then waits for changes and
// syncs again until ctx ends or the connection fails.
func (w *worker) session(ctx context.Context, once bool) error {
	w.status(store.SyncStatus{Phase: store.PhaseConnecting})
	c, err := w.dialIMAP(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	sel, err := c.Select(w.acct.Mailbox, &imap.SelectOptions{CondStore: c.condstore}).Wait()
	if err != nil {
		return fmt.Errorf("imap: select %s: %w", w.acct.Mailbox, err)
	}
	if err := w.prepare(ctx, sel); err != nil {
		return err
	}
	w.modseq = sel.HighestModSeq
	for {
		if err := w.syncPass(ctx, c); err != nil {
			return err
		}
		if once {
			_ = c.Logout().Wait()
			return nil
		}
		w.status(store.SyncStatus{Phase: store.PhaseIdle})
		if err := w.waitForChange(ctx, c); err != nil {
			return err
		}
	}
}

// syncPass fetches new mail, reads keyword changes, pushes local ones and
// flushes the outbox.
func (w *worker) syncPass(ctx context.Context, c *conn) error {
	if err := w.fetchNew(ctx, c); err != nil {
		return err
	}
	if err := w.syncKeywords(ctx, c); err != nil {
		return err
	}
	if err := w.pushKeywords(ctx, c); err != nil {
		return err
	}
	return w.flushOutbox(ctx, c)
}

// prepare reloads the account cursor and handles a first sync (the
// baseline: older mail gets no automated mail) and a UIDVALIDITY change
// (UIDs are forgotten and messages matched again by Message-ID).
func (w *worker) prepare(ctx context.Context, sel *imap.SelectData) error {
	return w.svc.st.Update(ctx, func(tx *store.Tx) error {
		row, err := tx.Account(w.acct.Name)
		if err != nil {
			return err
		}
		if row.UIDValidity != sel.UIDValidity {
			if row.UIDValidity != 0 {
				w.log.Warn("UIDVALIDITY changed; matching messages again by Message-ID",
					"account", w.acct.Name, "old", row.UIDValidity, "new", sel.UIDValidity)
				if err := tx.ForgetUIDs(row.ID); err != nil {
					return err
				}
			}
			row.BaselineUID = max(uint32(sel.UIDNext), 1)
			if err := tx.SetBaseline(row.ID, row.BaselineUID); err != nil {
				return err
			}
			row.UIDValidity, row.UIDNext, row.HighestModSeq = sel.UIDValidity, 0, 0
			if err := tx.SetCursor(row.ID, row.UIDValidity, 0, 0); err != nil {
				return err
			}
		}
		w.row = row
		return nil
	})
}

// fetchNew ingests every message at or above the cursor, in UID order, in
// batches; each batch commits with the cursor that covers it.
func (w *worker) fetchNew(ctx context.Context, c *conn) error {
	start := max(w.row.UIDNext, 1)
	found, err := c.UIDSearch(&imap.SearchCriteria{
		UID: []imap.UIDSet{{imap.UIDRange{Start: imap.UID(start), Stop: 0}}},
	}, nil).Wait()
	if err != nil {
		return fmt.Errorf("imap: search new mail: %w", err)
	}
	var uids []imap.UID
	for _, u := range found.AllUIDs() {
		if uint32(u) >= start {
			uids = append(uids, u)
		}
	}
	slices.Sort(uids)
	total := len(uids)
	for done := 0; done < total; {
		batch := uids[done:min(done+fetchBatch, total)]
		w.status(store.SyncStatus{Phase: store.PhaseSyncing, Done: done, Total: total})
		msgs, err := w.fetchBatch(c, batch)
		if err != nil {
			return err
		}
		next := uint32(batch[len(batch)-1]) + 1
		var touched []int64
		err = w.svc.st.Update(ctx, func(tx *store.Tx) error {
			touched = touched[:0]
			for _, m := range msgs {
				n, err := w.acct.ingest(tx, w.row, m)
				if err != nil {
					return fmt.Errorf("ingest UID %d: %w", m.UID, err)
				}
				if n != 0 {
					touched = append(touched, n)
				}
			}
			return tx.SetCursor(w.row.ID, w.row.UIDValidity, next, w.row.HighestModSeq)
		})
		if err != nil {
			return err
		}
		w.row.UIDNext = next
		done += len(batch)
		w.svc.emit(store.TicketsChanged{Account: w.acct.Name, Numbers: touched})
	}
	if total > 0 {
		w.svc.emitOutbox(ctx)
	}
	return nil
}

// fetchBatch fetches whole messages with their flags, sorted by UID.
func (w *worker) fetchBatch(c *conn, uids []imap.UID) ([]fetched, error) {
	body := &imap.FetchItemBodySection{Peek: true}
	cmd := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
		UID: true, Flags: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{body},
	})
	var out []fetched
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		buf, err := msg.Collect()
		if err != nil {
			cmd.Close()
			return nil, fmt.Errorf("imap: fetch: %w", err)
		}
		if buf.UID == 0 {
			continue
		}
		out = append(out, fetched{UID: uint32(buf.UID), Flags: flagStrings(buf.Flags),
			InternalDate: buf.InternalDate, Raw: buf.FindBodySection(body)})
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("imap: fetch: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UID < out[j].UID })
	return out, nil
}

// syncKeywords reads the shared state on ticket roots: with CONDSTORE only
// what changed since the last pass, otherwise every root's flags.
func (w *worker) syncKeywords(ctx context.Context, c *conn) error {
	roots, err := w.svc.st.RootUIDs(ctx, w.row.ID)
	if err != nil || len(roots) == 0 {
		return err
	}
	opts := &imap.FetchOptions{UID: true, Flags: true}
	var set imap.UIDSet
	if c.condstore && w.row.HighestModSeq > 0 {
		opts.ModSeq, opts.ChangedSince = true, w.row.HighestModSeq
		set = imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}
	} else {
		opts.ModSeq = c.condstore
		for uid := range roots {
			set.AddNum(imap.UID(uid))
		}
	}
	bufs, err := c.Fetch(set, opts).Collect()
	if err != nil {
		return fmt.Errorf("imap: fetch flags: %w", err)
	}
	var touched []int64
	err = w.svc.st.Update(ctx, func(tx *store.Tx) error {
		touched = touched[:0]
		for _, b := range bufs {
			w.modseq = max(w.modseq, b.ModSeq)
			id, ok := roots[uint32(b.UID)]
			if !ok {
				continue
			}
			closed, labels, _ := decodeKeywords(flagStrings(b.Flags))
			changed, err := tx.ApplyServerKeywords(id, closed, labels)
			if err != nil {
				return err
			}
			if changed {
				touched = append(touched, id)
			}
		}
		if c.condstore && w.modseq > w.row.HighestModSeq {
			w.row.HighestModSeq = w.modseq
			return tx.SetHighestModSeq(w.row.ID, w.modseq)
		}
		return nil
	})
	if err == nil && len(touched) > 0 {
		w.svc.emit(store.TicketsChanged{Account: w.acct.Name})
	}
	return err
}

// pushKeywords stores queued local changes (close, reopen, labels) on the
// roots' keywords.
func (w *worker) pushKeywords(ctx context.Context, c *conn) error {
	changes, err := w.svc.st.PendingKeywords(ctx, w.row.ID)
	if err != nil {
		return err
	}
	for _, k := range changes {
		if k.RootUID == 0 {
			continue // the root is not in the mailbox (yet)
		}
		op := imap.StoreFlagsDel
		if k.Add {
			op = imap.StoreFlagsAdd
		}
		err := c.Store(imap.UIDSetNum(imap.UID(k.RootUID)), &imap.StoreFlags{
			Op: op, Silent: true, Flags: []imap.Flag{imap.Flag(k.Keyword)},
		}, nil).Close()
		if err != nil {
			return fmt.Errorf("imap: store %s on #%d: %w", k.Keyword, k.TicketID, err)
		}
		if err := w.svc.st.KeywordPushed(ctx, k.ID); err != nil {
			return err
		}
	}
	return nil
}

// claim stores the claim keyword of an automated mail on the ticket's root,
// conditionally (UNCHANGEDSINCE) where the server has CONDSTORE, and reports
// whether this client won: only the winner sends (DESIGN invariant 5).
func (w *worker) claim(c *conn, rootUID uint32, keyword string) (bool, error) {
	set := imap.UIDSetNum(imap.UID(rootUID))
	bufs, err := c.Fetch(set, &imap.FetchOptions{UID: true, Flags: true, ModSeq: c.condstore}).Collect()
	if err != nil {
		return false, fmt.Errorf("imap: read claim: %w", err)
	}
	if len(bufs) == 0 {
		return false, nil // the root is gone
	}
	if hasFlag(flagStrings(bufs[0].Flags), keyword) {
		return false, nil
	}
	var opts *imap.StoreOptions
	if c.condstore {
		opts = &imap.StoreOptions{UnchangedSince: bufs[0].ModSeq}
	}
	res, err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.Flag(keyword)}}, opts).Collect()
	if err != nil {
		return false, fmt.Errorf("imap: claim: %w", err)
	}
	// A conditional STORE that lost the race returns no FETCH for the
	// message (only [MODIFIED]).
	for _, b := range res {
		if hasFlag(flagStrings(b.Flags), keyword) {
			return true, nil
		}
	}
	return !c.condstore, nil
}

// waitForChange blocks in IDLE (or NOOP polling) until the server reports
// a change, local work is queued, an outbox retry is due, or ctx ends.
func (w *worker) waitForChange(ctx context.Context, c *conn) error {
	timeout := idleRestart
	if !c.idle {
		timeout = pollInterval
	}
	if next, err := w.svc.st.NextOutboxAttempt(ctx, w.row.ID); err == nil && !next.IsZero() {
		timeout = min(timeout, max(time.Until(next), 0)+10*time.Millisecond)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var idle *imapclient.IdleCommand
	if c.idle {
		var err error
		if idle, err = c.Idle(); err != nil {
			return fmt.Errorf("imap: idle: %w", err)
		}
	}
	select {
	case <-ctx.Done():
	case <-w.updates:
	case <-w.wake:
	case <-timer.C:
	case <-c.Closed():
	}
	if idle != nil {
		if err := idle.Close(); err != nil {
			return fmt.Errorf("imap: end idle: %w", err)
		}
		if err := idle.Wait(); err != nil {
			return fmt.Errorf("imap: idle: %w", err)
		}
	} else if err := c.Noop().Wait(); err != nil {
		return fmt.Errorf("imap: noop: %w", err)
	}
	return ctx.Err()
}

// status reports the worker's phase to the interface.
func (w *worker) status(s store.SyncStatus) {
	s.Account = w.acct.Name
	w.svc.emit(s)
}

func flagStrings(flags []imap.Flag) []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = string(f)
	}
	return out
}

func hasFlag(flags []string, want string) bool {
	for _, f := range flags {
		if strings.EqualFold(f, want) {
			return true
		}
	}
	return false
}

// oneLineError flattens an error for a status line.
func oneLineError(err error) string {
	if err == nil {
		return ""
	}
	var netErr net.Error
	s := err.Error()
	if errors.As(err, &netErr) && netErr.Timeout() {
		s = "timed out: " + s
	}
	return strings.Join(strings.Fields(s), " ")
}
