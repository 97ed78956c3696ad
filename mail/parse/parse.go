// Package parse turns raw RFC 5322 messages into what the desk needs:
// addresses, threading ids, a readable text body, a list of attachments and
// whether the mail is automated.
//
// Parse never fails and never panics. What cannot be decoded is kept as
// received (or, when it is not UTF-8, read in the CJK charset it plausibly
// is in or as windows-1252) and described in
// Message.Warnings. Every string in a Message is valid UTF-8, but none is
// made safe for a terminal: pass them through tui/sanitize before display.
package parse

import (
	"bytes"
	"fmt"
	"mime"
	netmail "net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// Address is one mailbox: display name and lower-cased addr-spec.
type Address struct{ Name, Addr string }

// Attachment describes one attached part.
type Attachment struct {
	Filename, ContentType string
	Size                  int
	// Data is the decoded content, kept only by ParseWithContent (and not
	// for uuencoded blocks).
	Data []byte
}

// Message is a parsed mail.
//
// When several reasons for Auto apply, the first of bounce, auto-submitted,
// autoreply, precedence, list and null-return-path is given.
type Message struct {
	MessageID   string   // without angle brackets; "" if missing
	InReplyTo   []string // message ids without brackets
	References  []string
	From        Address
	To, Cc      []Address
	ReplyTo     []Address
	Recipients  []string  // extra delivery addresses, lower-cased and without duplicates, in this order of headers: Delivered-To, X-Delivered-To, Envelope-To, X-Envelope-To, X-Original-To, X-Forwarded-To (all occurrences), then the "for" clause of each Received field, topmost first
	Subject     string    // decoded (RFC 2047), unfolded
	Date        time.Time // zero if missing or unparseable (with a warning when unparseable)
	Text        string    // readable body: text/plain preferred, HTML converted to text, attached messages shown as a "---- Forwarded message ----" block
	Attachments []Attachment
	Auto        string   // why this is automated mail that must never get an automatic answer, "" if human: "bounce", "auto-submitted", "autoreply", "noreply", "precedence", "list", "null-return-path"
	Warnings    []string // human-readable parse problems, e.g. `unknown charset "x-foo": shown as received`
	// Report is what a bounce or another machine report says about the
	// mail it reports on; nil unless Auto is "bounce".
	Report *Report
	// Attached is the first message attached to this one (message/rfc822),
	// e.g. a forwarded mail; nil if none.
	Attached *Inner
	// AuthResults are the raw values of the Authentication-Results fields,
	// newest (topmost) first.
	AuthResults []string
}

// recipientHeaders are the fields that name the address a mail was
// delivered to, in the order they are read into Message.Recipients.
var recipientHeaders = []string{
	"Delivered-To", "X-Delivered-To", "Envelope-To", "X-Envelope-To", "X-Original-To", "X-Forwarded-To",
}

// Parse parses one raw message. It always returns a Message.
func Parse(raw []byte) *Message { return parse(raw, false) }

// ParseWithContent is Parse that also keeps each attachment's decoded
// content, for saving it; the sync never needs it.
func ParseWithContent(raw []byte) *Message { return parse(raw, true) }

func parse(raw []byte, keepData bool) *Message {
	p := &parser{msg: &Message{}, warned: map[string]bool{}, keepData: keepData}
	defer func() {
		if r := recover(); r != nil {
			p.warnf("internal error, the message may be incomplete: %v", r)
		}
	}()
	p.parse(raw)
	return p.msg
}

// parser carries the message being filled and its warnings through one
// Parse call.
type parser struct {
	msg      *Message
	parts    int             // MIME entities visited so far
	warned   map[string]bool // warnings already given, to give each once
	reported bool            // a machine report part (reportTypes) was seen
	report   Report          // what the report parts say
	keepData bool            // keep attachment contents (ParseWithContent)
}

// warnf adds a warning unless the same one was already given.
func (p *parser) warnf(format string, args ...any) {
	w := validUTF8(fmt.Sprintf(format, args...))
	if p.warned[w] {
		return
	}
	p.warned[w] = true
	p.msg.Warnings = append(p.msg.Warnings, w)
}

// parse fills p.msg from raw.
func (p *parser) parse(raw []byte) {
	m := p.msg
	h, body := p.readMessage(raw)
	if len(bytes.TrimSpace(body)) == 0 {
		p.warnf("message has no body")
	}

	m.MessageID = p.messageID(h)
	m.InReplyTo = p.msgIDList(h, "In-Reply-To")
	m.References = p.msgIDList(h, "References")
	if from := p.addressList(h, "From"); len(from) > 0 {
		m.From = from[0]
	}
	m.To = p.addressList(h, "To")
	m.Cc = p.addressList(h, "Cc")
	m.ReplyTo = p.addressList(h, "Reply-To")
	m.Recipients = p.recipients(h)
	m.Subject = p.line(h, "Subject")
	m.Date = p.date(h)

	for _, v := range h.Values("Authentication-Results") {
		m.AuthResults = append(m.AuthResults, p.fixHeader("Authentication-Results", v))
	}

	c := p.entity(h.Header, body, 0, "text/plain")
	m.Text = cleanText(c.plain())
	m.Attachments = c.atts

	m.Auto = p.autoReason(h)
	if m.Auto == "bounce" {
		p.finishReport(h, m.Text)
		m.Report = &p.report
	}
}

// readMessage splits raw into its parsed header and its body.
func (p *parser) readMessage(raw []byte) (mail.Header, []byte) {
	// Classic Mac files end lines with a bare CR.
	if bytes.IndexByte(raw, '\n') < 0 {
		raw = bytes.ReplaceAll(raw, []byte("\r"), []byte("\n"))
	}
	// An mbox file starts with a "From " envelope line.
	if bytes.HasPrefix(raw, []byte("From ")) {
		_, raw, _ = bytes.Cut(raw, []byte("\n"))
	}
	h, body := p.readHeader(raw)
	return mail.Header{Header: h}, body
}

// readHeader splits an entity (a whole message or one MIME part) into its
// header and its body. Problems are reported as warnings, and whatever does
// not look like a header is kept as body.
//
// It reads the fields itself, in the scan that finds where the header
// ends, and adds them as textproto.ReadHeader would have read them: with
// the same keys and values, in the same order. (The scan keeps only lines
// that ReadHeader reads without error: fields with a valid name and their
// continuation lines.)
func (p *parser) readHeader(raw []byte) (message.Header, []byte) {
	if trimmed := bytes.TrimLeft(raw, " \t"); len(trimmed) < len(raw) && isField(firstLine(trimmed)) {
		p.warnf("header starts with white space")
		raw = trimmed
	}
	var fields [][]byte // each field with its continuation lines
	body := len(raw)    // the body is raw[body:]
	start := 0          // the start of the field being read
scan:
	for pos := 0; pos < len(raw); {
		next := len(raw)
		if i := bytes.IndexByte(raw[pos:], '\n'); i >= 0 {
			next = pos + i + 1
		}
		line := bytes.TrimRight(raw[pos:next], "\r\n")
		switch {
		case len(line) == 0:
			body = next
			break scan
		case pos > 0 && (line[0] == ' ' || line[0] == '\t'):
			fields[len(fields)-1] = raw[start:next]
		case isField(line):
			start = pos
			fields = append(fields, raw[start:next])
		case pos == 0:
			p.warnf("no header found: everything is shown as body")
			body = 0
			break scan
		default:
			p.warnf("header not followed by a blank line")
			body = pos
			break scan
		}
		pos = next
	}
	var h textproto.Header
	for i := len(fields) - 1; i >= 0; i-- { // ReadHeader keeps them last first
		f := fields[i]
		if f[len(f)-1] != '\n' {
			// The last line of a header without a body: ReadHeader keeps
			// a CR that ends it, and AddRaw would drop it.
			f = append(f[:len(f):len(f)], '\r', '\n')
		}
		h.AddRaw(f)
	}
	return message.Header{Header: h}, raw[body:]
}

// isField reports whether line starts a header field: a name of printable
// ASCII other than colon, then a colon (RFC 5322 section 2.2; spaces
// before the colon are obsolete syntax but still seen).
func isField(line []byte) bool {
	i := 0
	for i < len(line) && '!' <= line[i] && line[i] <= '~' && line[i] != ':' {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	return i < len(line) && line[i] == ':'
}

// firstLine returns b up to its first line end.
func firstLine(b []byte) []byte {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return line
}

// value returns the first field named key, unfolded and as valid UTF-8. Raw
// 8-bit bytes that are not UTF-8 are read by read8bit (a CJK charset they
// plausibly are in, or windows-1252).
func (p *parser) value(h mail.Header, key string) string {
	return p.fixHeader(key, h.Get(key))
}

// fixHeader returns v, the raw value of the field key, as valid UTF-8.
func (p *parser) fixHeader(key, v string) string {
	if isUTF8(v) {
		return v
	}
	s, guessed := read8bit([]byte(v))
	p.warnf("%s: not UTF-8, read as %s", key, guessed)
	return s
}

// line returns the decoded text of the field key on a single line.
func (p *parser) line(h mail.Header, key string) string {
	return strings.Join(strings.Fields(p.decodeWords(p.value(h, key))), " ")
}

// addressList parses the address list in the first field named key. When the
// list is malformed it keeps every address it can still find.
func (p *parser) addressList(h mail.Header, key string) []Address {
	v := p.value(h, key)
	if strings.TrimSpace(v) == "" {
		return nil
	}
	list, ok := p.parseAddresses(v)
	if !ok {
		p.warnf("malformed %s header: kept the addresses that could be read", key)
	}
	return list
}

// parseAddresses parses the address list v. When v is malformed it returns
// the addresses it can still find and false.
func (p *parser) parseAddresses(v string) ([]Address, bool) {
	ap := netmail.AddressParser{WordDecoder: &mime.WordDecoder{CharsetReader: p.wordCharset}}
	list, err := ap.ParseList(v)
	if err == nil {
		out := make([]Address, 0, len(list))
		for _, a := range list {
			out = append(out, Address{Name: p.name(a.Name), Addr: strings.ToLower(a.Address)})
		}
		return out, true
	}
	var out []Address
	for piece := range strings.SplitSeq(v, ",") {
		if a, err := ap.Parse(piece); err == nil {
			out = append(out, Address{Name: p.name(a.Name), Addr: strings.ToLower(a.Address)})
		} else if addr := looseAddr(piece); addr != "" {
			out = append(out, Address{Addr: addr})
		}
	}
	return out, false
}

// name cleans a display name that net/mail parsed, decoding the encoded
// words it left alone because they were malformed.
func (p *parser) name(s string) string {
	return cleanName(p.decodeWords(s))
}

// cleanName puts a display name on one line.
func cleanName(s string) string {
	return strings.Join(strings.Fields(validUTF8(s)), " ")
}

// angleRe finds text between angle brackets.
var angleRe = regexp.MustCompile(`<([^<>]*)>`)

// looseAddr finds something that looks like an address in s: the text in
// angle brackets if it holds an @, else the first word with an @.
func looseAddr(s string) string {
	for _, m := range angleRe.FindAllStringSubmatch(s, -1) {
		if a := strings.TrimSpace(m[1]); strings.Contains(a, "@") {
			return strings.ToLower(a)
		}
	}
	for f := range strings.FieldsSeq(s) {
		if f = strings.Trim(f, `<>"'(),;:[]`); strings.Contains(f, "@") {
			return strings.ToLower(f)
		}
	}
	return ""
}

// recipients collects the delivery addresses of recipientHeaders.
func (p *parser) recipients(h mail.Header) []string {
	var out []string
	seen := map[string]bool{}
	for _, key := range recipientHeaders {
		for _, v := range h.Values(key) {
			// These fields are often free text ("mailing list x@y"), so a
			// malformed one is no news worth a warning.
			list, _ := p.parseAddresses(p.fixHeader(key, v))
			for _, a := range list {
				if a.Addr != "" && !seen[a.Addr] {
					seen[a.Addr] = true
					out = append(out, a.Addr)
				}
			}
		}
	}
	for _, v := range h.Values("Received") {
		if addr := receivedFor(v); addr != "" {
			if addr = strings.ToLower(addr); !seen[addr] {
				seen[addr] = true
				out = append(out, addr)
			}
		}
	}
	return out
}

// receivedFor returns the address of the first "for" clause of the
// Received field value v (RFC 5321 section 4.4: the envelope recipient the
// hop delivered to), or "". It matches what the regular expression
//
//	(?i)\bfor\s+<?([^\s<>;"]+@[^\s<>;"]+?)>?\s*(?:;|$|\()
//
// would capture, but scans by hand: the expression, tried at every
// position of every Received field, was a costly step of parsing.
func receivedFor(v string) string {
	for i := 0; i+3 <= len(v); i++ {
		if v[i]|0x20 != 'f' || v[i+1]|0x20 != 'o' || v[i+2]|0x20 != 'r' || i > 0 && isWordByte(v[i-1]) {
			continue
		}
		start := skipBlanks(v, i+3)
		if start == i+3 {
			continue
		}
		if start < len(v) && v[start] == '<' {
			start++
		}
		end := start // the run of address characters
		for end < len(v) && !isBlank(v[end]) && !strings.ContainsRune(`<>;"`, rune(v[end])) {
			end++
		}
		// The last "@" with text on both sides that some end of the
		// address follows: a "(" inside the run, or the run's end.
		for at := end - 2; at > start; at-- {
			if v[at] != '@' {
				continue
			}
			for stop := at + 2; stop < end; stop++ {
				if v[stop] == '(' {
					return v[start:stop]
				}
			}
			if addressEnds(v, end) {
				return v[start:end]
			}
		}
	}
	return ""
}

// addressEnds reports whether what follows an address at v[i:] ends the
// "for" clause of a Received field: an optional ">" and blanks, then ";",
// "(" or the end of v.
func addressEnds(v string, i int) bool {
	if i < len(v) && v[i] == '>' {
		i++
	}
	i = skipBlanks(v, i)
	return i == len(v) || v[i] == ';' || v[i] == '('
}

// isWordByte reports whether c is an ASCII word character, [0-9A-Za-z_].
func isWordByte(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

// messageID returns the Message-ID without angle brackets.
func (p *parser) messageID(h mail.Header) string {
	id, err := h.MessageID()
	if err == nil {
		return id
	}
	p.warnf("malformed Message-ID header: kept as received")
	if ids := looseIDs(p.value(h, "Message-Id")); len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// msgIDList returns the message ids of the field key (In-Reply-To or
// References) without angle brackets.
func (p *parser) msgIDList(h mail.Header, key string) []string {
	ids, err := h.MsgIDList(key)
	if err == nil {
		return ids
	}
	p.warnf("malformed %s header: kept the ids that could be read", key)
	return looseIDs(p.value(h, key))
}

// looseIDs finds message ids in a malformed field: everything in angle
// brackets, or else every word with an @.
func looseIDs(v string) []string {
	var ids []string
	for _, m := range angleRe.FindAllStringSubmatch(v, -1) {
		if id := strings.Join(strings.Fields(m[1]), ""); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) > 0 {
		return ids
	}
	for f := range strings.FieldsSeq(strings.ReplaceAll(v, ",", " ")) {
		if f = strings.Trim(f, `<>"'();`); strings.Contains(f, "@") {
			ids = append(ids, f)
		}
	}
	return ids
}

// looseDateLayouts are broken Date forms seen in real mail, tried when
// net/mail cannot parse a date. A date without a zone is read as UTC.
var looseDateLayouts = []string{
	"Mon, _2 Jan 2006 15:04:05",
	"Mon _2 Jan 2006 15:04:05 -0700",
	"Mon Jan _2 15:04:05 2006",
}

// date parses the Date field; it is zero when missing or unparseable. When
// a message has several Date fields, the first one that parses wins.
func (p *parser) date(h mail.Header) time.Time {
	values := h.Values("Date")
	for _, v := range values {
		if t, err := parseDate(v); err == nil {
			return t
		}
	}
	for _, v := range values {
		v = strings.Join(strings.Fields(p.fixHeader("Date", v)), " ")
		for _, layout := range looseDateLayouts {
			if t, err := time.Parse(layout, v); err == nil {
				p.warnf("malformed Date header %s: read leniently", quote(v))
				return t
			}
		}
	}
	if len(values) > 0 {
		p.warnf("unparseable Date header %s: date left empty", quote(p.value(h, "Date")))
	}
	return time.Time{}
}

// usualDateLayout is the usual form of a Date field, RFC 5322's with the
// day of the week: the first of net/mail's layouts to begin so, after 24
// without it.
const usualDateLayout = "Mon, 2 Jan 2006 15:04:05 -0700"

// parseDate is netmail.ParseDate, but tries the usual form of a Date
// field first. A value in that form has nothing that ParseDate trims (line
// breaks, blanks, a trailing comment), so ParseDate would return the same
// time, only after failing with 24 layouts.
func parseDate(v string) (time.Time, error) {
	if t, err := time.Parse(usualDateLayout, v); err == nil {
		return t, nil
	}
	return netmail.ParseDate(v)
}

// quote quotes a value taken from the mail for a warning, cut to a
// reasonable length.
func quote(s string) string {
	const max = 60
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
