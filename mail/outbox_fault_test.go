package mail

import (
	"bufio"
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"desk/store"
)

// script says how a scriptedSMTP server behaves on every connection.
type script struct {
	hang     bool   // accept and never greet
	greeting string // default "220 fake ESMTP"
	starttls bool   // offer STARTTLS, answer 220, then speak garbage instead of TLS
	mute     bool   // greet, then never answer
	rcpt     string // reply to RCPT TO; default "250 ok"
	data     string // reply after the data; default "250 queued"
	cutData  bool   // close the connection in the middle of the data
}

// scriptedSMTP is an SMTP server on loopback that follows a script, for
// fault injection. It records every message it accepted in full.
type scriptedSMTP struct {
	ln net.Listener

	// connected receives a value for every connection accepted.
	connected chan struct{}

	mu       sync.Mutex
	script   script
	conns    int
	accepted []string // the data of accepted messages
	partial  []string // the data of messages cut mid-DATA
}

func newScriptedSMTP(t *testing.T) *scriptedSMTP {
	t.Helper()
	s := &scriptedSMTP{connected: make(chan struct{}, 64)}
	s.ln = ServeLoopback(t, s.serve)
	return s
}

func (s *scriptedSMTP) set(sc script) {
	s.mu.Lock()
	s.script = sc
	s.mu.Unlock()
}

func (s *scriptedSMTP) record() (conns int, accepted, partial []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns, append([]string(nil), s.accepted...), append([]string(nil), s.partial...)
}

func (s *scriptedSMTP) serve(c net.Conn) {
	s.mu.Lock()
	sc := s.script
	s.conns++
	s.mu.Unlock()
	select {
	case s.connected <- struct{}{}:
	default:
	}
	// Bounded: a test never waits on a connection longer than this.
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if sc.hang {
		_, _ = c.Read(make([]byte, 1))
		return
	}
	r := bufio.NewReader(c)
	say := func(lines ...string) { _, _ = c.Write([]byte(strings.Join(lines, "\r\n") + "\r\n")) }
	say(orDefault(sc.greeting, "220 fake ESMTP"))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if sc.mute {
			continue
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch verb {
		case "EHLO":
			if sc.starttls {
				say("250-fake", "250-STARTTLS", "250 8BITMIME")
			} else {
				say("250-fake", "250 8BITMIME")
			}
		case "STARTTLS":
			say("220 go ahead")
			say("this is not a TLS server hello")
			return
		case "MAIL", "RSET", "NOOP":
			say("250 ok")
		case "RCPT":
			say(orDefault(sc.rcpt, "250 ok"))
		case "DATA":
			say("354 go on")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(l)
				if sc.cutData && l == "\r\n" { // the end of the header
					s.mu.Lock()
					s.partial = append(s.partial, data.String())
					s.mu.Unlock()
					return
				}
			}
			reply := orDefault(sc.data, "250 queued")
			if strings.HasPrefix(reply, "250") {
				s.mu.Lock()
				s.accepted = append(s.accepted, data.String())
				s.mu.Unlock()
			}
			say(reply)
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 unknown")
		}
	}
}

// faultDesk is a store with one ticket and a worker whose account sends
// to addr; IMAP is never dialled (flushOutbox runs with no connection).
type faultDesk struct {
	st   *store.Store
	w    *worker
	tkID int64
}

func newFaultDesk(t *testing.T, smtpURL, tls string, opts SendOptions) *faultDesk {
	t.Helper()
	a := &Account{Name: "t", Address: "support@desk.test", IMAP: "imap://127.0.0.1:1", SMTP: smtpURL,
		User: "support@desk.test", Password: "pw", TLS: tls, Send: opts}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := NewService(st, []*Account{a}, nil, nil)
	w, err := svc.newWorker(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	tk := &store.Ticket{Number: 7, Project: "general", Subject: "Printer", Requester: "alice@customer.test",
		ReplyKey: "k7", RootMessageID: "root7@customer.test", Created: time.Now()}
	if err := st.Update(context.Background(), func(tx *store.Tx) error {
		if err := tx.CreateTicket(w.row.ID, tk); err != nil {
			return err
		}
		return tx.AddMessage(w.row.ID, &store.Message{TicketID: tk.ID, MessageID: tk.RootMessageID,
			From: tk.Requester, Subject: tk.Subject, Date: tk.Created, Kind: store.KindCustomer, Body: "help"})
	}); err != nil {
		t.Fatal(err)
	}
	return &faultDesk{st: st, w: w, tkID: tk.ID}
}

// outbox returns the state and error of the reply with messageID.
func (d *faultDesk) outbox(t *testing.T, messageID string) (state, lastErr string) {
	t.Helper()
	msgs, err := d.st.Messages(context.Background(), d.tkID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.MessageID == messageID {
			return m.Outbox, m.OutboxError
		}
	}
	t.Fatalf("reply %s is gone from the thread", messageID)
	return "", ""
}

func (d *faultDesk) flush(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.w.flushOutbox(ctx, nil); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

// TestSendFaults injects one fault per case into the SMTP conversation and
// checks the reply's state and error, then lets the server recover and
// checks the reply leaves exactly once, with its original Message-ID.
func TestSendFaults(t *testing.T) {
	closedLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closedLn.Addr().String()
	closedLn.Close()

	cases := []struct {
		name      string
		fault     script
		refused   bool // dial a closed port instead
		tls       string
		wantState string
		wantErr   string
	}{
		{name: "connection refused", refused: true, tls: "none", wantState: store.OutboxQueued, wantErr: "connection refused"},
		{name: "421 at greeting", fault: script{greeting: "421 4.3.2 too busy, come back later"}, tls: "none",
			wantState: store.OutboxQueued, wantErr: "too busy"},
		{name: "451 after RCPT", fault: script{rcpt: "451 4.7.1 greylisted, try again"}, tls: "none",
			wantState: store.OutboxQueued, wantErr: "greylisted"},
		{name: "550 after DATA", fault: script{data: "550 5.7.1 message content rejected"}, tls: "none",
			wantState: store.OutboxFailed, wantErr: "message content rejected"},
		{name: "cut mid-DATA", fault: script{cutData: true}, tls: "none", wantState: store.OutboxQueued, wantErr: "EOF"},
		{name: "TLS handshake failure", fault: script{starttls: true}, wantState: store.OutboxQueued, wantErr: "tls"},
		{name: "timeout after greeting", fault: script{mute: true}, tls: "none", wantState: store.OutboxQueued, wantErr: "timeout"},
		{name: "timeout before greeting", fault: script{hang: true}, tls: "none", wantState: store.OutboxQueued, wantErr: "timeout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newScriptedSMTP(t)
			srv.set(c.fault)
			addr := srv.ln.Addr().String()
			if c.refused {
				addr = closedAddr
			}
			opts := SendOptions{Timeout: 300 * time.Millisecond, RetryBase: time.Nanosecond}
			d := newFaultDesk(t, "smtp://"+addr, c.tls, opts)
			ctx := context.Background()
			m, err := d.st.QueueReply(ctx, d.tkID, store.KindReply, "Ana", "Have you tried turning it off and on?")
			if err != nil {
				t.Fatal(err)
			}
			d.flush(t)
			state, lastErr := d.outbox(t, m.MessageID)
			if state != c.wantState || !strings.Contains(strings.ToLower(lastErr), strings.ToLower(c.wantErr)) {
				t.Fatalf("after the fault: state %q error %q; want %q with %q", state, lastErr, c.wantState, c.wantErr)
			}
			if strings.Contains(lastErr, "\n") || strings.Contains(lastErr, "pw") {
				t.Fatalf("error is not one clean line: %q", lastErr)
			}
			t.Logf("%s: %s: %s", c.name, state, lastErr)

			// The server recovers.
			srv.set(script{})
			if c.refused {
				d.w.acct.SMTP = "smtp://" + srv.ln.Addr().String()
			}
			if c.tls == "" {
				// A TLS failure is retried like any transient fault; here the
				// server never learns TLS, so only the retry is checked.
				if state, _ := d.outbox(t, m.MessageID); state != store.OutboxQueued {
					t.Fatalf("state %q before the retry", state)
				}
				return
			}
			if state == store.OutboxFailed {
				d.flush(t)
				if _, acc, _ := srv.record(); len(acc) != 0 {
					t.Fatalf("a 5xx was retried without staff asking: %d deliveries", len(acc))
				}
				if err := d.st.RetryOutbox(ctx, m.MessageID); err != nil {
					t.Fatal(err)
				}
			}
			d.flush(t)
			if state, lastErr := d.outbox(t, m.MessageID); state != store.OutboxSent || lastErr != "" {
				t.Fatalf("after recovery: state %q error %q, want sent", state, lastErr)
			}
			_, accepted, partial := srv.record()
			if len(accepted) != 1 || !strings.Contains(accepted[0], "Message-Id: <"+m.MessageID+">") {
				t.Fatalf("accepted %d messages, want 1 with Message-Id %s", len(accepted), m.MessageID)
			}
			for _, p := range partial {
				if !strings.Contains(p, "Message-Id: <"+m.MessageID+">") {
					t.Fatalf("the cut attempt carried another Message-ID:\n%s", p)
				}
			}
		})
	}
}

// TestSendRetriesBounded: a server that always answers 4xx makes the reply
// fail after MaxAttempts, each attempt later than the one before.
func TestSendRetriesBounded(t *testing.T) {
	srv := newScriptedSMTP(t)
	srv.set(script{rcpt: "451 4.3.0 try later"})
	d := newFaultDesk(t, "smtp://"+srv.ln.Addr().String(), "none", SendOptions{MaxAttempts: 3, RetryBase: time.Nanosecond})
	ctx := context.Background()
	m, err := d.st.QueueReply(ctx, d.tkID, store.KindReply, "Ana", "hello")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		d.flush(t)
	}
	state, lastErr := d.outbox(t, m.MessageID)
	if state != store.OutboxFailed || !strings.Contains(lastErr, "gave up after 3 attempts") || !strings.Contains(lastErr, "try later") {
		t.Fatalf("state %q error %q, want failed after 3 attempts", state, lastErr)
	}
	if conns, _, _ := srv.record(); conns != 3 {
		t.Fatalf("%d connections, want 3", conns)
	}
	// Staff discard it: it leaves the thread and the outbox, with an event.
	if err := d.st.DiscardOutbox(ctx, m.MessageID, "Ana"); err != nil {
		t.Fatal(err)
	}
	msgs, _ := d.st.Messages(ctx, d.tkID)
	for _, x := range msgs {
		if x.MessageID == m.MessageID {
			t.Fatal("discarded reply still in the thread")
		}
	}
	if q, f, _ := d.st.OutboxCounts(ctx); q != 0 || f != 0 {
		t.Fatalf("outbox counts %d queued %d failed after discard", q, f)
	}
	ev, _ := d.st.Events(ctx, d.tkID)
	if len(ev) == 0 || !strings.Contains(ev[len(ev)-1].What, "discarded") || ev[len(ev)-1].Actor != "Ana" {
		t.Fatalf("events %+v", ev)
	}
}

func TestRetryDelayCapped(t *testing.T) {
	prev := time.Duration(0)
	for n := 1; n <= 40; n++ {
		d := retryDelay(5*time.Second, n)
		if d < prev || d > 15*time.Minute {
			t.Fatalf("attempt %d: delay %v after %v", n, d, prev)
		}
		prev = d
	}
	if retryDelay(5*time.Second, 1) != 5*time.Second || prev != 15*time.Minute {
		t.Fatalf("first delay %v, last %v", retryDelay(5*time.Second, 1), prev)
	}
}

// TestSendCrashRecovery: a send cut by a crash (its context cancelled while
// the server holds the data) leaves the reply in "sending"; recovery at
// the next start queues it again and it goes out once, same Message-ID.
func TestSendCrashRecovery(t *testing.T) {
	srv := newScriptedSMTP(t)
	srv.set(script{mute: true})
	d := newFaultDesk(t, "smtp://"+srv.ln.Addr().String(), "none", SendOptions{Timeout: 5 * time.Second})
	m, err := d.st.QueueReply(context.Background(), d.tkID, store.KindReply, "Ana", "crash test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.w.flushOutbox(ctx, nil) }()
	// The reply is marked sending before the server is dialled: once the
	// server has the connection, "crash".
	select {
	case <-srv.connected:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker never connected")
	}
	cancel()
	<-done
	if state, _ := d.outbox(t, m.MessageID); state != store.OutboxSending {
		t.Fatalf("after the crash: %q, want it left in sending", state)
	}
	if n, err := d.st.RecoverSending(context.Background()); err != nil || n != 1 {
		t.Fatalf("RecoverSending = %d, %v", n, err)
	}
	srv.set(script{})
	d.flush(t)
	state, _ := d.outbox(t, m.MessageID)
	_, accepted, _ := srv.record()
	if state != store.OutboxSent || len(accepted) != 1 || !strings.Contains(accepted[0], m.MessageID) {
		t.Fatalf("after recovery: %q, %d accepted", state, len(accepted))
	}
}
