package mail

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"desk/store"
)

func writeTemplate(t *testing.T, dir, project, notice, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, project), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, project, notice+".md"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadTemplatesRejectsUnknownPlaceholder(t *testing.T) {
	dir := t.TempDir()
	writeTemplate(t, dir, "billing", store.NoticeClosed, "Closed %{ISSUE_ID} %{ISSUE_NUMBER} %{NOTE_TXT}")
	_, err := LoadTemplates(dir)
	if err == nil || !strings.Contains(err.Error(), "%{ISSUE_NUMBER}, %{NOTE_TXT}") ||
		!strings.Contains(err.Error(), filepath.Join("billing", "closed.md")) || !strings.Contains(err.Error(), "%{ISSUE_ID}") {
		t.Fatalf("error %v: want both unknown placeholders, the file and the known ones", err)
	}
	if _, err := LoadTemplates(filepath.Join(dir, "missing")); err != nil {
		t.Fatalf("a missing templates dir means the defaults: %v", err)
	}
}

func TestNoticeSwitchesAndRender(t *testing.T) {
	dir := t.TempDir()
	writeTemplate(t, dir, "billing", store.NoticeClosed, "%{SYSTEM_HEADER}\nDone: %{ISSUE_PATH} %{ISSUE_TITLE}\nStop: %{UNSUBSCRIBE_ADDRESS}\n%{SYSTEM_FOOTER}")
	tpl, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	off := false
	a := composeAccount(t)
	a.Send = SendOptions{Templates: tpl, SystemHeader: "ACME HEADER", Projects: map[string]ProjectOptions{"app": {ThankYou: &off}}}
	for _, c := range []struct {
		project, notice string
		want            bool
	}{
		{"billing", store.NoticeThankYou, true}, // built-in default on
		{"billing", store.NoticeClosed, true},   // own file
		{"billing", store.NoticeNewNote, false}, // off unless configured
		{"general", store.NoticeClosed, false},
		{"app", store.NoticeThankYou, false}, // switched off
	} {
		if got := a.Send.noticeOn(c.project, c.notice); got != c.want {
			t.Errorf("%s/%s on = %v, want %v", c.project, c.notice, got, c.want)
		}
	}
	tk := composeTicket()
	raw, err := noticeMail(a, tk, store.NoticeClosed, "closed.1@desk.test", time.Now(), []string{tk.Requester})
	if err != nil {
		t.Fatal(err)
	}
	_, body := decodedBody(t, raw)
	want := "ACME HEADER\nDone: billing#12 Re: Refund please\nStop: " + UnsubscribeAddress(a.Address, testKey) + "\n-- \nBilling Support\n"
	if body != want {
		t.Errorf("closed notice body\n%q\nwant\n%q", body, want)
	}
	if h := readMail(t, raw).Header; h.Get("Auto-Submitted") != "auto-replied" || h.Get("List-Unsubscribe") == "" {
		t.Errorf("closed notice is not marked automated: %v", h)
	}
}

// TestStaffMailParts: Markdown goes out as text/plain plus HTML (raw HTML
// typed by staff is dropped), files are attached, participants are in Cc
// and the envelope, and From follows the configured format.
func TestStaffMailParts(t *testing.T) {
	a := composeAccount(t)
	a.Send.FromFormat = "%{AGENT} (%{PROJECT})"
	file := filepath.Join(t.TempDir(), "invoice 2231.pdf")
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0, 0xff, 'x'}, 5000)...)
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	o := &store.OutboxItem{Kind: store.KindReply, MessageID: "r@desk.test", Author: "Ana", Created: time.Now(),
		Body: "We **refunded** you.\n\n- one\n- two\n\n<script>alert(1)</script>", Files: []string{file}}
	cc := []store.Participant{{Addr: "bob@customer.test", Name: "Bob"}, {Addr: "support+billing@desk.test"}, {Addr: "ALICE@customer.test"}}
	raw, rcpt, err := staffMail(a, composeTicket(), nil, o, cc...)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rcpt, " ") != "alice@customer.test bob@customer.test" {
		t.Errorf("envelope %v, want requester and bob only", rcpt)
	}
	r, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := r.Header.AddressList("Cc"); len(list) != 1 || list[0].Address != "bob@customer.test" {
		t.Errorf("Cc %v", list)
	}
	if from, _ := r.Header.AddressList("From"); from[0].Name != "Ana (Billing)" {
		t.Errorf("From %q", from[0].Name)
	}
	parts := map[string]string{}
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p.Body)
		switch h := p.Header.(type) {
		case *gomail.InlineHeader:
			ct, _, _ := h.ContentType()
			parts[ct] = string(b)
		case *gomail.AttachmentHeader:
			name, _ := h.Filename()
			if name != "invoice 2231.pdf" || !bytes.Equal(b, pdf) {
				t.Errorf("attachment %q, %d bytes (want %d, same bytes)", name, len(b), len(pdf))
			}
			parts["attachment"] = name
		}
	}
	if !strings.Contains(parts["text/plain"], "We **refunded** you.") {
		t.Errorf("text part %q", parts["text/plain"])
	}
	html := parts["text/html"]
	if !strings.Contains(html, "<strong>refunded</strong>") || !strings.Contains(html, "<li>one</li>") || strings.Contains(html, "<script>") {
		t.Errorf("HTML part %q", html)
	}
	if parts["attachment"] == "" {
		t.Error("no attachment")
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("line of %d bytes", len(line))
		}
	}
	// A missing file is an error, not a mail without it.
	o.Files = []string{filepath.Join(t.TempDir(), "gone.txt")}
	if _, _, err := staffMail(a, composeTicket(), nil, o); err == nil || !strings.Contains(err.Error(), "gone.txt") {
		t.Errorf("missing attachment: %v", err)
	}
}

func TestFromFormatCheck(t *testing.T) {
	if err := (&SendOptions{FromFormat: "%{AGENT} at %{TEAM}"}).Check(); err == nil || !strings.Contains(err.Error(), "%{TEAM}") {
		t.Fatalf("Check = %v", err)
	}
	if err := (&SendOptions{FromFormat: "%{AGENT} via %{PROJECT}"}).Check(); err != nil {
		t.Fatal(err)
	}
}
