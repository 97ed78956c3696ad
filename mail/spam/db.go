package spam

import (
	"context"
	"errors"
	"fmt"

	"desk/store"
)

// ErrCorrupt means the filter's tables in the store contradict each other
// (a count below zero or above its class's message count, or a checksum
// that does not match): the filter must be rebuilt, never trusted.
var ErrCorrupt = errors.New("spam filter database is corrupt")

// trainBatch is how many marked messages one transaction trains.
const trainBatch = 500

// Load reads the filter's counts from the store and checks them.
func Load(ctx context.Context, st *store.Store) (*Filter, error) {
	f := New()
	if err := f.load(ctx, st); err != nil {
		return nil, err
	}
	return f, nil
}

// load replaces f's counts with the store's.
func (f *Filter) load(ctx context.Context, st *store.Store) error {
	stats, err := st.SpamStats(ctx)
	if err != nil {
		return err
	}
	if stats.HamMessages < 0 || stats.SpamMessages < 0 {
		return fmt.Errorf("%w: message counts %d ham, %d spam", ErrCorrupt, stats.HamMessages, stats.SpamMessages)
	}
	tokens := map[string]store.SpamCount{}
	var sum int64
	err = st.SpamTokens(ctx, func(tok string, c store.SpamCount) error {
		if c.Ham < 0 || c.Spam < 0 || c.Ham > stats.HamMessages || c.Spam > stats.SpamMessages {
			return fmt.Errorf("%w: token %q counts %d ham, %d spam of %d and %d messages",
				ErrCorrupt, tok, c.Ham, c.Spam, stats.HamMessages, stats.SpamMessages)
		}
		tokens[tok] = c
		sum += c.Ham + c.Spam
		return nil
	})
	if err != nil {
		return err
	}
	if sum != stats.Checksum {
		return fmt.Errorf("%w: token counts sum to %d, the checksum says %d", ErrCorrupt, sum, stats.Checksum)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens, f.ham, f.spam, f.threshold, f.gen = tokens, stats.HamMessages, stats.SpamMessages, stats.Threshold, stats.Generation
	return nil
}

// Open loads the filter from the store. A corrupt filter is reported to
// report and rebuilt from the spam and ham marks of the tickets (which sync
// reads from the $Desk-Spam and $Desk-Ham keywords of the mailbox).
func Open(ctx context.Context, st *store.Store, report func(error)) (*Filter, error) {
	f, err := Load(ctx, st)
	if !errors.Is(err, ErrCorrupt) {
		return f, err
	}
	report(err)
	if err := Rebuild(ctx, st); err != nil {
		return nil, fmt.Errorf("rebuild spam filter: %w", err)
	}
	return Load(ctx, st)
}

// Rebuild empties the filter's tables and trains every customer message of
// every ticket marked spam or ham again. Training seeded from folders
// (`desk spam train`) is lost and must be run again.
func Rebuild(ctx context.Context, st *store.Store) error {
	if err := st.Update(ctx, func(tx *store.Tx) error { return tx.ResetSpamFilter() }); err != nil {
		return err
	}
	f := New()
	_, err := f.TrainMarked(ctx, st)
	return err
}

// Refresh reloads the counts if another process (or another Filter)
// changed them since they were read.
func (f *Filter) Refresh(ctx context.Context, st *store.Store) error {
	stats, err := st.SpamStats(ctx)
	if err != nil {
		return err
	}
	f.mu.RLock()
	same := stats.Generation == f.gen
	f.mu.RUnlock()
	if same {
		return nil
	}
	return f.load(ctx, st)
}

// applyCommitted applies a committed change to f. When the store moved by
// more than this change, someone else trained too: f is marked stale and
// the next Refresh reloads it.
func (f *Filter) applyCommitted(d store.SpamDelta, gen int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apply(d)
	if gen == f.gen+1 {
		f.gen = gen
	} else {
		f.gen = -1
	}
}

// TrainMarked trains every customer message of a ticket marked spam or ham
// that is not yet trained as marked (untraining the other class first when
// the mark changed). It returns how many messages it trained.
func (f *Filter) TrainMarked(ctx context.Context, st *store.Store) (int, error) {
	total := 0
	for {
		var d store.SpamDelta
		var gen int64
		var n int
		err := st.Update(ctx, func(tx *store.Tx) error {
			pending, err := tx.PendingSpamTraining(trainBatch)
			if err != nil {
				return err
			}
			n = len(pending)
			d = store.SpamDelta{Tokens: map[string]store.SpamCount{}}
			for _, p := range pending {
				toks := Tokens(storedDoc(p))
				if p.Trained != "" {
					addTo(&d, toks, p.Trained == store.SpamMarkSpam, -1)
				}
				addTo(&d, toks, p.Mark == store.SpamMarkSpam, 1)
				if err := tx.SetSpamTrained(p.MessageID, p.Mark); err != nil {
					return err
				}
			}
			if n == 0 {
				return nil
			}
			gen, err = tx.AddSpamCounts(d)
			return err
		})
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, nil
		}
		f.applyCommitted(d, gen)
		total += n
		if n < trainBatch {
			return total, nil
		}
	}
}

// storedDoc is the Doc of a message as the store keeps it: no header, so
// only subject, sender and body tokens.
func storedDoc(p store.SpamTraining) Doc {
	d := Doc{Subject: p.Subject, Body: p.Body}
	d.From.Name, d.From.Addr = p.FromName, p.From
	return d
}

// TrainTokens adds messages (as token lists) of both classes to the filter
// and the store in one transaction.
func (f *Filter) TrainTokens(ctx context.Context, st *store.Store, ham, spam [][]string) error {
	d := store.SpamDelta{Tokens: map[string]store.SpamCount{}}
	for _, toks := range ham {
		addTo(&d, toks, false, 1)
	}
	for _, toks := range spam {
		addTo(&d, toks, true, 1)
	}
	var gen int64
	err := st.Update(ctx, func(tx *store.Tx) (err error) {
		gen, err = tx.AddSpamCounts(d)
		return err
	})
	if err == nil {
		f.applyCommitted(d, gen)
	}
	return err
}

// SaveThreshold records the cut-off in the store and in f.
func (f *Filter) SaveThreshold(ctx context.Context, st *store.Store, v float64) error {
	if err := st.Update(ctx, func(tx *store.Tx) error { return tx.SetSpamThreshold(v) }); err != nil {
		return err
	}
	f.SetThreshold(v)
	return f.Refresh(ctx, st)
}
