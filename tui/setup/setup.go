// Package setup is the question flow of `desk init`, drawn with charm's
// huh: who the staff member is, the desk address, its servers (with
// defaults for well-known providers), where the secret comes from, and the
// projects. It only asks; the caller tests the answers and writes the
// config.
package setup

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strings"

	"charm.land/huh/v2"
)

// Secret sources, as the config keys name them.
const (
	PasswordCmd   = "password_cmd"
	PasswordEnv   = "password_env"
	OAuthTokenCmd = "oauth_token_cmd"
)

// Answers are what the user said.
type Answers struct {
	StaffName, StaffAddress string
	Address                 string // the desk address
	IMAP, SMTP, User        string
	SecretSource            string // PasswordCmd, PasswordEnv or OAuthTokenCmd
	Secret                  string // the command or the variable name, never a password
	Projects                string // "tag=Name, tag=Name"
}

// Provider is the server settings of a well-known mail provider.
type Provider struct {
	Name, IMAP, SMTP string
	OAuth            bool // the provider wants OAuth2 (app passwords are being retired)
}

// providers maps a mail domain to its settings.
var providers = map[string]Provider{
	"gmail.com":      {"Gmail", "imaps://imap.gmail.com", "smtps://smtp.gmail.com", true},
	"googlemail.com": {"Gmail", "imaps://imap.gmail.com", "smtps://smtp.gmail.com", true},
	"outlook.com":    {"Microsoft 365", "imaps://outlook.office365.com", "smtp://smtp.office365.com:587", true},
	"hotmail.com":    {"Microsoft 365", "imaps://outlook.office365.com", "smtp://smtp.office365.com:587", true},
	"fastmail.com":   {"Fastmail", "imaps://imap.fastmail.com", "smtps://smtp.fastmail.com", false},
}

// Guess is the provider of address's domain, or generic imap./smtp. hosts.
func Guess(address string) Provider {
	_, domain, _ := strings.Cut(strings.ToLower(address), "@")
	if p, ok := providers[domain]; ok {
		return p
	}
	return Provider{Name: domain, IMAP: "imaps://imap." + domain, SMTP: "smtps://smtp." + domain}
}

// Ask runs the questions on in and out; accessible asks plain line by line
// questions (for screen readers, pipes and tests) instead of drawing forms.
// Fields of a already set are offered as defaults.
func Ask(in io.Reader, out io.Writer, accessible bool, a *Answers) error {
	if accessible {
		// huh reads each answer with a fresh buffered scanner: hand it one
		// line at a time so that piped answers are not swallowed.
		in = &lineReader{r: bufio.NewReader(in)}
	}
	run := func(groups ...*huh.Group) error {
		return huh.NewForm(groups...).WithInput(in).WithOutput(out).WithAccessible(accessible).Run()
	}
	err := run(huh.NewGroup(
		huh.NewInput().Title("Your name (author of your replies)").Value(&a.StaffName).Validate(required),
		huh.NewInput().Title("Your own address (optional)").Value(&a.StaffAddress).Validate(optionalAddress),
		huh.NewInput().Title("The desk address customers write to").Value(&a.Address).Validate(plainAddress),
	))
	if err != nil {
		return err
	}
	p := Guess(a.Address)
	a.IMAP, a.SMTP, a.User = orDefault(a.IMAP, p.IMAP), orDefault(a.SMTP, p.SMTP), orDefault(a.User, a.Address)
	if a.SecretSource == "" {
		a.SecretSource = PasswordCmd
		if p.OAuth {
			a.SecretSource = OAuthTokenCmd
		}
	}
	err = run(huh.NewGroup(
		// Prefilled: an empty answer keeps the default.
		huh.NewInput().Title("IMAP server ("+p.Name+")").Value(&a.IMAP),
		huh.NewInput().Title("SMTP server").Value(&a.SMTP),
		huh.NewInput().Title("Login").Value(&a.User),
		huh.NewSelect[string]().Title("Where does the secret come from? (never stored in the config)").
			Options(huh.NewOption("a command printing the password (pass, secret-tool, …)", PasswordCmd),
				huh.NewOption("an environment variable", PasswordEnv),
				huh.NewOption("a command printing an OAuth2 access token", OAuthTokenCmd)).
			Value(&a.SecretSource),
	))
	if err != nil {
		return err
	}
	title, hint := "Command that prints the password", "e.g. secret-tool lookup service desk account work"
	switch a.SecretSource {
	case PasswordEnv:
		title, hint = "Environment variable holding the password", "e.g. DESK_PASSWORD"
	case OAuthTokenCmd:
		title, hint = "Command that prints an OAuth2 access token", "e.g. oama access "+a.User
	}
	source := a.SecretSource
	err = run(huh.NewGroup(
		huh.NewInput().Title(title).Description(hint).Value(&a.Secret).Validate(func(s string) error { return CheckSecret(source, s) }),
		huh.NewInput().Title("Projects (tag=Name, comma separated; mail to "+plus(a.Address)+" goes to tag)").
			Value(&a.Projects).Validate(func(s string) error { _, err := ParseProjects(s); return err }),
	))
	if err != nil {
		return err
	}
	return a.check()
}

// check validates the answers again: accessible mode takes an answer cut
// short by the end of the input without validating it.
func (a *Answers) check() error {
	for _, c := range []struct {
		what string
		err  error
	}{
		{"your name", required(a.StaffName)},
		{"your address", optionalAddress(a.StaffAddress)},
		{"the desk address", plainAddress(a.Address)},
		{"the IMAP server", required(a.IMAP)},
		{"the SMTP server", required(a.SMTP)},
		{"the login", required(a.User)},
		{"the secret source", CheckSecret(a.SecretSource, a.Secret)},
	} {
		if c.err != nil {
			return fmt.Errorf("%s: %v", c.what, c.err)
		}
	}
	_, err := ParseProjects(a.Projects)
	return err
}

// lineReader returns at most one line per Read.
type lineReader struct{ r *bufio.Reader }

func (l *lineReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		b, err := l.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		p[n] = b
		n++
		if b == '\n' {
			break
		}
	}
	return n, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// plus is the sub-address form of address, for the projects question.
func plus(address string) string {
	local, domain, _ := strings.Cut(address, "@")
	return local + "+tag@" + domain
}

func required(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("required")
	}
	return nil
}

func plainAddress(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || strings.Contains(s, "+") {
		return errors.New("a plain address like support@example.com")
	}
	return nil
}

func optionalAddress(s string) error {
	if s == "" {
		return nil
	}
	return plainAddress(s)
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// literalCmd matches a command that only prints text written into it: a
// plaintext password in disguise.
var literalCmd = regexp.MustCompile(`^\s*(echo|printf|cat\s*<<)\b`)

// CheckSecret refuses a secret answer that is not a source but a secret:
// an environment "name" that is no variable name, or a command that just
// echoes a literal.
func CheckSecret(source, s string) error {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return errors.New("required")
	case source == PasswordEnv && !envName.MatchString(s):
		return errors.New("a variable name like DESK_PASSWORD, not the password itself")
	case source != PasswordEnv && literalCmd.MatchString(s):
		return errors.New("that command prints a password written into it: plaintext passwords are refused; use a password manager or the keyring (secret-tool)")
	}
	return nil
}

// ParseProjects reads "tag=Name, tag=Name" (empty: no projects).
func ParseProjects(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		tag, name, ok := strings.Cut(part, "=")
		tag, name = strings.TrimSpace(tag), strings.TrimSpace(name)
		if !ok || tag == "" || name == "" || strings.ContainsAny(tag, "+@ ") || strings.ToLower(tag) != tag {
			return nil, fmt.Errorf("%q: want tag=Name with a lower-case tag", part)
		}
		out[tag] = name
	}
	return out, nil
}
