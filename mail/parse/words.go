package parse

import (
	"encoding/hex"
	"regexp"
	"strings"
	"unicode/utf8"
)

// encodedWordRe matches an RFC 2047 encoded word, leniently: the text may
// hold spaces and 8-bit characters, as some mailers write it.
var encodedWordRe = regexp.MustCompile(`=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=`)

// decodeWords decodes the RFC 2047 encoded words in an unstructured field
// value. Beyond the RFC it accepts what mailers get wrong: words glued to
// other text, spaces and raw 8-bit text inside a word, one character split
// over two words (adjacent words in one charset are joined before
// decoding), broken base64, an RFC 2231 language suffix on the charset, and
// unknown charsets (kept as valid UTF-8 or read as windows-1252).
func (p *parser) decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	var out strings.Builder
	var pendCS string  // charset of the words waiting to be decoded
	var pend []segment // their text, in order
	flush := func() {
		if len(pend) > 0 {
			out.WriteString(p.decodeSegments(pendCS, pend))
			pend = nil
		}
	}
	last := 0
	for _, m := range encodedWordRe.FindAllStringSubmatchIndex(s, -1) {
		between := s[last:m[0]]
		cs, _, _ := strings.Cut(strings.ToLower(s[m[2]:m[3]]), "*")
		// White space between two encoded words is not shown (RFC 2047
		// section 6.2); other text ends the run of words.
		if last == 0 || strings.TrimSpace(between) != "" {
			flush()
			out.WriteString(between)
		} else if cs != pendCS {
			flush()
		}
		pendCS = cs
		pend = append(pend, decodeWordText(s[m[4]:m[5]], s[m[6]:m[7]])...)
		last = m[1]
	}
	flush()
	out.WriteString(s[last:])
	return validUTF8(out.String())
}

// segment is a piece of a decoded word: bytes still in the word's charset,
// or text that was already UTF-8 (raw 8-bit text inside a word).
type segment struct {
	b    []byte
	utf8 bool
}

// decodeWordText undoes the B or Q encoding of one word's text.
func decodeWordText(enc, text string) []segment {
	if enc == "b" || enc == "B" {
		b, _ := decodeBase64([]byte(text))
		return []segment{{b: b}}
	}
	var segs []segment
	var cur []byte
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '_':
			cur = append(cur, ' ')
			i++
		case c == '=' && i+2 < len(text) && isHex(text[i+1]) && isHex(text[i+2]):
			b, _ := hex.DecodeString(text[i+1 : i+3])
			cur = append(cur, b...)
			i += 3
		case c >= 0x80:
			_, n := utf8.DecodeRuneInString(text[i:])
			segs = append(segs, segment{b: cur}, segment{b: []byte(text[i : i+n]), utf8: true})
			cur = nil
			i += n
		default:
			cur = append(cur, c)
			i++
		}
	}
	return append(segs, segment{b: cur})
}

// isHex reports whether c is a hexadecimal digit.
func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// decodeSegments converts the segments of a run of words in charset cs to
// UTF-8, joining neighbouring charset bytes first.
func (p *parser) decodeSegments(cs string, segs []segment) string {
	var out strings.Builder
	var run []byte
	for _, s := range segs {
		if s.utf8 {
			if len(run) > 0 {
				out.WriteString(p.decodeCharset(cs, run))
			}
			out.Write(s.b)
			run = nil
			continue
		}
		run = append(run, s.b...)
	}
	if len(run) > 0 {
		out.WriteString(p.decodeCharset(cs, run))
	}
	return out.String()
}
