package mail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"desk/store"
)

const (
	// fetchBatch is how many messages one UID FETCH asks for and one
	// transaction ingests; with prefetch it bounds the memory of a sync
	// whatever the mailbox size.
	fetchBatch = 250
	// firstBatch is the size of a pass's first batch; each next one doubles
	// up to fetchBatch, so that a few new messages are ingested while the
	// rest are still on the wire.
	firstBatch = 25
	// prefetch is how many fetched and prepared batches may wait for
	// ingestion while the next one is on the wire.
	prefetch = 2
	// joinedMax bounds the messages of batches joined into one ingest
	// transaction (see joinWaiting).
	joinedMax = 2 * fetchBatch
)

// Timing holds the sync worker's intervals. A zero field means its default;
// tests shorten them.
type Timing struct {
	// IdleRestart ends and restarts IDLE; it stays under the 30 minutes
	// after which servers may drop an idle client (RFC 2177). Default 25 min.
	IdleRestart time.Duration
	// PollInterval is the NOOP period when the server has no IDLE (or
	// NoIdle is set). Default 30 s.
	PollInterval time.Duration
	// NoIdle polls with NOOP even when the server offers IDLE.
	NoIdle bool
	// FirstBackoff and MaxBackoff bound the reconnect delay, which doubles
	// after every failed session. Defaults 1 s and 2 min.
	FirstBackoff, MaxBackoff time.Duration
}

// withDefaults fills the zero fields.
func (t Timing) withDefaults() Timing {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.IdleRestart, 25*time.Minute)
	t.IdleRestart = min(t.IdleRestart, 29*time.Minute)
	def(&t.PollInterval, 30*time.Second)
	def(&t.FirstBackoff, time.Second)
	def(&t.MaxBackoff, 2*time.Minute)
	return t
}

// ErrLoginRefused marks a login the server refused (AUTHENTICATIONFAILED):
// the same credentials would fail again, so the worker stops instead of
// retrying.
var ErrLoginRefused = errors.New("login refused: check the user and password (or token), then restart desk")

// worker owns the IMAP connection of one account. Only its goroutine
// issues commands, except the fetch helper that fetchNew runs while the
// worker ingests (and waits for before returning).
type worker struct {
	svc     *Service
	acct    *Account
	row     *store.Account
	log     *slog.Logger
	timing  Timing
	updates chan struct{} // the server said something changed (EXISTS, FETCH)
	wake    <-chan struct{}
	modseq  uint64 // highest MODSEQ seen in this session
	// renumber holds until the session's first full pass has given tickets
	// waiting after a UIDVALIDITY change their roots' new UIDs.
	renumber bool
	// unfetched holds the UIDs the server refused to return in an earlier
	// pass, asked for again in this one; warning says so in the status.
	unfetched map[uint32]bool
	warning   string
	// fresh holds the flags of the roots of the tickets this pass opened,
	// which ingest has applied already: the keyword pass skips them unless
	// they changed since.
	fresh map[uint32]string
}

// conn is a logged-in IMAP session on the account's mailbox.
type conn struct {
	*imapclient.Client
	condstore bool
	idle      bool
	esearch   bool
	modified  *modifiedWatch
}

// dialIMAP connects and logs in.
func (w *worker) dialIMAP(ctx context.Context) (*conn, error) {
	ep, err := w.acct.endpoint(w.acct.IMAP, "imap", 143, 993)
	if err != nil {
		return nil, err
	}
	watch := &modifiedWatch{}
	opts := &imapclient.Options{
		Dialer:      &net.Dialer{Timeout: 30 * time.Second},
		DebugWriter: watch,
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
	if err := w.acct.imapLogin(ctx, c); err != nil {
		c.Close()
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Code == imap.ResponseCodeAuthenticationFailed {
			return nil, fmt.Errorf("imap %s: login as %s: %w (%w)", ep.host, w.acct.User, ErrLoginRefused, err)
		}
		return nil, fmt.Errorf("imap %s: login as %s: %w", ep.host, w.acct.User, err)
	}
	caps := c.Caps()
	return &conn{Client: c, condstore: caps.Has(imap.CapCondStore), idle: caps.Has(imap.CapIdle) && !w.timing.NoIdle,
		esearch: caps.Has(imap.CapESearch), modified: watch}, nil
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

// syncPass fetches new mail, notices expunges, reads keyword changes,
// pushes local ones and flushes the outbox.
func (w *worker) syncPass(ctx context.Context, c *conn) error {
	// The spam filter loads (or catches up) while the mailbox is listed;
	// the prepare stage, which reads it, starts after both.
	trained := make(chan error, 1)
	go func() { trained <- w.acct.trainSpam(ctx, w.svc.st, w.log) }()
	uids, err := w.scan(ctx, c)
	if terr := <-trained; err == nil {
		err = terr
	}
	if err != nil {
		return err
	}
	if err := w.fetchNew(ctx, c, uids); err != nil {
		return err
	}
	if err := w.noteUnfetched(ctx); err != nil {
		return err
	}
	if w.renumber {
		if err := w.finishRenumber(ctx); err != nil {
			return err
		}
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
// baseline: older mail gets no automated mail) and a UIDVALIDITY change.
//
// After a UIDVALIDITY change (the mailbox was recreated or restored) every
// UID is forgotten and every message matched again by Message-ID (or, for
// mail without one, by its content hash, which its synthetic Message-ID
// is), so nothing is duplicated; tickets take their root's new UID as
// their number, as a fresh sync would number them, and the baseline moves
// to the new UIDNEXT so no automated mail goes out again.
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
				if err := tx.ResetUIDValidity(row.ID); err != nil {
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
		stored, err := tx.HasMessages(row.ID)
		if err != nil {
			return err
		}
		if !stored && row.HighestModSeq == 0 {
			// A first sync into an empty store reads every root's keywords
			// with its mail, fetched after this SELECT: the flags hold every
			// change up to its HIGHESTMODSEQ, so the keyword pass may start
			// there instead of fetching every root's flags again. (0
			// without CONDSTORE: the pass then reads them all.)
			row.HighestModSeq = sel.HighestModSeq
		}
		w.row = row
		// Tickets may wait for a number from an earlier session cut short.
		w.renumber = stored
		return nil
	})
}

// finishRenumber runs after the first complete pass following a
// UIDVALIDITY change: tickets whose root did not come back keep their
// history and get their old number back where it is free.
func (w *worker) finishRenumber(ctx context.Context) error {
	return w.svc.st.Update(ctx, func(tx *store.Tx) error {
		left, err := tx.RestoreUnrooted(w.row.ID)
		if err == nil && left > 0 {
			w.log.Warn("tickets whose root left the mailbox keep a negative number (their old one is taken)",
				"account", w.acct.Name, "count", left)
		}
		w.renumber = false
		return err
	})
}

// fetchNew ingests the given new UIDs in ascending order, in batches, in
// two stages: a helper goroutine fetches the next batches, each message
// prepared (parsed and spam-scored) on the other cores as soon as it is
// read off the wire, and this one ingests the batch before; each batch
// commits in one transaction with the cursor that covers it, so a crash
// anywhere resumes without loss or duplication.
func (w *worker) fetchNew(ctx context.Context, c *conn, uids []imap.UID) error {
	total := len(uids)
	w.fresh = map[uint32]string{}
	if total == 0 {
		return nil
	}
	fetchCtx, cancel := context.WithCancel(ctx)
	ready := make(chan fetchResult, prefetch)
	go w.acct.fetchAll(fetchCtx, c, uids, ready)
	defer func() {
		cancel()
		for range ready { // wait for the helper: c is ours again after
		}
	}()
	start := time.Now()
	done := 0
	w.status(store.SyncStatus{Phase: store.PhaseSyncing, Total: total})
	var next *fetchResult // a batch taken from ready but not yet joined
	for {
		var b fetchResult
		if next != nil {
			b, next = *next, nil
		} else if r, ok := <-ready; ok {
			b = r
		} else {
			break
		}
		if b.err != nil {
			return b.err
		}
		b, next = joinWaiting(b, ready)
		if err := w.ingestBatch(ctx, b); err != nil {
			return err
		}
		done += b.count
		w.status(progress(done, total, time.Since(start)))
	}
	if done < total {
		return ctx.Err()
	}
	w.svc.st.Settle()
	w.svc.emitOutbox(ctx)
	return nil
}

// joinWaiting adds to b the batches already waiting on ready, up to
// joinedMax messages, so that a worker behind the fetch ingests them in
// one transaction: fewer commits, and fewer, larger segments of the
// full-text index to merge. A batch that failed is not joined: it is
// returned as next, to be handled after b.
func joinWaiting(b fetchResult, ready <-chan fetchResult) (joined fetchResult, next *fetchResult) {
	for b.count < joinedMax {
		select {
		case r, ok := <-ready:
			if !ok {
				return b, nil
			}
			if r.err != nil {
				return b, &r
			}
			b.ready = append(b.ready, r.ready...)
			b.refused = append(b.refused, r.refused...)
			b.count += r.count
			b.next = r.next
		default:
			return b, nil
		}
	}
	return b, nil
}

// progress is the syncing status after done of total messages in elapsed.
func progress(done, total int, elapsed time.Duration) store.SyncStatus {
	s := store.SyncStatus{Phase: store.PhaseSyncing, Done: done, Total: total}
	if secs := elapsed.Seconds(); secs > 0 && done > 0 {
		s.Rate = float64(done) / secs
		s.ETA = time.Duration(float64(total-done) / s.Rate * float64(time.Second))
	}
	return s
}

// fetchResult is one fetched batch: its messages prepared and sorted by
// UID, how many UIDs it covered, and the cursor after it.
type fetchResult struct {
	ready   []*prepared
	refused []refusal
	count   int
	next    uint32
	err     error
}

// refusal is a message the server would not return, and its answer.
type refusal struct {
	uid    uint32
	reason string
}

// fetchAll fetches and prepares uids into out, batch by batch, and
// closes it; it stops at the first error (sent on out) or when ctx ends.
//
// One UID FETCH asks for up to fetchBatch messages, and its answer is cut
// into ingest batches as it arrives: the first holds firstBatch messages
// and each next one twice as many, up to fetchBatch, so that the first
// few messages are ingested while the rest are on the wire, without a
// round trip between batches.
func (a *Account) fetchAll(ctx context.Context, c *conn, uids []imap.UID, out chan<- fetchResult) {
	defer close(out)
	size := firstBatch
	for i := 0; i < len(uids); i += fetchBatch {
		chunk := uids[i:min(i+fetchBatch, len(uids))]
		b := &batcher{a: a, ctx: ctx, out: out, chunk: chunk, size: size, p: a.startPreparing()}
		err := streamFetch(c, chunk, b.add)
		if b.stopped {
			b.p.done() // the preparer opened after the last batch sent
			return
		}
		b.ready = b.p.done()
		var refused []refusal
		if isRefusal(err) {
			// Messages read before the refusal are fetched again one by one.
			b.p = a.startPreparing()
			refused, err = fetchEach(c, chunk[b.from:], b.p.add)
			b.ready = b.p.done()
		}
		if err != nil || b.from < len(chunk) {
			if !b.emit(len(chunk), refused, err) || err != nil {
				return
			}
		}
		size = b.size
	}
}

// batcher cuts the answer to one FETCH (chunk, in UID order) into ingest
// batches. A batch is cut once it holds size messages and they are
// exactly the next UIDs of the chunk; a server that leaves a message out
// or answers out of order has the rest of its answer ingested as one
// batch, so that the UIDs it skipped are known to be missing.
type batcher struct {
	a     *Account
	ctx   context.Context
	out   chan<- fetchResult
	chunk []imap.UID
	from  int // the open batch's first UID, as an index in chunk
	got   int // messages of the open batch read
	top   uint32
	size  int // messages at which the open batch is cut
	p     *preparer
	ready []*prepared
	// stopped is set once ctx has ended: the rest of the answer is read
	// and dropped, so that the connection can be used again.
	stopped bool
}

// add takes one message of the answer.
func (b *batcher) add(f fetched) {
	if b.stopped {
		return
	}
	b.p.add(f)
	b.got++
	b.top = max(b.top, f.UID)
	if b.got < b.size {
		return
	}
	at, found := slices.BinarySearch(b.chunk, imap.UID(b.top))
	if !found || at+1-b.from != b.got {
		return
	}
	b.ready = b.p.done()
	b.p = b.a.startPreparing()
	b.emit(at+1, nil, nil)
}

// emit sends the open batch, chunk[from:end], with the messages prepared
// for it, and opens the next one; it reports false, and marks the
// batcher stopped, when ctx ended first.
func (b *batcher) emit(end int, refused []refusal, err error) bool {
	batch := b.chunk[b.from:end]
	if err == nil {
		refused = append(refused, missing(batch, b.ready, refused)...)
	}
	r := fetchResult{ready: b.ready, refused: refused, count: len(batch), next: uint32(batch[len(batch)-1]) + 1, err: err}
	select {
	case b.out <- r:
	case <-b.ctx.Done():
		b.stopped = true
		return false
	}
	b.from, b.got, b.ready = end, 0, nil
	b.size = min(2*b.size, fetchBatch)
	return true
}

// preparer prepares the messages of one batch as they come off the wire,
// on one goroutine fewer than there are cores (at least one): the
// ingesting goroutine, the slowest stage, keeps one. A full queue holds
// the fetch back, so memory stays bounded.
type preparer struct {
	in  chan fetched
	wg  sync.WaitGroup
	mu  sync.Mutex
	out []*prepared
}

// startPreparing starts the goroutines of a preparer.
func (a *Account) startPreparing() *preparer {
	p := &preparer{in: make(chan fetched, 8)}
	for range max(runtime.GOMAXPROCS(0)-1, 1) {
		p.wg.Go(func() {
			for m := range p.in {
				pm := a.prepareMessage(m)
				p.mu.Lock()
				p.out = append(p.out, pm)
				p.mu.Unlock()
			}
		})
	}
	return p
}

// add queues a fetched message.
func (p *preparer) add(m fetched) { p.in <- m }

// done waits for every message added and returns them prepared, sorted
// by UID.
func (p *preparer) done() []*prepared {
	close(p.in)
	p.wg.Wait()
	slices.SortFunc(p.out, func(a, b *prepared) int { return cmp.Compare(a.UID, b.UID) })
	return p.out
}

// ingestBatch files a prepared batch and advances the cursor, in one
// transaction.
func (w *worker) ingestBatch(ctx context.Context, b fetchResult) error {
	var touched []int64
	var opened []*prepared // roots of new tickets: numbered by their UID
	err := w.svc.st.Update(ctx, func(tx *store.Tx) error {
		touched, opened = touched[:0], opened[:0]
		var arrived []uint32
		for _, m := range b.ready {
			n, err := w.acct.ingest(tx, w.row, m)
			if err != nil {
				return fmt.Errorf("ingest UID %d: %w", m.UID, err)
			}
			if n != 0 {
				touched = append(touched, n)
			}
			if n == int64(m.UID) {
				opened = append(opened, m)
			}
			if w.unfetched[m.UID] {
				arrived = append(arrived, m.UID)
			}
		}
		if err := tx.ForgetUnfetched(w.row.ID, arrived); err != nil {
			return err
		}
		for _, r := range b.refused {
			if err := tx.RecordUnfetched(w.row.ID, r.uid, r.reason); err != nil {
				return err
			}
		}
		if w.renumber {
			if err := tx.RenumberFromRoots(w.row.ID); err != nil {
				return err
			}
		}
		// Refused UIDs asked for again lie below the cursor: it never moves back.
		return tx.SetCursor(w.row.ID, w.row.UIDValidity, max(b.next, w.row.UIDNext), w.row.HighestModSeq)
	})
	if err != nil {
		return err
	}
	w.row.UIDNext = max(b.next, w.row.UIDNext)
	for _, m := range opened {
		w.fresh[m.UID] = strings.Join(m.Flags, " ")
	}
	w.svc.emit(store.TicketsChanged{Account: w.acct.Name, Numbers: touched})
	return nil
}

// fetchBatchOf fetches whole messages with their flags, sorted by UID.
func fetchBatchOf(c *conn, uids []imap.UID) ([]fetched, error) {
	out := make([]fetched, 0, len(uids))
	if err := streamFetch(c, uids, func(f fetched) { out = append(out, f) }); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b fetched) int { return cmp.Compare(a.UID, b.UID) })
	return out, nil
}

// streamFetch fetches whole messages with their flags and hands each to
// each as soon as it is read, in the server's order.
func streamFetch(c *conn, uids []imap.UID, each func(fetched)) error {
	body := &imap.FetchItemBodySection{Peek: true}
	cmd := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
		UID: true, Flags: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{body},
	})
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		f, whole, err := readFetched(msg)
		if err != nil {
			// The connection broke inside a message: touching the command
			// again would read the dead stream beside go-imap's reader.
			return err
		}
		if f.UID != 0 && whole {
			each(f)
		}
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("imap: fetch: %w", err)
	}
	return nil
}

// readFetched reads one message of a FETCH response. It reads the body
// literal once and checks its length itself: go-imap's Collect reads a
// literal cut short by a dropped connection a second time, racing its own
// reader goroutine. whole says the response held the message's body
// section: a flag update the server sends of its own accord while the
// FETCH is in flight is handed to it when it names one of its UIDs, and
// must not pass for the message (go-imap then drops the real answer, so
// the message counts as missing and is asked for again).
func readFetched(msg *imapclient.FetchMessageData) (f fetched, whole bool, err error) {
	for item := msg.Next(); item != nil; item = msg.Next() {
		switch it := item.(type) {
		case imapclient.FetchItemDataUID:
			f.UID = uint32(it.UID)
		case imapclient.FetchItemDataFlags:
			f.Flags = flagStrings(it.Flags)
		case imapclient.FetchItemDataInternalDate:
			f.InternalDate = it.Time
		case imapclient.FetchItemDataBodySection:
			whole = true
			if it.Literal == nil {
				continue
			}
			raw, err := readLiteral(it.Literal)
			if err == nil && int64(len(raw)) < it.Literal.Size() {
				err = io.ErrUnexpectedEOF
			}
			if err != nil {
				return f, whole, fmt.Errorf("imap: fetch: message cut short after %d of %d bytes: %w", len(raw), it.Literal.Size(), err)
			}
			f.Raw = raw
		}
	}
	return f, whole, nil
}

// presizeLimit bounds the buffer readLiteral allocates for a literal's
// announced size before its bytes arrive.
const presizeLimit = 16 << 20

// readLiteral reads a body literal whole. The buffer is allocated at the
// announced size (up to presizeLimit) instead of growing, and copying, as
// the bytes arrive.
func readLiteral(lit imap.LiteralReader) ([]byte, error) {
	size := lit.Size()
	if size > presizeLimit {
		return io.ReadAll(lit)
	}
	raw := make([]byte, size)
	n, err := io.ReadFull(lit, raw)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil // a short read: the caller compares the length with the size
	}
	return raw[:n], err
}

// isRefusal reports whether err is the server's tagged NO or BAD to a
// command, not a broken connection: the server is up but would not do it.
func isRefusal(err error) bool {
	var refused *imap.Error
	return errors.As(err, &refused)
}

// fetchEach fetches uids one by one after the server refused them as a
// batch: it hands each to each and returns the server's answer for each
// one it refused again, so that one unreadable message does not hold back
// the rest of the mailbox.
func fetchEach(c *conn, uids []imap.UID, each func(fetched)) ([]refusal, error) {
	var refused []refusal
	for _, uid := range uids {
		err := streamFetch(c, []imap.UID{uid}, each)
		switch {
		case isRefusal(err):
			refused = append(refused, refusal{uid: uint32(uid), reason: oneLineError(err)})
		case err != nil:
			return nil, err
		}
	}
	return refused, nil
}

// missing lists the UIDs of batch that an OK FETCH did not return and
// that were not refused: a message expunged since the SEARCH (the next
// pass forgets it), or a server that skipped it; either way it is asked
// for again instead of the cursor passing it by.
func missing(batch []imap.UID, got []*prepared, refused []refusal) []refusal {
	have := make(map[uint32]bool, len(got)+len(refused))
	for _, m := range got {
		have[m.UID] = true
	}
	for _, r := range refused {
		have[r.uid] = true
	}
	var out []refusal
	for _, uid := range batch {
		if !have[uint32(uid)] {
			out = append(out, refusal{uid: uint32(uid), reason: "the server's FETCH returned nothing for it"})
		}
	}
	return out
}

// noteUnfetched reads which messages the server still refuses after a
// pass: the warning names them in every status until they arrive.
func (w *worker) noteUnfetched(ctx context.Context) error {
	left, err := w.svc.st.UnfetchedUIDs(ctx, w.row.ID)
	if err != nil || len(left) == 0 {
		w.warning = ""
		return err
	}
	w.warning = fmt.Sprintf("the server would not return UID %d (%s, %d attempts); asked again every pass",
		left[0].UID, left[0].Error, left[0].Attempts)
	if len(left) > 1 {
		w.warning = fmt.Sprintf("%d messages the server would not return, first %s", len(left), w.warning[len("the server would not return "):])
	}
	w.log.Warn("messages the server would not return", "account", w.acct.Name, "count", len(left),
		"first_uid", left[0].UID, "error", left[0].Error)
	w.status(store.SyncStatus{Phase: store.PhaseSyncing, Err: w.warning})
	return nil
}

// waitForChange blocks in IDLE (or NOOP polling) until the server reports
// a change, local work is queued, an outbox retry is due, IDLE is due for
// its restart, or ctx ends.
func (w *worker) waitForChange(ctx context.Context, c *conn) error {
	timeout := w.timing.IdleRestart
	if !c.idle {
		timeout = w.timing.PollInterval
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
	if s.Err == "" && s.Phase != store.PhaseOffline {
		s.Err = w.warning
	}
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
