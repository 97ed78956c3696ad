package parse

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"",
		"From: a@example.test\nSubject: hi\n\nbody\n",
		"Subject: =?iso-8859-1?q?caf=E9?=\r\nContent-Type: text/html; charset=x-foo\r\n\r\n<p>x &amp; y</p>\r\n",
		"Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain\n\nplain\n--b\nContent-Type: text/html\n\n<b>html</b>\n--b--\n",
		"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nFrom: x@y\n\ninner\n--b\nContent-Disposition: attachment; filename*0*=utf-8''a%20b; filename*1=c\nContent-Transfer-Encoding: base64\n\naGk=\n",
		"Content-Type: text/plain; charset=iso-2022-jp\nContent-Transfer-Encoding: quoted-printable\n\n=1B$B$3=1B(B=\n",
		"From x Mon Jan  1 00:00:00 2001\nReferences: <a@b> c@d <e>\nDate: Tue, 03 Dec 2002 15:20:18\n\n\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := Parse(raw)
		if m == nil {
			t.Fatal("Parse returned nil")
		}
		if !utf8.ValidString(m.Text) || strings.Contains(m.Text, "\r") {
			t.Fatalf("Text %q is not valid UTF-8 or has a CR", m.Text)
		}
		strs := []string{m.MessageID, m.Subject, m.Auto, m.From.Name, m.From.Addr}
		strs = append(strs, m.InReplyTo...)
		strs = append(strs, m.References...)
		strs = append(strs, m.Recipients...)
		strs = append(strs, m.Warnings...)
		for _, list := range [][]Address{m.To, m.Cc, m.ReplyTo} {
			for _, a := range list {
				strs = append(strs, a.Name, a.Addr)
			}
		}
		for _, a := range m.Attachments {
			strs = append(strs, a.Filename, a.ContentType)
		}
		for _, s := range strs {
			if !utf8.ValidString(s) {
				t.Fatalf("field %q is not valid UTF-8", s)
			}
		}
		for _, w := range m.Warnings {
			if strings.HasPrefix(w, "internal error") {
				t.Fatalf("recovered panic: %s", w)
			}
		}
	})
}
