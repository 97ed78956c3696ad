package parse

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// crlf turns the LF line ends of a test message into CRLF, as on the wire.
func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// hasWarning reports whether one of m's warnings contains part.
func hasWarning(m *Message, part string) bool {
	for _, w := range m.Warnings {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}

func TestPlain(t *testing.T) {
	m := Parse(crlf(`From: "Doe, Jane" <Jane.Doe@Example.TEST>
To: Support <support@desk.test>, bob@example.test
Cc: carol@example.test
Reply-To: replies@example.test
Subject: Printer on fire
Date: Mon, 02 Jan 2006 15:04:05 -0700
Message-ID: <abc.123@example.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello,   
the printer is on fire.

-- 
Jane


`))
	want := &Message{
		MessageID: "abc.123@example.test",
		From:      Address{Name: "Doe, Jane", Addr: "jane.doe@example.test"},
		To:        []Address{{Name: "Support", Addr: "support@desk.test"}, {Addr: "bob@example.test"}},
		Cc:        []Address{{Addr: "carol@example.test"}},
		ReplyTo:   []Address{{Addr: "replies@example.test"}},
		Subject:   "Printer on fire",
		Date:      time.Date(2006, 1, 2, 15, 4, 5, 0, time.FixedZone("", -7*3600)),
		Text:      "Hello,\nthe printer is on fire.\n\n-- \nJane",
	}
	if !m.Date.Equal(want.Date) {
		t.Errorf("Date = %v, want %v", m.Date, want.Date)
	}
	m.Date = want.Date
	if !reflect.DeepEqual(m, want) {
		t.Errorf("Parse =\n%#v\nwant\n%#v", m, want)
	}
}

func TestBody(t *testing.T) {
	tests := []struct {
		name     string
		raw      []byte
		text     string // the whole Text, or with contains, a part of it
		contains bool
		atts     []Attachment
		warning  string // a part of one warning, "" for none at all
	}{
		{
			name: "html only",
			raw: crlf(`From: a@example.test
Content-Type: text/html; charset=utf-8

<html><head><style>p { color: red }</style></head><body>
<p>Hello <b>there</b>,</p><p>see <a href="https://desk.test/kb?a=1&amp;b=2">the docs</a>.</p>
<script>alert(1)</script></body></html>
`),
			text: "Hello there,\n\nsee the docs <https://desk.test/kb?a=1&b=2>.",
		},
		{
			name: "alternative prefers plain",
			raw: crlf(`From: a@example.test
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"

preamble
--alt
Content-Type: text/plain; charset=us-ascii

plain version
--alt
Content-Type: text/html; charset=us-ascii

<p>html version</p>
--alt--
epilogue
`),
			text: "plain version",
		},
		{
			name: "alternative with related html only",
			raw: crlf(`From: a@example.test
Content-Type: multipart/alternative; boundary=outer

--outer
Content-Type: multipart/related; boundary=inner

--inner
Content-Type: text/html

<p>only <i>html</i></p>
--inner
Content-Type: image/png
Content-ID: <logo>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--inner--
--outer--
`),
			text: "only html",
			atts: []Attachment{{ContentType: "image/png", Size: 8}},
		},
		{
			name: "attachment with RFC 2231 filename",
			raw: crlf(`From: a@example.test
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

see attached
--b
Content-Type: application/pdf; name="fallback.pdf"
Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9%20v2.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--b
Content-Type: text/plain
Content-Disposition: attachment;
 filename*0*=iso-8859-1''caf%E9;
 filename*1=".txt"

a text attachment is not body text
--b--
`),
			text: "see attached",
			atts: []Attachment{
				{Filename: "résumé v2.pdf", ContentType: "application/pdf", Size: 9},
				{Filename: "café.txt", ContentType: "text/plain", Size: 34},
			},
		},
		{
			name: "filename in Content-Type name and RFC 2047",
			raw: crlf(`From: a@example.test
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: image/jpeg; name="=?UTF-8?B?w7xiZXIuanBn?="

xyz
--b--
`),
			atts: []Attachment{{Filename: "über.jpg", ContentType: "image/jpeg", Size: 3}},
		},
		{
			name: "windows-1252 body",
			raw: append(crlf("From: a@example.test\nContent-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: 8bit\n\n"),
				"\x93quoted\x94 costs \x805\r\n"...),
			text: "“quoted” costs €5",
		},
		{
			name: "quoted-printable latin-1",
			raw: crlf(`From: a@example.test
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

Gr=FC=DFe aus K=F6ln, this line is long and soft=
 broken.
`),
			text: "Grüße aus Köln, this line is long and soft broken.",
		},
		{
			name: "unknown charset, valid UTF-8",
			raw: crlf(`From: a@example.test
Content-Type: text/plain; charset=x-foo

hello wörld
`),
			text:    "hello wörld",
			warning: `unknown charset "x-foo": shown as received`,
		},
		{
			name:    "unknown charset, 8-bit",
			raw:     append(crlf("From: a@example.test\nContent-Type: text/plain; charset=x-foo\n\n"), "caf\xe9\r\n"...),
			text:    "café",
			warning: `unknown charset "x-foo": read as windows-1252`,
		},
		{
			name:    "unlabelled 8-bit",
			raw:     append(crlf("From: a@example.test\n\n"), "na\xefve\n"...),
			text:    "naïve",
			warning: "not valid UTF-8",
		},
		{
			name: "iso-2022-jp",
			raw: append(crlf("From: a@example.test\nContent-Type: text/plain; charset=iso-2022-jp\n\n"),
				"\x1b$B$3$s$K$A$O\x1b(B\r\n"...),
			text: "こんにちは",
		},
		{
			name: "forwarded message",
			raw: crlf(`From: a@example.test
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

FYI, see below.
--b
Content-Type: message/rfc822
Content-Disposition: attachment

From: Customer <cust@example.test>
Subject: =?utf-8?q?Rechnung_f=C3=BCr_M=C3=A4rz?=
Content-Type: multipart/mixed; boundary=inner

--inner
Content-Type: text/plain

Where is my invoice?
--inner
Content-Type: application/pdf
Content-Disposition: attachment; filename=old.pdf

PDF
--inner--
--b--
`),
			text: "FYI, see below.\n\n---- Forwarded message ----\nFrom: Customer <cust@example.test>\n" +
				"Subject: Rechnung für März\n\nWhere is my invoice?",
			atts: []Attachment{{Filename: "old.pdf", ContentType: "application/pdf", Size: 3}},
		},
		{
			name: "line ends and trailing noise",
			raw:  []byte("From: a@example.test\r\n\r\n\r\n\r\n  one  \r\ntwo\t\r\n\r\n\r\n\r\n\r\nthree\rfour   \r\n\r\n\r\n"),
			text: "  one\ntwo\n\nthree\nfour",
		},
		{
			name:    "header not ended by a blank line",
			raw:     crlf("From: a@example.test\nSubject: hi\nthis is the body\nsecond line\n"),
			text:    "this is the body\nsecond line",
			warning: "header not followed by a blank line",
		},
		{
			name:    "header starts with white space",
			raw:     crlf(" From: a@example.test\nSubject: hi\n\nbody\n"),
			text:    "body",
			warning: "header starts with white space",
		},
		{
			name: "missing final boundary",
			raw: crlf(`From: a@example.test
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

first
--b
Content-Type: text/plain

cut short`),
			text:    "first\n\ncut short",
			warning: "final boundary missing",
		},
		{
			name:    "multipart without boundary",
			raw:     crlf("From: a@example.test\nContent-Type: multipart/mixed\n\njust text\n"),
			text:    "just text",
			warning: "without parts",
		},
		{
			name: "similar boundaries",
			raw: crlf(`From: a@example.test
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: multipart/alternative; boundary=b2

--b2
Content-Type: text/plain

inner text
--b2--
--b
Content-Type: text/plain

outer text
--b--
`),
			text: "inner text\n\nouter text",
		},
		{
			name: "malformed content-type params",
			raw: crlf(`From: a@example.test
Content-Type: multipart/mixed; boundary=a?b; boundary=a?b

--a?b
Content-Type: text/plain

kept
--a?b--
`),
			text:    "kept",
			warning: "malformed Content-Type header",
		},
		{
			name: "content-type without semicolon and with a comment",
			raw: crlf(`From: a@example.test
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain; charset=iso-8859-1 (Western)
Content-Transfer-Encoding: quoted-printable

caf=E9
--b
Content-Type: application/pdf name="Invoice 7.pdf"

PDF
--b--
`),
			text:    "café",
			atts:    []Attachment{{Filename: "Invoice 7.pdf", ContentType: "application/pdf", Size: 3}},
			warning: "malformed Content-Type header",
		},
		{
			name: "broken base64",
			raw: crlf(`From: a@example.test
Content-Type: text/plain
Content-Transfer-Encoding: base64

aGVsbG8g!!!d29y
bGQ=
`),
			text:    "hello world",
			warning: "broken base64",
		},
		{
			name: "base64 in padded pieces",
			raw: crlf(`From: a@example.test
Content-Type: text/plain
Content-Transfer-Encoding: base64

aGk=
IHRoZXJl
`),
			text: "hi there",
		},
		{
			name: "unknown transfer encoding",
			raw: crlf(`From: a@example.test
Content-Type: text/plain
Content-Transfer-Encoding: x-uuencode

begin 644 a.txt
`),
			text:    "begin 644 a.txt",
			warning: `unknown transfer encoding "x-uuencode"`,
		},
		{
			name:    "bare CR line ends",
			raw:     []byte("From: a@example.test\rSubject: mac\r\rline one\rline two\r"),
			text:    "line one\nline two",
			warning: "",
		},
		{
			name:    "mbox From line",
			raw:     []byte("From a@example.test Mon Jan  2 15:04:05 2006\nFrom: a@example.test\n\nbody\n"),
			text:    "body",
			warning: "",
		},
		{
			name:    "no header",
			raw:     []byte("just some text\nno header\n"),
			text:    "just some text\nno header",
			warning: "no header found",
		},
		{
			name:    "no body",
			raw:     crlf("From: a@example.test\nSubject: nothing\n"),
			warning: "message has no body",
		},
		{
			name: "only an attachment",
			raw: crlf(`From: a@example.test
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="data.bin"

xxxx`),
			atts: []Attachment{{Filename: "data.bin", ContentType: "application/octet-stream", Size: 4}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Parse(tt.raw)
			if m.Text != tt.text {
				t.Errorf("Text = %q, want %q", m.Text, tt.text)
			}
			if !reflect.DeepEqual(m.Attachments, tt.atts) {
				t.Errorf("Attachments = %+v, want %+v", m.Attachments, tt.atts)
			}
			if tt.warning == "" && len(m.Warnings) > 0 {
				t.Errorf("Warnings = %q, want none", m.Warnings)
			}
			if tt.warning != "" && !hasWarning(m, tt.warning) {
				t.Errorf("Warnings = %q, want one with %q", m.Warnings, tt.warning)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	tests := []struct {
		name    string
		raw     []byte
		check   func(*Message) bool
		warning string // a part of one warning, "" for none at all
	}{
		{
			name:  "RFC 2047 ISO-8859-1 subject",
			raw:   crlf("Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?= =?iso-8859-1?b?4A==?= la carte\n\nx\n"),
			check: func(m *Message) bool { return m.Subject == "Café crèmeà la carte" },
		},
		{
			name:    "RFC 2047 unknown charset",
			raw:     crlf("Subject: Re: =?x-unknown?q?hello?= there\n\nx\n"),
			check:   func(m *Message) bool { return m.Subject == "Re: hello there" },
			warning: `unknown charset "x-unknown"`,
		},
		{
			name:    "raw latin-1 subject",
			raw:     []byte("Subject: Gr\xfc\xdfe\n\nx\n"),
			check:   func(m *Message) bool { return m.Subject == "Grüße" },
			warning: "Subject: not UTF-8",
		},
		{
			name:  "raw UTF-8 subject",
			raw:   []byte("Subject: Grüße 日本\n\nx\n"),
			check: func(m *Message) bool { return m.Subject == "Grüße 日本" },
		},
		{
			name: "folded headers",
			raw: crlf(`Subject: a very long subject
	that goes on
  and on
To: first@example.test,
 "Second
 Person" <second@example.test>

x
`),
			check: func(m *Message) bool {
				return m.Subject == "a very long subject that goes on and on" &&
					reflect.DeepEqual(m.To, []Address{{Addr: "first@example.test"}, {Name: "Second Person", Addr: "second@example.test"}})
			},
		},
		{
			name: "threading with several ids",
			raw: crlf(`Message-ID: <reply.3@example.test>
In-Reply-To: <second.2@example.test>
References: <root.1@example.test>
 <second.2@example.test>	<x@[127.0.0.1]>

x
`),
			check: func(m *Message) bool {
				return m.MessageID == "reply.3@example.test" &&
					reflect.DeepEqual(m.InReplyTo, []string{"second.2@example.test"}) &&
					reflect.DeepEqual(m.References, []string{"root.1@example.test", "second.2@example.test", "x@[127.0.0.1]"})
			},
		},
		{
			name: "malformed threading ids",
			raw: crlf(`Message-ID: <no-at-sign>
In-Reply-To: <a@example.test> (Jane's message of Monday)
References: <a@example.test>, b@example.test <no at sign>

x
`),
			check: func(m *Message) bool {
				return m.MessageID == "no-at-sign" &&
					reflect.DeepEqual(m.InReplyTo, []string{"a@example.test"}) &&
					reflect.DeepEqual(m.References, []string{"a@example.test", "noatsign"})
			},
			warning: "malformed Message-ID",
		},
		{
			name:  "no Message-ID",
			raw:   crlf("From: a@example.test\n\nx\n"),
			check: func(m *Message) bool { return m.MessageID == "" && m.InReplyTo == nil && m.References == nil },
		},
		{
			name:    "broken date",
			raw:     crlf("Date: yesterday at noon\n\nx\n"),
			check:   func(m *Message) bool { return m.Date.IsZero() },
			warning: `unparseable Date header "yesterday at noon"`,
		},
		{
			name: "date without zone",
			raw:  crlf("Date: Tue, 03 Dec 2002 15:20:18\n\nx\n"),
			check: func(m *Message) bool {
				return m.Date.Equal(time.Date(2002, 12, 3, 15, 20, 18, 0, time.UTC))
			},
			warning: "malformed Date header",
		},
		{
			name: "asctime date",
			raw:  crlf("Date: Sat Sep 21 08:18:08 2002\n\nx\n"),
			check: func(m *Message) bool {
				return m.Date.Equal(time.Date(2002, 9, 21, 8, 18, 8, 0, time.UTC))
			},
			warning: "malformed Date header",
		},
		{
			name:  "missing date",
			raw:   crlf("From: a@example.test\n\nx\n"),
			check: func(m *Message) bool { return m.Date.IsZero() },
		},
		{
			name: "delivery addresses",
			raw: crlf(`Delivered-To: support+billing@desk.test
X-Original-To: Support+Billing@Desk.TEST
Envelope-To: <other@desk.test>
Delivered-To: second@desk.test
X-Forwarded-To: fwd@desk.test, fwd2@desk.test
X-Delivered-To: mailing list list@desk.test

x
`),
			check: func(m *Message) bool {
				return reflect.DeepEqual(m.Recipients,
					[]string{"support+billing@desk.test", "second@desk.test", "list@desk.test", "other@desk.test", "fwd@desk.test", "fwd2@desk.test"})
			},
		},
		{
			name: "encoded display name",
			raw:  crlf("From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <JM@Example.test>\n\nx\n"),
			check: func(m *Message) bool {
				return m.From == Address{Name: "Jürgen Müller", Addr: "jm@example.test"}
			},
		},
		{
			name: "malformed address list",
			raw:  crlf("From: Jane <jane@example.test\nTo: ok@example.test, broken <<x@example.test>>, \"unterminated <u@example.test>\n\nx\n"),
			check: func(m *Message) bool {
				return m.From.Addr == "jane@example.test" &&
					reflect.DeepEqual(m.To, []Address{{Addr: "ok@example.test"}, {Addr: "x@example.test"}, {Addr: "u@example.test"}})
			},
			warning: "malformed From header",
		},
		{
			name:  "group syntax",
			raw:   crlf("To: undisclosed-recipients:;\nCc: team: a@example.test, b@example.test;\n\nx\n"),
			check: func(m *Message) bool { return len(m.To) == 0 && len(m.Cc) == 2 },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Parse(tt.raw)
			if !tt.check(m) {
				t.Errorf("unexpected result: %+v", m)
			}
			if tt.warning == "" && len(m.Warnings) > 0 {
				t.Errorf("Warnings = %q, want none", m.Warnings)
			}
			if tt.warning != "" && !hasWarning(m, tt.warning) {
				t.Errorf("Warnings = %q, want one with %q", m.Warnings, tt.warning)
			}
		})
	}
}

func TestAuto(t *testing.T) {
	tests := []struct {
		name, header, want string
	}{
		{"human", "From: jane@example.test\n", ""},
		{"auto-submitted", "Auto-Submitted: auto-replied (vacation)\n", "auto-submitted"},
		{"auto-submitted generated", "Auto-Submitted: auto-generated\n", "auto-submitted"},
		{"auto-submitted no", "Auto-Submitted: No\n", ""},
		{"precedence bulk", "Precedence: bulk\n", "precedence"},
		{"precedence junk", "Precedence: junk\n", "precedence"},
		{"precedence list", "Precedence: list\n", "precedence"},
		{"precedence first-class", "Precedence: first-class\n", ""},
		{"list-id", "List-Id: Users <users.lists.example.test>\n", "list"},
		{"list-unsubscribe", "List-Unsubscribe: <mailto:leave@example.test>\n", "list"},
		{"mailer-daemon", "From: Mail Delivery System <MAILER-DAEMON@mx.example.test>\n", "bounce"},
		{"postmaster", "From: postmaster@example.test\n", "bounce"},
		{"failed recipients", "X-Failed-Recipients: gone@example.test\n", "bounce"},
		{"null return path", "Return-Path: < >\n", "null-return-path"},
		{"normal return path", "Return-Path: <jane@example.test>\n", ""},
		{"x-autoreply", "X-Autoreply: yes\n", "autoreply"},
		{"x-autorespond", "X-Autorespond: yes\n", "autoreply"},
		{"suppress all", "X-Auto-Response-Suppress: All\n", "autoreply"},
		{"suppress oof", "X-Auto-Response-Suppress: DR, OOF\n", "autoreply"},
		{"suppress none", "X-Auto-Response-Suppress: None\n", ""},
		{"bounce wins", "Return-Path: <>\nAuto-Submitted: auto-replied\nFrom: mailer-daemon@example.test\n", "bounce"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Parse(crlf(tt.header + "Subject: s\n\nbody\n"))
			if m.Auto != tt.want {
				t.Errorf("Auto = %q, want %q", m.Auto, tt.want)
			}
		})
	}
}

func TestBounce(t *testing.T) {
	m := Parse(crlf(`Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@mx.example.test>
To: support@desk.test
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
Content-Type: multipart/report; report-type=delivery-status; boundary="r"

--r
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.
--r
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.test

Final-Recipient: rfc822; gone@example.test
Action: failed
Status: 5.1.1
--r
Content-Type: message/rfc822

From: support@desk.test
To: gone@example.test
Subject: Re: your ticket

Hello!
--r--
`))
	if m.Auto != "bounce" {
		t.Errorf("Auto = %q, want bounce", m.Auto)
	}
	wantText := "I'm sorry to have to inform you that your message could not be delivered.\n\n" +
		"---- Forwarded message ----\nFrom: support@desk.test\nSubject: Re: your ticket\n\nHello!"
	if m.Text != wantText {
		t.Errorf("Text = %q, want %q", m.Text, wantText)
	}
	wantAtts := []Attachment{{ContentType: "message/delivery-status", Size: 112}}
	if !reflect.DeepEqual(m.Attachments, wantAtts) {
		t.Errorf("Attachments = %+v, want %+v", m.Attachments, wantAtts)
	}
	if len(m.Warnings) > 0 {
		t.Errorf("Warnings = %q, want none", m.Warnings)
	}
}

func TestLimits(t *testing.T) {
	t.Run("deep nesting", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: a@example.test\n")
		for range 50 {
			b.WriteString("Content-Type: message/rfc822\n\n")
		}
		b.WriteString("Subject: bottom\n\ndeep text\n")
		m := Parse([]byte(b.String()))
		if !hasWarning(m, "nested more than") {
			t.Errorf("Warnings = %q, want one about nesting", m.Warnings)
		}
	})
	t.Run("many parts", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Content-Type: multipart/mixed; boundary=b\n\n")
		for range maxParts + 10 {
			b.WriteString("--b\nContent-Type: image/gif\n\nGIF\n")
		}
		b.WriteString("--b--\n")
		m := Parse([]byte(b.String()))
		if len(m.Attachments) != maxParts-1 || !hasWarning(m, "MIME parts") {
			t.Errorf("got %d attachments and warnings %q", len(m.Attachments), m.Warnings)
		}
	})
}

func TestNeverNil(t *testing.T) {
	for _, raw := range [][]byte{nil, {}, []byte("\n"), []byte("\r\n\r\n"), []byte(":"), []byte("From "), []byte("\x00\xff")} {
		if Parse(raw) == nil {
			t.Errorf("Parse(%q) = nil", raw)
		}
	}
}
