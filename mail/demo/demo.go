package demo

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"desk/mail"
)

// Options tune the demo's timing.
type Options struct {
	// CustomerDelay is how long the simulated customer takes to answer a
	// staff reply.
	CustomerDelay time.Duration
	// NewMailAfter is when a new customer mail arrives while the demo runs
	// (it gets a thank-you, live); 0 means never.
	NewMailAfter time.Duration
	// Log receives the simulated customer's failures; nil discards them.
	Log *slog.Logger
}

// Demo is a seeded in-process mail system with a simulated customer.
type Demo struct {
	*System
	// Account is the desk account that syncs the demo mailbox.
	Account *mail.Account
	// Seeded is how many messages the mailbox held at start.
	Seeded int

	ctx     context.Context
	log     *slog.Logger
	wg      sync.WaitGroup
	answers int
}

// Start runs the servers, seeds the desk mailbox and arms the simulated
// customer. Everything stops when ctx ends (then call Wait).
func Start(ctx context.Context, opts Options) (*Demo, error) {
	sys, err := NewSystem()
	if err != nil {
		return nil, err
	}
	sys.AddUser(Desk)
	n, err := Seed(sys, time.Now())
	if err != nil {
		sys.Close()
		return nil, fmt.Errorf("demo seed: %w", err)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	d := &Demo{System: sys, Seeded: n, ctx: ctx, log: log, Account: &mail.Account{
		Name: "demo", Address: Desk, IMAP: "imap://" + sys.IMAPAddr, SMTP: "smtp://" + sys.SMTPAddr,
		User: Desk, Password: Password, TLS: "none", DefaultProject: "general",
		ProjectNames: map[string]string{"billing": "Billing", "app": "App"},
	}}
	if err := d.Account.Validate(); err != nil {
		sys.Close()
		return nil, err
	}
	sys.OnDeliver(func(del Delivery) { d.customerReads(del, opts.CustomerDelay) })
	if opts.NewMailAfter > 0 {
		d.later(opts.NewMailAfter, func() error {
			raw := message("Grace Hopper", "grace@example.edu", "support+app@"+Domain, "Bug report: compiler says 'moth in relay 70'",
				"live-1@example.edu", "", time.Now(), "Hello,\n\nyour app stops with 'moth in relay 70' when I compile the\nnightly build. Steps to reproduce are below.\n\nGrace", nil, false, "")
			return d.send("grace@example.edu", []string{"support+app@" + Domain}, raw)
		})
	}
	context.AfterFunc(ctx, sys.Close)
	return d, nil
}

// Wait waits for the simulated customer's pending answers to finish after
// the demo's context ended.
func (d *Demo) Wait() { d.wg.Wait() }

// later runs fn after delay unless the demo ends first.
func (d *Demo) later(delay time.Duration, fn func() error) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		select {
		case <-d.ctx.Done():
		case <-time.After(delay):
			if err := fn(); err != nil {
				d.log.Warn("demo customer could not write", "err", err)
			}
		}
	}()
}

// customerReads plays the customer: a staff reply delivered to a customer
// is answered, through SMTP, to its Reply-To address.
func (d *Demo) customerReads(del Delivery, delay time.Duration) {
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(del.Raw))).ReadMIMEHeader()
	if err != nil || !strings.EqualFold(h.Get(mail.HeaderKind), "reply") || len(del.To) == 0 {
		return
	}
	customer, name := del.To[0], ""
	if to, err := netmail.ParseAddress(h.Get("To")); err == nil {
		name = to.Name
	}
	replyTo := strings.Trim(h.Get("Reply-To"), "<> ")
	if i := strings.LastIndexByte(replyTo, '<'); i >= 0 {
		replyTo = strings.Trim(replyTo[i:], "<>")
	}
	if replyTo == "" {
		replyTo = Desk
	}
	msgID := strings.Trim(h.Get("Message-Id"), "<> ")
	subject := h.Get("Subject")
	d.answers++
	answer := fmt.Sprintf("live-answer-%d@%s", d.answers, strings.SplitN(customer, "@", 2)[1])
	d.later(delay, func() error {
		raw := message(name, customer, replyTo, subject, answer, msgID, time.Now(),
			"Thank you, that solved it!\n\nHave a nice day.", nil, false, "")
		return d.send(customer, []string{replyTo}, raw)
	})
}

// send submits raw through the demo's SMTP server, like a customer's MUA
// (in clear text: the demo server is on loopback and has no certificate).
func (d *Demo) send(from string, to []string, raw []byte) error {
	c, err := smtp.Dial(d.SMTPAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SendMail(from, to, bytes.NewReader(raw)); err != nil {
		return err
	}
	return c.Quit()
}
