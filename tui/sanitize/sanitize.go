// Package sanitize makes untrusted text safe to draw on a terminal.
//
// Every string that comes from a mail (subject, names, addresses, body,
// attachment names) must pass through Text or Line before it reaches the
// screen. The output holds no escape sequences, no control characters other
// than newline and tab, and no Unicode format characters, so a mail cannot
// move the cursor, write the clipboard, draw hyperlinks, ring the bell or
// reorder text with bidi overrides.
package sanitize

import (
	"strings"
	"unicode"

	"github.com/charmbracelet/x/ansi"
)

// Text cleans multi-line text. Invalid UTF-8 becomes U+FFFD, CRLF becomes LF
// and a lone CR is removed, so nothing can be overprinted. Escape sequences
// are stripped, and then every control rune except '\n' and '\t' and every
// format rune (Unicode category Cf: bidi controls, zero-width characters,
// BOM, soft hyphen) is dropped. Text is idempotent.
//
// Like a terminal, the stripper treats an unterminated OSC, DCS, APC, PM or
// SOS string as running to the end of s, so everything after it is hidden.
func Text(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "")
	s = ansi.Strip(s)
	// ansi.Strip may leave a lone or unfinished ESC and one-byte C1
	// introducers such as U+009B; the rune filter drops whatever remains.
	return strings.Map(keep, s)
}

// Line cleans a single-line value such as a subject, a display name or an
// address: it applies Text, turns every run of whitespace (newlines and
// tabs included) into one space and trims both ends.
func Line(s string) string {
	return strings.Join(strings.Fields(Text(s)), " ")
}

// keep returns r if it may reach the terminal, or -1 to drop it.
func keep(r rune) rune {
	switch {
	case r == '\n' || r == '\t':
		return r
	case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
		return -1
	}
	return r
}
