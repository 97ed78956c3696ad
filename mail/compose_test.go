package mail

import (
	"bytes"
	"fmt"
	"io"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"desk/mail/parse"
	"desk/store"
)

func TestTicketSubject(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Printer on fire", "Re: Printer on fire [#5]"},
		{"Re: Re: Fwd: x", "Re: x [#5]"},
		{"AW: x", "Re: x [#5]"},
		{"aw: Wg: SV: Fw: x", "Re: x [#5]"},
		{"Re[2]: x", "Re: x [#5]"},
		{"RE : x", "Re: x [#5]"},
		{"Re: x [#12]", "Re: x [#5]"},
		{"Re: Re: x [#12]", "Re: x [#5]"},
		{"[#12] x", "Re: x [#5]"},
		{"x [#1] [#2]", "Re: x [#5]"},
		{"  spaced   out  ", "Re: spaced   out [#5]"},
		{"", "Re: Your request [#5]"},
		{"   ", "Re: Your request [#5]"},
		{"Re:", "Re: Your request [#5]"},
		{"[#12]", "Re: Your request [#5]"},
		// Words that merely start like a prefix are kept.
		{"Rewrite: the docs", "Re: Rewrite: the docs [#5]"},
		{"Aware: x", "Re: Aware: x [#5]"},
		{"Invoice [#abc]", "Re: Invoice [#abc] [#5]"},
		// The doc comment: no reply prefixes, wherever an old token left them.
		{"Re: [#12] Re: x", "Re: x [#5]"},
	} {
		if got := ticketSubject(tc.in, 5); got != tc.want {
			t.Errorf("ticketSubject(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// composeAccount is a validated account for composing.
func composeAccount(t *testing.T) *Account {
	t.Helper()
	a := &Account{Name: "test", Address: "Support@Desk.Test", IMAP: "imaps://imap.desk.test", SMTP: "smtps://smtp.desk.test",
		Password: "x", ProjectNames: map[string]string{"billing": "Billing"}}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	return a
}

func composeTicket() *store.Ticket {
	return &store.Ticket{ID: 1, Number: 12, Project: "billing", Subject: "Re: Refund please", Requester: "alice@customer.test",
		RequesterName: "Alice Example", ReplyKey: testKey, RootMessageID: "root@customer.test", State: store.StateOpen}
}

func readMail(t *testing.T, raw []byte) *netmail.Message {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("composed mail does not parse: %v\n%s", err, raw)
	}
	return m
}

// decodedBody reads the single text part of raw through go-message,
// undoing the transfer encoding; line ends are normalised to \n.
func decodedBody(t *testing.T, raw []byte) (*gomail.Reader, string) {
	t.Helper()
	r, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("go-message cannot read the composed mail: %v", err)
	}
	p, err := r.NextPart()
	if err != nil {
		t.Fatalf("no body part: %v", err)
	}
	b, err := io.ReadAll(p.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r, strings.ReplaceAll(string(b), "\r\n", "\n")
}

func addressOf(t *testing.T, h netmail.Header, key string) []*netmail.Address {
	t.Helper()
	list, err := h.AddressList(key)
	if err != nil {
		t.Fatalf("%s: %v (%q)", key, err, h.Get(key))
	}
	return list
}

func TestThankYouHeaders(t *testing.T) {
	a := composeAccount(t)
	tk := composeTicket()
	now := time.Date(2025, 4, 1, 9, 30, 0, 0, time.UTC)
	raw, err := thankYou(a, tk, "ack.1@desk.test", now)
	if err != nil {
		t.Fatal(err)
	}
	m := readMail(t, raw)
	h := m.Header
	for _, tc := range []struct{ key, want string }{
		{"Auto-Submitted", "auto-replied"},
		{"List-Unsubscribe", "<mailto:support+" + testKey + "-unsubscribe@desk.test>"},
		{"In-Reply-To", "<root@customer.test>"},
		{"References", "<root@customer.test>"},
		{"Message-Id", "<ack.1@desk.test>"},
		{HeaderKind, store.KindAuto},
		{"X-Desk-Ticket", "12"},
		{"Subject", "Re: Refund please [#12]"},
	} {
		if got := h.Get(tc.key); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.key, got, tc.want)
		}
	}
	if d, err := h.Date(); err != nil || !d.Equal(now) {
		t.Errorf("Date %v, %v; want %v", d, err, now)
	}
	from := addressOf(t, h, "From")
	if len(from) != 1 || from[0].Address != "support@desk.test" || from[0].Name != "Billing Support" {
		t.Errorf("From %v", from)
	}
	to := addressOf(t, h, "To")
	if len(to) != 1 || to[0].Address != "alice@customer.test" || to[0].Name != "Alice Example" {
		t.Errorf("To %v", to)
	}
	replyTo := addressOf(t, h, "Reply-To")
	if len(replyTo) != 1 {
		t.Fatalf("Reply-To %v", replyTo)
	}
	if rt, ok := RouteAddress(a.Address, replyTo[0].Address); !ok || rt.ReplyKey != testKey || rt.Project != "billing" {
		t.Errorf("Reply-To %s routes to %+v, %v; want the ticket's key", replyTo[0].Address, rt, ok)
	}
	_, body := decodedBody(t, raw)
	for _, want := range []string{"#12", "[#12]", "Refund please", UnsubscribeAddress(a.Address, testKey), "Billing Support"} {
		if !strings.Contains(body, want) {
			t.Errorf("thank-you body lacks %q:\n%s", want, body)
		}
	}
	// desk's own auto mail must itself read as automated to desk.
	if got := parseAuto(raw); got == "" {
		t.Error("the thank-you does not read as automated mail")
	}
}

func parseAuto(raw []byte) string { return parse.Parse(raw).Auto }

func TestStaffMailReply(t *testing.T) {
	a := composeAccount(t)
	tk := composeTicket()
	created := time.Date(2025, 4, 2, 8, 0, 0, 0, time.UTC)
	o := &store.OutboxItem{ID: 1, TicketID: 1, Kind: store.KindReply, MessageID: "reply.1@desk.test", Author: "Agent",
		Body: "We refunded you.\nRegards", Created: created}
	thread := []*store.Message{
		{MessageID: "root@customer.test", Kind: store.KindCustomer},
		{MessageID: "ack.1@desk.test", Kind: store.KindAuto},
		{MessageID: "more@customer.test", Kind: store.KindCustomer},
		{MessageID: "note.1@desk.test", Kind: store.KindNote},
		{MessageID: "", Kind: store.KindCustomer},
		{MessageID: o.MessageID, Kind: store.KindReply},
		{MessageID: "later@customer.test", Kind: store.KindCustomer},
	}
	raw, rcpt, err := staffMail(a, tk, thread, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rcpt) != 1 || rcpt[0] != "alice@customer.test" {
		t.Errorf("envelope recipients %v, want the requester", rcpt)
	}
	m := readMail(t, raw)
	h := m.Header
	for _, tc := range []struct{ key, want string }{
		{"In-Reply-To", "<more@customer.test>"},
		{"References", "<root@customer.test> <ack.1@desk.test> <more@customer.test>"},
		{"Message-Id", "<reply.1@desk.test>"},
		{"Subject", "Re: Refund please [#12]"},
		{HeaderKind, store.KindReply},
		{"X-Desk-Ticket", "12"},
		{"Auto-Submitted", ""},
	} {
		if got := strings.Join(strings.Fields(h.Get(tc.key)), " "); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.key, got, tc.want)
		}
	}
	from := addressOf(t, h, "From")
	if len(from) != 1 || from[0].Name != "Agent via Billing Support" || from[0].Address != "support@desk.test" {
		t.Errorf("From %v", from)
	}
	to := addressOf(t, h, "To")
	if len(to) != 1 || to[0].Address != "alice@customer.test" {
		t.Errorf("To %v", to)
	}
	replyTo := addressOf(t, h, "Reply-To")
	if len(replyTo) != 1 || replyTo[0].Address != ReplyAddress(a.Address, "billing", testKey) {
		t.Errorf("Reply-To %v", replyTo)
	}
	if d, err := h.Date(); err != nil || !d.Equal(created) {
		t.Errorf("Date %v, %v; want the time it was written, %v", d, err, created)
	}
	if _, body := decodedBody(t, raw); body != "We refunded you.\nRegards\n" {
		t.Errorf("body %q", body)
	}
	if parseAuto(raw) != "" {
		t.Errorf("a staff reply reads as automated mail (%s)", parseAuto(raw))
	}

	// Without an author name the mail still says who it is from.
	o.Author = ""
	raw, _, err = staffMail(a, tk, thread, o)
	if err != nil {
		t.Fatal(err)
	}
	from = addressOf(t, readMail(t, raw).Header, "From")
	if from[0].Name != "Staff via Billing Support" {
		t.Errorf("From without author: %q", from[0].Name)
	}
}

func TestStaffMailNote(t *testing.T) {
	a := composeAccount(t)
	tk := composeTicket()
	o := &store.OutboxItem{ID: 2, TicketID: 1, Kind: store.KindNote, MessageID: "note.2@desk.test", Author: "Agent",
		Body: "Customer is a VIP.", Created: time.Now()}
	thread := []*store.Message{
		{MessageID: "root@customer.test", Kind: store.KindCustomer},
		{MessageID: o.MessageID, Kind: store.KindNote},
	}
	raw, rcpt, err := staffMail(a, tk, thread, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rcpt) != 0 {
		t.Errorf("a note has envelope recipients %v", rcpt)
	}
	h := readMail(t, raw).Header
	to := addressOf(t, h, "To")
	if len(to) != 1 || to[0].Address != "support@desk.test" {
		t.Errorf("note addressed to %v, want the desk", to)
	}
	if strings.Contains(string(raw), "alice@customer.test") {
		t.Error("the note names the customer")
	}
	if h.Get("Reply-To") != "" {
		t.Errorf("note has Reply-To %q", h.Get("Reply-To"))
	}
	if h.Get(HeaderKind) != store.KindNote || h.Get("In-Reply-To") != "<root@customer.test>" {
		t.Errorf("note headers: kind %q, In-Reply-To %q", h.Get(HeaderKind), h.Get("In-Reply-To"))
	}
}

func TestThreadParent(t *testing.T) {
	msgs := func(n int) []*store.Message {
		var out []*store.Message
		for i := range n {
			out = append(out, &store.Message{MessageID: fmt.Sprintf("m%d@x", i), Kind: store.KindCustomer})
		}
		return out
	}
	if p, refs := threadParent(nil, "self@x"); p != "" || refs != nil {
		t.Errorf("empty thread: %q %v", p, refs)
	}
	notes := []*store.Message{{MessageID: "n1@x", Kind: store.KindNote}, {MessageID: "self@x", Kind: store.KindNote}}
	if p, refs := threadParent(notes, "self@x"); p != "" || refs != nil {
		t.Errorf("only notes: %q %v", p, refs)
	}

	for _, n := range []int{1, 19, 20, 21, 30, 100} {
		thread := append(msgs(n), &store.Message{MessageID: "self@x", Kind: store.KindReply})
		parent, refs := threadParent(thread, "self@x")
		want := min(n, 20)
		if len(refs) != want {
			t.Errorf("%d ancestors: %d references, want %d", n, len(refs), want)
			continue
		}
		if refs[0] != "m0@x" {
			t.Errorf("%d ancestors: References starts with %s, not the root", n, refs[0])
		}
		last := fmt.Sprintf("m%d@x", n-1)
		if parent != last || refs[len(refs)-1] != last {
			t.Errorf("%d ancestors: parent %s, last reference %s; want %s", n, parent, refs[len(refs)-1], last)
		}
		if n > 20 && refs[1] != fmt.Sprintf("m%d@x", n-19) {
			t.Errorf("%d ancestors: second reference %s, want the newest 19 after the root", n, refs[1])
		}
		seen := map[string]bool{}
		for _, r := range refs {
			if seen[r] || r == "self@x" {
				t.Errorf("%d ancestors: bad reference list %v", n, refs)
				break
			}
			seen[r] = true
		}
		if thread[1].MessageID != "m1@x" && n > 1 {
			t.Errorf("threadParent changed its input")
		}
	}
}

func TestComposeNonASCII(t *testing.T) {
	a := composeAccount(t)
	a.ProjectNames["billing"] = "Fakturación"
	tk := composeTicket()
	tk.Subject = "Überweisung fehlgeschlagen – 返金 ✓"
	tk.RequesterName = "Zoë Müller"
	long := strings.Repeat("Grüße aus Köln, ", 12) + "Ende."
	o := &store.OutboxItem{ID: 3, TicketID: 1, Kind: store.KindReply, MessageID: "utf8@desk.test", Author: "Agnès",
		Body: "Hallo Zoë,\r\n\r\n日本語のテキスト = equals sign\n" + long + "\n.\nFrom the team", Created: time.Now()}
	raw, _, err := staffMail(a, tk, []*store.Message{{MessageID: "root@customer.test", Kind: store.KindCustomer}}, o)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range raw {
		if b >= 0x80 {
			t.Fatalf("byte %d of the composed mail is not 7-bit: %q", i, raw[max(0, i-20):min(len(raw), i+20)])
		}
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("line longer than RFC 5322 allows: %d", len(line))
		}
	}
	r, body := decodedBody(t, raw)
	subject, err := r.Header.Subject()
	if err != nil || subject != "Re: Überweisung fehlgeschlagen – 返金 ✓ [#12]" {
		t.Errorf("subject %q, %v", subject, err)
	}
	to, err := r.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Zoë Müller" {
		t.Errorf("To %v, %v", to, err)
	}
	from, err := r.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Agnès via Fakturación Support" {
		t.Errorf("From %v, %v", from, err)
	}
	want := "Hallo Zoë,\n\n日本語のテキスト = equals sign\n" + long + "\n.\nFrom the team\n"
	if body != want {
		t.Errorf("body after a round trip:\n%q\nwant\n%q", body, want)
	}
	// desk reads its own mail back the same way.
	p := parse.Parse(raw)
	if p.Subject != subject || p.From.Name != "Agnès via Fakturación Support" || strings.TrimSpace(p.Text) != strings.TrimSpace(want) {
		t.Errorf("desk's parser reads back subject %q from %q body %q", p.Subject, p.From.Name, p.Text)
	}

	ack, err := thankYou(a, tk, "ack@desk.test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r, body = decodedBody(t, ack)
	if s, _ := r.Header.Subject(); s != "Re: Überweisung fehlgeschlagen – 返金 ✓ [#12]" {
		t.Errorf("thank-you subject %q", s)
	}
	if !strings.Contains(body, "Überweisung fehlgeschlagen – 返金 ✓") || !strings.Contains(body, "Fakturación Support") {
		t.Errorf("thank-you body lost its non-ASCII text:\n%s", body)
	}
}

// TestSignatureSeparatorIsNoHeading: a signature separator under a line of
// text ("-- " alone, RFC 3676) stays a separator in the HTML part, not a
// Markdown underline that makes the line above it a heading: the default
// footer of every notice has one.
func TestSignatureSeparatorIsNoHeading(t *testing.T) {
	for _, text := range []string{
		"Thanks.\nTo stop receiving mail, reply with unsubscribe.\n-- \nBilling Support",
		"Thanks.\n--\nJane",
		"Thanks.\n-- ",
	} {
		var html bytes.Buffer
		if err := markdown.Convert(markdownSource(text), &html); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(html.String(), "<h2") || !strings.Contains(html.String(), "--") {
			t.Errorf("%q renders as\n%s", text, html.String())
		}
		if strings.Contains(text, "Billing Support") && !strings.Contains(html.String(), "--<br>\nBilling Support") {
			t.Errorf("the signature does not follow the separator on its own line:\n%s", html.String())
		}
	}
	// Text without a separator is left as it is.
	if text := "# Title\n\nA -- B\n"; string(markdownSource(text)) != text {
		t.Errorf("markdownSource changed %q", text)
	}
	raw, err := thankYou(composeAccount(t), composeTicket(), "ack.sig@desk.test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("<h2")) {
		t.Error("the thank-you's HTML part has a heading: its footer's separator turned the line above into one")
	}
}

// thankYou composes the automated acknowledgement of new ticket t, as a
// flush composes the queued thank-you before it sends it.
func thankYou(a *Account, t *store.Ticket, messageID string, now time.Time) ([]byte, error) {
	return noticeMail(a, t, store.NoticeThankYou, messageID, now, []string{t.Requester})
}
