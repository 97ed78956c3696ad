// Package mail is everything of desk that speaks email: parsing and routing
// incoming mail into tickets, composing replies and automated mail, the IMAP
// sync worker and the SMTP sender. It never draws; it tells the interface
// what changed with the events of package store.
package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"desk/mail/spam"
)

// Account is one service desk mailbox: where mail comes in and goes out.
type Account struct {
	Name    string // the [accounts.NAME] key
	Address string // the desk address, e.g. support@example.com
	IMAP    string // imaps://host[:port] or imap://host[:port] (STARTTLS required)
	SMTP    string // smtps://host[:port] or smtp://host[:port] (STARTTLS required)
	User    string
	// PasswordCmd is run by sh -c; its first output line is the password.
	PasswordCmd string
	// PasswordEnv names an environment variable holding the password.
	PasswordEnv string
	// OAuthTokenCmd is run by sh -c; its first output line is an OAuth2
	// access token, sent with XOAUTH2 or OAUTHBEARER instead of a password.
	OAuthTokenCmd string
	// Password is set directly only by the demo and tests (never from a file).
	Password string
	CAFile   string
	// TLS is "" (required) or "none", accepted only for loopback hosts.
	TLS     string
	Mailbox string // default INBOX
	// DefaultProject receives mail whose address names no project.
	DefaultProject string
	// ProjectNames maps a project tag to its display name ("billing" → "Billing").
	ProjectNames map[string]string
	// SupportBotName is how customer messages are presented.
	SupportBotName string
	// Aliases maps a plain alias address that delivers into this mailbox
	// to the project it stands for ("billing@example.com" → "billing").
	Aliases map[string]string
	// Staff lists the addresses of staff: a mail one of them forwards into
	// the desk opens a ticket for the original sender.
	Staff []string
	// AuthservID is the authserv-id of the receiving server whose
	// Authentication-Results fields are trusted; "" trusts none.
	AuthservID string
	// Sender says whether this client sends automated mail when the server
	// lacks CONDSTORE (with it, a conditional claim picks one sender among
	// all clients). nil means yes: a lone client. With several clients on
	// such a server, set it true on exactly one and false on the others.
	Sender *bool
	// Send holds the settings of outgoing mail (templates, switches,
	// limits); the zero value means the defaults.
	Send SendOptions
	// Spam holds the spam settings: allowlist, block list, trusted
	// authserv-id; the zero value trusts nothing and allows no one.
	Spam SpamOptions

	spamFilter *spam.Filter // loaded by the sync worker on its first pass
	junk       junkState    // the sync worker's Junk mailbox handling (junk.go)
}

// endpoint is a parsed server URL.
type endpoint struct {
	host     string // host:port
	implicit bool   // implicit TLS (imaps, smtps)
	plain    bool   // no TLS at all (tls = "none", loopback only)
}

// Validate checks the account's addresses and URLs and fills defaults.
func (a *Account) Validate() error {
	a.fillDefaults()
	local, domain, ok := strings.Cut(a.Address, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(a.Address, " <>+") || strings.Contains(domain, "@") {
		return fmt.Errorf("account %s: address %q is not a plain address like support@example.com", a.Name, a.Address)
	}
	a.Address = strings.ToLower(a.Address)
	if a.TLS != "" && a.TLS != "none" {
		return fmt.Errorf("account %s: tls = %q: the only accepted value is \"none\" (loopback only)", a.Name, a.TLS)
	}
	if _, err := a.endpoint(a.IMAP, "imap", 143, 993); err != nil {
		return err
	}
	if _, err := a.endpoint(a.SMTP, "smtp", 587, 465); err != nil {
		return err
	}
	if a.PasswordCmd == "" && a.PasswordEnv == "" && a.Password == "" && a.OAuthTokenCmd == "" {
		return fmt.Errorf("account %s: no password source: set password_cmd, password_env or oauth_token_cmd", a.Name)
	}
	return nil
}

// fillDefaults sets the mailbox, default project and bot name if unset.
func (a *Account) fillDefaults() {
	if a.Mailbox == "" {
		a.Mailbox = "INBOX"
	}
	if a.DefaultProject == "" {
		a.DefaultProject = "general"
	}
	if a.SupportBotName == "" {
		a.SupportBotName = "Support Bot"
	}
}

// endpoint parses an imap(s):// or smtp(s):// URL.
func (a *Account) endpoint(raw, scheme string, plainPort, tlsPort int) (endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return endpoint{}, fmt.Errorf("account %s: %s URL %q: want %s://host[:port] or %ss://host[:port]", a.Name, scheme, raw, scheme, scheme)
	}
	var e endpoint
	switch u.Scheme {
	case scheme:
	case scheme + "s":
		e.implicit = true
	default:
		return endpoint{}, fmt.Errorf("account %s: %s URL %q: scheme must be %s or %ss", a.Name, scheme, raw, scheme, scheme)
	}
	port := u.Port()
	if port == "" {
		port = fmt.Sprint(plainPort)
		if e.implicit {
			port = fmt.Sprint(tlsPort)
		}
	}
	e.host = net.JoinHostPort(u.Hostname(), port)
	if a.TLS == "none" {
		if !isLoopback(u.Hostname()) {
			return endpoint{}, fmt.Errorf("account %s: tls = \"none\" is only accepted for loopback hosts, not %s", a.Name, u.Hostname())
		}
		e.plain, e.implicit = true, false
	}
	return e, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tlsConfig is the TLS configuration for host, trusting CAFile if set.
func (a *Account) tlsConfig(hostport string) (*tls.Config, error) {
	host, _, _ := net.SplitHostPort(hostport)
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if a.CAFile != "" {
		pem, err := os.ReadFile(a.CAFile)
		if err != nil {
			return nil, fmt.Errorf("account %s: ca_file: %w", a.Name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("account %s: ca_file %s holds no PEM certificate", a.Name, a.CAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// secret returns the account's password from its configured source. The
// value never appears in errors.
func (a *Account) secret(ctx context.Context) (string, error) {
	switch {
	case a.Password != "":
		return a.Password, nil
	case a.PasswordEnv != "":
		v, ok := os.LookupEnv(a.PasswordEnv)
		if !ok || v == "" {
			return "", fmt.Errorf("account %s: environment variable %s (password_env) is empty or unset", a.Name, a.PasswordEnv)
		}
		return v, nil
	case a.PasswordCmd != "":
		return runSecretCmd(ctx, a.Name, "password_cmd", a.PasswordCmd)
	}
	return "", fmt.Errorf("account %s: no password source", a.Name)
}

// projectName is the display name of a project tag.
func (a *Account) projectName(tag string) string {
	if n := a.ProjectNames[tag]; n != "" {
		return n
	}
	if tag == "" {
		return "Support"
	}
	first, size := utf8.DecodeRuneInString(tag)
	return string(unicode.ToUpper(first)) + tag[size:]
}
