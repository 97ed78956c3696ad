package mail

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"desk/mail/internal/dovecottest"
	"desk/store"
)

// smtpFaultEnv is one desk account on Dovecot whose SMTP server greets
// with a scripted line; one old message waits for the first sync, the
// baseline, which the test runs.
type smtpFaultEnv struct {
	srv      *dovecottest.Server
	smtp     *scriptedSMTP
	st       *store.Store
	a        *Account
	svc      *Service
	user     string
	syncOnce func()
	newMail  func(n int) []byte
}

func newSMTPFaultEnv(t *testing.T, greeting string) *smtpFaultEnv {
	t.Helper()
	e := &smtpFaultEnv{srv: dovecottest.Start(t), smtp: newScriptedSMTP(t), user: "support@desk.test"}
	e.smtp.set(script{greeting: greeting})
	e.newMail = func(n int) []byte {
		return fmt.Appendf(nil, "From: c%d@customer.test\r\nTo: %s\r\nSubject: help %d\r\nMessage-ID: <n%d@customer.test>\r\n\r\nhello\r\n",
			n, e.user, n, n)
	}
	e.srv.Deliver(t, e.user, e.newMail(0))
	var err error
	if e.st, err = store.Open(filepath.Join(t.TempDir(), "desk.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	e.a = &Account{Name: "desk", Address: e.user, IMAP: "imap://" + e.srv.Addr, SMTP: "smtp://" + e.smtp.ln.Addr().String(),
		User: e.user, Password: e.srv.Password, TLS: "none", Send: SendOptions{RetryBase: time.Nanosecond}}
	if err := e.a.Validate(); err != nil {
		t.Fatal(err)
	}
	e.svc = NewService(e.st, []*Account{e.a}, nil, nil)
	e.syncOnce = func() {
		t.Helper()
		if err := e.svc.SyncOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// inThread is the message of outbox item o in its ticket's thread, or nil.
func inThread(t *testing.T, st *store.Store, o *store.OutboxItem) *store.Message {
	t.Helper()
	msgs, err := st.Messages(context.Background(), o.TicketID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.MessageID == o.MessageID {
			return m
		}
	}
	return nil
}

// TestClaimRaceUnchangedSince interleaves two clients' claims on one
// Dovecot mailbox step by step: both read the same MODSEQ, then both store
// conditionally. Exactly the first wins; the second sees the winner's flag
// change inside its own STORE and must still lose (by OK [MODIFIED]).
func TestClaimRaceUnchangedSince(t *testing.T) {
	srv := dovecottest.Start(t)
	const user = "support@desk.test"
	srv.Deliver(t, user, []byte("From: a@customer.test\r\nTo: support@desk.test\r\nSubject: hi\r\nMessage-ID: <r@customer.test>\r\n\r\nhello\r\n"))
	dial := func() *conn {
		st, err := store.Open(filepath.Join(t.TempDir(), "desk.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		a := &Account{Name: "desk", Address: user, IMAP: "imap://" + srv.Addr, SMTP: "smtp://127.0.0.1:1",
			User: user, Password: srv.Password, TLS: "none"}
		if err := a.Validate(); err != nil {
			t.Fatal(err)
		}
		w, err := NewService(st, []*Account{a}, nil, nil).newWorker(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		c, err := w.dialIMAP(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := c.Select("INBOX", &imap.SelectOptions{CondStore: c.condstore}).Wait(); err != nil {
			t.Fatal(err)
		}
		if !c.condstore {
			t.Fatal("dovecottest must offer CONDSTORE")
		}
		return c
	}
	for round, keyword := range []string{store.KeywordAcked, "$Desk-Claim-Test"} {
		a, b := dial(), dial()
		ma, takenA, errA := readClaim(a, 1, keyword)
		mb, takenB, errB := readClaim(b, 1, keyword)
		if errA != nil || errB != nil || takenA || takenB || ma != mb || ma == 0 {
			t.Fatalf("round %d: read: %d %v %v / %d %v %v", round, ma, takenA, errA, mb, takenB, errB)
		}
		wonA, err := storeClaim(a, 1, keyword, ma)
		if err != nil || !wonA {
			t.Fatalf("round %d: first claim: won %v, %v", round, wonA, err)
		}
		wonB, err := storeClaim(b, 1, keyword, mb)
		if err != nil || wonB {
			t.Fatalf("round %d: second claim with the same MODSEQ: won %v, %v; want lost", round, wonB, err)
		}
		// A later claim reads the keyword and does not even try.
		if _, taken, err := readClaim(dial(), 1, keyword); err != nil || !taken {
			t.Fatalf("round %d: claim keyword not visible: %v %v", round, taken, err)
		}
	}
}

// TestModifiedWatch: the code is seen only while armed, also when split
// across reads.
func TestModifiedWatch(t *testing.T) {
	var m modifiedWatch
	fmt.Fprint(&m, "T1 OK [MODIFIED 7] Conditional store failed\r\n")
	m.arm()
	if m.disarm() {
		t.Fatal("seen before it was armed")
	}
	for _, parts := range [][]string{
		{"* 1 FETCH (UID 1 FLAGS ($Desk-Acked))\r\nT2 OK [MODIFIED 1] Conditional store failed\r\n"},
		{"T3 OK [MODIF", "IED 1] done\r\n"},
		{"T4 OK [", "M", "ODIFIED", " 3] x\r\n"},
	} {
		m.arm()
		for _, p := range parts {
			fmt.Fprint(&m, p)
		}
		if !m.disarm() {
			t.Errorf("MODIFIED not seen in %q", strings.Join(parts, "|"))
		}
	}
	m.arm()
	fmt.Fprint(&m, "* 1 FETCH (UID 1 MODSEQ (9))\r\nT5 OK Conditional store completed\r\n")
	if m.disarm() {
		t.Error("MODIFIED seen in a successful STORE")
	}
}

// TestNoClaimWhileSMTPDown: new mail arrives while the SMTP server turns
// every connection away at its greeting. The flush connects once, not once
// per thank-you, and claims none of them on the server (a claim is a
// promise to send); once the server is back, each goes out exactly once.
func TestNoClaimWhileSMTPDown(t *testing.T) {
	e := newSMTPFaultEnv(t, "421 4.3.2 too busy, come back later")
	e.syncOnce() // the baseline: old mail gets no thank-you
	const fresh = 3
	for n := 1; n <= fresh; n++ {
		e.srv.Deliver(t, e.user, e.newMail(n))
	}
	e.syncOnce()
	if conns, accepted, _ := e.smtp.record(); conns != 1 || len(accepted) != 0 {
		t.Fatalf("%d connections, %d accepted while the server turns them away; want 1, 0", conns, len(accepted))
	}
	if q, f, err := e.st.OutboxCounts(context.Background()); err != nil || q != fresh || f != 0 {
		t.Fatalf("outbox %d queued, %d failed (%v); want %d queued", q, f, err, fresh)
	}
	w, err := e.svc.newWorker(context.Background(), e.a)
	if err != nil {
		t.Fatal(err)
	}
	// The first item records the refusal at once, the others held back
	// behind it in one transaction at the end of the flush: each says why.
	due, err := e.st.DueOutbox(context.Background(), w.row.ID, time.Now().Add(time.Hour))
	if err != nil || len(due) != fresh {
		t.Fatalf("%d items due (%v), want %d", len(due), err, fresh)
	}
	for _, o := range due {
		if !strings.Contains(o.LastError, "421") {
			t.Fatalf("item %s: last error %q, want the server's 421", o.MessageID, o.LastError)
		}
		// Nothing is composed for a server that turns the flush away.
		if len(o.Raw) != 0 || inThread(t, e.st, o) != nil {
			t.Errorf("item %s composed (%d bytes, in the thread: %v) though it could not leave", o.MessageID, len(o.Raw), inThread(t, e.st, o) != nil)
		}
	}
	c, err := w.dialIMAP(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Select("INBOX", &imap.SelectOptions{CondStore: c.condstore}).Wait(); err != nil {
		t.Fatal(err)
	}
	for uid := uint32(2); uid <= 1+fresh; uid++ {
		if _, taken, err := readClaim(c, uid, store.KeywordAcked); err != nil || taken {
			t.Fatalf("UID %d claimed (%v, %v) though nothing could be sent", uid, taken, err)
		}
	}
	e.smtp.set(script{})
	e.syncOnce()
	if _, accepted, _ := e.smtp.record(); len(accepted) != fresh {
		t.Fatalf("%d thank-yous accepted once the server is back, want %d", len(accepted), fresh)
	}
	for uid := uint32(2); uid <= 1+fresh; uid++ {
		if _, taken, err := readClaim(c, uid, store.KeywordAcked); err != nil || !taken {
			t.Fatalf("UID %d sent but not claimed (%v, %v)", uid, taken, err)
		}
	}
	for _, o := range due {
		if m := inThread(t, e.st, o); m == nil || m.Kind != store.KindAuto || m.Outbox != store.OutboxSent {
			t.Errorf("thank-you %s once sent: in the thread as %+v", o.MessageID, m)
		}
	}
}

// TestThankYouRefusedForGood: an SMTP server that refuses at its greeting
// with a 5xx fails every thank-you for good, unclaimed, and each is still
// composed into its ticket's thread, where the failure shows.
func TestThankYouRefusedForGood(t *testing.T) {
	e := newSMTPFaultEnv(t, "554 5.7.1 no service for you")
	e.syncOnce() // the baseline
	const fresh = 2
	for n := 1; n <= fresh; n++ {
		e.srv.Deliver(t, e.user, e.newMail(n))
	}
	e.syncOnce()
	if q, f, err := e.st.OutboxCounts(context.Background()); err != nil || q != 0 || f != fresh {
		t.Fatalf("outbox %d queued, %d failed (%v); want %d failed", q, f, err, fresh)
	}
	for uid := int64(2); uid <= 1+fresh; uid++ {
		tk, err := e.st.TicketByNumber(context.Background(), uid)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := e.st.Messages(context.Background(), tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ack *store.Message
		for _, m := range msgs {
			if m.Kind == store.KindAuto {
				ack = m
			}
		}
		if ack == nil || ack.Outbox != store.OutboxFailed || !strings.Contains(ack.OutboxError, "554") {
			t.Errorf("ticket #%d: thank-you refused for good shows as %+v, want failed with the server's 554", uid, ack)
		}
	}
	if _, accepted, _ := e.smtp.record(); len(accepted) != 0 {
		t.Errorf("%d mails accepted by a server that refuses", len(accepted))
	}
}
