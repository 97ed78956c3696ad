package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

// SASL mechanism names desk may use.
const (
	mechXOAuth2     = "XOAUTH2"
	mechOAuthBearer = sasl.OAuthBearer
)

// xoauth2 is the XOAUTH2 mechanism of Gmail and Microsoft 365, which
// go-sasl does not provide: one message carrying user and bearer token.
type xoauth2 struct{ user, token string }

func (x *xoauth2) Start() (string, []byte, error) {
	return mechXOAuth2, []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

// Next answers a server challenge, which XOAUTH2 sends only to report a
// failure as JSON: an empty response lets the server end the exchange.
func (x *xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }

// OAuth reports whether the account logs in with an OAuth2 access token.
func (a *Account) OAuth() bool { return a.OAuthTokenCmd != "" }

// authClient is the SASL client to log in with, given which mechanisms the
// server offers: XOAUTH2 (or else OAUTHBEARER) with a token from
// oauth_token_cmd, or PLAIN (or else LOGIN) with the password. The secret
// is fetched here and never appears in an error.
func (a *Account) authClient(ctx context.Context, offers func(mech string) bool) (sasl.Client, error) {
	if a.OAuth() {
		token, err := runSecretCmd(ctx, a.Name, "oauth_token_cmd", a.OAuthTokenCmd)
		if err != nil {
			return nil, err
		}
		switch {
		case offers(mechXOAuth2):
			return &xoauth2{user: a.User, token: token}, nil
		case offers(mechOAuthBearer):
			return sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: a.User, Token: token}), nil
		}
		return nil, fmt.Errorf("account %s: the server offers neither XOAUTH2 nor OAUTHBEARER for oauth_token_cmd", a.Name)
	}
	pass, err := a.secret(ctx)
	if err != nil {
		return nil, err
	}
	if !offers(sasl.Plain) && offers(sasl.Login) {
		return sasl.NewLoginClient(a.User, pass), nil
	}
	return sasl.NewPlainClient("", a.User, pass), nil
}

// runSecretCmd runs a password_cmd or oauth_token_cmd with sh -c and
// returns the first line of its output. Errors name the command's key and
// exit status, never its output.
func runSecretCmd(ctx context.Context, account, key, command string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sh", "-c", command).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return "", fmt.Errorf("account %s: %s failed (%s)", account, key, exit.ProcessState)
		}
		return "", fmt.Errorf("account %s: %s: %w", account, key, err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	if line = strings.TrimRight(line, "\r"); line == "" {
		return "", fmt.Errorf("account %s: %s printed nothing", account, key)
	}
	return line, nil
}

// imapLogin authenticates an IMAP connection: AUTHENTICATE with an OAuth2
// token, or LOGIN with the password.
func (a *Account) imapLogin(ctx context.Context, c *imapclient.Client) error {
	if !a.OAuth() {
		pass, err := a.secret(ctx)
		if err != nil {
			return err
		}
		return c.Login(a.User, pass).Wait()
	}
	// Ask afresh: a greeting may list fewer mechanisms than CAPABILITY.
	caps, err := c.Capability().Wait()
	if err != nil {
		return err
	}
	mech, err := a.authClient(ctx, func(m string) bool { return caps.Has(imap.Cap("AUTH=" + m)) })
	if err != nil {
		return err
	}
	return c.Authenticate(mech)
}

// Check logs in to both servers as a is configured, opens the mailbox and
// authenticates by SMTP, then disconnects: `desk init` runs it before it
// writes a config.
func (a *Account) Check(ctx context.Context) error {
	w := &worker{acct: a, log: slog.New(slog.DiscardHandler), updates: make(chan struct{}, 1)}
	c, err := w.dialIMAP(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Select(a.Mailbox, nil).Wait(); err != nil {
		return fmt.Errorf("imap: select %s: %w", a.Mailbox, err)
	}
	_ = c.Logout().Wait()
	s, err := a.dialSMTP(ctx)
	if err != nil {
		return err
	}
	return s.Quit()
}
