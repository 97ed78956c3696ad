// Package mail is everything of desk that speaks email: parsing and routing
// incoming mail into tickets, composing replies and automated mail, the IMAP
// sync worker and the SMTP sender. It never draws; it tells the interface
// what changed with the events of package store.
package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"
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
}

// endpoint is a parsed server URL.
type endpoint struct {
	host     string // host:port
	implicit bool   // implicit TLS (imaps, smtps)
	plain    bool   // no TLS at all (tls = "none", loopback only)
}

// Validate checks the account's addresses and URLs and fills defaults.
func (a *Account) Validate() error {
	if a.Mailbox == "" {
		a.Mailbox = "INBOX"
	}
	if a.DefaultProject == "" {
		a.DefaultProject = "general"
	}
	if a.SupportBotName == "" {
		a.SupportBotName = "Support Bot"
	}
	local, domain, ok := strings.Cut(a.Address, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(a.Address, " <>+") {
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
	if a.PasswordCmd == "" && a.PasswordEnv == "" && a.Password == "" {
		return fmt.Errorf("account %s: no password source: set password_cmd or password_env", a.Name)
	}
	return nil
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
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "sh", "-c", a.PasswordCmd).Output()
		if err != nil {
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				return "", fmt.Errorf("account %s: password_cmd failed (%s)", a.Name, exit.ProcessState)
			}
			return "", fmt.Errorf("account %s: password_cmd: %w", a.Name, err)
		}
		line, _, _ := strings.Cut(string(out), "\n")
		if line = strings.TrimRight(line, "\r"); line == "" {
			return "", fmt.Errorf("account %s: password_cmd printed nothing", a.Name)
		}
		return line, nil
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
	return strings.ToUpper(tag[:1]) + tag[1:]
}
