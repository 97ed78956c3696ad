package sanitize_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"desk/mail/parse"
	"desk/tui/sanitize"
)

// hostile are terminal attacks a mail can carry, and what must be shown
// instead (white space folded).
var hostile = []struct{ name, in, want string }{
	{"osc 52 clipboard write", "a\x1b]52;c;cm0gLXJmIH4=\x07b", "ab"},
	{"osc 8 link", "\x1b]8;;https://evil.test\x1b\\click\x1b]8;;\x1b\\", "click"},
	{"clear screen", "x\x1b[2Jy", "xy"},
	{"cr overprint", "pay 100\rpay 999", "pay 100 pay 999"}, // a line break at worst
	{"rlo", "invoice\u202Efdp.exe", "invoicefdp.exe"},
	{"backspace", "abc\b\b\bxyz", "abcxyz"},
	{"cjk and emoji kept", "請求書 📎 עברית", "請求書 📎 עברית"},
}

// TestMailFieldsReachTheScreenClean puts each attack into the subject,
// the sender's name, the body and an attachment name of a mail (as raw
// bytes, and RFC 2047-encoded where a header cannot carry them raw) and
// checks what the parser hands on comes out of the sanitizer clean.
func TestMailFieldsReachTheScreenClean(t *testing.T) {
	for _, tc := range hostile {
		enc := "=?utf-8?b?" + base64.StdEncoding.EncodeToString([]byte(tc.in)) + "?="
		raw := "From: " + enc + " <x@customer.test>\r\nSubject: " + enc + "\r\n" +
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + tc.in +
			"\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"" + enc + "\"\r\n\r\nx\r\n--b--\r\n"
		m := parse.Parse([]byte(raw))
		fields := map[string]string{"subject": m.Subject, "name": m.From.Name, "body": m.Text}
		if len(m.Attachments) == 1 {
			fields["attachment"] = m.Attachments[0].Filename
		} else {
			t.Errorf("%s: %d attachments", tc.name, len(m.Attachments))
		}
		for field, v := range fields {
			got := sanitize.Line(v)
			if field == "body" {
				got = sanitize.Text(v)
			}
			if strings.Join(strings.Fields(got), " ") != tc.want || strings.ContainsAny(got, "\r\x1b") {
				t.Errorf("%s in the %s: shown as %q, want %q", tc.name, field, got, tc.want)
			}
		}
	}
}

// ISO-2022-JP text holds ESC before it is decoded; the gate comes after
// decoding, so the Japanese survives.
func TestISO2022JPBodySurvives(t *testing.T) {
	raw := "Subject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n" +
		"\x1b$B$3$s$K$A$O\x1b(B\r\n"
	m := parse.Parse([]byte(raw))
	if got := sanitize.Line(m.Subject); got != "テスト" {
		t.Errorf("subject %q", got)
	}
	if got := sanitize.Text(m.Text); got != "こんにちは" {
		t.Errorf("body %q", got)
	}
}
