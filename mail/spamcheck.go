package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"desk/mail/spam"
	"desk/store"
)

// SpamOptions are an account's spam settings.
type SpamOptions struct {
	// Allow lists sender domains that are never spam (unless the trusted
	// Authentication-Results say the sender failed verification).
	Allow []string
	// Block lists sender addresses and domains that are always spam.
	Block []string
	// Junk names the server's Junk mailbox, to which the root of a ticket
	// marked spam is moved (and from which one marked not spam comes
	// back); JunkAuto finds the mailbox marked \Junk; "" moves nothing.
	Junk string
}

// spamScore scores a customer message from its token score (prepareMessage)
// and the evidence beside it (msg.Unverified must be set). threaded means
// it joined a ticket by reply key, a known Message-ID or a [#N] token from
// a participant: it answers our mail.
func (a *Account) spamScore(tx *store.Tx, acct *store.Account, m *prepared, msg *store.Message, threaded bool) (float64, error) {
	e := spam.Evidence{ReplyToUs: threaded, Unverified: msg.Unverified != "", FlaggedUpstream: m.flagged}
	from := strings.ToLower(msg.From)
	_, domain, _ := strings.Cut(from, "@")
	e.Allowed = domain != "" && listHas(a.Spam.Allow, domain)
	e.Blocked = from != "" && (listHas(a.Spam.Block, from) || listHas(a.Spam.Block, domain))
	if !e.Blocked && from != "" {
		blocked, err := tx.IsBlocked(acct.ID, from)
		if err != nil {
			return 0, err
		}
		e.Blocked = blocked
	}
	if !threaded && from != "" {
		known, err := tx.KnownRequester(acct.ID, from)
		if err != nil {
			return 0, err
		}
		e.Known = known
	}
	return spam.Combine(m.spamTokens, e), nil
}

// spamThreshold is the score from which a new ticket goes to the spam view.
func (a *Account) spamThreshold() float64 {
	if a.spamFilter != nil {
		return a.spamFilter.Threshold()
	}
	return spam.DefaultThreshold
}

// spamVerdict applies to a new ticket (created with the filter's verdict)
// the mark its root carries on the server, if any. It reports whether the
// ticket is spam (and so must get no automated mail): the mark, else the
// filter's verdict.
func (a *Account) spamVerdict(tx *store.Tx, t *store.Ticket, flags []string) (bool, error) {
	mark := spamMark(flags)
	if mark == "" {
		return t.Spam, nil
	}
	_, err := tx.ApplySpamMark(t.ID, mark)
	return mark == store.SpamMarkSpam, err
}

// spamMark decodes the spam mark of a root message's flags: spam wins when
// both keywords are set.
func spamMark(flags []string) string {
	mark := ""
	for _, f := range flags {
		switch {
		case strings.EqualFold(f, store.KeywordSpam):
			return store.SpamMarkSpam
		case strings.EqualFold(f, store.KeywordHam):
			mark = store.SpamMarkHam
		}
	}
	return mark
}

// trainSpam loads the account's spam filter on first use (rebuilding it
// from the tickets' marks when its tables are corrupt, which is logged),
// reloads it when another process changed it, and trains the messages of
// tickets marked spam or ham since the last pass.
func (a *Account) trainSpam(ctx context.Context, st *store.Store, log *slog.Logger) error {
	report := func(err error) {
		log.Warn("spam filter: rebuilding from the spam and ham marks", "account", a.Name, "err", err)
	}
	if a.spamFilter == nil {
		f, err := spam.Open(ctx, st, report)
		if err != nil {
			return fmt.Errorf("spam filter: %w", err)
		}
		a.spamFilter = f
	} else if err := a.spamFilter.Refresh(ctx, st); errors.Is(err, spam.ErrCorrupt) {
		a.spamFilter = nil
		return a.trainSpam(ctx, st, log)
	} else if err != nil {
		return fmt.Errorf("spam filter: %w", err)
	}
	n, err := a.spamFilter.TrainMarked(ctx, st)
	if n > 0 {
		log.Info("spam filter trained from marks", "account", a.Name, "messages", n)
	}
	return err
}

// listHas reports whether list holds v, ignoring case.
func listHas(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), v) {
			return true
		}
	}
	return false
}
