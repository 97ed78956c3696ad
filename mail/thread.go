package mail

import (
	"fmt"
	"slices"
	"strconv"

	"desk/mail/parse"
	"desk/store"
)

// Ways a message joins a ticket, shown in the thread.
const (
	byReplyKey   = "reply key"
	byReferences = "references"
	bySubject    = "subject token"
	byBounce     = "delivery failure"
	byNew        = "new"
)

// threading is where a message goes: its ticket (nil for a new one), why,
// and the tickets that were waiting for it and merge into the result.
type threading struct {
	ticket *store.Ticket
	how    string
	merge  []*store.Ticket
}

// thread finds the ticket a message belongs to, in the order DESIGN fixes:
//
//  1. the reply key of a desk address in To/Cc/Delivered-To…;
//  2. In-Reply-To/References naming a stored message (the nearest ancestor
//     wins); for a bounce, also the Message-IDs of the mail it returns;
//  3. a [#N] subject token from a known participant of ticket N;
//  4. a stored message of a ticket that refers to this one's parent (its
//     In-Reply-To, or else the last of its References), when the sender
//     is a participant of that ticket: a reply-all from a Cc'd participant
//     whose parent never reached the desk, or not yet.
//
// Reply-To is never read here: it names where answers go, not who writes.
//
// Tickets opened earlier by replies to this very message (it arrived after
// its answers) are merged: the message, and those tickets, all go to the
// one with the lowest number, which is the earliest root UID. Ingest runs
// in UID order on every client and on every rebuild, so the same merges
// happen everywhere and the surviving numbers stay the same.
func (a *Account) thread(tx *store.Tx, acct *store.Account, p *parse.Message, msg *store.Message, rt Route) (threading, error) {
	th, err := a.findThread(tx, acct, p, msg, rt)
	if err != nil {
		return th, err
	}
	waiting, err := tx.TicketsReferring(acct.ID, []string{msg.MessageID})
	if err != nil {
		return th, err
	}
	var group []*store.Ticket
	if th.ticket != nil {
		group = append(group, th.ticket)
	}
	for _, t := range waiting {
		if th.ticket != nil && t.ID == th.ticket.ID {
			continue
		}
		if ok, err := tx.IsParticipant(t.ID, msg.From); err != nil || !ok {
			if err != nil {
				return th, err
			}
			continue
		}
		group = append(group, t)
	}
	if len(group) == 0 {
		return th, nil
	}
	slices.SortFunc(group, func(x, y *store.Ticket) int { return int(x.Number - y.Number) })
	if th.ticket == nil {
		th.how = byReferences
	}
	th.ticket, th.merge = group[0], group[1:]
	return th, nil
}

// findThread applies the order of thread to the message alone.
func (a *Account) findThread(tx *store.Tx, acct *store.Account, p *parse.Message, msg *store.Message, rt Route) (threading, error) {
	if rt.ReplyKey != "" {
		t, err := tx.TicketByReplyKey(acct.ID, rt.ReplyKey)
		if t != nil || err != nil {
			return threading{ticket: t, how: byReplyKey}, err
		}
	}
	ids := append(append([]string{}, p.References...), p.InReplyTo...)
	if t, err := tx.TicketByMessageIDs(acct.ID, ids); t != nil || err != nil {
		return threading{ticket: t, how: byReferences}, err
	}
	if p.Report != nil {
		if t, err := tx.TicketByMessageIDs(acct.ID, p.Report.OriginalIDs); t != nil || err != nil {
			return threading{ticket: t, how: byBounce}, err
		}
	}
	if sm := subjectTicket.FindStringSubmatch(p.Subject); sm != nil {
		n, _ := strconv.ParseInt(sm[1], 10, 64)
		t, err := tx.TicketByNumber(acct.ID, n)
		if err != nil {
			return threading{}, err
		}
		if t != nil {
			known, err := tx.IsParticipant(t.ID, msg.From)
			if known || err != nil {
				return threading{ticket: t, how: bySubject}, err
			}
		}
	}
	siblings, err := tx.TicketsReferring(acct.ID, parentIDs(p))
	if err != nil {
		return threading{}, err
	}
	for _, t := range siblings {
		if ok, err := tx.IsParticipant(t.ID, msg.From); ok || err != nil {
			return threading{ticket: t, how: byReferences}, err
		}
	}
	return threading{}, nil
}

// mergeInto moves the tickets that were waiting for a message into the
// ticket it threaded into, noting each merge on the surviving ticket.
func mergeInto(tx *store.Tx, into *store.Ticket, from []*store.Ticket, msgID string) error {
	for _, t := range from {
		if err := tx.MergeTicket(into.ID, t.ID); err != nil {
			return err
		}
		what := fmt.Sprintf("merged ticket #%d into this one: its mail answers <%s>, which arrived later", t.Number, msgID)
		if err := tx.AddEvent(into.ID, "", what); err != nil {
			return err
		}
	}
	return nil
}

// parentIDs is the Message-ID a message answers: In-Reply-To, or else the
// last of References (RFC 5322 section 3.6.4).
func parentIDs(p *parse.Message) []string {
	if len(p.InReplyTo) > 0 {
		return p.InReplyTo
	}
	if n := len(p.References); n > 0 {
		return p.References[n-1:]
	}
	return nil
}
