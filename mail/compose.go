package mail

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	gomail "github.com/emersion/go-message/mail"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

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
	Cc              []gomail.Address
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
	// Body is Markdown: sent as it is in text/plain, and rendered to HTML
	// as the alternative unless Plain is set (internal notes).
	Body  string
	Plain bool
	Files []string // paths of files to attach
}

// setAddresses sets a header to a list of addresses (none: not set).
func setAddresses(h *gomail.Header, key string, list []gomail.Address) {
	if len(list) == 0 {
		return
	}
	ptrs := make([]*gomail.Address, len(list))
	for i := range list {
		ptrs[i] = &list[i]
	}
	h.SetAddressList(key, ptrs)
}

// bytes renders the draft as an RFC 5322 message: a UTF-8 quoted-printable
// text/plain body, with an HTML alternative and attachments when it has
// them.
func (d *draft) bytes() ([]byte, error) {
	var h gomail.Header
	h.SetDate(d.Date)
	setAddresses(&h, "From", []gomail.Address{d.From})
	setAddresses(&h, "To", d.To)
	setAddresses(&h, "Cc", d.Cc)
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
		h.Set(headerTicket, strconv.FormatInt(d.Ticket, 10))
	}
	h.Set("MIME-Version", "1.0")
	body := strings.ReplaceAll(d.Body, "\r\n", "\n")
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	// Room for the header and the body twice over (text and HTML, each
	// a little longer for its quoted-printable encoding), so that the
	// buffer is not copied as it grows.
	var buf bytes.Buffer
	buf.Grow(2048 + 3*len(body))
	if err := d.write(&buf, h, body); err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	return buf.Bytes(), nil
}

// write writes the header and the body parts.
func (d *draft) write(buf *bytes.Buffer, h gomail.Header, body string) error {
	if d.Plain && len(d.Files) == 0 {
		h.Set("Content-Type", textType("text/plain"))
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		w, err := gomail.CreateSingleInlineWriter(buf, h)
		if err != nil {
			return err
		}
		return writeText(w, body)
	}
	var html bytes.Buffer
	if !d.Plain {
		html.Grow(256 + 2*len(body))
		html.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n")
		if err := markdown.Convert(markdownSource(body), &html); err != nil {
			return err
		}
		html.WriteString("</body></html>\n")
	}
	var mw *gomail.Writer
	var alt *gomail.InlineWriter
	var err error
	if len(d.Files) == 0 {
		alt, err = gomail.CreateInlineWriter(buf, h)
	} else if mw, err = gomail.CreateWriter(buf, h); err == nil {
		alt, err = mw.CreateInline()
	}
	if err != nil {
		return err
	}
	if err := textPart(alt, "text/plain", body); err != nil {
		return err
	}
	if !d.Plain {
		if err := textPart(alt, "text/html", html.String()); err != nil {
			return err
		}
	}
	if err := alt.Close(); err != nil || mw == nil {
		return err
	}
	for _, path := range d.Files {
		if err := attach(mw, path); err != nil {
			return err
		}
	}
	return mw.Close()
}

// plainAlternative returns the text/plain part of a mail that write made
// with an HTML alternative: a header that starts with its
// multipart/alternative Content-Type, and a body whose first part is the
// text, up to the next delimiter line. It returns nil for any other mail.
func plainAlternative(raw []byte) []byte {
	rest, ok := bytes.CutPrefix(raw, []byte("Content-Type: multipart/alternative;\r\n boundary="))
	if !ok {
		return nil
	}
	boundary, _, _ := bytes.Cut(rest, []byte("\r\n"))
	if len(boundary) == 0 || strings.Trim(string(boundary), "0123456789abcdef") != "" {
		return nil
	}
	delim := "\r\n--" + string(boundary)
	_, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	part, ok := bytes.CutPrefix(body, []byte(delim[2:]+"\r\n"))
	if !ok {
		return nil
	}
	// The first line that starts with the delimiter ends the part; it must
	// end with a CRLF line end, and be a delimiter line as a whole.
	end := bytes.Index(part, []byte(delim[1:]))
	if end < 1 || part[end-1] != '\r' {
		return nil
	}
	if after := part[end+len(delim)-1:]; !bytes.HasPrefix(after, []byte("\r\n")) && !bytes.HasPrefix(after, []byte("--\r\n")) {
		return nil
	}
	part = part[:end-1]
	if !bytes.HasPrefix(part, []byte("Content-Disposition: inline\r\nContent-Transfer-Encoding: quoted-printable\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\n")) {
		return nil
	}
	return part
}

// textPart writes one quoted-printable UTF-8 part of a multipart/alternative.
func textPart(alt *gomail.InlineWriter, contentType, text string) error {
	var ph gomail.InlineHeader
	ph.Set("Content-Type", textType(contentType))
	ph.Set("Content-Transfer-Encoding", "quoted-printable")
	w, err := alt.CreatePart(ph)
	if err != nil {
		return err
	}
	return writeText(w, text)
}

// textType is the Content-Type of UTF-8 text of a media type, as
// SetContentType writes it, without building and sorting a map of
// parameters for each part.
func textType(mediaType string) string { return mediaType + "; charset=utf-8" }

// writeText writes text with CRLF line ends and closes w.
func writeText(w io.WriteCloser, text string) error {
	if _, err := io.WriteString(w, strings.ReplaceAll(text, "\n", "\r\n")); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// attach adds the file at path as a base64 attachment named by its base
// name, typed by its extension.
func attach(mw *gomail.Writer, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("attachment: %w", err)
	}
	ct := mime.TypeByExtension(filepath.Ext(path))
	if ct == "" {
		ct = "application/octet-stream"
	}
	var ah gomail.AttachmentHeader
	ah.SetContentType(ct, nil)
	ah.SetFilename(filepath.Base(path))
	ah.Set("Content-Transfer-Encoding", "base64")
	w, err := mw.CreateAttachment(ah)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// markdown renders staff-written Markdown (CommonMark plus GitHub tables,
// strikethrough and autolinks). Raw HTML in the input is dropped, not
// passed on: goldmark's default renderer is not "unsafe".
var markdown = goldmark.New(goldmark.WithExtensions(extension.GFM))

// markdownSource is the Markdown of a mail's text: a signature separator
// ("-- " or "--" alone on a line, RFC 3676) starts a paragraph of its own
// with a line break after it, instead of turning the line above it into
// a heading (Markdown reads a line of dashes under text as a "setext"
// underline).
func markdownSource(text string) []byte {
	if !strings.Contains(text, "\n--") {
		return []byte(text)
	}
	lines := strings.Split(text, "\n")
	var b strings.Builder
	b.Grow(len(text) + 8)
	for i, line := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		if i > 0 && strings.TrimRight(line, " ") == "--" && strings.TrimSpace(lines[i-1]) != "" {
			b.WriteString("\n--\\")
			continue
		}
		b.WriteString(line)
	}
	return []byte(b.String())
}

var (
	replyPrefix = regexp.MustCompile(`(?i)^\s*((re|fwd?|aw|sv|wg)\s*(\[\d+\])?\s*:\s*)+`)
	ticketToken = regexp.MustCompile(`\s*\[#\d+\]`)
	// subjectTicket finds the [#N] token customers keep when they answer.
	subjectTicket = regexp.MustCompile(`\[#(\d+)\]`)
)

// ticketSubject is the subject of mail desk sends about ticket n:
// "Re: <subject without reply prefixes or old tokens> [#n]".
// The expressions run only on subjects that have what they need to match:
// "[#" for a token, a colon for a prefix.
func ticketSubject(subject string, n int64) string {
	s := subject
	if strings.Contains(s, "[#") {
		s = ticketToken.ReplaceAllString(s, "")
	}
	if strings.IndexByte(s, ':') >= 0 {
		s = replyPrefix.ReplaceAllString(s, "")
	}
	if s = strings.TrimSpace(s); s == "" {
		s = "Your request"
	}
	return "Re: " + s + " [#" + strconv.FormatInt(n, 10) + "]"
}

// noticeMail composes an automated notice about a ticket from the
// project's template, threaded under the ticket's root.
func noticeMail(a *Account, t *store.Ticket, notice, messageID string, now time.Time, to []string) ([]byte, error) {
	var rcpt []gomail.Address
	for _, addr := range to {
		name := ""
		if addr == t.Requester {
			name = t.RequesterName
		}
		rcpt = append(rcpt, gomail.Address{Name: name, Address: addr})
	}
	d := draft{
		From:            gomail.Address{Name: a.projectName(t.Project) + " Support", Address: a.Address},
		To:              rcpt,
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
		Body:            a.noticeBody(t, notice, ""),
	}
	return d.bytes()
}

// staffMail composes a queued staff reply or internal note. A reply goes to
// the requester, with the ticket's external participants in Cc, its body
// wrapped in the project's new_note template when that is on; a note is
// addressed to the desk itself and only appended.
func staffMail(a *Account, t *store.Ticket, thread []*store.Message, o *store.OutboxItem, cc ...store.Participant) ([]byte, []string, error) {
	project := a.projectName(t.Project)
	author := o.Author
	if author == "" {
		author = "Staff"
	}
	d := draft{
		From:      gomail.Address{Name: a.Send.fromName(author, project), Address: a.Address},
		ReplyTo:   ReplyAddress(a.Address, t.Project, t.ReplyKey),
		Subject:   ticketSubject(t.Subject, t.Number),
		MessageID: o.MessageID,
		Date:      o.Created,
		Kind:      o.Kind,
		Ticket:    t.Number,
		Body:      o.Body,
		Files:     o.Files,
	}
	d.InReplyTo, d.References = threadParent(thread, o.MessageID)
	if o.Kind == store.KindNote {
		d.From.Name = author + " via " + project + " Support"
		d.To = []gomail.Address{{Name: project + " Support", Address: a.Address}}
		d.ReplyTo = ""
		d.Plain = true
		raw, err := d.bytes()
		return raw, nil, err
	}
	if a.Send.noticeOn(t.Project, store.NoticeNewNote) {
		d.Body = a.noticeBody(t, store.NoticeNewNote, o.Body)
	}
	rcpt := []string{t.Requester}
	d.To = []gomail.Address{{Name: t.RequesterName, Address: t.Requester}}
	for _, p := range cc {
		if !strings.EqualFold(p.Addr, t.Requester) && !isDeskAddress(a.Address, p.Addr) {
			rcpt = append(rcpt, p.Addr)
			d.Cc = append(d.Cc, gomail.Address{Name: p.Name, Address: p.Addr})
		}
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
