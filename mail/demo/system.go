// Package demo is an in-process mail system for `desk demo` and the tests:
// an IMAP server (go-imap's imapmemserver) and an SMTP server (go-smtp) on
// 127.0.0.1 that deliver into each other, a seeded support mailbox, and a
// simulated customer who answers staff replies.
package demo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Password is the password of every mailbox of the demo system.
const Password = "demo"

// Delivery is one message the SMTP server accepted.
type Delivery struct {
	From string
	To   []string
	Raw  []byte
}

// System is a running in-process IMAP and SMTP server pair. Mail sent to
// any address of its domains lands in that address's INBOX (sub-addresses
// of a user land in the user's INBOX with a Delivered-To header).
type System struct {
	IMAPAddr string
	SMTPAddr string
	// SMTPPassword is what SMTP AUTH accepts (Password unless changed
	// before use, e.g. to share a real IMAP server's password in tests).
	SMTPPassword string
	// RcptError, when set, may refuse a recipient (tests of SMTP failures).
	RcptError func(rcpt string) error

	mem  *imapmemserver.Server
	imap *imapserver.Server
	smtp *smtp.Server

	mu         sync.Mutex
	users      map[string]*imapmemserver.User
	deliveries []Delivery
	onDeliver  []func(Delivery)
}

// NewSystem runs the two servers on loopback ports chosen by the kernel.
func NewSystem() (*System, error) {
	s := &System{SMTPPassword: Password, mem: imapmemserver.New(), users: map[string]*imapmemserver.User{}}
	quiet := log.New(io.Discard, "", 0)
	s.imap = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return s.mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       quiet,
	})
	imapLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo imap: %w", err)
	}
	smtpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		imapLn.Close()
		return nil, fmt.Errorf("demo smtp: %w", err)
	}
	s.smtp = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{sys: s}, nil }))
	s.smtp.Domain = "localhost"
	s.smtp.AllowInsecureAuth = true
	s.smtp.ErrorLog = quiet
	s.smtp.MaxMessageBytes = 25 << 20
	s.IMAPAddr, s.SMTPAddr = imapLn.Addr().String(), smtpLn.Addr().String()
	go s.imap.Serve(imapLn)
	go s.smtp.Serve(smtpLn)
	return s, nil
}

// Close stops both servers.
func (s *System) Close() {
	s.smtp.Close()
	s.imap.Close()
}

// AddUser creates a mailbox (with an INBOX) for addr if it has none.
func (s *System) AddUser(addr string) *imapmemserver.User {
	addr = strings.ToLower(addr)
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[addr]; u != nil {
		return u
	}
	u := imapmemserver.NewUser(addr, Password)
	_ = u.Create("INBOX", nil)
	s.mem.AddUser(u)
	s.users[addr] = u
	return u
}

// userFor maps an address, possibly with a +sub-address, to its mailbox.
func (s *System) userFor(addr string) *imapmemserver.User {
	local, domain, _ := strings.Cut(strings.ToLower(addr), "@")
	local, _, _ = strings.Cut(local, "+")
	return s.AddUser(local + "@" + domain)
}

// Append puts raw into addr's INBOX as an MDA would, with flags.
func (s *System) Append(addr string, raw []byte, flags ...string) (uint32, error) {
	u := s.userFor(addr)
	opts := &imap.AppendOptions{Time: time.Now()}
	for _, f := range flags {
		opts.Flags = append(opts.Flags, imap.Flag(f))
	}
	data, err := u.Append("INBOX", bytes.NewReader(raw), opts)
	if err != nil {
		return 0, err
	}
	return uint32(data.UID), nil
}

// Deliver delivers raw to each recipient, adding a Delivered-To header.
func (s *System) Deliver(from string, to []string, raw []byte) error {
	for _, rcpt := range to {
		withTrace := append([]byte("Delivered-To: "+rcpt+"\r\n"), raw...)
		if _, err := s.Append(rcpt, withTrace); err != nil {
			return fmt.Errorf("deliver to %s: %w", rcpt, err)
		}
	}
	d := Delivery{From: from, To: append([]string(nil), to...), Raw: raw}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	hooks := append([]func(Delivery){}, s.onDeliver...)
	s.mu.Unlock()
	for _, h := range hooks {
		h(d)
	}
	return nil
}

// Deliveries returns every message the SMTP server accepted so far.
func (s *System) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// OnDeliver registers fn to run after each SMTP delivery.
func (s *System) OnDeliver(fn func(Delivery)) {
	s.mu.Lock()
	s.onDeliver = append(s.onDeliver, fn)
	s.mu.Unlock()
}

// smtpSession receives one SMTP transaction.
type smtpSession struct {
	sys  *System
	from string
	to   []string
	user string
}

func (ss *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if password != ss.sys.SMTPPassword {
			return errors.New("invalid credentials")
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !strings.Contains(to, "@") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 3}, Message: "bad recipient address"}
	}
	if ss.sys.RcptError != nil {
		if err := ss.sys.RcptError(to); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return ss.sys.Deliver(ss.from, ss.to, raw)
}

func (ss *smtpSession) Reset() { ss.from, ss.to = "", nil }

func (ss *smtpSession) Logout() error { return nil }
