package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"desk/mail/parse"
	"desk/store"
)

// noticeCase is one automated mail of the oracle: an account (its
// templates and settings), a ticket and the notice about it.
type noticeCase struct {
	a      *Account
	t      *store.Ticket
	notice string
	msgID  string
	now    time.Time
}

// hostile are texts that end up in notices: subjects, names, templates,
// headers and footers that could trip a shortcut (Markdown, MIME syntax,
// uuencode, quoted-printable look-alikes, blank-looking text, broken
// UTF-8, long lines, every kind of line end).
var hostile = []string{
	"", " ", "   ", "\u00a0", "\t\v\f", "Re:", "Re: Re: Fwd: x [#12]", "[#12]", "Printer on fire",
	"Ärger mit der Rechnung – bitte prüfen", "价格问题", "שלום עולם", "🔥🔥 urgent 🔥🔥", "Zoë Ångström",
	"*bold* _em_ `code` ~~gone~~ <script>alert(1)</script> &amp; <b>x</b>", "# heading", "-- ", "--", "---", "===",
	"| a | b |\n|---|---|\n| 1 | 2 |", "- [ ] task\n- [x] done", "1. one\n2. two", "> quoted\n>> deeper",
	"```\ncode\n```", "    indented code", "[link](http://example.com/a_b?c=1&d=2) http://example.com/x www.example.org",
	"mailto:someone@example.com someone@example.com", "[ref]: http://example.com \"t\"\n[ref]", "<div>\nblock\n</div>",
	"begin 644 evil.txt\n#0V%T\n`\nend", "=?utf-8?q?Caf=C3=A9?= =?utf-8?b?w6Rt?=", "=20=3D= =\n=", "a=\r\nb",
	"Content-Type: text/html\r\n\r\n<p>x</p>", "--104b712d43cef688a8708857b7b0e5c24fffc3e562741c0f60b56fa925fa",
	"line\rbare cr", "crlf\r\nline", "trailing spaces   \n\t\nx  ", "\n\n\nleading and trailing blank lines\n\n\n",
	"\xff\xfe broken \xc3 utf-8", "nul\x00byte", strings.Repeat("long line without any break ", 20),
	strings.Repeat("ä", 200), strings.Repeat("x", 998), "%{ISSUE_ID} %{NOT_A_PLACEHOLDER} %{", "100% {done}",
	"\"Quoted, Name\" <a@b>", "a@b.c", "From me", "unsubscribe",
}

// noticeCases builds n varied notices over accounts with the built-in
// templates and with project templates, headers and footers taken from
// hostile.
func noticeCases(t *testing.T, n int) []noticeCase {
	t.Helper()
	rnd := rand.New(rand.NewPCG(1, 2))
	pick := func() string {
		s := hostile[rnd.IntN(len(hostile))]
		if rnd.IntN(3) == 0 {
			s += " " + hostile[rnd.IntN(len(hostile))]
		}
		return s
	}
	dir := t.TempDir()
	for i, project := range []string{"billing", "app", "ünï"} {
		for j, notice := range notices {
			if (i+j)%4 == 3 {
				continue // this one keeps the built-in text
			}
			var b strings.Builder
			for k := 0; k < 6; k++ {
				b.WriteString(pick())
				b.WriteString([]string{"\n", "\n\n", " %{ISSUE_TITLE}\n", "\n%{ISSUE_ID}: ", "\r\n", " %{ISSUE_PATH} ",
					"\n%{UNSUBSCRIBE_ADDRESS}\n", "\n%{SYSTEM_HEADER}\n", "%{SYSTEM_FOOTER}", "%{NOTE_TEXT}"}[rnd.IntN(10)])
			}
			writeTemplate(t, dir, project, notice, b.String())
		}
	}
	writeTemplate(t, dir, "app", store.NoticeClosed, "")
	writeTemplate(t, dir, "app", store.NoticeNewParticipant, "\u00a0\n\n")
	tpl, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	var accounts []*Account
	for i := range 8 {
		a := &Account{Name: "oracle", Address: []string{"support@helpdesk.example", "Desk@Example.COM", "help@xn--bcher-kva.example"}[i%3],
			IMAP: "imap://127.0.0.1:1", SMTP: "smtp://127.0.0.1:1", TLS: "none", Password: "x",
			ProjectNames: map[string]string{"billing": "Billing", "ünï": "Ünïcode – Team"}}
		if i >= 2 {
			a.Send = SendOptions{Templates: tpl, SystemHeader: pick(), SystemFooter: pick()}
		}
		if i == 3 {
			a.Send.SystemHeader, a.Send.SystemFooter = "", ""
		}
		if err := a.Validate(); err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, a)
	}
	cases := make([]noticeCase, n)
	for i := range cases {
		tk := &store.Ticket{ID: int64(i + 1), Number: rnd.Int64N(1 << rnd.IntN(63)), Project: []string{"billing", "app", "ünï", "", "general"}[rnd.IntN(5)],
			Subject: pick(), Requester: fmt.Sprintf("c%d@customer.example", i), RequesterName: pick(),
			ReplyKey: fmt.Sprintf("k%x", rnd.Uint64()), RootMessageID: fmt.Sprintf("root.%d@customer.example", i)}
		cases[i] = noticeCase{a: accounts[rnd.IntN(len(accounts))], t: tk, notice: notices[rnd.IntN(len(notices))],
			msgID: fmt.Sprintf("desk.%d.%x@helpdesk.example", 1764054000+i, rnd.Uint64()),
			now:   time.Unix(1764054000+rnd.Int64N(1e8), 0).In(time.FixedZone("", 3600*(rnd.IntN(27)-12)))}
	}
	return cases
}

// compose writes the case's notice as the sync or the sender does.
func (c noticeCase) compose() ([]byte, error) {
	if c.notice == store.NoticeThankYou {
		return thankYou(c.a, c.t, c.msgID, c.now)
	}
	return noticeMail(c.a, c.t, c.notice, c.msgID, c.now, []string{c.t.Requester, "other@customer.example"})
}

var boundaryParam = regexp.MustCompile(`boundary=([0-9a-f]+)`)

// withoutBoundaries replaces the random MIME boundaries of raw by fixed
// names, the only part of a composed mail that its inputs do not fix.
func withoutBoundaries(t *testing.T, raw []byte) []byte {
	t.Helper()
	for i, m := range boundaryParam.FindAllSubmatch(raw, -1) {
		if len(m[1]) != 60 {
			t.Fatalf("boundary %q is not the 60 hex digits go-message makes", m[1])
		}
		raw = bytes.ReplaceAll(raw, m[1], []byte(fmt.Sprintf("BOUNDARY-%d", i)))
	}
	return raw
}

// composedDigest is the digest of the oracle's mails (see TestNoticeOracle).
const composedDigest = "5cd1789e64db30ab67bbe304d5a24caf35abdba1dbbb842269cf5fd608c0e38c"

// TestNoticeOracle: for hundreds of varied notices, the text stored for a
// notice (bodyOf) is the text of the whole mail as the parser reads it,
// both for the mail as composed and for copies broken where the shortcut
// looks (delimiter lines, line ends, the part's header), and the mails are
// the ones composed before.
func TestNoticeOracle(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	short, blank := 0, 0
	raws := sha256.New() // of the SHA-256 of each mail, boundaries replaced
	check := func(i int, what string, raw []byte) {
		t.Helper()
		if got, want := bodyOf(raw), parse.Parse(raw).Text; got != want {
			t.Fatalf("case %d, %s: body\n%q\nwant\n%q\nof\n%s", i, what, got, want, raw)
		}
	}
	for i, c := range noticeCases(t, 300) {
		raw, err := c.compose()
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		check(i, "as composed", raw)
		sum := sha256.Sum256(withoutBoundaries(t, raw))
		raws.Write(sum[:])
		part := plainAlternative(raw)
		if part == nil {
			t.Fatalf("case %d: no text/plain alternative found in\n%s", i, raw)
		}
		if strings.TrimSpace(parse.Parse(part).Text) == "" {
			blank++
		} else {
			short++
		}
		if i%2 == 1 {
			continue // broken copies of every other case are enough
		}
		m := boundaryParam.FindSubmatch(raw)
		delim := "--" + string(m[1])
		at := bytes.Index(raw, part) + rnd.IntN(len(part)+1)
		for _, insert := range []string{"\r\n" + delim + "\r\n", "\r\n" + delim + " \r\n", "\r\n" + delim + "--\r\n",
			"\r\n" + delim + "--x\r\n", "\r\n" + delim + "x\r\n", "\n" + delim + "\r\n", "\n", "\r", "\r\n\r\n"} {
			broken := append(append(raw[:at:at], insert...), raw[at:]...)
			check(i, fmt.Sprintf("%q inserted at %d", insert, at), broken)
		}
		for _, edit := range [][2]string{{"text/plain", "text/html"}, {"inline", "attachment"}, {"multipart/alternative", "multipart/mixed"},
			{"quoted-printable", "base64"}, {"\r\n\r\n" + delim + "\r\n", "\r\n\r\npreamble\r\n" + delim + "\r\n"}} {
			check(i, "with "+edit[1], bytes.Replace(raw, []byte(edit[0]), []byte(edit[1]), 1))
		}
		swapped := bytes.Replace(raw, []byte("text/plain"), []byte("text/swap"), 1)
		swapped = bytes.Replace(swapped, []byte("text/html"), []byte("text/plain"), 1)
		check(i, "HTML first", bytes.Replace(swapped, []byte("text/swap"), []byte("text/html"), 1))
	}
	// The mails are byte for byte those the code of commit 19fd7d5 composed
	// (go-message v0.18.2, goldmark v1.8.7). A change meant to change what
	// is sent changes this digest: check the new mails, then update it.
	if got := hex.EncodeToString(raws.Sum(nil)); got != composedDigest {
		t.Errorf("the composed mails changed: digest %s, want %s", got, composedDigest)
	}
	// Both ways are taken: the text part read alone, and a blank one that
	// loses to the HTML.
	if short < 200 || blank == 0 {
		t.Fatalf("%d notices read from their text part and %d blank ones: the cases miss a way", short, blank)
	}
	t.Logf("%d notices read from their text part, %d blank ones", short, blank)
}

// renderByRegexp is render as first written, with the regular expression:
// the oracle of render.
func renderByRegexp(text string, d noticeData) string {
	values := map[string]string{
		"ISSUE_ID":            fmt.Sprintf("#%d", d.ticket.Number),
		"ISSUE_PATH":          fmt.Sprintf("%s#%d", d.ticket.Project, d.ticket.Number),
		"ISSUE_TITLE":         oneLine(d.ticket.Subject),
		"NOTE_TEXT":           d.note,
		"UNSUBSCRIBE_ADDRESS": d.unsubscribe,
		"SYSTEM_HEADER":       d.header,
		"SYSTEM_FOOTER":       d.footer,
	}
	out := placeholder.ReplaceAllStringFunc(text, func(m string) string { return values[m[2:len(m)-1]] })
	return strings.Trim(out, "\n") + "\n"
}

// TestRenderOracle: templates are filled as the regular expression did it,
// for every notice of the oracle and for texts made of hostile pieces and
// broken placeholders (values that look like placeholders stay as they are).
func TestRenderOracle(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	pieces := append([]string{"%{", "}", "%{}", "%{ISSUE_ID", "%{%{ISSUE_ID}}", "%{ISSUE_ID}", "%{ISSUE_PATH}", "%{ISSUE_TITLE}",
		"%{NOTE_TEXT}", "%{UNSUBSCRIBE_ADDRESS}", "%{SYSTEM_HEADER}", "%{SYSTEM_FOOTER}", "%{issue_id}", "%{ISSUE_ID }", "%{\n}", "%%{{}}"}, hostile...)
	piece := func() string {
		var b strings.Builder
		for range rnd.IntN(8) {
			b.WriteString(pieces[rnd.IntN(len(pieces))])
		}
		return b.String()
	}
	for i, c := range noticeCases(t, 400) {
		text, _ := c.a.Send.Templates.text(c.t.Project, c.notice)
		d := noticeData{ticket: c.t, note: piece(), unsubscribe: UnsubscribeAddress(c.a.Address, c.t.ReplyKey), header: piece(), footer: piece()}
		for _, text := range []string{text, piece(), piece() + text + piece()} {
			if got, want := render(text, d), renderByRegexp(text, d); got != want {
				t.Fatalf("case %d: template %q renders\n%q\nwant\n%q", i, text, got, want)
			}
		}
	}
}

// ticketSubjectByRegexp is ticketSubject as first written, the expressions
// run on every subject: the oracle of ticketSubject.
func ticketSubjectByRegexp(subject string, n int64) string {
	s := ticketToken.ReplaceAllString(subject, "")
	s = strings.TrimSpace(replyPrefix.ReplaceAllString(s, ""))
	if s == "" {
		s = "Your request"
	}
	return fmt.Sprintf("Re: %s [#%d]", s, n)
}

// TestTicketSubjectOracle: subjects made of hostile pieces, reply prefixes
// and ticket tokens get the subject the expressions gave them.
func TestTicketSubjectOracle(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	pieces := append([]string{"Re:", "RE :", "aw:", "Fwd: ", "Re[2]:", "[#12]", "[#", "#12]", " [#0] ", ":", "\u00a0", "Rewrite:"}, hostile...)
	for range 5000 {
		var b strings.Builder
		for range rnd.IntN(5) {
			b.WriteString(pieces[rnd.IntN(len(pieces))])
		}
		n := rnd.Int64N(1<<40) - 1000
		if got, want := ticketSubject(b.String(), n), ticketSubjectByRegexp(b.String(), n); got != want {
			t.Fatalf("ticketSubject(%q, %d) = %q, want %q", b.String(), n, got, want)
		}
	}
}

// TestTextType: the Content-Type written for a text part is the one
// SetContentType writes.
func TestTextType(t *testing.T) {
	for _, mediaType := range []string{"text/plain", "text/html"} {
		var h gomail.InlineHeader
		h.SetContentType(mediaType, map[string]string{"charset": "utf-8"})
		if got, want := textType(mediaType), h.Get("Content-Type"); got != want {
			t.Errorf("textType(%q) = %q, want %q", mediaType, got, want)
		}
	}
}

// TestPlainAlternativeOnlyForAlternatives: notes (a single part) and mail
// with attachments (multipart/mixed) are parsed whole.
func TestPlainAlternativeOnlyForAlternatives(t *testing.T) {
	a := composeAccount(t)
	tk := composeTicket()
	file := filepath.Join(t.TempDir(), "a.txt")
	if err := os.WriteFile(file, []byte("attached\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{store.KindNote, store.KindReply} {
		o := &store.OutboxItem{Kind: kind, MessageID: "x@desk.test", Author: "Bob", Body: "Hello *there*", Files: []string{file}, Created: time.Now()}
		raw, _, err := staffMail(a, tk, nil, o)
		if err != nil {
			t.Fatal(err)
		}
		if part := plainAlternative(raw); part != nil {
			t.Errorf("%s: part %q taken for the text", kind, part)
		}
		if got, want := bodyOf(raw), parse.Parse(raw).Text; got != want || !strings.Contains(got, "Hello *there*") {
			t.Errorf("%s: body %q, want %q", kind, got, want)
		}
	}
}

// BenchmarkThankYou times what a new ticket costs in composing its
// thank-you: the mail from the default template and the text stored as the
// message's body, as openTicket does it, for tickets of varied subjects and
// requesters.
//
//	go test -run XXX -bench ThankYou -benchmem -cpuprofile cpu.out ./mail/
func BenchmarkThankYou(b *testing.B) {
	a := &Account{Name: "bench", Address: "support@helpdesk.example", IMAP: "imap://127.0.0.1:1", SMTP: "smtp://127.0.0.1:1", TLS: "none", Password: "x"}
	if err := a.Validate(); err != nil {
		b.Fatal(err)
	}
	subjects := []string{"Printer on fire", "Re: invoice 2024-113 is wrong", "Ärger mit der Rechnung – bitte prüfen",
		"Login fails after password reset on the mobile app (iOS 18, since Tuesday)", "价格问题"}
	tickets := make([]*store.Ticket, 64)
	for i := range tickets {
		tickets[i] = &store.Ticket{ID: int64(i + 1), Number: int64(20000 + i), Subject: subjects[i%len(subjects)],
			Requester: fmt.Sprintf("customer%d@example.org", i), RequesterName: fmt.Sprintf("Customer Nº%d", i),
			ReplyKey: fmt.Sprintf("k%07x", i*7919), RootMessageID: fmt.Sprintf("inc-%d@example.org", i)}
	}
	now := time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC)
	i := 0
	for b.Loop() {
		t := tickets[i%len(tickets)]
		i++
		raw, err := thankYou(a, t, "desk.1764054000.0123456789abcdef01234567@helpdesk.example", now)
		if err != nil {
			b.Fatal(err)
		}
		if bodyOf(raw) == "" {
			b.Fatal("no body")
		}
	}
}
