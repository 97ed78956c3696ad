package spam

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"desk/mail/parse"
)

// Bounds that keep scoring fast on any input: a 10 MB or binary mail costs
// no more than a long ordinary one.
const (
	maxRaw        = 512 << 10 // bytes of a raw message parsed for scoring
	maxHeader     = 64 << 10  // bytes of header read for header tokens
	maxText       = 256 << 10 // bytes of decoded body text tokenised
	maxMarkup     = 64 << 10  // bytes of raw body scanned for markup and part types
	maxTokens     = 4000      // distinct tokens per message
	maxWordBytes  = 40        // longer words become a "skip" token
	minWordBytes  = 2
	maxHeaderSeen = 200 // header fields read
)

// Field is one header field as received, unfolded.
type Field struct{ Name, Value string }

// Doc is what the filter reads of one message: selected header fields as
// received, the start of the raw body (for HTML tags and MIME part types,
// which the decoded text no longer shows), and the decoded subject,
// sender, body text and attachments.
type Doc struct {
	Header      []Field
	RawBody     []byte
	Subject     string
	From        parse.Address
	Body        string
	Attachments []parse.Attachment
}

// ParseDoc parses a raw message for scoring, reading at most its first
// 512 KiB (the rest of a huge mail adds little evidence and much time).
func ParseDoc(raw []byte) Doc {
	if len(raw) > maxRaw {
		raw = raw[:maxRaw]
	}
	return DocOf(raw, parse.Parse(raw))
}

// DocOf builds the Doc of a message already parsed as p.
func DocOf(raw []byte, p *parse.Message) Doc {
	header, body := headerFields(raw)
	if len(body) > maxMarkup {
		body = body[:maxMarkup]
	}
	return Doc{Header: header, RawBody: body, Subject: p.Subject, From: p.From, Body: p.Text, Attachments: p.Attachments}
}

// headerFields reads the unfolded fields of raw's header, within bounds,
// and returns them with the rest of raw.
func headerFields(raw []byte) ([]Field, []byte) {
	if bytes.HasPrefix(raw, []byte("From ")) { // an mbox envelope line
		_, raw, _ = bytes.Cut(raw, []byte("\n"))
	}
	var out []Field
	for read := 0; len(raw) > 0 && len(out) < maxHeaderSeen && read < maxHeader; {
		line, rest, _ := bytes.Cut(raw, []byte("\n"))
		read += len(raw) - len(rest)
		raw = rest
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 {
			out[len(out)-1].Value += " " + string(bytes.TrimSpace(line))
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
			continue
		}
		out = append(out, Field{Name: lowerName(name), Value: string(bytes.TrimSpace(value))})
	}
	return out, raw
}

// lowerName is strings.ToLower(string(name)) with one allocation instead
// of two for the usual ASCII field name.
func lowerName(name []byte) string {
	var b strings.Builder
	b.Grow(len(name))
	for _, c := range name {
		if c >= utf8.RuneSelf {
			return strings.ToLower(string(name))
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// headerWords are the fields whose words are tokens of their own (prefixed
// with the field name); every other field counts only by its presence.
var headerWords = map[string]bool{
	"received": true, "x-mailer": true, "user-agent": true, "content-type": true, "message-id": true,
	"return-path": true, "reply-to": true, "to": true, "cc": true, "sender": true, "errors-to": true,
	"x-priority": true, "x-msmail-priority": true, "content-transfer-encoding": true, "organization": true,
	"list-id": true, "precedence": true, "mime-version": true, "x-originating-ip": true,
}

// Tokens lists the distinct tokens of d, at most 4000: header field names
// and the words of some fields (prefixed with the field name), the words of
// the subject and sender, the body's words, attachment types, and the
// message's shape (see shape). Runs of Han, Hiragana, Katakana and Hangul
// have no spaces between words, so they become overlapping character
// bigrams.
func Tokens(d Doc) []string {
	t := tokenizer{seen: map[string]struct{}{}}
	var s shape
	for _, f := range d.Header {
		t.add("h:" + f.Name)
		t.wordCharsets(f.Value)
		switch {
		case f.Name == "received":
			t.hosts("received:", f.Value)
			s.received++
		case headerWords[f.Name]:
			t.words(f.Name+":", f.Value)
		}
		if f.Name == "content-type" && s.contentType == "" {
			s.contentType = strings.ToLower(f.Value)
		}
		if f.Name == "message-id" && s.messageID == "" {
			s.messageID = strings.ToLower(f.Value)
		}
	}
	t.words("subject:", d.Subject)
	t.words("from:", d.From.Name)
	if local, domain, ok := strings.Cut(d.From.Addr, "@"); ok {
		t.add("from:" + local + "@")
		t.add("from:@" + domain)
	}
	for _, a := range d.Attachments {
		t.add("att:" + strings.ToLower(a.ContentType))
		if i := strings.LastIndexByte(a.Filename, '.'); i >= 0 {
			t.add("att:" + strings.ToLower(a.Filename[i:]))
		}
	}
	s.links = t.markup(d.RawBody)
	t.shape(s, d.From)
	body := d.Body
	if len(body) > maxText {
		body = body[:maxText]
	}
	t.words("", body)
	return t.out
}

// markup adds the names of HTML tags ("tag:font") and the media types of
// MIME parts ("part:text/html") found in the raw body, and counts its
// http:// and https:// links.
func (t *tokenizer) markup(raw []byte) (links int) {
	for i := 0; i < len(raw) && len(t.out) < maxTokens; i++ {
		switch raw[i] {
		case ':':
			if bytes.HasPrefix(raw[i:], []byte("://")) && (hasSuffixFold(raw[:i], "http") || hasSuffixFold(raw[:i], "https")) {
				links++
			}
		case '<':
			j := i + 1
			for j < len(raw) && j-i <= 12 && isASCIILetter(raw[j]) {
				j++
			}
			if j > i+1 {
				t.add(tagPrefix + strings.ToLower(string(raw[i+1:j])))
			}
		case '=':
			if i >= 7 && strings.EqualFold(string(raw[i-7:i]), "charset") {
				t.charset(string(raw[i+1 : min(i+41, len(raw))]))
			}
		case '\n':
			const ct = "content-type:"
			rest := raw[i+1:]
			if len(rest) > len(ct) && strings.EqualFold(string(rest[:len(ct)]), ct) {
				v, _, _ := bytes.Cut(rest[len(ct):], []byte(";"))
				v, _, _ = bytes.Cut(v, []byte("\n"))
				t.add("part:" + strings.ToLower(string(bytes.TrimSpace(v))))
			}
		}
	}
	return links
}

// tagPrefix starts the token of an HTML tag name ("tag:font").
const tagPrefix = "tag:"

// hasSuffixFold reports whether b ends with suffix, ignoring ASCII case.
func hasSuffixFold(b []byte, suffix string) bool {
	return len(b) >= len(suffix) && strings.EqualFold(string(b[len(b)-len(suffix):]), suffix)
}

// shape is what Tokens gathers of a message's structure on the way.
type shape struct {
	received    int    // Received fields
	contentType string // of the message, lower-cased
	messageID   string // lower-cased
	links       int    // http(s) links in the raw body
}

// shape adds tokens of the message's structure — evidence a rule-based
// filter such as SpamAssassin reads and single words do not show: how
// many relays it passed ("shape:received:2-3"), HTML with no plain-text
// alternative ("shape:html-only"), how many links it holds
// ("shape:links:4-7"), whether its Message-ID names the sender's domain
// ("shape:msgid-from-domain" or "shape:msgid-other-domain": bulk senders
// and forged headers make up their own), and a sender without a display
// name ("shape:from-no-name"). Each was kept because cross-validation on
// the training part favoured it (docs/spam.md).
func (t *tokenizer) shape(s shape, from parse.Address) {
	t.add("shape:received:" + sizeClass(s.received))
	html := strings.HasPrefix(s.contentType, "text/html") || t.has("part:text/html")
	plain := s.contentType == "" || strings.HasPrefix(s.contentType, "text/plain") || t.has("part:text/plain")
	if html && !plain {
		t.add("shape:html-only")
	}
	t.add("shape:links:" + sizeClass(s.links))
	if _, idDomain, ok := strings.Cut(strings.Trim(s.messageID, "<> "), "@"); ok {
		_, fromDomain, _ := strings.Cut(from.Addr, "@")
		if fromDomain != "" && (idDomain == fromDomain || strings.HasSuffix(idDomain, "."+fromDomain) || strings.HasSuffix(fromDomain, "."+idDomain)) {
			t.add("shape:msgid-from-domain")
		} else {
			t.add("shape:msgid-other-domain")
		}
	}
	if from.Name == "" {
		t.add("shape:from-no-name")
	}
}

// sizeClass names the class of a count: 0, 1, 2-3, 4-7, 8-15 or 16+.
func sizeClass(n int) string {
	switch {
	case n <= 1:
		return strconv.Itoa(n)
	case n <= 3:
		return "2-3"
	case n <= 7:
		return "4-7"
	case n <= 15:
		return "8-15"
	}
	return "16+"
}

// charset adds the name of a declared charset ("charset:gb2312"): mail
// in a charset its readers do not use is often spam, and text in an
// undeclared charset reads as noise, so the declaration is the evidence
// left. v starts with the name.
func (t *tokenizer) charset(v string) {
	v = strings.TrimLeft(v, `"'`)
	if i := strings.IndexAny(v, `"';?, 	`+"\r\n"); i >= 0 {
		v = v[:i]
	}
	if v != "" && len(v) <= 20 {
		t.add("charset:" + strings.ToLower(v))
	}
}

// wordCharsets adds the charsets of the encoded words ("=?gb2312?b?…?=")
// of a header field.
func (t *tokenizer) wordCharsets(v string) {
	for {
		i := strings.Index(v, "=?")
		if i < 0 {
			return
		}
		v = v[i+2:]
		t.charset(v)
	}
}

func isASCIILetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }

// tokenizer collects distinct tokens up to the bound.
type tokenizer struct {
	seen map[string]struct{}
	out  []string
}

// has reports whether tok was added.
func (t *tokenizer) has(tok string) bool {
	_, ok := t.seen[tok]
	return ok
}

func (t *tokenizer) add(tok string) {
	if len(t.out) >= maxTokens {
		return
	}
	if _, ok := t.seen[tok]; ok {
		return
	}
	t.seen[tok] = struct{}{}
	t.out = append(t.out, tok)
}

// words adds the words of s, each with prefix. Invalid UTF-8 counts as
// separators.
func (t *tokenizer) words(prefix, s string) {
	start, cjk := -1, -1 // byte offsets of the current word and CJK run
	for i := 0; i <= len(s) && len(t.out) < maxTokens; {
		r, size := utf8.RuneError, 1
		if i < len(s) {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		isCJK := i < len(s) && isCJKRune(r)
		isWord := i < len(s) && !isCJK && isWordRune(r)
		if start >= 0 && !isWord {
			t.word(prefix, s[start:i])
			start = -1
		}
		if cjk >= 0 && !isCJK {
			t.bigrams(prefix, s[cjk:i])
			cjk = -1
		}
		if isWord && start < 0 {
			start = i
		}
		if isCJK && cjk < 0 {
			cjk = i
		}
		i += size
	}
}

// hosts adds the words of s that name hosts, addresses or IP addresses
// (those holding a dot): the rest of a Received field is dates and
// software, the same in ham and spam.
func (t *tokenizer) hosts(prefix, s string) {
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !isWordRune(r) || isCJKRune(r) }) {
		if strings.Contains(strings.Trim(w, ".-'_"), ".") {
			t.word(prefix, w)
		}
	}
}

// word adds one word, lower-cased and trimmed of punctuation at its ends.
func (t *tokenizer) word(prefix, w string) {
	w = strings.Trim(w, ".-'_")
	switch {
	case len(w) < minWordBytes:
	case len(w) > maxWordBytes:
		t.add(prefix + "skip:" + strings.ToLower(w[:1]) + string(rune('0'+min(len(w)/10, 9))))
	default:
		lw := strings.ToLower(w)
		t.add(prefix + lw)
		if len(w) >= 3 && w != lw && strings.ToUpper(w) == w {
			t.add(prefix + "U:" + lw)
		}
	}
}

// bigrams adds the overlapping character pairs of a CJK run (the single
// character of a run of one).
func (t *tokenizer) bigrams(prefix, run string) {
	prev := ""
	n := 0
	for _, r := range run {
		cur := string(r)
		if prev != "" {
			t.add(prefix + prev + cur)
		}
		prev = cur
		n++
	}
	if n == 1 {
		t.add(prefix + prev)
	}
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("$'-._@%", r)
}

// Language names the CJK language of a message by the script of its
// subject and text: "ja" (kana), "ko" (Hangul), "zh" (Han without kana),
// else "other".
func Language(d Doc) string {
	var han, kana, hangul int
	for _, s := range []string{d.Subject, d.Body} {
		for _, r := range s {
			switch {
			case unicode.In(r, unicode.Hiragana, unicode.Katakana):
				kana++
			case unicode.Is(unicode.Hangul, r):
				hangul++
			case unicode.Is(unicode.Han, r):
				han++
			}
		}
	}
	switch { // two characters, so that one stray symbol does not count
	case kana >= 2:
		return "ja"
	case hangul >= 2:
		return "ko"
	case han >= 2:
		return "zh"
	}
	return "other"
}

func isCJKRune(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}
