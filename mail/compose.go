package mail

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"desk/store"
)

// HeaderKind marks mail written by desk with its kind (reply, note, auto),
// so that a rebuild from the mailbox classifies it again.
const HeaderKind = "X-Desk-Kind"

// headerTicket carries the ticket number on mail written by desk.
const headerTicket = "X-Desk-Ticket"

// draft is a mail desk writes.
type draft struct {
	From            gomail.Address
	To              []gomail.Address
	ReplyTo         string
	Subject         string
	MessageID       string
	InReplyTo       string
	References      []string
	Date            time.Time
	Kind            string
	Ticket          int64
	AutoSubmitted   bool
	ListUnsubscribe string
	Body            string
}

// bytes renders the draft as an RFC 5322 message with a UTF-8
// quoted-printable text/plain body.
func (d *draft) bytes() ([]byte, error) {
	var h gomail.Header
	h.SetDate(d.Date)
	from := d.From
	h.SetAddressList("From", []*gomail.Address{&from})
	to := make([]*gomail.Address, len(d.To))
	for i := range d.To {
		to[i] = &d.To[i]
	}
	h.SetAddressList("To", to)
	if d.ReplyTo != "" {
		h.SetAddressList("Reply-To", []*gomail.Address{{Address: d.ReplyTo}})
	}
	h.SetSubject(d.Subject)
	h.SetMessageID(d.MessageID)
	if d.InReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{d.InReplyTo})
	}
	if len(d.References) > 0 {
		h.SetMsgIDList("References", d.References)
	}
	if d.AutoSubmitted {
		h.Set("Auto-Submitted", "auto-replied")
	}
	if d.ListUnsubscribe != "" {
		h.Set("List-Unsubscribe", "<mailto:"+d.ListUnsubscribe+">")
	}
	h.Set(HeaderKind, d.Kind)
	if d.Ticket != 0 {
		h.Set(headerTicket, fmt.Sprint(d.Ticket))
	}
	h.Set("MIME-Version", "1.0")
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	var buf bytes.Buffer
	w, err := gomail.CreateSingleInlineWriter(&buf, h)
	if err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	body := strings.ReplaceAll(d.Body, "\r\n", "\n")
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	if _, err := w.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n"))); err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	return buf.Bytes(), nil
}

var (
	replyPrefix = regexp.MustCompile(`(?i)^\s*((re|fwd?|aw|sv|wg)\s*(\[\d+\])?\s*:\s*)+`)
	ticketToken = regexp.MustCompile(`\s*\[#\d+\]`)
	// subjectTicket finds the [#N] token customers keep when they answer.
	subjectTicket = regexp.MustCompile(`\[#(\d+)\]`)
)

// ticketSubject is the subject of mail desk sends about ticket n:
// "Re: <subject without reply prefixes or old tokens> [#n]".
func ticketSubject(subject string, n int64) string {
	s := replyPrefix.ReplaceAllString(subject, "")
	s = strings.TrimSpace(ticketToken.ReplaceAllString(s, ""))
	if s == "" {
		s = "Your request"
	}
	return fmt.Sprintf("Re: %s [#%d]", s, n)
}

// thankYou composes the automated acknowledgement of a new ticket.
func thankYou(a *Account, t *store.Ticket, messageID string, now time.Time) ([]byte, error) {
	project := a.projectName(t.Project)
	body := fmt.Sprintf(`Hello,

Thank you for contacting %s Support. We have received your request and
opened ticket #%d: %s

A member of our team will answer soon. To add information, reply to this
mail and keep [#%d] in the subject.

To stop receiving mail about this ticket, write to %s
or reply with "unsubscribe" as the first line.

-- 
%s Support
`, project, t.Number, oneLine(t.Subject), t.Number, UnsubscribeAddress(a.Address, t.ReplyKey), project)
	d := draft{
		From:            gomail.Address{Name: project + " Support", Address: a.Address},
		To:              []gomail.Address{{Name: t.RequesterName, Address: t.Requester}},
		ReplyTo:         ReplyAddress(a.Address, t.Project, t.ReplyKey),
		Subject:         ticketSubject(t.Subject, t.Number),
		MessageID:       messageID,
		InReplyTo:       t.RootMessageID,
		References:      []string{t.RootMessageID},
		Date:            now,
		Kind:            store.KindAuto,
		Ticket:          t.Number,
		AutoSubmitted:   true,
		ListUnsubscribe: UnsubscribeAddress(a.Address, t.ReplyKey),
		Body:            body,
	}
	return d.bytes()
}

// staffMail composes a queued staff reply or internal note. A reply goes to
// the requester; a note is addressed to the desk itself and only appended.
func staffMail(a *Account, t *store.Ticket, thread []*store.Message, o *store.OutboxItem) ([]byte, []string, error) {
	project := a.projectName(t.Project)
	author := o.Author
	if author == "" {
		author = "Staff"
	}
	d := draft{
		From:      gomail.Address{Name: author + " via " + project + " Support", Address: a.Address},
		ReplyTo:   ReplyAddress(a.Address, t.Project, t.ReplyKey),
		Subject:   ticketSubject(t.Subject, t.Number),
		MessageID: o.MessageID,
		Date:      o.Created,
		Kind:      o.Kind,
		Ticket:    t.Number,
		Body:      o.Body,
	}
	d.InReplyTo, d.References = threadParent(thread, o.MessageID)
	rcpt := []string{t.Requester}
	d.To = []gomail.Address{{Name: t.RequesterName, Address: t.Requester}}
	if o.Kind == store.KindNote {
		rcpt = nil
		d.To = []gomail.Address{{Name: project + " Support", Address: a.Address}}
		d.ReplyTo = ""
	}
	raw, err := d.bytes()
	return raw, rcpt, err
}

// threadParent picks, for a new message, the message it answers (the
// newest mail before it that is not an internal note) and the References
// chain (every mail of the thread up to the parent, at most 20: the root
// and the newest).
func threadParent(thread []*store.Message, self string) (parent string, refs []string) {
	var ids []string
	for _, m := range thread {
		if m.MessageID == self {
			break
		}
		if m.Kind == store.KindNote || m.MessageID == "" {
			continue
		}
		ids = append(ids, m.MessageID)
	}
	if len(ids) == 0 {
		return "", nil
	}
	if len(ids) > 20 {
		ids = append(ids[:1], ids[len(ids)-19:]...)
	}
	return ids[len(ids)-1], ids
}

// oneLine folds a header-ish string onto one line for a mail body.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
