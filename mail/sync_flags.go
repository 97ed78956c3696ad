package mail

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"desk/store"
)

// syncKeywords reads the shared state on ticket roots: with CONDSTORE only
// what changed since the last pass (FETCH … CHANGEDSINCE, then the roots
// among the changed messages), otherwise every root's flags.
func (w *worker) syncKeywords(ctx context.Context, c *conn) error {
	changed := c.condstore && w.row.HighestModSeq > 0
	var roots map[uint32]int64
	opts := &imap.FetchOptions{UID: true, Flags: true}
	var set imap.UIDSet
	if changed {
		opts.ModSeq, opts.ChangedSince = true, w.row.HighestModSeq
		set = imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}
	} else {
		var err error
		if roots, err = w.svc.st.RootUIDs(ctx, w.row.ID); err != nil || len(roots) == 0 {
			return err
		}
		opts.ModSeq = c.condstore
		for uid := range roots {
			set.AddNum(imap.UID(uid))
		}
	}
	bufs, err := c.Fetch(set, opts).Collect()
	if err != nil {
		return fmt.Errorf("imap: fetch flags: %w", err)
	}
	for _, b := range bufs {
		w.modseq = max(w.modseq, b.ModSeq)
	}
	// The roots of the tickets this pass opened were filed with their
	// flags: only those whose flags changed since are looked at again.
	bufs = slices.DeleteFunc(bufs, func(b *imapclient.FetchMessageBuffer) bool {
		f, ok := w.fresh[uint32(b.UID)]
		return ok && f == strings.Join(flagStrings(b.Flags), " ")
	})
	if changed && len(bufs) > 0 {
		uids := make([]uint32, len(bufs))
		for i, b := range bufs {
			uids[i] = uint32(b.UID)
		}
		if roots, err = w.svc.st.RootUIDs(ctx, w.row.ID, uids...); err != nil {
			return err
		}
	}
	var touched []int64
	err = w.svc.st.Update(ctx, func(tx *store.Tx) error {
		touched = touched[:0]
		for _, b := range bufs {
			id, ok := roots[uint32(b.UID)]
			if !ok {
				continue
			}
			flags := flagStrings(b.Flags)
			kw, _ := decodeKeywords(flags)
			changed, err := tx.ApplyServerKeywords(id, kw)
			if err != nil {
				return err
			}
			marked, err := tx.ApplySpamMark(id, spamMark(flags))
			if err != nil {
				return err
			}
			if changed || marked {
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

// pushKeywords stores queued local changes (close, reopen, labels, spam
// marks) on the roots' keywords, then moves roots marked spam to the Junk
// mailbox (junk.go).
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
	return w.syncJunk(ctx, c)
}

// Reasons an automated mail is not sent by this client.
const (
	lostClaim = "sent by another client"
	notSender = "the server has no CONDSTORE and this client is not the sender (sender = false)"
)

// claim stores the claim keyword of an automated mail on the ticket's root
// and reports whether this client won: only the winner sends (DESIGN
// invariant 5). With CONDSTORE the STORE is conditional (UNCHANGEDSINCE the
// MODSEQ read first), so of two clients racing exactly one wins; without
// it only a sender client claims. why says why this client does not send.
func (w *worker) claim(c *conn, rootUID uint32, keyword string) (won bool, why string, err error) {
	modseq, taken, err := readClaim(c, rootUID, keyword)
	if err != nil || taken {
		return false, lostClaim, err
	}
	if !c.condstore && !w.acct.sends() {
		return false, notSender, nil
	}
	won, err = storeClaim(c, rootUID, keyword, modseq)
	if !won {
		why = lostClaim
	}
	return won, why, err
}

// sends reports whether this client sends automated mail when the server
// lacks CONDSTORE: unless configured otherwise, a client is alone and sends.
func (a *Account) sends() bool { return a.Sender == nil || *a.Sender }

// readClaim reads the root's MODSEQ (0 without CONDSTORE) and whether the
// claim keyword is already set (a gone root counts as taken).
func readClaim(c *conn, rootUID uint32, keyword string) (modseq uint64, taken bool, err error) {
	bufs, err := c.Fetch(imap.UIDSetNum(imap.UID(rootUID)), &imap.FetchOptions{UID: true, Flags: true, ModSeq: c.condstore}).Collect()
	if err != nil {
		return 0, false, fmt.Errorf("imap: read claim: %w", err)
	}
	for _, b := range bufs {
		if uint32(b.UID) == rootUID {
			return b.ModSeq, hasFlag(flagStrings(b.Flags), keyword), nil
		}
	}
	return 0, true, nil
}

// storeClaim adds the keyword, UNCHANGEDSINCE modseq when the server has
// CONDSTORE. A conditional STORE that lost answers OK [MODIFIED …], and the
// winner's change may reach the loser as a FETCH inside its own STORE, so
// the outcome is read from that response code, not from the flags.
func storeClaim(c *conn, rootUID uint32, keyword string, modseq uint64) (bool, error) {
	var opts *imap.StoreOptions
	if c.condstore {
		opts = &imap.StoreOptions{UnchangedSince: modseq}
	}
	c.modified.arm()
	err := c.Store(imap.UIDSetNum(imap.UID(rootUID)), &imap.StoreFlags{
		Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.Flag(keyword)},
	}, opts).Close()
	modified := c.modified.disarm()
	if err != nil {
		return false, fmt.Errorf("imap: claim: %w", err)
	}
	return !modified, nil
}

// modifiedWatch sees the server's bytes (as the client's debug writer) and,
// while armed, notes a MODIFIED response code (RFC 7162 §3.1.3), which
// go-imap does not report. It is armed only around a claim's STORE, when
// the worker issues no other command; unarmed it costs one atomic load per
// read.
type modifiedWatch struct {
	armed atomic.Bool
	mu    sync.Mutex
	seen  bool
	tail  []byte // the end of the last write, for a code split across reads
}

var modifiedCode = []byte("[MODIFIED ")

// Write implements io.Writer.
func (m *modifiedWatch) Write(p []byte) (int, error) {
	if !m.armed.Load() {
		return len(p), nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	buf := append(m.tail, p...)
	if bytes.Contains(buf, modifiedCode) {
		m.seen = true
	}
	m.tail = append(m.tail[:0], buf[max(len(buf)-len(modifiedCode), 0):]...)
	return len(p), nil
}

func (m *modifiedWatch) arm() {
	m.mu.Lock()
	m.seen, m.tail = false, m.tail[:0]
	m.mu.Unlock()
	m.armed.Store(true)
}

// disarm stops watching and reports whether MODIFIED was seen.
func (m *modifiedWatch) disarm() bool {
	m.armed.Store(false)
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seen
}
