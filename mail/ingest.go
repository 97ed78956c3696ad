package mail

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
	"time"

	"desk/mail/parse"
	"desk/store"
)

// fetched is one message as the mailbox holds it.
type fetched struct {
	UID          uint32
	Flags        []string
	InternalDate time.Time
	Raw          []byte
}

// Ways a message joins a ticket, shown in the thread.
const (
	byReplyKey   = "reply key"
	byReferences = "references"
	bySubject    = "subject token"
)

// ingest files one fetched message into the store, in the caller's
// transaction: it threads it into a ticket or opens one, and queues the
// thank-you for a new ticket that arrived after the first sync. It returns
// the ticket number touched (0 for none). Ingesting the same UID twice is a
// no-op, so a sync cut anywhere can simply run again.
func (a *Account) ingest(tx *store.Tx, acct *store.Account, m fetched) (int64, error) {
	if seen, err := tx.HasUID(acct.ID, m.UID); err != nil || seen {
		return 0, err
	}
	p := parse.Parse(m.Raw)
	msgID := p.MessageID
	if msgID == "" {
		sum := sha256.Sum256(m.Raw)
		msgID = "missing-id." + hex.EncodeToString(sum[:12]) + "@desk.invalid"
	}
	// A copy of something written here (a reply, a note, a thank-you), or a
	// message seen before a UIDVALIDITY change: it only gains its UID.
	if claimed, err := tx.ClaimUID(acct.ID, msgID, m.UID); err != nil || claimed {
		return 0, err
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
	switch {
	case fromDesk:
		msg.Kind = deskKind(m.Raw, p.Auto)
	case p.Auto != "":
		msg.Kind = store.KindAuto
	default:
		msg.Kind = store.KindCustomer
	}

	recipients := append(append(addrs(p.To), p.Recipients...), addrs(p.Cc)...)
	rt, _ := route(a.Address, recipients)
	ticket, how, err := a.thread(tx, acct, p, rt)
	if err != nil {
		return 0, err
	}
	if ticket == nil {
		if msg.Kind != store.KindCustomer {
			// Automated or desk-written mail that answers nothing we know
			// opens no ticket; it is kept, outside any ticket.
			return 0, tx.AddMessage(acct.ID, msg)
		}
		return a.openTicket(tx, acct, m, msg, rt, historic)
	}
	msg.TicketID, msg.ThreadedBy = ticket.ID, how
	if err := tx.AddMessage(acct.ID, msg); err != nil {
		return 0, err
	}
	if msg.Kind == store.KindCustomer && !historic {
		if ticket.State == store.StateClosed {
			if err := tx.SetState(ticket.ID, store.StateOpen); err != nil {
				return 0, err
			}
			if err := tx.QueueKeyword(ticket.ID, store.KeywordClosed, false); err != nil {
				return 0, err
			}
		}
		if rt.Unsubscribe || firstLineIs(p.Text, "unsubscribe") {
			if err := tx.SetUnsubscribed(ticket.ID); err != nil {
				return 0, err
			}
		}
	}
	return ticket.Number, nil
}

// thread finds the ticket a message belongs to, in the order DESIGN fixes:
// reply key, then In-Reply-To/References, then a [#N] subject token from a
// known participant.
func (a *Account) thread(tx *store.Tx, acct *store.Account, p *parse.Message, rt Route) (*store.Ticket, string, error) {
	if rt.ReplyKey != "" {
		t, err := tx.TicketByReplyKey(acct.ID, rt.ReplyKey)
		if t != nil || err != nil {
			return t, byReplyKey, err
		}
	}
	ids := append(append([]string{}, p.References...), p.InReplyTo...)
	if t, err := tx.TicketByMessageIDs(acct.ID, ids); t != nil || err != nil {
		return t, byReferences, err
	}
	if sm := subjectTicket.FindStringSubmatch(p.Subject); sm != nil {
		n, _ := strconv.ParseInt(sm[1], 10, 64)
		t, err := tx.TicketByNumber(acct.ID, n)
		if t == nil || err != nil {
			return nil, "", err
		}
		known, err := tx.IsParticipant(t.ID, p.From.Addr)
		if known || err != nil {
			return t, bySubject, err
		}
	}
	return nil, "", nil
}

// openTicket makes a customer message the root of a new ticket numbered by
// its UID, applies the shared state its keywords carry, and queues the
// thank-you when the mail is new.
func (a *Account) openTicket(tx *store.Tx, acct *store.Account, m fetched, msg *store.Message, rt Route, historic bool) (int64, error) {
	project := rt.Project
	if project == "" {
		project = a.DefaultProject
	}
	t := &store.Ticket{
		Number: int64(m.UID), Project: project, Subject: msg.Subject, Requester: msg.From,
		RequesterName: msg.FromName, ReplyKey: ReplyKey(m.Raw), RootMessageID: msg.MessageID, Created: msg.Date,
	}
	if err := tx.CreateTicket(acct.ID, t); err != nil {
		return 0, err
	}
	msg.TicketID = t.ID
	if err := tx.AddMessage(acct.ID, msg); err != nil {
		return 0, err
	}
	closed, labels, acked := decodeKeywords(m.Flags)
	if _, err := tx.ApplyServerKeywords(t.ID, closed, labels); err != nil {
		return 0, err
	}
	if historic || acked || msg.From == "" {
		return t.Number, nil
	}
	now := time.Now()
	ack := &store.Message{TicketID: t.ID, MessageID: store.NewMessageID(a.Address), InReplyTo: t.RootMessageID,
		From: a.Address, FromName: a.SupportBotName, To: []string{t.Requester},
		Subject: ticketSubject(t.Subject, t.Number), Date: now, Kind: store.KindAuto}
	raw, err := thankYou(a, t, ack.MessageID, now)
	if err != nil {
		return 0, err
	}
	ack.Body = bodyOf(raw)
	if err := tx.AddMessage(acct.ID, ack); err != nil {
		return 0, err
	}
	return t.Number, tx.QueueOutbox(&store.OutboxItem{AccountID: acct.ID, TicketID: t.ID, Kind: store.KindAuto,
		MessageID: ack.MessageID, Raw: raw, Rcpt: []string{t.Requester}, Claim: store.KeywordAcked, Created: now})
}

// decodeKeywords reads the shared ticket state from a root message's flags.
func decodeKeywords(flags []string) (closed bool, labels []string, acked bool) {
	for _, f := range flags {
		switch {
		case strings.EqualFold(f, store.KeywordClosed):
			closed = true
		case strings.EqualFold(f, store.KeywordAcked):
			acked = true
		case len(f) > len(store.KeywordLabelPrefix) && strings.EqualFold(f[:len(store.KeywordLabelPrefix)], store.KeywordLabelPrefix):
			labels = append(labels, strings.ToLower(f[len(store.KeywordLabelPrefix):]))
		}
	}
	sort.Strings(labels)
	return closed, labels, acked
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

// bodyOf is the decoded text of a message desk composed.
func bodyOf(raw []byte) string { return parse.Parse(raw).Text }

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
