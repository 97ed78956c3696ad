package mail

import (
	"context"
	"fmt"
	"slices"

	"github.com/emersion/go-imap/v2"

	"desk/store"
)

// scan returns, in ascending order, the UIDs the server refused to return
// in earlier passes and those at or above the cursor, the new mail, and
// marks stored messages whose UID is gone as expunged (the server has no
// QRESYNC here, so expunges are found by comparing UID sets).
//
// It first asks only for the new UIDs: when the mailbox then holds as many
// messages below the cursor as the store knows there (live or waiting to
// be fetched again), nothing left it, and the 20,000 UIDs of a large
// mailbox need not be listed and compared. Otherwise one UID SEARCH ALL
// (ESEARCH where offered) lists them all.
func (w *worker) scan(ctx context.Context, c *conn) ([]imap.UID, error) {
	cursor := imap.UID(max(w.row.UIDNext, 1))
	fresh, err := c.uidSearch(&imap.SearchCriteria{UID: []imap.UIDSet{{imap.UIDRange{Start: cursor}}}})
	if err != nil {
		return nil, err
	}
	// "n:*" holds the last message even when its UID is below n.
	cut, _ := slices.BinarySearch(fresh, cursor)
	fresh = fresh[cut:]
	known, err := w.svc.st.KnownUIDCount(ctx, w.row.ID, uint32(cursor))
	if err != nil {
		return nil, err
	}
	present := func(imap.UID) bool { return true }
	if held := int(c.Mailbox().NumMessages) - len(fresh); held != known {
		all, err := c.uidSearch(&imap.SearchCriteria{})
		if err != nil {
			return nil, err
		}
		cut, _ := slices.BinarySearch(all, cursor)
		below := all[:cut]
		fresh = all[cut:]
		if err := w.markExpunged(ctx, below); err != nil {
			return nil, err
		}
		present = func(uid imap.UID) bool {
			_, ok := slices.BinarySearch(below, uid)
			return ok
		}
	}
	retry, err := w.retryUnfetched(ctx, present)
	if err != nil {
		return nil, err
	}
	return append(retry, fresh...), nil
}

// uidSearch runs a UID SEARCH (ESEARCH where offered) and returns the
// UIDs sorted.
func (c *conn) uidSearch(criteria *imap.SearchCriteria) ([]imap.UID, error) {
	var opts *imap.SearchOptions
	if c.esearch {
		opts = &imap.SearchOptions{ReturnAll: true}
	}
	found, err := c.UIDSearch(criteria, opts).Wait()
	if err != nil {
		return nil, fmt.Errorf("imap: search: %w", err)
	}
	uids := found.AllUIDs()
	slices.Sort(uids)
	return uids, nil
}

// retryUnfetched returns the UIDs the server refused in earlier passes that
// are still present below the cursor (sorted), and forgets those that left.
func (w *worker) retryUnfetched(ctx context.Context, present func(imap.UID) bool) ([]imap.UID, error) {
	notes, err := w.svc.st.UnfetchedUIDs(ctx, w.row.ID)
	if err != nil || len(notes) == 0 {
		w.unfetched = nil
		return nil, err
	}
	w.unfetched = map[uint32]bool{}
	var retry []imap.UID
	var gone []uint32
	for _, n := range notes {
		if present(imap.UID(n.UID)) {
			retry = append(retry, imap.UID(n.UID))
			w.unfetched[n.UID] = true
		} else {
			gone = append(gone, n.UID)
		}
	}
	if len(gone) > 0 {
		err = w.svc.st.Update(ctx, func(tx *store.Tx) error { return tx.ForgetUnfetched(w.row.ID, gone) })
	}
	return retry, err
}

// markExpunged compares the stored UIDs with present, the sorted UIDs the
// server holds below the cursor, and marks the missing ones expunged. Their
// messages stay in their tickets; a ticket whose root was expunged keeps
// its history and its last known state, and is no longer read for
// keywords or claims (a fresh sync would not show it).
func (w *worker) markExpunged(ctx context.Context, present []imap.UID) error {
	stored, err := w.svc.st.LiveUIDs(ctx, w.row.ID)
	if err != nil {
		return err
	}
	var gone []uint32
	i := 0
	for _, uid := range stored {
		if uid >= w.row.UIDNext {
			break // an appended copy not yet reached by the cursor
		}
		for i < len(present) && uint32(present[i]) < uid {
			i++
		}
		if i == len(present) || uint32(present[i]) != uid {
			gone = append(gone, uid)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	var touched []int64
	err = w.svc.st.Update(ctx, func(tx *store.Tx) error {
		touched, err = tx.MarkExpunged(w.row.ID, gone)
		return err
	})
	if err != nil {
		return err
	}
	w.log.Info("messages expunged from the mailbox", "account", w.acct.Name, "count", len(gone))
	w.svc.emit(store.TicketsChanged{Account: w.acct.Name, Numbers: touched})
	return nil
}
