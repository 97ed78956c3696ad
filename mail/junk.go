package mail

import (
	"context"
	"fmt"
	"slices"

	"github.com/emersion/go-imap/v2"

	"desk/store"
)

// JunkAuto as the junk setting means the mailbox the server marks
// \Junk (RFC 6154 SPECIAL-USE).
const JunkAuto = "auto"

// The Junk mailbox (SpamOptions.Junk). A root that staff marked spam is
// moved there once its $Desk-Spam keyword is on the server, and MOVE keeps
// the keyword; a root marked not spam that is there is given $Desk-Ham and
// moved back.
//
// A teammate's client only sees the root leave the desk mailbox, which an
// ordinary expunge would turn into a ticket left open in its queue. So
// every client looks in Junk for the Message-ID of each root that left the
// mailbox of a ticket not marked spam: found there, the ticket is marked
// spam, whoever moved it (a teammate's desk or someone's mail client), and
// trained as such; found there while marked not spam here, it is moved
// back. A root that comes back is the same message again (store.ClaimUID),
// so its keywords are read as before. Nothing depends on which client
// syncs first.

// junkState is what the sync worker keeps of the Junk handling between
// passes.
type junkState struct {
	resolved bool   // mailbox was looked up (for JunkAuto)
	mailbox  string // the Junk mailbox's name; "" when there is none
}

// syncJunk moves the roots of tickets marked spam to Junk, and looks in
// Junk for roots that left the mailbox (see above). It runs after the
// keywords are pushed. IMAP errors of the Junk mailbox are logged, not
// returned: they must not stop the rest of the sync.
func (w *worker) syncJunk(ctx context.Context, c *conn) error {
	if w.acct.Spam.Junk == "" {
		return nil
	}
	roots, err := w.svc.st.JunkRoots(ctx, w.row.ID)
	if err != nil {
		return err
	}
	var move imap.UIDSet
	var look []store.JunkRoot
	for _, r := range roots {
		if r.Left {
			look = append(look, r)
		} else {
			move.AddNum(imap.UID(r.UID))
		}
	}
	if len(move) == 0 && len(look) == 0 {
		return nil
	}
	junk := w.junkMailbox(c)
	if junk == "" || junk == w.acct.Mailbox {
		return nil
	}
	if len(move) > 0 && !c.Caps().Has(imap.CapMove) {
		// Without MOVE, go-imap falls back to COPY, \Deleted and EXPUNGE
		// sent together: a failed COPY would still delete the root.
		w.log.Warn("spam: the server has no MOVE; spam stays in the desk mailbox", "account", w.acct.Name)
		move = nil
	}
	if len(move) > 0 {
		if _, err := c.Move(move, junk).Wait(); err != nil {
			w.log.Warn("spam: moving to the Junk mailbox failed", "account", w.acct.Name, "mailbox", junk, "err", err)
		} else {
			w.log.Info("spam: moved to the Junk mailbox", "account", w.acct.Name, "mailbox", junk, "uids", move.String())
		}
	}
	if len(look) == 0 {
		return nil
	}
	spam, err := w.lookInJunk(ctx, junk, look)
	if err != nil {
		w.log.Warn("spam: reading the Junk mailbox failed", "account", w.acct.Name, "mailbox", junk, "err", err)
	}
	if len(spam) == 0 {
		return nil
	}
	err = w.svc.st.Update(ctx, func(tx *store.Tx) error {
		for _, id := range spam {
			if _, err := tx.ApplySpamMark(id, store.SpamMarkSpam); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		w.log.Info("spam: tickets whose root is in the Junk mailbox marked spam", "account", w.acct.Name, "count", len(spam))
		w.svc.emit(store.TicketsChanged{Account: w.acct.Name})
	}
	return err
}

// junkMailbox is the name of the account's Junk mailbox: the configured
// one, or with JunkAuto the one the server marks \Junk ("" and a warning
// when it marks none or the listing fails: the rest of the sync goes on).
func (w *worker) junkMailbox(c *conn) string {
	st := &w.acct.junk
	if w.acct.Spam.Junk != JunkAuto {
		return w.acct.Spam.Junk
	}
	if st.resolved {
		return st.mailbox
	}
	st.resolved = true
	// RETURN (SPECIAL-USE) needs LIST-EXTENDED; a server with SPECIAL-USE
	// alone lists the attributes in a plain LIST.
	var opts *imap.ListOptions
	if c.Caps().Has(imap.CapListExtended) {
		opts = &imap.ListOptions{ReturnSpecialUse: true}
	}
	boxes, err := c.List("", "*", opts).Collect()
	if err != nil {
		w.log.Warn(`spam: junk = "auto" but listing the mailboxes failed; not moving spam`, "account", w.acct.Name, "err", err)
		return ""
	}
	for _, b := range boxes {
		if slices.Contains(b.Attrs, imap.MailboxAttrJunk) {
			st.mailbox = b.Mailbox
			return st.mailbox
		}
	}
	w.log.Warn(`spam: junk = "auto" but the server marks no mailbox \Junk; not moving spam`, "account", w.acct.Name)
	return ""
}

// lookInJunk searches the Junk mailbox, in a second session, for each
// root: it moves back those of tickets marked not spam and returns the
// tickets not marked whose root is there. The roots not found are recorded
// in the store (NotInJunk), so that they are not looked for again, after
// a restart either, until they leave with another UID or their ticket's
// mark changes.
func (w *worker) lookInJunk(ctx context.Context, junk string, roots []store.JunkRoot) (spam []int64, err error) {
	jc, err := w.dialIMAP(ctx)
	if err != nil {
		return nil, err
	}
	defer jc.Close()
	if _, err := jc.Select(junk, nil).Wait(); err != nil {
		return nil, fmt.Errorf("imap: select %s: %w", junk, err)
	}
	var back imap.UIDSet
	var absent []store.JunkRoot
	for batch := range slices.Chunk(roots, junkSearchBatch) {
		// Most roots that left were deleted or archived, not moved to
		// Junk: one search answers for a whole batch that is not there.
		if uids, err := searchMessageIDs(jc, batch); err != nil {
			return spam, fmt.Errorf("imap: search %s: %w", junk, err)
		} else if len(uids) == 0 {
			absent = append(absent, batch...)
			continue
		}
		for _, r := range batch {
			uids, err := searchMessageIDs(jc, []store.JunkRoot{r})
			switch {
			case err != nil:
				return spam, fmt.Errorf("imap: search %s: %w", junk, err)
			case len(uids) == 0:
				absent = append(absent, r)
			case r.Mark == store.SpamMarkHam:
				back.AddNum(uids...)
			default:
				spam = append(spam, r.TicketID)
			}
		}
	}
	if err := w.svc.st.NotInJunk(ctx, absent); err != nil {
		return spam, err
	}
	if len(back) > 0 && !jc.Caps().Has(imap.CapMove) {
		w.log.Warn("spam: the server has no MOVE; mail marked not spam stays in the Junk mailbox", "account", w.acct.Name)
		back = nil
	}
	if len(back) > 0 {
		for _, f := range []*imap.StoreFlags{
			{Op: imap.StoreFlagsDel, Silent: true, Flags: []imap.Flag{store.KeywordSpam}},
			{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{store.KeywordHam}},
		} {
			if err := jc.Store(back, f, nil).Close(); err != nil {
				return spam, fmt.Errorf("imap: store in %s: %w", junk, err)
			}
		}
		if _, err := jc.Move(back, w.acct.Mailbox).Wait(); err != nil {
			return spam, fmt.Errorf("imap: move back from %s: %w", junk, err)
		}
		w.log.Info("spam: moved mail marked not spam back from the Junk mailbox", "account", w.acct.Name, "uids", back.String())
	}
	_ = jc.Logout().Wait()
	return spam, nil
}

// junkSearchBatch is how many roots one search of the Junk mailbox looks
// for.
const junkSearchBatch = 50

// searchMessageIDs is the UIDs of the messages of the selected mailbox
// with the Message-ID of any of roots (one SEARCH of ORs).
func searchMessageIDs(c *conn, roots []store.JunkRoot) ([]imap.UID, error) {
	var criteria *imap.SearchCriteria
	for _, r := range roots {
		one := imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: "<" + r.MessageID + ">"}}}
		if criteria == nil {
			criteria = &one
		} else {
			criteria = &imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{one, *criteria}}}
		}
	}
	found, err := c.UIDSearch(criteria, nil).Wait()
	if err != nil {
		return nil, err
	}
	return found.AllUIDs(), nil
}
