package mail

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const (
	oauthUser  = "support@desk.test"
	oauthToken = "ya29.tok-Secret-123"
)

// checkBearer is what a provider does with a bearer token.
func checkBearer(user, token string) error {
	if user != oauthUser || token != oauthToken {
		return errors.New("invalid token")
	}
	return nil
}

// xoauth2Server is the server side of XOAUTH2, for the tests.
type xoauth2Server struct {
	login func(user string) error
	done  bool
}

func (s *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if s.done {
		return nil, true, errors.New("XOAUTH2 failed")
	}
	parts := strings.Split(string(resp), "\x01")
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "user=") || !strings.HasPrefix(parts[1], "auth=Bearer ") {
		return nil, true, errors.New("malformed XOAUTH2")
	}
	user, token := strings.TrimPrefix(parts[0], "user="), strings.TrimPrefix(parts[1], "auth=Bearer ")
	if err := checkBearer(user, token); err != nil {
		return nil, true, err
	}
	s.done = true
	return nil, true, s.login(user)
}

// oauthSession is an imapmemserver session that logs in only by OAuth2.
type oauthSession struct {
	imapserver.Session
	mechs []string
}

func (s *oauthSession) AuthenticateMechanisms() []string { return s.mechs }

func (s *oauthSession) Authenticate(mech string) (sasl.Server, error) {
	login := func(user string) error { return s.Login(user, "pw") }
	switch mech {
	case mechXOAuth2:
		return &xoauth2Server{login: login}, nil
	case sasl.OAuthBearer:
		return sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			if err := checkBearer(o.Username, o.Token); err != nil {
				return &sasl.OAuthBearerError{Status: "invalid_token"}
			}
			if err := login(o.Username); err != nil {
				return &sasl.OAuthBearerError{Status: "invalid_request"}
			}
			return nil
		}), nil
	}
	return nil, errors.New("unsupported mechanism")
}

// oauthIMAP runs an IMAP server on loopback that offers mechs.
func oauthIMAP(t *testing.T, mechs ...string) string {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(oauthUser, "pw")
	_ = u.Create("INBOX", nil)
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &oauthSession{Session: mem.NewSession(), mechs: mechs}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}}, // the wrapper is no IMAP4rev2 session
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func oauthAccount(token string) *Account {
	return &Account{Name: "o", Address: oauthUser, User: oauthUser, OAuthTokenCmd: "printf '%s\\n' " + token}
}

func TestIMAPOAuth(t *testing.T) {
	for _, tc := range []struct {
		mechs []string
		token string
		ok    bool
	}{
		{[]string{mechXOAuth2}, oauthToken, true},
		{[]string{sasl.OAuthBearer}, oauthToken, true},
		{[]string{sasl.OAuthBearer, mechXOAuth2}, oauthToken, true},
		{[]string{mechXOAuth2}, "expired", false},
		{[]string{sasl.OAuthBearer}, "expired", false},
		{[]string{sasl.Plain}, oauthToken, false},
	} {
		addr := oauthIMAP(t, tc.mechs...)
		c, err := imapclient.DialInsecure(addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		a := oauthAccount(tc.token)
		err = a.imapLogin(context.Background(), c)
		if tc.ok {
			if err != nil {
				t.Errorf("%v: %v", tc.mechs, err)
			} else if _, err := c.Select("INBOX", nil).Wait(); err != nil {
				t.Errorf("%v: select after login: %v", tc.mechs, err)
			}
		} else if err == nil {
			t.Errorf("%v with token %q: logged in", tc.mechs, tc.token)
		}
		if err != nil && strings.Contains(err.Error(), oauthToken) {
			t.Errorf("error shows the token: %v", err)
		}
		c.Close()
	}
}

// smtpOAuthSession accepts XOAUTH2 or OAUTHBEARER.
type smtpOAuthSession struct{ authed bool }

func (s *smtpOAuthSession) AuthMechanisms() []string { return []string{mechXOAuth2} }

func (s *smtpOAuthSession) Auth(string) (sasl.Server, error) {
	return &xoauth2Server{login: func(string) error { s.authed = true; return nil }}, nil
}

func (s *smtpOAuthSession) Mail(string, *smtp.MailOptions) error {
	if !s.authed {
		return errors.New("not authenticated")
	}
	return nil
}
func (s *smtpOAuthSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *smtpOAuthSession) Data(r io.Reader) error               { _, err := io.Copy(io.Discard, r); return err }
func (s *smtpOAuthSession) Reset()                               {}
func (s *smtpOAuthSession) Logout() error                        { return nil }

func TestSMTPOAuth(t *testing.T) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpOAuthSession{}, nil }))
	srv.AllowInsecureAuth = true
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	for _, token := range []string{oauthToken, "expired"} {
		a := oauthAccount(token)
		a.SMTP, a.IMAP, a.TLS = "smtp://"+ln.Addr().String(), "imap://127.0.0.1", "none"
		c, err := a.dialSMTP(context.Background())
		if token == oauthToken {
			if err != nil {
				t.Fatal(err)
			}
			if err := c.SendMail(oauthUser, []string{"x@y.test"}, strings.NewReader("Subject: x\r\n\r\nx\r\n")); err != nil {
				t.Fatal(err)
			}
			c.Close()
			continue
		}
		if err == nil {
			c.Close()
			t.Fatal("expired token accepted")
		}
		if strings.Contains(err.Error(), oauthToken) {
			t.Errorf("error shows the token: %v", err)
		}
	}
}

func TestSecretCmdErrors(t *testing.T) {
	for cmd, want := range map[string]string{
		"echo hunter2; exit 3": "password_cmd failed (exit status 3)",
		"true":                 "password_cmd printed nothing",
	} {
		a := &Account{Name: "w", PasswordCmd: cmd}
		_, err := a.secret(context.Background())
		if err == nil || err.Error() != "account w: "+want {
			t.Errorf("%s: error %v, want %s", cmd, err, want)
		}
	}
}
