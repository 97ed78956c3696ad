package mail

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/textproto"
	"sort"
	"strings"
	"time"

	"desk/mail/parse"
	"desk/mail/spam"
	"desk/store"
)

// fetched is one message as the mailbox holds it.
type fetched struct {
	UID          uint32
	Flags        []string
	InternalDate time.Time
	Raw          []byte
}

// prepared is a fetched message with the work that needs no store done:
// its MIME parse, Message-ID, reply key and spam token score. A sync
// prepares a batch on other cores while the previous batch is ingested.
type prepared struct {
	fetched
	p        *parse.Message
	msgID    string // a synthetic one, from the content hash, when it has none
	replyKey string // the key a reply uses when this message is a root
	// spamTokens is the spam filter's score of the tokens (customer mail
	// only), flagged whether an upstream filter marked it spam.
	spamTokens float64
	flagged    bool
}

// prepareMessage parses m and scores its tokens against the account's
// spam filter. It reads no store and changes nothing, so batches of
// messages are prepared concurrently (the filter is safe for concurrent
// use and is not replaced while a sync fetches).
func (a *Account) prepareMessage(m fetched) *prepared {
	p := parse.Parse(m.Raw)
	pm := &prepared{fetched: m, p: p, msgID: p.MessageID, replyKey: ReplyKey(m.Raw), spamTokens: 0.5}
	if pm.msgID == "" {
		sum := sha256.Sum256(m.Raw)
		pm.msgID = "missing-id." + hex.EncodeToString(sum[:12]) + "@desk.invalid"
	}
	if !isDeskAddress(a.Address, p.From.Addr) && p.Auto == "" { // customer mail: see ingest
		d := spam.DocOf(m.Raw, p)
		pm.flagged = spam.FlaggedUpstream(d.Header)
		// Until it has seen both classes the filter scores 0.5 whatever
		// the tokens: tokenising would be wasted.
		if f := a.spamFilter; f != nil {
			if ham, sp := f.Counts(); ham > 0 && sp > 0 {
				pm.spamTokens = f.Score(spam.Tokens(d))
			}
		}
	}
	return pm
}

// ingest files one prepared message into the store, in the caller's
// transaction: it threads it into a ticket or opens one, and queues the
// thank-you for a new ticket that arrived after the first sync. It returns
// the ticket number touched (0 for none). Ingesting the same UID twice is a
// no-op, so a sync cut anywhere can simply run again.
func (a *Account) ingest(tx *store.Tx, acct *store.Account, m *prepared) (int64, error) {
	p, msgID := m.p, m.msgID
	known, err := tx.Arrival(acct.ID, m.UID, msgID, m.replyKey)
	if err != nil || known.Stored {
		return 0, err
	}
	// A copy of something written here (a reply, a note, a thank-you), or a
	// message seen before a UIDVALIDITY change: it only gains its UID.
	if known.Claimable != 0 {
		return 0, tx.GiveUID(known.Claimable, m.UID)
	}
	// A byte-identical copy of a ticket's root (mail copied, or moved away
	// and back) is the same message: the ticket already shows it, so the
	// copy is kept outside any ticket, with its UID.
	if n := known.RootCopyOf; n != 0 {
		return 0, tx.AddMessage(acct.ID, &store.Message{UID: m.UID, MessageID: msgID, From: p.From.Addr,
			FromName: p.From.Name, Subject: p.Subject, Date: m.InternalDate, Kind: store.KindCustomer,
			ThreadedBy: fmt.Sprintf("copy of the root of #%d", n)})
	}
	fromDesk := isDeskAddress(a.Address, p.From.Addr)
	if fromDesk {
		// A second copy of our own mail (an APPEND repeated after a crash).
		if dup, err := tx.HasMessageID(acct.ID, msgID); err != nil || dup {
			return 0, err
		}
	}
	historic := m.UID < acct.BaselineUID
	date := p.Date
	if date.IsZero() {
		date = m.InternalDate
	}
	if date.IsZero() {
		date = time.Now()
	}
	msg := &store.Message{
		UID: m.UID, MessageID: msgID, References: p.References,
		From: p.From.Addr, FromName: p.From.Name, To: addrs(p.To), Cc: addrs(p.Cc),
		Subject: p.Subject, Date: date, Body: p.Text, AutoReason: p.Auto,
		ParseWarning: strings.Join(p.Warnings, "; "),
	}
	if len(p.InReplyTo) > 0 {
		msg.InReplyTo = p.InReplyTo[0]
	}
	for _, at := range p.Attachments {
		msg.Attachments = append(msg.Attachments, store.Attachment{Filename: at.Filename, ContentType: at.ContentType, Size: at.Size})
	}
	msg.Unverified = a.unverified(p.AuthResults, p.From.Addr)
	forwarder := ""
	if orig := a.staffForward(p); orig != nil && !fromDesk {
		// Staff forwarded a customer's mail in: the ticket is the customer's.
		forwarder = p.From.Addr
		msg.From, msg.FromName, msg.Body = orig.From.Addr, orig.From.Name, orig.Text
		if orig.Subject != "" {
			msg.Subject = orig.Subject
		}
	}
	switch {
	case fromDesk:
		msg.Kind = deskKind(m.Raw, p.Auto)
	case p.Auto != "":
		msg.Kind = store.KindAuto
	default:
		msg.Kind = store.KindCustomer
	}

	recipients := append(append(addrs(p.To), p.Recipients...), addrs(p.Cc)...)
	rt, _ := a.route(recipients)
	th, err := a.thread(tx, acct, p, msg, rt)
	if err != nil {
		return 0, err
	}
	ticket := th.ticket
	if msg.Kind == store.KindCustomer {
		if msg.SpamScore, err = a.spamScore(tx, acct, m, msg, ticket != nil); err != nil {
			return 0, err
		}
	}
	if ticket == nil {
		if msg.Kind != store.KindCustomer {
			// Automated or desk-written mail that answers nothing we know
			// opens no ticket; it is kept, outside any ticket.
			return 0, tx.AddMessage(acct.ID, msg)
		}
		msg.ThreadedBy = byNew
		n, err := a.openTicket(tx, acct, m, msg, rt, historic)
		if err != nil || forwarder == "" {
			return n, err
		}
		return n, noteForward(tx, acct, n, forwarder)
	}
	msg.TicketID, msg.ThreadedBy = ticket.ID, th.how
	if err := tx.AddMessage(acct.ID, msg); err != nil {
		return 0, err
	}
	if err := mergeInto(tx, ticket, th.merge, msg.MessageID); err != nil {
		return 0, err
	}
	if p.Report != nil {
		if err := noteDeliveryFailure(tx, ticket, p); err != nil {
			return 0, err
		}
	}
	if msg.Kind != store.KindCustomer {
		return ticket.Number, nil
	}
	// An unsubscribe request is decided by the mailbox alone, so a rebuild
	// or a teammate's client applies it too; it never reopens the ticket.
	if rt.Unsubscribe || firstLineIs(p.Text, "unsubscribe") {
		if ticket.Unsubscribed {
			return ticket.Number, nil
		}
		if err := tx.SetUnsubscribed(ticket.ID); err != nil {
			return 0, err
		}
		return ticket.Number, tx.AddEvent(ticket.ID, msg.From, "unsubscribed: no more mail leaves for this ticket")
	}
	if !historic && store.ReopensOnReply(ticket.State) && a.Send.reopenOnReply(ticket.Project) {
		if err := tx.ChangeStatus(ticket.ID, store.StateOpen, "reply from "+msg.From); err != nil {
			return 0, err
		}
	}
	return ticket.Number, nil
}

// openTicket makes a customer message the root of a new ticket numbered by
// its UID, applies the shared state its keywords carry, and queues the
// thank-you when the mail is new.
func (a *Account) openTicket(tx *store.Tx, acct *store.Account, m *prepared, msg *store.Message, rt Route, historic bool) (int64, error) {
	project := rt.Project
	if project == "" {
		project = a.DefaultProject
	}
	t := &store.Ticket{
		Number: int64(m.UID), Project: project, Subject: msg.Subject, Requester: msg.From,
		RequesterName: msg.FromName, ReplyKey: m.replyKey, RootMessageID: msg.MessageID, Created: msg.Date,
		Spam: msg.SpamScore >= a.spamThreshold(), SpamScore: msg.SpamScore,
	}
	if err := tx.OpenTicket(acct.ID, t, msg); err != nil {
		return 0, err
	}
	kw, acked := decodeKeywords(m.Flags)
	if kw.Status != "" || kw.Assignee != "" || len(kw.Labels) > 0 { // else the new ticket has them already
		if _, err := tx.ApplyServerKeywords(t.ID, kw); err != nil {
			return 0, err
		}
	}
	isSpam, err := a.spamVerdict(tx, t, m.Flags)
	if err != nil {
		return 0, err
	}
	if err := a.addCcParticipants(tx, t, msg.Cc); err != nil {
		return 0, err
	}
	if isSpam || historic || acked || msg.From == "" || parse.IsNoAnswerSender(msg.From) || !a.addressed(msg) || !a.Send.noticeOn(t.Project, store.NoticeThankYou) {
		return t.Number, nil
	}
	// Composed when it leaves, as every notice is (see worker.compose): a
	// pass that finds many new tickets stores them without composing mail
	// it may not be able to send yet.
	return t.Number, tx.QueueOutbox(&store.OutboxItem{AccountID: acct.ID, TicketID: t.ID, Kind: store.KindAuto,
		Notice: store.NoticeThankYou, MessageID: store.NewMessageID(a.Address), Rcpt: []string{t.Requester}, Claim: store.KeywordAcked})
}

// addCcParticipants makes the Cc addresses of a ticket's first mail its
// participants, up to the configured number, leaving out the desk's own
// addresses and the requester.
func (a *Account) addCcParticipants(tx *store.Tx, t *store.Ticket, cc []string) error {
	n := 0
	for _, addr := range cc {
		if n >= a.Send.maxParticipants() {
			break
		}
		if isDeskAddress(a.Address, addr) || strings.EqualFold(addr, t.Requester) {
			continue
		}
		if _, err := tx.AddParticipant(t.ID, addr, ""); err != nil {
			return err
		}
		n++
	}
	return nil
}

// decodeKeywords reads the shared ticket state from a root message's flags
// ($Desk-Closed wins over a $Desk-Status-x).
func decodeKeywords(flags []string) (kw store.ServerKeywords, acked bool) {
	closed := false
	for _, f := range flags {
		switch {
		case strings.EqualFold(f, store.KeywordClosed):
			closed = true
		case strings.EqualFold(f, store.KeywordAcked):
			acked = true
		case hasPrefixFold(f, store.KeywordLabelPrefix):
			kw.Labels = append(kw.Labels, strings.ToLower(f[len(store.KeywordLabelPrefix):]))
		case hasPrefixFold(f, store.KeywordStatusPrefix):
			kw.Status = strings.ToLower(f[len(store.KeywordStatusPrefix):])
		case hasPrefixFold(f, store.KeywordAssigneePrefix):
			kw.Assignee = store.AssigneeFromKeyword(f[len(store.KeywordAssigneePrefix):])
		}
	}
	if closed {
		kw.Status = store.StateClosed
	}
	sort.Strings(kw.Labels)
	return kw, acked
}

// hasPrefixFold reports whether f is prefix and more, ignoring case.
func hasPrefixFold(f, prefix string) bool {
	return len(f) > len(prefix) && strings.EqualFold(f[:len(prefix)], prefix)
}

// deskKind classifies mail written by desk (our own sent copies) by its
// X-Desk-Kind header; mail from the desk address without it is a reply.
func deskKind(raw []byte, auto string) string {
	h, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
	switch k := strings.ToLower(strings.TrimSpace(h.Get(HeaderKind))); k {
	case store.KindReply, store.KindNote, store.KindAuto:
		return k
	}
	if auto != "" {
		return store.KindAuto
	}
	return store.KindReply
}

// bodyOf is the decoded text of a message desk composed. With an HTML
// alternative that is the text of its text/plain part, so only that part
// is parsed, unless its text is blank: then the HTML wins, as in a parse of
// the whole mail.
func bodyOf(raw []byte) string {
	if part := plainAlternative(raw); part != nil {
		if text := parse.Parse(part).Text; strings.TrimSpace(text) != "" {
			return text
		}
	}
	return parse.Parse(raw).Text
}

func addrs(list []parse.Address) []string {
	out := make([]string, 0, len(list))
	for _, a := range list {
		if a.Addr != "" {
			out = append(out, a.Addr)
		}
	}
	return out
}

// firstLineIs reports whether the first non-empty line of text is word.
func firstLineIs(text, word string) bool {
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return strings.EqualFold(line, word)
		}
	}
	return false
}
