package demo

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	netmail "net/mail"
	"strings"
	"time"
)

// Domain is the demo desk's mail domain; Desk is its support address.
const (
	Domain = "example.com"
	Desk   = "support@" + Domain
)

// followUp is a later message in a seeded thread.
type followUp struct {
	staff  string // staff author name; "" for the customer
	hours  float64
	body   string
	closes bool // staff closed the ticket after this answer
}

// seedMail is one customer conversation in the seeded mailbox.
type seedMail struct {
	name, addr, project, subject string
	hours                        float64 // age of the first message
	body                         string
	html                         bool   // send only an HTML part
	attachment                   string // file name of a small text attachment
	labels                       []string
	thread                       []followUp
}

// seed is the demo mailbox: realistic mail to two projects.
var seed = []seedMail{
	{name: "Alice Martin", addr: "alice@example.net", project: "billing", subject: "Charged twice for the March invoice", hours: 70,
		body:   "Hi,\n\nmy card was charged twice for invoice INV-2093 (49.00 EUR each).\nCould you refund one of the two payments?\n\nThanks,\nAlice",
		labels: []string{"refund"},
		thread: []followUp{
			{staff: "Ana", hours: 68, body: "Hi Alice,\n\nsorry about that. I can see both charges; the second one is refunded\nnow and should reach your card within 5 business days.\n\nAna"},
			{hours: 20, body: "Thanks Ana, I see the refund pending on my statement.\n\n> the second one is refunded now\n\nAlice"},
		}},
	{name: "Bruno Keller", addr: "bruno.keller@example.org", project: "app", subject: "App crashes when I open settings", hours: 50,
		body:       "Since the last update (4.2.0) the app closes as soon as I tap Settings.\nAndroid 14, Pixel 7. The crash log is attached.\n\nBruno",
		attachment: "crash-4.2.0.log"},
	{name: "Chen Wei", addr: "chen.wei@example.cn", project: "app", subject: "Cannot log in with SSO", hours: 47,
		body: "Our company SSO login loops back to the login page. Password login works.\nWe use Okta. Anything changed on your side?\n\nChen",
		thread: []followUp{
			{staff: "Ana", hours: 45, body: "Hi Chen,\n\nwe rotated our SAML certificate on Monday. Could your Okta admin\nre-import our metadata from https://example.com/sso/metadata ?\n\nAna"},
			{hours: 30, body: "That fixed it, thank you!"},
			{staff: "Ana", hours: 29, body: "Great to hear. Closing this one.", closes: true},
		}},
	{name: "Dolores Ruiz", addr: "dolores@example.es", project: "billing", subject: "Réservation annulée — remboursement ?", hours: 44,
		body: "Bonjour,\n\nj'ai annulé mon abonnement le 3 mars mais j'ai été débitée le 5.\nPouvez-vous me rembourser ?\n\nMerci, Dolores"},
	{name: "Erik Lund", addr: "erik.lund@example.se", project: "billing", subject: "VAT number missing on invoice", hours: 40,
		body: "Hello, our VAT number SE556677889901 does not appear on the invoices.\nWe need it for our bookkeeping. Can you reissue January to March?\n\nErik Lund\nFinance, Lund AB"},
	{name: "Fatima Zahra", addr: "fatima@example.ma", project: "app", subject: "Feature request: dark mode", hours: 39,
		body: "Love the app! Any plans for a dark mode? My eyes would thank you.", labels: []string{"feature"}},
	{name: "Gary Oduya", addr: "gary@example.co.uk", project: "app", subject: "Export to CSV produces empty file", hours: 36,
		body: "When I export my projects to CSV the file has only the header row.\nI have 140 projects. Browser: Firefox 131.",
		thread: []followUp{
			{staff: "Sam", hours: 34, body: "Hi Gary, thanks for the report. Does it also happen with fewer\nthan 100 projects selected? We suspect a paging bug.\n\nSam"},
			{hours: 33, body: "Yes, with 50 selected it works. With 101 it's empty."},
		}},
	{name: "Hana Novak", addr: "hana.novak@example.cz", project: "billing", subject: "Upgrade to the team plan mid-cycle", hours: 33,
		body: "If we upgrade from Solo to Team today, is the price prorated?"},
	{name: "Ivan Petrov", addr: "ivan@example.ru", project: "app", subject: "Sync stuck at 99%", hours: 31,
		body: "The desktop client has been showing 'Syncing 99%' for two days.\nRestarting does not help. Version 4.1.3 on macOS 15."},
	{name: "Julia Santos", addr: "julia@example.com.br", project: "billing", subject: "Receipt for donation", hours: 30, html: true,
		body: "<html><body><p>Hello,</p><p>could you send me a <b>receipt</b> for my donation of <i>R$ 150</i>?</p><p>Our records are on <a href=\"https://example.com.br/ngo\">our page</a>.</p><p>Obrigada,<br>Julia</p></body></html>"},
	{name: "Kenji Watanabe", addr: "kenji@example.jp", project: "app", subject: "通知が届きません", hours: 28,
		body: "こんにちは。\n昨日からプッシュ通知が届きません。設定はオンになっています。\nよろしくお願いします。"},
	{name: "Laura Becker", addr: "laura.becker@example.de", project: "billing", subject: "Cancel my subscription", hours: 27,
		body: "Please cancel my subscription at the end of the current period.\nAccount: laura.becker@example.de",
		thread: []followUp{
			{staff: "Sam", hours: 26, body: "Hi Laura, done: your plan ends on April 30 and will not renew.\n\nSam", closes: true},
		}},
	{name: "Mohammed Al-Sayed", addr: "m.alsayed@example.ae", project: "app", subject: "Two-factor codes not accepted", hours: 25,
		body: "My authenticator codes are rejected every time. Phone time is automatic.\nI'm locked out of my account.", labels: []string{"urgent"}},
	{name: "Nora Eriksen", addr: "nora@example.no", project: "app", subject: "How do I invite a colleague?", hours: 24,
		body: "I can't find where to invite a teammate to our workspace."},
	{name: "Oscar Dubois", addr: "oscar.dubois@example.fr", project: "billing", subject: "Wrong currency on my invoice", hours: 22,
		body: "My invoices are in USD but my account is set to EUR."},
	{name: "Priya Raman", addr: "priya@example.in", project: "app", subject: "API rate limit too low", hours: 21,
		body: "We hit 429 Too Many Requests at 60 req/min. Is there a way to raise the\nlimit for our integration? We'd be happy to pay for it."},
	{name: "Quentin Moreau", addr: "quentin@example.be", project: "app", subject: "Images don't load in the editor", hours: 20,
		body: "Uploaded images show a broken icon in the editor, but they open fine\nfrom the file list."},
	{name: "Rosa Bianchi", addr: "rosa.bianchi@example.it", project: "billing", subject: "Student discount", hours: 19,
		body: "Do you offer a student discount? I study at Politecnico di Milano."},
	{name: "Stefan Horvat", addr: "stefan@example.hr", project: "app", subject: "Data export for GDPR request", hours: 18,
		body: "Under GDPR article 15 I request a copy of all personal data you hold\nabout me."},
	{name: "Tariq Hussain", addr: "tariq@example.pk", project: "billing", subject: "Payment declined but money taken", hours: 16,
		body: "The checkout said 'payment declined' but my bank shows the charge.\nWhat happens now?"},
	{name: "Uma Patel", addr: "uma.patel@example.com", project: "app", subject: "Keyboard shortcuts on Linux", hours: 15,
		body: "Ctrl+K opens the browser search instead of your command palette on\nUbuntu/Firefox. Can it be remapped?"},
	{name: "Victor Lemaire", addr: "victor@example.fr", project: "app", subject: "Webhook retries", hours: 14,
		body: "How many times do you retry a failed webhook, and with which delay?"},
	{name: "Wiktoria Nowak", addr: "wiktoria@example.pl", project: "billing", subject: "Invoice address change", hours: 12,
		body: "We moved. New address: ul. Długa 5, 00-238 Warszawa. Please update\nfuture invoices."},
	{name: "Xavier Costa", addr: "xavier@example.pt", project: "app", subject: "Calendar sync shows wrong timezone", hours: 10,
		body: "Events synced to Google Calendar are one hour early since the DST change."},
	{name: "Yara Haddad", addr: "yara@example.lb", project: "billing", subject: "Can I pay by bank transfer?", hours: 9,
		body: "Our company cannot pay by card. Can we pay the annual plan by bank transfer?"},
	{name: "Zoltan Kiss", addr: "zoltan@example.hu", project: "app", subject: "Search doesn't find older notes", hours: 8,
		body: "Search only finds notes from this year. Older ones exist but never show up."},
	{name: "Amara Obi", addr: "amara@example.ng", project: "app", subject: "Offline mode on iPad", hours: 7,
		body: "Does the iPad app work offline? I'll be on a plane for 12 hours."},
	{name: "Bjorn Olsen", addr: "bjorn@example.dk", project: "billing", subject: "Refund for unused seats", hours: 6,
		body: "We reduced the team from 12 to 8 seats. Do we get a credit for the rest\nof the year?"},
	{name: "Carmen Vidal", addr: "carmen@example.mx", project: "app", subject: "Password reset link expired", hours: 5,
		body: "The password reset link says expired although I clicked it within a minute."},
	{name: "Dmitri Sokolov", addr: "dmitri@example.ru", project: "app", subject: "Feature request: bulk edit", hours: 4,
		body: "Editing 200 items one by one is painful. Could you add bulk edit?", labels: []string{"feature"}},
	{name: "Elif Yilmaz", addr: "elif@example.com.tr", project: "billing", subject: "Invoice PDF is blank", hours: 3,
		body: "The invoice PDF for February opens as a blank page in Acrobat and Preview."},
	{name: "Farid Rahimi", addr: "farid@example.af", project: "app", subject: "Login page very slow", hours: 2,
		body: "The login page takes 20+ seconds to load from Kabul. Other sites are fine."},
}

// message renders a seeded mail. It is deterministic in its inputs.
func message(fromName, from, to, subject, msgID, inReplyTo string, date time.Time, body string, extra []string, html bool, attachment string) []byte {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", (&netmail.Address{Name: fromName, Address: from}).String())
	h("To", to)
	h("Subject", mime.QEncoding.Encode("utf-8", subject))
	h("Date", date.Format(time.RFC1123Z))
	h("Message-ID", "<"+msgID+">")
	if inReplyTo != "" {
		h("In-Reply-To", "<"+inReplyTo+">")
		h("References", "<"+inReplyTo+">")
	}
	for _, e := range extra {
		b.WriteString(e + "\r\n")
	}
	h("MIME-Version", "1.0")
	body = strings.ReplaceAll(body, "\n", "\r\n") + "\r\n"
	switch {
	case attachment != "":
		const boundary = "desk-demo-boundary"
		h("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
		b.WriteString("\r\n--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
		b.WriteString(body)
		b.WriteString("--" + boundary + "\r\nContent-Type: text/plain; name=\"" + attachment + "\"\r\n" +
			"Content-Disposition: attachment; filename=\"" + attachment + "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		log := "E/AndroidRuntime: FATAL EXCEPTION: main\nProcess: com.example.app, PID: 31337\njava.lang.NullPointerException: settings.theme\n"
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(log)) + "\r\n--" + boundary + "--\r\n")
	case html:
		h("Content-Type", "text/html; charset=utf-8")
		h("Content-Transfer-Encoding", "8bit")
		b.WriteString("\r\n" + body)
	default:
		h("Content-Type", "text/plain; charset=utf-8")
		h("Content-Transfer-Encoding", "8bit")
		b.WriteString("\r\n" + body)
	}
	return b.Bytes()
}

// Seed fills the desk mailbox with the seeded conversations (customer mail
// as delivered, staff answers as the sent copies desk would have appended,
// shared state as keywords), plus an out-of-office auto-reply that must not
// become a ticket. It returns how many messages it added.
func Seed(sys *System, now time.Time) (int, error) {
	n := 0
	put := func(raw []byte, flags ...string) error {
		_, err := sys.Append(Desk, raw, flags...)
		n++
		return err
	}
	for i, s := range seed {
		at := func(h float64) time.Time { return now.Add(-time.Duration(h * float64(time.Hour))) }
		rootID := fmt.Sprintf("seed-%02d@%s", i, strings.SplitN(s.addr, "@", 2)[1])
		rcpt := "support+" + s.project + "@" + Domain
		root := message(s.name, s.addr, rcpt, s.subject, rootID, "", at(s.hours), s.body, nil, s.html, s.attachment)
		var flags []string
		if len(s.thread) > 0 && s.thread[len(s.thread)-1].closes {
			flags = append(flags, "$Desk-Closed")
		}
		for _, l := range s.labels {
			flags = append(flags, "$Desk-Label-"+l)
		}
		flags = append(flags, "$Desk-Acked")
		if err := put(append([]byte("Delivered-To: "+rcpt+"\r\n"), root...), flags...); err != nil {
			return n, err
		}
		parent := rootID
		for j, f := range s.thread {
			id := fmt.Sprintf("seed-%02d-%d@%s", i, j, Domain)
			var raw []byte
			if f.staff != "" {
				raw = message(f.staff+" via "+strings.ToUpper(s.project[:1])+s.project[1:]+" Support", Desk, s.addr,
					"Re: "+s.subject, id, parent, at(f.hours), f.body, []string{"X-Desk-Kind: reply"}, false, "")
				if err := put(raw, "\\Seen"); err != nil {
					return n, err
				}
			} else {
				id = fmt.Sprintf("seed-%02d-%d@%s", i, j, strings.SplitN(s.addr, "@", 2)[1])
				raw = message(s.name, s.addr, rcpt, "Re: "+s.subject, id, parent, at(f.hours), f.body, nil, false, "")
				if err := put(append([]byte("Delivered-To: "+rcpt+"\r\n"), raw...)); err != nil {
					return n, err
				}
			}
			parent = id
		}
	}
	ooo := message("Petra Lang", "petra.lang@example.at", Desk, "Automatic reply: Out of office until Monday",
		"ooo-1@example.at", "", now.Add(-90*time.Minute),
		"I am out of the office until Monday with limited access to email.\nFor urgent matters contact office@example.at.",
		[]string{"Auto-Submitted: auto-replied", "X-Autoreply: yes"}, false, "")
	err := put(append([]byte("Delivered-To: "+Desk+"\r\n"), ooo...))
	return n, err
}
