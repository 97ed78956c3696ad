package parse

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/url"
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
	text   string // readable text, "" if none; HTML while markup is set
	html   bool   // the text was converted from HTML
	markup bool   // text is HTML not yet converted: read it with plain
	atts   []Attachment
}

// plain returns the readable text of c. An HTML part is converted only
// here, when its text is asked for, so that an HTML alternative that loses
// to a plain-text one costs no conversion.
func (c content) plain() string {
	if !c.markup {
		return c.text
	}
	return html2text.HTML2TextWithOptions(c.text,
		html2text.WithLinksInnerText(), html2text.WithUnixLineBreaks(), html2text.WithListSupport())
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
		s := p.decodeText(h, body, params["charset"])
		if mediaType == "text/html" {
			return content{text: s, html: true, markup: true}
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
	att := Attachment{Filename: name, ContentType: mediaType}
	if p.keepData {
		att.Data = p.transfer(h, body)
		att.Size = len(att.Data)
	} else {
		att.Size = p.transferSize(h, body)
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
		if t := k.plain(); strings.TrimSpace(t) != "" {
			texts = append(texts, t)
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
		if t := a.plain(); strings.TrimSpace(t) != "" {
			return t, true
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
	for pos := 0; ; {
		at, next, isClose := nextDelimiter(body, delim, pos)
		if at < 0 {
			break
		}
		if start >= 0 {
			parts = append(parts, trimLineEnd(body[start:at]))
		}
		if isClose {
			return parts, true
		}
		start, pos = next, next
	}
	if start >= 0 {
		parts = append(parts, body[start:])
	}
	return parts, false
}

// nextDelimiter finds the first delimiter line of body at or after pos, a
// line start: a line that starts with delim ("--" and the boundary), maybe
// then "--" (the close delimiter), then only blanks. It returns where the
// line starts (-1 if there is none), where the next line starts, and
// whether it is the close delimiter. It jumps from one occurrence of delim
// to the next instead of looking at every line.
func nextDelimiter(body, delim []byte, pos int) (at, next int, isClose bool) {
	for pos < len(body) {
		i := bytes.Index(body[pos:], delim)
		if i < 0 {
			break
		}
		if pos += i; pos > 0 && body[pos-1] != '\n' {
			pos++
			continue
		}
		next = len(body)
		if i := bytes.IndexByte(body[pos:], '\n'); i >= 0 {
			next = pos + i + 1
		}
		rest, isClose := bytes.CutPrefix(body[pos+len(delim):next], []byte("--"))
		if len(bytes.TrimRight(rest, " \t\r\n")) == 0 {
			return pos, next, isClose
		}
		pos = next
	}
	return -1, len(body), false
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
	text := c.plain()
	in := &Inner{MessageID: p.messageID(h), Subject: p.line(h, "Subject"), Text: cleanText(text)}
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
	b.WriteString("\n" + text)
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

// param is one "key=value" parameter of a field value as written: the
// value is still quoted or holds its comments.
type param struct{ key, value string }

// isBlank reports whether c is an ASCII blank: space, tab, CR, LF or FF.
func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// skipBlanks returns the index of the first byte at or after i in v that is
// not a blank.
func skipBlanks(v string, i int) int {
	for i < len(v) && isBlank(v[i]) {
		i++
	}
	return i
}

// scanParams finds the parameters of a field value, leniently: each is a
// key after a semicolon or a blank, then "=" (blanks around it allowed),
// then a quoted value (up to its closing quote, which may be missing; a
// backslash escapes any character but LF) or a bare one (up to the next
// semicolon).
func scanParams(v string) []param {
	var out []param
	for i := 0; i < len(v); i++ {
		if v[i] != ';' && !isBlank(v[i]) {
			continue
		}
		keyStart := skipBlanks(v, i+1)
		keyEnd := keyStart
		for keyEnd < len(v) && v[keyEnd] != '=' && v[keyEnd] != ';' && !isBlank(v[keyEnd]) {
			keyEnd++
		}
		eq := skipBlanks(v, keyEnd)
		if keyEnd == keyStart || eq == len(v) || v[eq] != '=' {
			continue
		}
		start := skipBlanks(v, eq+1)
		end := start
		if end < len(v) && v[end] == '"' {
			for end++; end < len(v); end++ {
				if v[end] == '"' {
					end++
					break
				}
				if v[end] == '\\' {
					if end+1 == len(v) || v[end+1] == '\n' {
						break
					}
					end++
				}
			}
		} else {
			for end < len(v) && v[end] != ';' {
				end++
			}
		}
		out = append(out, param{v[keyStart:keyEnd], v[start:end]})
		i = end - 1 // the byte at end may start the next parameter
	}
	return out
}

// unquotePairs undoes the backslash escapes of a quoted string: a
// backslash before any character but LF stands for that character.
func unquotePairs(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] != '\n' {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// stripComments removes the comments, "(…)" without parentheses inside,
// from a field value.
func stripComments(s string) string {
	if strings.IndexByte(s, '(') < 0 {
		return s
	}
	var b strings.Builder
	kept := 0 // s[:kept] is written or removed
	for i := strings.IndexByte(s, '('); i >= 0; {
		j := strings.IndexAny(s[i+1:], "()")
		if j < 0 {
			break
		}
		j += i + 1
		if s[j] == ')' {
			b.WriteString(s[kept:i])
			kept = j + 1
		}
		if i = strings.IndexByte(s[j:], '('); i >= 0 {
			i += j
		}
	}
	b.WriteString(s[kept:])
	return b.String()
}

// sectionSuffix finds the RFC 2231 section suffix of a parameter name
// ("*2", "*2*" or "*"): it returns where the suffix starts (-1 when there
// is none) and its section number ("" when it has none).
func sectionSuffix(name string) (at int, number string) {
	for i := 0; i < len(name); i++ {
		if name[i] != '*' {
			continue
		}
		j := i + 1
		for j < len(name) && '0' <= name[j] && name[j] <= '9' {
			j++
		}
		if rest := name[j:]; rest == "" || rest == "*" {
			return i, name[i+1 : j]
		}
	}
	return -1, ""
}

// looseParams reads a "type; key=value" field without giving up on syntax
// errors. It joins RFC 2231 continuations and decodes extended values;
// rfc2231 tells which parameters used that syntax.
func (p *parser) looseParams(v string) (mediaType string, params map[string]string, rfc2231 map[string]bool) {
	isSep := func(r rune) bool { return r == ';' || unicode.IsSpace(r) }
	if start := strings.IndexFunc(v, func(r rune) bool { return !isSep(r) }); start >= 0 {
		first := v[start:]
		if end := strings.IndexFunc(first, isSep); end >= 0 {
			first = first[:end]
		}
		mediaType = strings.ToLower(strings.Trim(first, `"`))
	}

	type section struct {
		n        int
		value    string
		extended bool
	}
	sections := map[string][]section{}
	rfc2231 = map[string]bool{}
	for _, pm := range scanParams(v) {
		name := strings.ToLower(pm.key)
		value := strings.TrimSpace(pm.value)
		if strings.HasPrefix(value, `"`) {
			value = unquotePairs(strings.TrimSuffix(strings.TrimPrefix(value, `"`), `"`))
		} else {
			value = strings.TrimSpace(stripComments(value))
		}
		s := section{value: value, extended: strings.HasSuffix(name, "*")}
		if at, number := sectionSuffix(name); at >= 0 {
			if number != "" {
				s.n, _ = strconv.Atoi(number)
			}
			name = name[:at]
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
	enc := transferEncoding(h)
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

// transferSize returns len(p.transfer(h, body)), with its warnings, but
// only counts a well-formed base64 body (the usual attachment) instead of
// decoding it.
func (p *parser) transferSize(h message.Header, body []byte) int {
	if transferEncoding(h) == "base64" {
		if n, ok := base64Size(body); ok {
			return n
		}
	}
	return len(p.transfer(h, body))
}

// base64Size returns the length of the data that base64.StdEncoding's
// Decode would decode from b, which skips CR and LF, and true; or false
// where Decode would fail: a byte outside the alphabet, more than two
// padding characters or anything but padding after the first, or a
// length that is not a multiple of four.
func base64Size(b []byte) (int, bool) {
	n, pad := 0, 0 // characters of the alphabet, and of padding
	for len(b) > 0 {
		// Eight characters of the alphabet (the usual case) at once: a
		// byte outside it has the value -1, which makes the OR negative.
		if len(b) >= 8 && pad == 0 && b64Value[b[0]]|b64Value[b[1]]|b64Value[b[2]]|b64Value[b[3]]|
			b64Value[b[4]]|b64Value[b[5]]|b64Value[b[6]]|b64Value[b[7]] >= 0 {
			n += 8
			b = b[8:]
			continue
		}
		c := b[0]
		b = b[1:]
		switch {
		case c == '\r' || c == '\n':
		case c == '=':
			pad++
		case pad > 0 || b64Value[c] < 0:
			return 0, false
		default:
			n++
		}
	}
	if (n+pad)%4 != 0 || pad > 2 {
		return 0, false
	}
	return n/4*3 + max(n%4-1, 0), true
}

// transferEncoding returns the lower-cased Content-Transfer-Encoding of h,
// its first word only.
func transferEncoding(h message.Header) string {
	enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	if f := strings.Fields(enc); len(f) > 0 {
		enc = f[0]
	}
	return enc
}

// decodeText decodes the body of a text part in charset cs to UTF-8: transfer,
// then decodeCharset. Quoted-printable UTF-8 or ASCII, the usual text,
// decodes straight into the result, sparing a copy of the text; anything
// else, and text with an escape character (it may be ISO-2022-JP, see
// readISO2022JP), takes the general way.
func (p *parser) decodeText(h message.Header, body []byte, cs string) string {
	if transferEncoding(h) == "quoted-printable" && isUTF8Charset(cs) {
		if s, ok := decodeQPString(body); ok && utf8.ValidString(s) && strings.IndexByte(s, 0x1b) < 0 {
			return s
		}
	}
	return p.decodeCharset(cs, p.transfer(h, body))
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
	cs = normCharset(cs)
	switch {
	case isUTF8Charset(cs):
		if s, ok := readISO2022JP(b); ok {
			return s
		}
		if utf8.Valid(b) {
			return string(b)
		}
		s, guessed := read8bit(b)
		p.warnf("text is not valid UTF-8: read as %s", guessed)
		return s
	case cs == "utf-7", cs == "utf7", cs == "unicode-1-1-utf-7", cs == "csunicode11utf7":
		s, ok := decodeUTF7(b)
		if !ok {
			p.warnf("broken UTF-7: shown as far as it could be read")
		}
		return s
	}
	r, err := charset.Reader(cs, bytes.NewReader(b))
	if err != nil {
		if utf8.Valid(b) {
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
	return validUTF8(string(out))
}

// normCharset lower-cases a charset label and trims blanks and quotes.
func normCharset(cs string) string {
	return strings.ToLower(strings.Trim(cs, " \t\"'"))
}

// isUTF8Charset reports whether the label cs names UTF-8 or ASCII, or is
// empty (text without a charset is read as UTF-8).
func isUTF8Charset(cs string) bool {
	switch normCharset(cs) {
	case "", "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "ansi-x3.4-1968":
		return true
	}
	return false
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

// validUTF8 returns s with each invalid UTF-8 sequence replaced by U+FFFD,
// as strings.ToValidUTF8 does, but checks valid text (nearly all of it)
// with the faster utf8.ValidString first.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// windows1252 reads b, which is not valid UTF-8, as UTF-8 where it is
// valid and as windows-1252 (the usual charset of unlabelled 8-bit mail)
// byte by byte where it is not, so that one stray byte does not spoil a
// UTF-8 text. The result is valid UTF-8.
func windows1252(b []byte) string {
	r, err := charset.Reader("windows-1252", bytes.NewReader(b))
	if err != nil {
		return validUTF8(string(b))
	}
	out, err := io.ReadAll(r)
	single := []rune(string(out)) // one rune per byte of b
	if err != nil || len(single) != len(b) {
		return validUTF8(string(out))
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
	return validUTF8(sb.String())
}

// cleanText normalises line ends (CRLF, CR) to LF, trims trailing blanks
// from lines (keeping the "-- " signature separator), folds runs of empty
// lines into one and trims empty lines at both ends. It builds the result
// in one pass over s.
func cleanText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	empty := 0 // empty lines since the last line written
	for len(s) > 0 {
		end := strings.IndexByte(s, '\n')
		if end < 0 {
			end = len(s)
		}
		line, next := s[:end], s[min(end+1, len(s)):]
		if cr := strings.IndexByte(line, '\r'); cr >= 0 && cr+1 < end {
			line, next = s[:cr], s[cr+1:] // a bare CR
		} else if cr >= 0 {
			line = s[:cr] // CRLF, or a CR at the end
		}
		s = next
		if line != "-- " {
			for len(line) > 0 && (line[len(line)-1] == ' ' || line[len(line)-1] == '\t') {
				line = line[:len(line)-1]
			}
		}
		if line == "" {
			empty++
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
			if empty > 0 {
				b.WriteByte('\n')
			}
		}
		b.WriteString(line)
		empty = 0
	}
	return validUTF8(b.String())
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
