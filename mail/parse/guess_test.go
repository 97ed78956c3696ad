package parse

import (
	"strings"
	"testing"
)

// TestUnlabelledCJK parses mail whose text carries no charset (or a wrong
// one): text that decodes completely and plausibly in a CJK charset is
// read in it, Latin-1 text stays windows-1252.
func TestUnlabelledCJK(t *testing.T) {
	const head = "From: a@example.test\r\nSubject: hi\r\n"
	tests := []struct {
		name, header, body, text, warning string
	}{
		{"GB2312", "", "\xc3\xe2\xb7\xd1\xb7\xa2\xc6\xb1\xa3\xac\xc7\xeb\xc1\xaa\xcf\xb5\xce\xd2\xc3\xc7\xa1\xa3",
			"免费发票，请联系我们。", "read as GB18030"},
		{"GB2312 with ASCII words", "", "QQ: 12345 \xc3\xe2\xb7\xd1\xb7\xa2\xc6\xb1 http://example.test/",
			"QQ: 12345 免费发票 http://example.test/", "read as GB18030"},
		{"EUC-KR", "", "\xbe\xc8\xb3\xe7\xc7\xcf\xbc\xbc\xbf\xe4 \xb0\xed\xb0\xb4\xb4\xd4, \xb9\xab\xb7\xe1 \xbb\xf3\xb4\xe3",
			"안녕하세요 고객님, 무료 상담", "read as EUC-KR"},
		{"Shift_JIS", "", "\x96\xb3\x97\xbf\x82\xc5\x82\xa8\x8e\x8e\x82\xb5\x82\xad\x82\xbe\x82\xb3\x82\xa2\x81B\x82\xb2\x98A\x97\x8d\x82\xf0",
			"無料でお試しください。ご連絡を", "read as Shift_JIS"},
		{"EUC-JP", "", "\xcc\xb5\xce\xc1\xa4\xc7\xa4\xaa\xbb\xee\xa4\xb7\xa4\xaf\xa4\xc0\xa4\xb5\xa4\xa4\xa1\xa3\xa4\xb4\xcf\xa2\xcd\xed\xa4\xf2",
			"無料でお試しください。ご連絡を", "read as EUC-JP"},
		// 7-bit, so it passes as ASCII: no warning.
		{"ISO-2022-JP", "", "\x1b$B$3$s$K$A$O\x1b(B", "こんにちは", ""},
		{"GB2312 labelled us-ascii", "Content-Type: text/plain; charset=us-ascii\r\n", "\xc3\xe2\xb7\xd1\xb7\xa2\xc6\xb1",
			"免费发票", "read as GB18030"},
		{"GB2312 in an unknown charset", "Content-Type: text/plain; charset=x-foo\r\n", "\xc3\xe2\xb7\xd1\xb7\xa2\xc6\xb1",
			"免费发票", `unknown charset "x-foo": read as GB18030`},
		// Latin-1 letters next to each other can be one valid GBK
		// character, each wedged between Latin letters.
		{"German", "", "Gr\xfc\xdfe aus K\xf6ln, tr\xe8s d\xe9j\xe0 vu", "Grüße aus Köln, très déjà vu", "read as windows-1252"},
		{"French capitals", "", "\xc0\xc9\xc8 \xd4\xdb na\xefve fa\xe7ade", "ÀÉÈ ÔÛ naïve façade", "read as windows-1252"},
		{"euro sign", "", "\xc7a co\xfbte 10 \x80, \xe0 bient\xf4t", "Ça coûte 10 €, à bientôt", "read as windows-1252"},
		{"one double-byte character", "", "\xc3\xe2 only", "Ãâ only", "read as windows-1252"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Parse([]byte(head + tc.header + "\r\n" + tc.body + "\r\n"))
			if m.Text != tc.text {
				t.Errorf("text %q, want %q", m.Text, tc.text)
			}
			if !strings.Contains(strings.Join(m.Warnings, "\n"), tc.warning) {
				t.Errorf("warnings %q, want one containing %q", m.Warnings, tc.warning)
			}
		})
	}
}

// TestUnlabelledCJKHeader reads a raw 8-bit GB2312 subject and sender
// name as GB18030, and a Latin-1 one as windows-1252.
func TestUnlabelledCJKHeader(t *testing.T) {
	m := Parse([]byte("From: \xcd\xf5\xd0\xa1\xbd\xe3 <a@example.test>\r\nSubject: \xc3\xe2\xb7\xd1\xb7\xa2\xc6\xb1\r\n\r\nbody\r\n"))
	if m.Subject != "免费发票" || m.From.Name != "王小姐" {
		t.Errorf("subject %q, from %q; want 免费发票, 王小姐", m.Subject, m.From.Name)
	}
	m = Parse([]byte("From: a@example.test\r\nSubject: R\xe9sum\xe9 f\xfcr K\xf6ln\r\n\r\nbody\r\n"))
	if m.Subject != "Résumé für Köln" {
		t.Errorf("subject %q, want Résumé für Köln", m.Subject)
	}
}

// TestUnlabelledCJKLong judges the charset on the start of a long text
// and decodes all of it, unless the rest is not valid in that charset.
func TestUnlabelledCJKLong(t *testing.T) {
	line := "\xc3\xe2\xb7\xd1\xb7\xa2\xc6\xb1 QQ 12345\r\n" // 免费发票 QQ 12345
	long := strings.Repeat(line, 2*guessBytes/len(line))
	m := Parse([]byte("From: a@example.test\r\n\r\n" + long + "\xc7\xeb\xc1\xaa\xcf\xb5\r\n"))
	if !strings.HasSuffix(m.Text, "免费发票 QQ 12345\n请联系") || strings.Count(m.Text, "免费发票") != strings.Count(long, line) {
		t.Errorf("long GB2312 text not read whole as GB18030 (warnings %q)", m.Warnings)
	}
	// A byte pair invalid in GB18030 after the part judged: windows-1252.
	m = Parse([]byte("From: a@example.test\r\n\r\n" + long + "caf\xe9 \xff\xff\r\n"))
	if !strings.HasSuffix(m.Text, "café ÿÿ") || !strings.Contains(strings.Join(m.Warnings, "\n"), "read as windows-1252") {
		t.Errorf("text ends %q, warnings %q; want windows-1252", m.Text[len(m.Text)-20:], m.Warnings)
	}
}
