package parse

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset" // also registers the charsets with go-message
	"github.com/emersion/go-message/mail"
	"github.com/k3a/html2text"
)

const (
	// maxDepth bounds the nesting of multiparts and attached messages.
	maxDepth = 20
	// maxParts bounds the number of MIME entities read from one message.
	maxParts = 1000
)

// content is what one MIME entity adds to the message.
type content struct {
	text string // readable text, "" if none
	html bool   // the text was converted from HTML
	atts []Attachment
}

// entity reads one MIME entity with header h and raw body. defaultType is
// the media type to assume when Content-Type is missing (RFC 2046 section
// 5.1: text/plain, or message/rfc822 inside multipart/digest).
func (p *parser) entity(h message.Header, body []byte, depth int, defaultType string) content {
	p.parts++
	if p.parts > maxParts {
		p.warnf("more than %d MIME parts: the rest is ignored", maxParts)
		return content{}
	}
	if depth > maxDepth {
		p.warnf("MIME parts nested more than %d deep: inner parts ignored", maxDepth)
		return content{}
	}
	mediaType, params := p.contentType(h, defaultType)
	disposition, dispParams := p.disposition(h)
	if reportTypes[mediaType] {
		p.reported = true
		switch mediaType {
		case "message/delivery-status", "message/global-delivery-status":
			p.deliveryStatus(p.transfer(h, body))
		case "text/rfc822-headers", "message/global-headers":
			p.rfc822Headers(p.transfer(h, body))
		}
	}

	switch {
	case strings.HasPrefix(mediaType, "multipart/"):
		return p.multipart(mediaType, params["boundary"], body, depth)
	case mediaType == "message/rfc822" || mediaType == "message/global":
		return p.forwarded(p.transfer(h, body), depth)
	case disposition != "attachment" && (mediaType == "text/plain" || mediaType == "text/html"):
		s := p.decodeCharset(params["charset"], p.transfer(h, body))
		if mediaType == "text/html" {
			s = html2text.HTML2TextWithOptions(s,
				html2text.WithLinksInnerText(), html2text.WithUnixLineBreaks(), html2text.WithListSupport())
			return content{text: s, html: true}
		}
		if strings.EqualFold(params["format"], "flowed") {
			s = unflow(s, strings.EqualFold(params["delsp"], "yes"))
		}
		s, uu := uuencoded(s)
		return content{text: s, atts: uu}
	}
	name := dispParams["filename"]
	if name == "" {
		name = params["name"]
	}
	if name = cleanName(p.decodeWords(p.fixHeader("filename", name))); name != "" {
		name = safeFilename(name)
	}
	data := p.transfer(h, body)
	att := Attachment{Filename: name, ContentType: mediaType, Size: len(data)}
	if p.keepData {
		att.Data = data
	}
	return content{atts: []Attachment{att}}
}

// multipart reads the parts of a multipart body. Text comes from the
// preferred alternative of multipart/alternative and from every part of
// the other kinds; attachments come from every part.
func (p *parser) multipart(mediaType, boundary string, body []byte, depth int) content {
	parts, closed := splitMultipart(body, boundary)
	if len(parts) == 0 {
		p.warnf("%s without parts (boundary %s not found): body shown as text", mediaType, quote(boundary))
		return content{text: p.decodeCharset("", body)}
	}
	if !closed {
		p.warnf("%s: final boundary missing, the last part may be cut short", mediaType)
	}
	defaultType := "text/plain"
	if mediaType == "multipart/digest" {
		defaultType = "message/rfc822"
	}
	kids := make([]content, 0, len(parts))
	for _, raw := range parts {
		h, b := p.readHeader(raw)
		kids = append(kids, p.entity(h, b, depth+1, defaultType))
	}

	var c content
	for _, k := range kids {
		c.atts = append(c.atts, k.atts...)
	}
	if mediaType == "multipart/alternative" {
		c.text, c.html = preferredText(kids)
		return c
	}
	var texts []string
	c.html = true
	for _, k := range kids {
		if strings.TrimSpace(k.text) != "" {
			texts = append(texts, k.text)
			c.html = c.html && k.html
		}
	}
	c.text = strings.Join(texts, "\n\n")
	c.html = c.html && len(texts) > 0
	return c
}

// preferredText picks the text of the first plain-text alternative, or else
// of the first alternative that has any text.
func preferredText(alts []content) (string, bool) {
	for _, a := range alts {
		if !a.html && strings.TrimSpace(a.text) != "" {
			return a.text, false
		}
	}
	for _, a := range alts {
		if strings.TrimSpace(a.text) != "" {
			return a.text, true
		}
	}
	return "", false
}

// splitMultipart cuts a multipart body at its boundary delimiter lines
// (RFC 2046 section 5.1.1). It returns the raw parts and whether the close
// delimiter was found. The line end before a delimiter belongs to the
// delimiter; the preamble and the epilogue are dropped.
func splitMultipart(body []byte, boundary string) (parts [][]byte, closed bool) {
	if boundary == "" {
		return nil, false
	}
	delim := []byte("--" + boundary)
	start := -1 // start of the current part, -1 before the first delimiter
	for pos := 0; pos < len(body); {
		next := len(body)
		if i := bytes.IndexByte(body[pos:], '\n'); i >= 0 {
			next = pos + i + 1
		}
		line := body[pos:next]
		if rest, ok := bytes.CutPrefix(line, delim); ok {
			isClose := bytes.HasPrefix(rest, []byte("--"))
			if isClose {
				rest = rest[2:]
			}
			if len(bytes.TrimRight(rest, " \t\r\n")) == 0 {
				if start >= 0 {
					parts = append(parts, trimLineEnd(body[start:pos]))
				}
				if isClose {
					return parts, true
				}
				start = next
			}
		}
		pos = next
	}
	if start >= 0 {
		parts = append(parts, body[start:])
	}
	return parts, false
}

// trimLineEnd removes one trailing LF or CRLF.
func trimLineEnd(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// forwarded renders an attached message as a short block of text. The
// first attached message is also kept as Message.Attached, and the
// Message-ID of each is noted for a report.
func (p *parser) forwarded(raw []byte, depth int) content {
	h, body := p.readMessage(raw)
	c := p.entity(h.Header, body, depth+1, "text/plain")
	in := &Inner{MessageID: p.messageID(h), Subject: p.line(h, "Subject"), Text: cleanText(c.text)}
	p.originalID(in.MessageID)
	var b strings.Builder
	b.WriteString("---- Forwarded message ----\n")
	if from := p.addressList(h, "From"); len(from) > 0 {
		in.From = from[0]
		b.WriteString("From: " + formatAddress(from[0]) + "\n")
	}
	if in.Subject != "" {
		b.WriteString("Subject: " + in.Subject + "\n")
	}
	b.WriteString("\n" + c.text)
	if p.msg.Attached == nil {
		in.Date = p.date(h)
		p.msg.Attached = in
	}
	return content{text: b.String(), atts: c.atts}
}

// formatAddress writes a as "Name <addr>", or just addr.
func formatAddress(a Address) string {
	if a.Name == "" {
		return a.Addr
	}
	return a.Name + " <" + a.Addr + ">"
}

// contentType returns the lower-cased media type and parameters of h, or
// defaultType when there is no usable Content-Type.
func (p *parser) contentType(h message.Header, defaultType string) (string, map[string]string) {
	// Of several Content-Type fields the last counts, as in most readers:
	// the first would hide the text that follows as a preamble.
	values := h.Values("Content-Type")
	if len(values) == 0 || strings.TrimSpace(values[len(values)-1]) == "" {
		return defaultType, map[string]string{}
	}
	if len(values) > 1 {
		p.warnf("%d Content-Type fields: the last is used", len(values))
	}
	v := p.fixHeader("Content-Type", values[len(values)-1])
	mediaType, params := p.mediaParams("Content-Type", v)
	if !strings.Contains(mediaType, "/") {
		p.warnf("unusable Content-Type %s: read as %s", quote(v), defaultType)
		return defaultType, params
	}
	return mediaType, params
}

// disposition returns the lower-cased Content-Disposition of h and its
// parameters.
func (p *parser) disposition(h message.Header) (string, map[string]string) {
	v := p.fixHeader("Content-Disposition", h.Get("Content-Disposition"))
	if strings.TrimSpace(v) == "" {
		return "", map[string]string{}
	}
	return p.mediaParams("Content-Disposition", v)
}

// mediaParams parses a field value of the form "type; key=value ..." with
// mime.ParseMediaType. Whatever that rejects or drops is read again by
// looseParams, so malformed fields keep their boundary, charset and file
// name; looseParams also decodes RFC 2231 values in any charset, where
// mime.ParseMediaType knows only UTF-8 and ASCII.
func (p *parser) mediaParams(key, v string) (string, map[string]string) {
	mediaType, params, err := mime.ParseMediaType(v)
	if params == nil {
		params = map[string]string{}
	}
	looseType, loose, rfc2231 := p.looseParams(v)
	if err != nil {
		p.warnf("malformed %s header %s: read leniently", key, quote(v))
		if mediaType == "" {
			mediaType = looseType
		}
	}
	for k, lv := range loose {
		if _, ok := params[k]; !ok || rfc2231[k] {
			params[k] = lv
		}
	}
	return mediaType, params
}

// paramRe matches one parameter: a key after a semicolon or a blank, '=',
// and a quoted or bare value.
var paramRe = regexp.MustCompile(`[;\s]\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)`)

// quotedPairRe matches a backslash escape in a quoted string.
var quotedPairRe = regexp.MustCompile(`\\(.)`)

// commentRe matches a comment in a field value.
var commentRe = regexp.MustCompile(`\([^()]*\)`)

// sectionRe matches the RFC 2231 section suffix of a parameter name: "*2",
// "*2*" or "*".
var sectionRe = regexp.MustCompile(`\*(\d+)?\*?$`)

// looseParams reads a "type; key=value" field without giving up on syntax
// errors. It joins RFC 2231 continuations and decodes extended values;
// rfc2231 tells which parameters used that syntax.
func (p *parser) looseParams(v string) (mediaType string, params map[string]string, rfc2231 map[string]bool) {
	if f := strings.FieldsFunc(v, func(r rune) bool { return r == ';' || unicode.IsSpace(r) }); len(f) > 0 {
		mediaType = strings.ToLower(strings.Trim(f[0], `"`))
	}

	type section struct {
		n        int
		value    string
		extended bool
	}
	sections := map[string][]section{}
	rfc2231 = map[string]bool{}
	for _, m := range paramRe.FindAllStringSubmatch(v, -1) {
		name := strings.ToLower(m[1])
		value := strings.TrimSpace(m[2])
		if strings.HasPrefix(value, `"`) {
			value = strings.TrimSuffix(strings.TrimPrefix(value, `"`), `"`)
			value = quotedPairRe.ReplaceAllString(value, "$1")
		} else {
			value = strings.TrimSpace(commentRe.ReplaceAllString(value, ""))
		}
		s := section{value: value, extended: strings.HasSuffix(name, "*")}
		if loc := sectionRe.FindStringSubmatchIndex(name); loc != nil {
			if loc[2] >= 0 {
				s.n, _ = strconv.Atoi(name[loc[2]:loc[3]])
			}
			name = name[:loc[0]]
			rfc2231[name] = true
		}
		sections[name] = append(sections[name], s)
	}

	params = map[string]string{}
	for name, ss := range sections {
		if !rfc2231[name] {
			params[name] = ss[0].value // the first of duplicates
			continue
		}
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].n < ss[j].n })
		var raw []byte
		cs := ""
		for i, s := range ss {
			if !s.extended {
				raw = append(raw, s.value...)
				continue
			}
			value := s.value
			if i == 0 {
				// charset'language'percent-encoded value
				if parts := strings.SplitN(value, "'", 3); len(parts) == 3 {
					cs, value = parts[0], parts[2]
				}
			}
			if un, err := url.PathUnescape(value); err == nil {
				value = un
			}
			raw = append(raw, value...)
		}
		params[name] = p.decodeCharset(cs, raw)
	}
	return mediaType, params, rfc2231
}

// transfer undoes the Content-Transfer-Encoding of body. Broken or unknown
// encodings are decoded as far as possible or kept as received.
func (p *parser) transfer(h message.Header, body []byte) []byte {
	enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	if f := strings.Fields(enc); len(f) > 0 {
		enc = f[0]
	}
	switch enc {
	case "", "7bit", "8bit", "binary":
		return body
	case "base64":
		out, clean := decodeBase64(body)
		if !clean {
			p.warnf("broken base64: decoded what could be read")
		}
		return out
	case "quoted-printable":
		out, ok := decodeQP(body)
		if !ok {
			// The standard Reader, which decodeQP follows, says why.
			_, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
			p.warnf("broken quoted-printable (%v): shown as received", err)
			return body
		}
		return out
	}
	p.warnf("unknown transfer encoding %s: shown as received", quote(enc))
	return body
}

// decodeBase64 decodes base64 leniently: characters outside the alphabet
// are skipped and every '=' ends a chunk, so padded pieces glued together
// still decode. clean is false if anything had to be skipped.
func decodeBase64(b []byte) (out []byte, clean bool) {
	// Well-formed base64 in lines (the usual case) decodes in one call:
	// the standard decoder skips CR and LF, and fails on anything else the
	// lenient loop below would have to skip.
	out = make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	if n, err := base64.StdEncoding.Decode(out, b); err == nil {
		return out[:n], true
	}
	out, clean = nil, true
	chunk := make([]byte, 0, len(b))
	flush := func() {
		if len(chunk)%4 == 1 {
			chunk = chunk[:len(chunk)-1]
			clean = false
		}
		dec := make([]byte, base64.RawStdEncoding.DecodedLen(len(chunk)))
		n, err := base64.RawStdEncoding.Decode(dec, chunk)
		if err != nil {
			clean = false
		}
		out = append(out, dec[:n]...)
		chunk = chunk[:0]
	}
	for _, c := range b {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
			chunk = append(chunk, c)
		case c == '=':
			flush()
		case c == ' ', c == '\t', c == '\r', c == '\n':
		default:
			clean = false
		}
	}
	flush()
	return out, clean
}

// decodeCharset converts text in charset cs to UTF-8. Text in an unknown
// charset, or that is not valid in its charset, is kept if it is valid
// UTF-8 and read by read8bit (a CJK charset it plausibly is in, or
// windows-1252) otherwise.
func (p *parser) decodeCharset(cs string, b []byte) string {
	cs = strings.ToLower(strings.Trim(cs, " \t\"'"))
	switch cs {
	case "", "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "ansi-x3.4-1968":
		if s, ok := readISO2022JP(b); ok {
			return s
		}
		if isUTF8(string(b)) {
			return string(b)
		}
		s, guessed := read8bit(b)
		p.warnf("text is not valid UTF-8: read as %s", guessed)
		return s
	case "utf-7", "utf7", "unicode-1-1-utf-7", "csunicode11utf7":
		s, ok := decodeUTF7(b)
		if !ok {
			p.warnf("broken UTF-7: shown as far as it could be read")
		}
		return s
	}
	r, err := charset.Reader(cs, bytes.NewReader(b))
	if err != nil {
		if isUTF8(string(b)) {
			p.warnf("unknown charset %s: shown as received", quote(cs))
			return string(b)
		}
		s, guessed := read8bit(b)
		p.warnf("unknown charset %s: read as %s", quote(cs), guessed)
		return s
	}
	out, err := io.ReadAll(r)
	if err != nil {
		p.warnf("text in charset %s only partly decoded: %v", quote(cs), err)
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

// wordCharset is the CharsetReader for encoded words. It never fails, so
// one word in an unknown charset does not spoil a whole field.
func (p *parser) wordCharset(cs string, r io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(p.decodeCharset(cs, b)), nil
}

// isUTF8 reports whether s is valid UTF-8.
func isUTF8(s string) bool {
	return utf8.ValidString(s)
}

// windows1252 reads b, which is not valid UTF-8, as UTF-8 where it is
// valid and as windows-1252 (the usual charset of unlabelled 8-bit mail)
// byte by byte where it is not, so that one stray byte does not spoil a
// UTF-8 text. The result is valid UTF-8.
func windows1252(b []byte) string {
	r, err := charset.Reader("windows-1252", bytes.NewReader(b))
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	out, err := io.ReadAll(r)
	single := []rune(string(out)) // one rune per byte of b
	if err != nil || len(single) != len(b) {
		return strings.ToValidUTF8(string(out), "\uFFFD")
	}
	var sb strings.Builder
	for i := 0; i < len(b); {
		if r, n := utf8.DecodeRune(b[i:]); r != utf8.RuneError || n > 1 {
			sb.WriteRune(r)
			i += n
			continue
		}
		sb.WriteRune(single[i])
		i++
	}
	return strings.ToValidUTF8(sb.String(), "\uFFFD")
}

// blankLinesRe matches runs of more than one empty line.
var blankLinesRe = regexp.MustCompile(`\n{3,}`)

// cleanText normalises line ends to LF, trims trailing blanks from lines
// (keeping the "-- " signature separator), folds runs of empty lines into
// one and trims empty lines at both ends.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "-- " {
			lines[i] = strings.TrimRight(l, " \t")
		}
	}
	s = blankLinesRe.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
	return strings.ToValidUTF8(strings.Trim(s, "\n"), "\uFFFD")
}

// autoReason tells why the message with header h is automated mail, or
// returns "" for human mail.
func (p *parser) autoReason(h mail.Header) string {
	get := func(key string) string {
		v := strings.ToLower(strings.TrimSpace(h.Get(key)))
		v, _, _ = strings.Cut(v, ";")
		v, _, _ = strings.Cut(v, "(")
		return strings.TrimSpace(v)
	}
	from := p.msg.From.Addr
	if from == "" {
		// Senders net/mail cannot read: "MAILER-DAEMON <>", "Mail
		// Delivery Subsystem <MAILER-DAEMON>".
		v := h.Get("From")
		if m := angleRe.FindStringSubmatch(v); m != nil && strings.TrimSpace(m[1]) != "" {
			from = strings.ToLower(strings.TrimSpace(m[1]))
		} else if f := strings.Fields(v); len(f) > 0 {
			from = strings.ToLower(strings.Trim(f[0], `<>"`))
		}
	}
	local, _, _ := strings.Cut(from, "@")
	switch {
	case p.reported, local == "mailer-daemon", local == "postmaster", local == "post_master", h.Has("X-Failed-Recipients"):
		return "bounce"
	case h.Has("Auto-Submitted") && get("Auto-Submitted") != "no":
		return "auto-submitted"
	case h.Has("X-Autoreply"), h.Has("X-Autorespond"), suppressesAutoReply(get("X-Auto-Response-Suppress")):
		return "autoreply"
	case IsNoAnswerSender(from):
		return "noreply"
	}
	switch get("Precedence") {
	case "bulk", "junk", "list", "auto_reply":
		return "precedence"
	}
	switch {
	case h.Has("List-Id"), h.Has("List-Unsubscribe"), h.Has("X-Mlserver"), h.Has("X-Ml-Name"):
		return "list"
	case h.Has("Return-Path") && strings.Join(strings.Fields(h.Get("Return-Path")), "") == "<>":
		return "null-return-path"
	}
	return ""
}

// suppressesAutoReply reports whether an X-Auto-Response-Suppress value (a
// comma-separated list, lower-cased) asks that no automatic reply be sent.
func suppressesAutoReply(v string) bool {
	for f := range strings.SplitSeq(v, ",") {
		switch strings.TrimSpace(f) {
		case "all", "oof", "autoreply":
			return true
		}
	}
	return false
}
