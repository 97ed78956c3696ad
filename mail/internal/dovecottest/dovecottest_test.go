package dovecottest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// closedKeyword is stored and read back to check that Dovecot keeps case.
const closedKeyword imap.Flag = "$Desk-Closed"

// message returns a small RFC 5322 message with the given subject.
func message(subject string) []byte {
	return fmt.Appendf(nil, "From: alice@customer.test\r\nTo: support@desk.test\r\n"+
		"Subject: %s\r\nMessage-ID: <%s@customer.test>\r\n"+
		"Date: Mon, 02 Jan 2006 15:04:05 +0000\r\n\r\nHello.\r\n", subject, subject)
}

func TestServer(t *testing.T) {
	s := Start(t)
	c := s.Login(t, "support@desk.test", nil)

	caps, err := c.Capability().Wait()
	if err != nil {
		t.Fatalf("capability: %v", err)
	}
	for _, want := range []imap.Cap{imap.CapIdle, imap.CapCondStore} {
		if !caps.Has(want) {
			t.Errorf("capability %s not advertised", want)
		}
	}

	s.Deliver(t, "support@desk.test", message("first"))
	sel, err := c.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait()
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	if sel.NumMessages != 1 || sel.HighestModSeq == 0 {
		t.Fatalf("select: %d messages, HIGHESTMODSEQ %d; want 1 and nonzero", sel.NumMessages, sel.HighestModSeq)
	}

	store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{closedKeyword}}
	if err := c.Store(imap.SeqSetNum(1), store, nil).Close(); err != nil {
		t.Fatalf("store: %v", err)
	}

	// A second session reads the keyword back, then IDLEs.
	exists := make(chan uint32, 16)
	idler := s.Login(t, "support@desk.test", &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(data *imapclient.UnilateralDataMailbox) {
				if data.NumMessages != nil {
					select {
					case exists <- *data.NumMessages:
					default:
					}
				}
			},
		},
	})
	if _, err := idler.Select("INBOX", nil).Wait(); err != nil {
		t.Fatalf("select: %v", err)
	}
	msgs, err := idler.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("fetch flags: %v (%d messages)", err, len(msgs))
	}
	if !slices.Contains(msgs[0].Flags, closedKeyword) {
		t.Errorf("flags %q; want %q with its case", msgs[0].Flags, closedKeyword)
	}

	idle, err := idler.Idle()
	if err != nil {
		t.Fatalf("idle: %v", err)
	}
	s.Deliver(t, "support@desk.test", message("second"))
	timeout := time.After(10 * time.Second)
	for n := uint32(0); n != 2; {
		select {
		case n = <-exists:
		case <-timeout:
			t.Fatal("no EXISTS pushed during IDLE within 10s")
		}
	}
	if err := idle.Close(); err != nil {
		t.Fatalf("stop idle: %v", err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatalf("idle: %v", err)
	}
}

func TestWrongPassword(t *testing.T) {
	s := Start(t)
	c, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if err := c.Login("bob@customer.test", s.Password+"x").Wait(); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
}

func TestParallelInstances(t *testing.T) {
	for _, user := range Users {
		t.Run(user, func(t *testing.T) {
			t.Parallel()
			s := Start(t)
			s.Deliver(t, user, message("parallel"))
			c := s.Login(t, user, nil)
			sel, err := c.Select("INBOX", nil).Wait()
			if err != nil {
				t.Fatalf("select: %v", err)
			}
			if sel.NumMessages != 1 {
				t.Errorf("%d messages; want 1", sel.NumMessages)
			}
		})
	}
}
