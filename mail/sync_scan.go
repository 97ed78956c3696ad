package mail

import (
	"context"
	"fmt"
	"slices"

	"github.com/emersion/go-imap/v2"

	"desk/store"
)

// scan lists every UID in the mailbox in one UID SEARCH (ESEARCH where
// offered): it returns, in ascending order, the UIDs the server refused to
// return in earlier passes and those at or above the cursor, the new mail;
// it marks stored messages whose UID is gone as expunged (the server has
// no QRESYNC here, so expunges are found by comparing UID sets).
func (w *worker) scan(ctx context.Context, c *conn) ([]imap.UID, error) {
	var opts *imap.SearchOptions
	if c.esearch {
		opts = &imap.SearchOptions{ReturnAll: true}
	}
	found, err := c.UIDSearch(&imap.SearchCriteria{}, opts).Wait()
	if err != nil {
		return nil, fmt.Errorf("imap: search: %w", err)
	}
	all := found.AllUIDs()
	slices.Sort(all)
	cut, _ := slices.BinarySearch(all, imap.UID(max(w.row.UIDNext, 1)))
	if err := w.markExpunged(ctx, all[:cut]); err != nil {
		return nil, err
	}
	retry, err := w.retryUnfetched(ctx, all[:cut])
	if err != nil {
		return nil, err
	}
	return append(retry, all[cut:]...), nil
}

// retryUnfetched returns the UIDs the server refused in earlier passes that
// it still lists in present (sorted), and forgets those that left.
func (w *worker) retryUnfetched(ctx context.Context, present []imap.UID) ([]imap.UID, error) {
	notes, err := w.svc.st.UnfetchedUIDs(ctx, w.row.ID)
	if err != nil || len(notes) == 0 {
		w.unfetched = nil
		return nil, err
	}
	w.unfetched = map[uint32]bool{}
	var retry []imap.UID
	var gone []uint32
	for _, n := range notes {
		if _, ok := slices.BinarySearch(present, imap.UID(n.UID)); ok {
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
