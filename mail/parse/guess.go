package parse

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
)

// minCJKRunes is how many CJK characters a text must decode to before a
// CJK charset is guessed for it: a stray pair of accented Latin-1 letters
// can happen to be one valid double-byte character, a real CJK text rarely
// is that short.
const minCJKRunes = 2

// guessBytes bounds the text guessCJK judges, so that a long text costs
// one decoding more than windows-1252, not four.
const guessBytes = 64 << 10

// read8bit converts b, text of no usable charset label that is not valid
// UTF-8, to UTF-8. Unlabelled 8-bit mail is most often windows-1252, but
// CJK mail without a label (usual in spam, and in old mail user agents)
// is in GB2312/GBK/GB18030, EUC-KR, Shift_JIS or EUC-JP; b is read in the
// first of these it decodes in completely and plausibly (see guessCJK),
// and as windows-1252 otherwise. It returns the text and the charset used.
func read8bit(b []byte) (string, string) {
	if s, cs := guessCJK(b); cs != "" {
		return s, cs
	}
	return windows1252(b), "windows-1252"
}

// readISO2022JP decodes b as ISO-2022-JP when it switches to JIS X 0208
// (ESC $ B or ESC $ @) and decodes without error: that charset is 7-bit,
// so unlabelled Japanese mail in it passes as ASCII, escapes and all.
func readISO2022JP(b []byte) (string, bool) {
	if !bytes.Contains(b, []byte("\x1b$B")) && !bytes.Contains(b, []byte("\x1b$@")) {
		return "", false
	}
	return decodeStrict("ISO-2022-JP", b)
}

// cjkCandidates are the charsets guessCJK tries, each with the test that
// its text must pass, in order. Japanese and Korean come before Chinese
// because their tests are specific (kana; frequent Hangul syllables) and
// GB18030 decodes nearly any sequence of 8-bit byte pairs: EUC-KR text
// read as GB18030 is valid Han characters. The kana of GB2312 and EUC-JP
// share their code points, which is why EUC-JP is tried first for
// kana-rich text; GB2312 text read as Shift_JIS holds half-width Katakana,
// which Japanese mail does not use.
var cjkCandidates = []struct {
	name      string
	plausible func(scriptCounts) bool
}{
	{"Shift_JIS", func(c scriptCounts) bool { return c.kana >= 0.2*float64(c.cjk) && c.halfwidth == 0 }},
	{"EUC-JP", func(c scriptCounts) bool { return c.kana >= 0.2*float64(c.cjk) }},
	{"EUC-KR", func(c scriptCounts) bool {
		return c.hangul >= 0.8*float64(c.cjk) && c.commonHangul >= 0.25*c.hangul
	}},
	{"GB18030", func(c scriptCounts) bool { return c.han >= 0.5*float64(c.cjk) && c.hangul == 0 }},
}

// commonHangul are frequent Hangul syllables of Korean text (particles,
// endings and common words). Nearly every byte pair is a Hangul syllable
// in EUC-KR (with its UHC extension), so Chinese GB2312 text decodes as
// Hangul too, but as rare syllables: in the SpamAssassin corpus, the
// Korean spam has 52 % of its syllables in this set and the Chinese spam
// read as EUC-KR at most 3 %; the test asks for 25 %.
const commonHangul = "이다는의에가고하을를지서기로사한리자도어대수인나아정해시게들으적있주요일전" +
	"생마보라제세것만우부상무스여님안합습니까오내그원실간께드및객문회신비용거개"

// guessCJK decodes b in the first CJK charset of cjkCandidates in which
// it is valid (no byte left undecoded), whose non-ASCII characters are
// all CJK (Han, kana, Hangul, CJK punctuation and full-width forms), at
// least minCJKRunes of them, no more than 30 % of them next to a Latin
// letter (Latin-1 text read as a double-byte charset gives characters
// each wedged between letters: "Grüße aus Köln" in GBK is "Gr?e aus K?n"),
// and that passes its charset's script test.
// It returns "" as the charset when none fits.
//
// Only the first guessBytes of b are judged (cut after a byte below 0x30,
// which is never the second byte of a character in these charsets); the
// whole of b must then decode in the charset chosen.
func guessCJK(b []byte) (string, string) {
	sample := b
	if len(b) > guessBytes {
		if cut := bytes.LastIndexFunc(b[:guessBytes], func(r rune) bool { return r < 0x30 }); cut > 0 {
			sample = b[:cut+1]
		}
	}
	if !hasHighPair(sample) {
		return "", ""
	}
	for _, c := range cjkCandidates {
		s, ok := decodeStrict(c.name, sample)
		if !ok {
			continue
		}
		counts, allCJK := countScripts(s)
		if !allCJK || counts.cjk < minCJKRunes || counts.touching*10 > counts.cjk*3 || !c.plausible(counts) {
			continue
		}
		if len(sample) < len(b) {
			if s, ok = decodeStrict(c.name, b); !ok {
				return "", ""
			}
		}
		return s, c.name
	}
	return "", ""
}

// hasHighPair reports whether b holds two adjacent 8-bit bytes: every
// double-byte CJK character has an 8-bit first byte followed by a second
// byte that is 8-bit in all but a few characters, so text without such a
// pair is not worth decoding as CJK.
func hasHighPair(b []byte) bool {
	for i := 1; i < len(b); i++ {
		if b[i-1] >= 0x80 && b[i] >= 0x80 {
			return true
		}
	}
	return false
}

// decodeStrict decodes b from charset cs; ok is false when any byte
// sequence was invalid in cs (the decoder writes U+FFFD for it) or when
// b already held U+FFFD, which then cannot be told apart. It stops at the
// first such character, so that binary data costs little.
func decodeStrict(cs string, b []byte) (string, bool) {
	r, err := charset.Reader(cs, bytes.NewReader(b))
	if err != nil {
		return "", false
	}
	br := bufio.NewReaderSize(r, 32<<10)
	var out strings.Builder
	out.Grow(len(b) * 3 / 2)
	for {
		c, _, err := br.ReadRune()
		switch {
		case err == io.EOF:
			return out.String(), true
		case err != nil, c == utf8.RuneError:
			return "", false
		}
		out.WriteRune(c)
	}
}

// scriptCounts counts the CJK characters of a text by script.
type scriptCounts struct {
	cjk    int     // every CJK character, punctuation included
	han    float64 // Han ideographs
	kana   float64 // Hiragana and full-width Katakana
	hangul float64 // Hangul syllables and letters
	// commonHangul counts the syllables of the commonHangul set.
	commonHangul float64
	halfwidth    int // half-width Katakana (U+FF61–U+FF9F)
	touching     int // CJK characters next to an ASCII letter
}

// countScripts counts the CJK characters of s; allCJK is false when s has
// a non-ASCII character that is not CJK (a sign of the wrong charset).
func countScripts(s string) (c scriptCounts, allCJK bool) {
	runes := []rune(s)
	for i, r := range runes {
		switch {
		case r < 0x80:
			continue
		case unicode.Is(unicode.Han, r):
			c.han++
		case unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r) && (r < 0xFF61 || r > 0xFF9F):
			c.kana++
		case unicode.Is(unicode.Hangul, r):
			c.hangul++
			if strings.ContainsRune(commonHangul, r) {
				c.commonHangul++
			}
		case r >= 0xFF61 && r <= 0xFF9F:
			c.halfwidth++
		case r >= 0x3000 && r <= 0x303F, r >= 0xFF00 && r <= 0xFFEF, r >= 0x2000 && r <= 0x206F, r >= 0x2460 && r <= 0x27BF,
			r >= 0x3200 && r <= 0x33FF, r >= 0x0391 && r <= 0x03C9, r >= 0x0410 && r <= 0x044F, r == 0x00B7, r == 0x00D7, r == 0x00F7:
			// CJK symbols and punctuation, full-width forms, the general
			// punctuation, shapes, enclosed and squared forms, and the
			// Greek, Cyrillic and signs that every CJK charset carries.
		default:
			return c, false
		}
		c.cjk++
		if i > 0 && isASCIILetter(runes[i-1]) || i+1 < len(runes) && isASCIILetter(runes[i+1]) {
			c.touching++
		}
	}
	return c, true
}

// isASCIILetter reports whether r is a letter of the ASCII range.
func isASCIILetter(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}
