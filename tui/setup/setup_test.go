package setup

import (
	"io"
	"strings"
	"testing"
)

// TestAskAccessible answers the questions line by line, as a screen reader
// user or a pipe would, keeping the provider defaults.
func TestAskAccessible(t *testing.T) {
	in := strings.Join([]string{
		"Ana Lima", "ana@example.org", "help@gmail.com", // who, and the desk address
		"", "", "", "", // Gmail's servers, the login, OAuth2 by default
		"oama access help@gmail.com", "billing=Billing, app=The App",
	}, "\n") + "\n"
	var a Answers
	if err := Ask(strings.NewReader(in), io.Discard, true, &a); err != nil {
		t.Fatal(err)
	}
	want := Answers{StaffName: "Ana Lima", StaffAddress: "ana@example.org", Address: "help@gmail.com",
		IMAP: "imaps://imap.gmail.com", SMTP: "smtps://smtp.gmail.com", User: "help@gmail.com",
		SecretSource: OAuthTokenCmd, Secret: "oama access help@gmail.com", Projects: "billing=Billing, app=The App"}
	if a != want {
		t.Fatalf("answers\n got %+v\nwant %+v", a, want)
	}
}

func TestAskRefusesPlaintext(t *testing.T) {
	in := strings.Join([]string{"Ana", "", "support@example.com", "", "", "", "2", "hunter2 is my password"}, "\n") + "\n"
	var a Answers
	err := Ask(strings.NewReader(in), io.Discard, true, &a)
	if err == nil || !strings.Contains(err.Error(), "not the password itself") {
		t.Fatalf("err %v, answers %+v", err, a)
	}
	for _, cmd := range []string{"echo hunter2", "printf '%s' hunter2", " echo x"} {
		if err := CheckSecret(PasswordCmd, cmd); err == nil {
			t.Errorf("%q accepted", cmd)
		}
	}
	for _, ok := range []string{"secret-tool lookup service desk account work", "pass show mail/support"} {
		if err := CheckSecret(PasswordCmd, ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func TestGuessAndProjects(t *testing.T) {
	if p := Guess("Help@Outlook.com"); p.IMAP != "imaps://outlook.office365.com" || !p.OAuth {
		t.Errorf("outlook: %+v", p)
	}
	if p := Guess("support@example.net"); p.IMAP != "imaps://imap.example.net" || p.SMTP != "smtps://smtp.example.net" {
		t.Errorf("generic: %+v", p)
	}
	if _, err := ParseProjects("Billing=x"); err == nil {
		t.Error("upper-case tag accepted")
	}
	if m, err := ParseProjects(" a=A ,, b = B "); err != nil || len(m) != 2 || m["b"] != "B" {
		t.Errorf("projects %v %v", m, err)
	}
}
