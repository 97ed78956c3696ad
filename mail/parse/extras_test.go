package parse

import (
	"reflect"
	"strings"
	"testing"
)

func TestUTF7(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"Hi Mom -+Jjo--!", "Hi Mom -☺-!", true}, // RFC 2152 examples
		{"+ZeVnLIqe-", "日本語", true},
		{"A+ImIDkQ.", "A≢Α.", true},
		{"1 +- 1 = 2", "1 + 1 = 2", true},
		{"Fr+APY-sche", "Frösche", true},
		{"+2D3eAA-", "\U0001F600", true}, // a surrogate pair
		{"plain", "plain", true},
		{"+AGEAYgBj", "abc", true}, // run ended by the end of text
		{"bad +2D3-", "bad \uFFFD", false},
		{"8bit \xe9", "8bit \uFFFD", false},
	} {
		got, ok := decodeUTF7([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("decodeUTF7(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	m := Parse([]byte("Subject: =?utf-7?Q?Fr+APY-sche?=\nContent-Type: text/plain; charset=UTF-7\n\nGr+APw-+AN8-e\n"))
	if m.Subject != "Frösche" || m.Text != "Grüße" || len(m.Warnings) > 0 {
		t.Errorf("UTF-7 message: subject %q, text %q, warnings %q", m.Subject, m.Text, m.Warnings)
	}
}

func TestEncodedWordsInTheWild(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"=?utf-8?q?caf=C3=A9?=", "café"},
		{"=?utf-8?q?a?= =?utf-8?q?b?=", "ab"},                                          // space between words dropped
		{"x =?utf-8?q?a?= y", "x a y"},                                                 // kept around other text
		{"Re:=?utf-8?q?caf=C3=A9?=", "Re:café"},                                        // glued to text
		{"=?utf-8?q?=C3?= =?utf-8?q?=A9t=C3=A9?=", "été"},                              // a character split over two words
		{"=?iso-8859-1?Q?Die_Hasen_und_die_Fr\xf6sche?=", "Die Hasen und die Frösche"}, // raw 8-bit inside
		{"=?utf-8?B?w6l0w6k?=", "été"},                                                 // base64 without padding
		{"=?utf-8*fr?q?=C3=A9t=C3=A9?=", "été"},                                        // RFC 2231 language
		{"=?x-unknown?q?abc?=", "abc"},
		{"=?utf-8?q?with space?=", "with space"},
		{"=?utf-8?q?unclosed", "=?utf-8?q?unclosed"},
	} {
		m := Parse([]byte("Subject: " + tc.in + "\n\nx\n"))
		if m.Subject != tc.want {
			t.Errorf("Subject %q decoded to %q, want %q", tc.in, m.Subject, tc.want)
		}
	}
	m := Parse([]byte("From: =?iso-8859-1?q?J=F6rg_M=FCller?= <j@example.test>\n\nx\n"))
	if m.From != (Address{Name: "Jörg Müller", Addr: "j@example.test"}) {
		t.Errorf("From = %+v", m.From)
	}
}

func TestMixedUTF8AndWindows1252(t *testing.T) {
	m := Parse([]byte("Content-Type: text/plain; charset=utf-8\n\npäivää \x96 caf\xe9\n"))
	if m.Text != "päivää – café" {
		t.Errorf("Text = %q", m.Text)
	}
}

func TestFormatFlowed(t *testing.T) {
	for _, tc := range []struct {
		name, params, body, want string
	}{
		{"soft breaks", "format=flowed", "one \r\ntwo \r\nthree\r\nfour", "one two three\nfour"},
		{"delsp", "format=flowed; delsp=yes", "sup \r\nercalifragilistic", "supercalifragilistic"},
		{"space-stuffed", "format=flowed", " From here\r\n >not a quote", "From here\n>not a quote"},
		{"quotes keep their depth", "format=flowed", "> quoted \r\n> more\r\n>> deeper \r\n>> too\r\nmine", "> quoted more\n>> deeper too\nmine"},
		{"depth change ends a paragraph", "format=flowed", "> quoted \r\nmine", "> quoted\nmine"},
		{"signature separator is fixed", "format=flowed", "text\r\n-- \r\nAna", "text\n-- \nAna"},
		{"not flowed", "", "one \r\ntwo", "one\ntwo"},
	} {
		m := Parse([]byte("Content-Type: text/plain; charset=utf-8; " + tc.params + "\r\n\r\n" + tc.body + "\r\n"))
		if m.Text != tc.want {
			t.Errorf("%s: Text = %q, want %q", tc.name, m.Text, tc.want)
		}
	}
}

func TestRegions(t *testing.T) {
	text := strings.Join([]string{
		"Thanks, that worked.", // 0
		"",                     // 1
		"On Mon, 1 May 2025, Ana <ana@desk.test> wrote:", // 2
		"> Try again.",      // 3
		">",                 // 4
		"> > older",         // 5
		"",                  // 6
		"Another point:",    // 7
		"> second quote",    // 8
		"-- ",               // 9
		"Bob",               // 10
		"bob@customer.test", // 11
	}, "\n")
	want := []Region{{"quote", 2, 6}, {"quote", 8, 9}, {"signature", 9, 12}}
	if got := Regions(text); !reflect.DeepEqual(got, want) {
		t.Errorf("Regions = %+v, want %+v", got, want)
	}
	outlook := "Yes.\n\n-----Original Message-----\nFrom: Ana\nSent: Monday\n\nTry again."
	if got := Regions(outlook); !reflect.DeepEqual(got, []Region{{"quote", 2, 7}}) {
		t.Errorf("Outlook Regions = %+v", got)
	}
	if got := Regions("no quotes here\n2 > 1"); got != nil {
		t.Errorf("Regions of plain text = %+v", got)
	}
}

func TestUuencodeAndTNEF(t *testing.T) {
	raw := "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nHere it is:\n\n" +
		"begin 644 ../../etc/hello.txt\n%:&5L;&\\*\n`\nend\n\nBye\n" +
		"--b\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\nContent-Transfer-Encoding: base64\n\neJ8+IgAAAA==\n--b--\n"
	m := Parse([]byte(raw))
	want := []Attachment{
		{Filename: "hello.txt", ContentType: "text/plain", Size: 5},
		{Filename: "winmail.dat", ContentType: "application/ms-tnef", Size: 7},
	}
	if !reflect.DeepEqual(m.Attachments, want) {
		t.Errorf("Attachments = %+v, want %+v", m.Attachments, want)
	}
	if m.Text != "Here it is:\n\nBye" {
		t.Errorf("Text = %q", m.Text)
	}
	// The base64 variant (uuencode -m) alone in a text is found too.
	m = Parse([]byte("\nNotes:\nbegin-base64 644 notes.txt\nSGVsbG8gd29y\nbGQ=\n====\nBye\n"))
	if want := []Attachment{{Filename: "notes.txt", ContentType: "text/plain", Size: 11}}; !reflect.DeepEqual(m.Attachments, want) || m.Text != "Notes:\nBye" {
		t.Errorf("begin-base64 block: %+v %q, want %+v and the text around it", m.Attachments, m.Text, want)
	}
	// A "begin" line without an "end" is text.
	if m := Parse([]byte("\nbegin 644 x\nnot encoded\n")); len(m.Attachments) != 0 || !strings.Contains(m.Text, "begin 644 x") {
		t.Errorf("unterminated block: %+v %q", m.Attachments, m.Text)
	}
}

func TestSafeFilename(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../.bashrc", "bashrc"},
		{`C:\Users\x\evil.exe`, "evil.exe"},
		{"invoice\u202Efdp.exe", "invoicefdp.exe"}, // RLO disguising .exe
		{"a\x1b[2Jb\r\n.txt", "ab.txt"},
		{"x\x1b]52;c;cm0=\x07y.txt", "xy.txt"},
		{"zero\u200bwidth.txt", "zerowidth.txt"},
		{"  ...  ", "attachment"},
		{"写真.jpg", "写真.jpg"},
		{strings.Repeat("é", 100) + ".pdf", strings.Repeat("é", 73) + ".pdf"},
	} {
		if got := safeFilename(tc.in); got != tc.want {
			t.Errorf("safeFilename(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	m := Parse([]byte("Content-Type: application/octet-stream; name=\"x\"\nContent-Disposition: attachment; filename=\"/tmp/\u202egpj.exe\"\n\nx\n"))
	if len(m.Attachments) != 1 || m.Attachments[0].Filename != "gpj.exe" {
		t.Errorf("Attachments = %+v", m.Attachments)
	}
}

func TestReport(t *testing.T) {
	m := Parse([]byte("From: MAILER-DAEMON <>\nTo: support@desk.test\nSubject: Mail delivery failed\n" +
		"X-Failed-Recipients: Gone@Customer.test\nMessage-ID: <b@mx>\n\n" +
		"There was an error delivering your mail to <gone@customer.test>.\n\nMessage headers follow.\n\n" +
		"From: support@desk.test\nMessage-ID: <ours@desk.test>\nSubject: Re: help\n"))
	if m.Auto != "bounce" || m.Report == nil {
		t.Fatalf("Auto %q, Report %+v", m.Auto, m.Report)
	}
	want := Report{FailedRecipients: []string{"gone@customer.test"}, OriginalIDs: []string{"ours@desk.test"}}
	if !reflect.DeepEqual(*m.Report, want) {
		t.Errorf("Report = %+v, want %+v", *m.Report, want)
	}
	if m := Parse([]byte("From: a@b\n\nhi\n")); m.Report != nil {
		t.Errorf("human mail has a report: %+v", m.Report)
	}
	// Only failed groups of a delivery-status report count.
	m = Parse([]byte("From: postmaster@mx\nContent-Type: multipart/report; boundary=r\n\n--r\nContent-Type: message/delivery-status\n\n" +
		"Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; ok@x.test\nAction: delivered\n\n" +
		"Final-Recipient: rfc822;late@x.test\nAction: delayed\n\nOriginal-Recipient: rfc822; gone@x.test\nAction: failed\n--r--\n"))
	if m.Report == nil || !reflect.DeepEqual(m.Report.FailedRecipients, []string{"gone@x.test"}) {
		t.Errorf("Report = %+v", m.Report)
	}
}

func TestMoreAutoReasons(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"From: No Reply <no-reply@shop.test>\n", "noreply"},
		{"From: DoNotReply@shop.test\n", "noreply"},
		{"From: Mail Delivery Subsystem <MAILER-DAEMON>\n", "bounce"},
		{"From: MAILER-DAEMON <>\n", "bounce"},
		{"From: a@b.test\nContent-Type: message/feedback-report\n", "bounce"},
		{"From: a@b.test\nX-MLServer: fml\n", "list"},
		{"From: noreplyer@b.test\n", ""},
	} {
		if got := Parse([]byte(tc.header + "Subject: s\n\nbody\n")).Auto; got != tc.want {
			t.Errorf("%q: Auto = %q, want %q", tc.header, got, tc.want)
		}
	}
	for addr, want := range map[string]bool{"noreply@x": true, "NO-REPLY+tag@x": true, "postmaster@x": true, "alice@x": false, "": false} {
		if IsNoAnswerSender(addr) != want {
			t.Errorf("IsNoAnswerSender(%q) != %v", addr, want)
		}
	}
}

func TestReceivedForAndAttached(t *testing.T) {
	m := Parse([]byte("Received: from a by b; Thu, 1 May 2025 10:00:00 +0000\n" +
		"Received: from c by d with ESMTP id 1\n\tfor <Support+App@Desk.test>; Thu, 1 May 2025 09:00:00 +0000\n" +
		"Delivered-To: support@desk.test\nAuthentication-Results: mx; dmarc=pass\n" +
		"From: ana@desk.test\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\n" +
		"From: Dora <dora@customer.test>\nSubject: Help\nMessage-ID: <d@customer.test>\nDate: Thu, 1 May 2025 08:00:00 +0000\n\nI need help.\n--b--\n"))
	if want := []string{"support@desk.test", "support+app@desk.test"}; !reflect.DeepEqual(m.Recipients, want) {
		t.Errorf("Recipients = %q, want %q", m.Recipients, want)
	}
	if !reflect.DeepEqual(m.AuthResults, []string{"mx; dmarc=pass"}) {
		t.Errorf("AuthResults = %q", m.AuthResults)
	}
	in := m.Attached
	if in == nil || in.From.Addr != "dora@customer.test" || in.Subject != "Help" || in.Text != "I need help." ||
		in.MessageID != "d@customer.test" || in.Date.IsZero() {
		t.Errorf("Attached = %+v", in)
	}
}
