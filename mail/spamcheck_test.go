package mail

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"desk/mail/spam"
	"desk/store"
)

// spamMail and hamMail are customer mails the test filter tells apart.
func spamMail(i int) []byte {
	return mailFrom(fmt.Sprintf("Lucky Winner <winner%d@casino%d.test>", i, i%97), testDesk,
		fmt.Sprintf("You won a %d%% casino bonus!!!", 100+i%400), fmt.Sprintf("spam%d@casino.test", i),
		fmt.Sprintf("Claim your free jackpot spins now at our online casino, bonus code %d. "+
			"Click http://casino%d.test/win to collect your prize. Unsubscribe here.", i, i%97))
}

func hamMail(i int, from string) []byte {
	return mailFrom(from, testDesk, fmt.Sprintf("Invoice %d does not match my order", 4000+i), fmt.Sprintf("ham%d@customer.test", i),
		fmt.Sprintf("Hello, the invoice for order %d charges me twice and I cannot log in to the billing page "+
			"to download the receipt. Could you refund the second charge? Thanks, Alice", 9000+i))
}

var discardLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// trainTestFilter seeds the store's filter with 50 mails of each kind
// (never the ones a test ingests) and loads it into the account, as the
// first sync pass does.
func trainTestFilter(t *testing.T, e *ingestEnv) {
	t.Helper()
	var ham, spm [][]string
	for i := range 50 {
		ham = append(ham, spam.Tokens(spam.ParseDoc(hamMail(100000+i, fmt.Sprintf("c%d@customer%d.test", i, i)))))
		spm = append(spm, spam.Tokens(spam.ParseDoc(spamMail(100000+i))))
	}
	ctx := context.Background()
	if err := spam.New().TrainTokens(ctx, e.st, ham, spm); err != nil {
		t.Fatal(err)
	}
	if err := e.a.trainSpam(ctx, e.st, discardLog); err != nil {
		t.Fatal(err)
	}
}

func TestSpamTicketGetsNoAutomatedMail(t *testing.T) {
	e := newIngestEnv(t, 1)
	trainTestFilter(t, e)
	nSpam := e.ingest(10, spamMail(1))
	nHam := e.ingest(11, hamMail(1, alice))
	if tk := e.ticket(nSpam); !tk.Spam || tk.SpamScore < 0.9 {
		t.Errorf("spam ticket: spam=%v score %v, want spam with a score ≥ 0.9", tk.Spam, tk.SpamScore)
	}
	if tk := e.ticket(nHam); tk.Spam || tk.SpamScore > 0.1 {
		t.Errorf("ham ticket: spam=%v score %v, want ham with a score ≤ 0.1", tk.Spam, tk.SpamScore)
	}
	out := e.outbox()
	if len(out) != 1 || out[0].TicketID != e.ticket(nHam).ID {
		t.Fatalf("outbox %+v, want only the thank-you of the ham ticket", out)
	}
	// Closing a spam ticket queues no notice either.
	ctx := context.Background()
	if err := e.st.SetTicketState(ctx, e.ticket(nSpam).ID, store.StateClosed); err != nil {
		t.Fatal(err)
	}
	for _, o := range e.outbox() {
		if o.TicketID == e.ticket(nSpam).ID {
			t.Errorf("automated mail queued for the spam ticket: %+v", o)
		}
	}
	// Marking the ham ticket spam withdraws its queued thank-you.
	if err := e.st.SetSpam(ctx, e.ticket(nHam).ID, true); err != nil {
		t.Fatal(err)
	}
	if out := e.outbox(); len(out) != 0 {
		t.Errorf("outbox after marking spam: %+v, want nothing due", out)
	}
}

// TestSpamFlood ingests 10,000 spam mails the way the sync worker does
// (500 per transaction): not one automated mail is queued, it is quick,
// and one bulk action marks them all.
func TestSpamFlood(t *testing.T) {
	e := newIngestEnv(t, 1)
	trainTestFilter(t, e)
	ctx := context.Background()
	const total, batch = floodSize, 500
	if total < 10000 {
		t.Logf("NOTE: %d mails only under the race detector; run without -race for the full 10,000", total)
	}
	start := time.Now()
	for from := 0; from < total; from += batch {
		err := e.st.Update(ctx, func(tx *store.Tx) error {
			for i := from; i < from+batch; i++ {
				m := fetched{UID: uint32(10 + i), InternalDate: time.Now(), Raw: spamMail(i)}
				if _, err := e.a.ingest(tx, e.row, e.a.prepareMessage(m)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(start)
	t.Logf("%d spam mails ingested in %v (%v each)", total, took, took/total)
	if out := e.outbox(); len(out) != 0 {
		t.Fatalf("%d automated mails queued for a flood of spam, want 0", len(out))
	}
	list, err := e.st.List(ctx, store.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	spamCount := 0
	ids := make([]int64, 0, len(list))
	for _, tk := range list {
		if tk.Spam {
			spamCount++
		}
		ids = append(ids, tk.ID)
	}
	if len(list) != total || spamCount != total {
		t.Errorf("%d tickets, %d of them spam; want %d spam", len(list), spamCount, total)
	}
	if limit := 2 * time.Minute; took > limit {
		t.Errorf("flood took %v, want under %v", took, limit)
	}
	// One bulk action marks them all (and trains on them) in one transaction.
	if err := e.st.SetSpamMany(ctx, ids, true); err != nil {
		t.Fatal(err)
	}
	if err := e.a.trainSpam(ctx, e.st, discardLog); err != nil {
		t.Fatal(err)
	}
	if _, s := e.a.spamFilter.Counts(); s != 50+total {
		t.Errorf("filter has %d spam after the bulk mark, want %d", s, 50+total)
	}
}

func TestSpamEvidence(t *testing.T) {
	e := newIngestEnv(t, 1)
	trainTestFilter(t, e)
	e.a.Spam = SpamOptions{Allow: []string{"partner.test"}, Block: []string{"pest@customer.test", "junk.test"}}
	n := e.ingest(10, hamMail(1, alice))
	e.composeQueued() // the thank-you leaves
	reply := e.outbox()[0]
	// A reply to our thank-you scores as ham, whatever its words.
	raw := mailFrom(alice, testDesk, "Re: casino", "r1@customer.test", string(spamMail(2)), "In-Reply-To: <"+reply.MessageID+">")
	e.ingest(11, raw)
	if m := e.byUID(n, 11); m.SpamScore > 0.01 {
		t.Errorf("reply scored %v, want ≤ 0.01", m.SpamScore)
	}
	cases := []struct {
		uid  uint32
		raw  []byte
		spam bool
	}{
		{12, mailFrom("Boss <ceo@partner.test>", testDesk, "casino bonus jackpot", "p1@partner.test", "free casino spins"), false},
		{13, hamMail(2, "pest@customer.test"), true},
		{14, hamMail(3, "someone@junk.test"), true},
		// Known requester: alice's new ticket with a spammy word or two stays ham.
		{15, mailFrom(alice, testDesk, "casino", "a2@customer.test", "I got a casino bonus mail claiming to be you, is it real?"), false},
	}
	for _, c := range cases {
		tk := e.ticket(e.ingest(c.uid, c.raw))
		if tk.Spam != c.spam {
			t.Errorf("UID %d from %s: spam=%v (score %v), want %v", c.uid, tk.Requester, tk.Spam, tk.SpamScore, c.spam)
		}
	}
}

func TestSpamKeywordsOnRoot(t *testing.T) {
	e := newIngestEnv(t, 1)
	trainTestFilter(t, e)
	nHamMarkedSpam := e.ingest(10, hamMail(1, alice), store.KeywordSpam)
	nSpamMarkedHam := e.ingest(11, spamMail(1), "$desk-ham") // servers may fold case
	if tk := e.ticket(nHamMarkedSpam); !tk.Spam {
		t.Error("a root marked $Desk-Spam opened a ticket outside the spam view")
	}
	if tk := e.ticket(nSpamMarkedHam); tk.Spam {
		t.Error("a root marked $Desk-Ham opened a ticket in the spam view")
	}
	for _, o := range e.outbox() {
		if o.TicketID == e.ticket(nHamMarkedSpam).ID {
			t.Errorf("automated mail queued for a ticket marked spam: %+v", o)
		}
	}
	// The marks train the filter on the next pass.
	_, before := e.a.spamFilter.Counts()
	if err := e.a.trainSpam(context.Background(), e.st, discardLog); err != nil {
		t.Fatal(err)
	}
	if h, s := e.a.spamFilter.Counts(); h != 51 || s != before+1 {
		t.Errorf("after the pass: %d ham, %d spam; want 51 and %d", h, s, before+1)
	}
}

// TestSpamFilterCorruptRebuiltFromKeywords damages the filter's tables: the
// next load of the filter reports it and rebuilds the filter from the
// tickets marked by $Desk-Spam/$Desk-Ham keywords.
func TestSpamFilterCorruptRebuiltFromKeywords(t *testing.T) {
	e := newIngestEnv(t, 1)
	trainTestFilter(t, e)
	e.ingest(10, spamMail(1), store.KeywordSpam)
	e.ingest(11, spamMail(2), store.KeywordSpam)
	e.ingest(12, hamMail(1, alice), store.KeywordHam)
	ctx := context.Background()
	if err := e.a.trainSpam(ctx, e.st, discardLog); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", e.st.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE spam_tokens SET spam = spam + 7 WHERE token = 'casino'`); err != nil {
		t.Fatal(err)
	}
	// The next start (or reload) of the filter finds the damage.
	e.a.spamFilter = nil
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	if err := e.a.trainSpam(ctx, e.st, log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logged.String(), "corrupt") {
		t.Errorf("log %q does not report the corruption", logged.String())
	}
	if h, s := e.a.spamFilter.Counts(); h != 1 || s != 2 {
		t.Errorf("rebuilt filter: %d ham, %d spam; want the 1 and 2 marked", h, s)
	}
	if _, err := spam.Load(ctx, e.st); err != nil {
		t.Errorf("stored filter after the rebuild: %v", err)
	}
}

// TestSpamHugeMailIngested scores a 10 MB mail within bounds.
func TestSpamHugeMailIngested(t *testing.T) {
	e := newIngestEnv(t, 1)
	trainTestFilter(t, e)
	// Like the trained spam in shape too: every trained ham, and no
	// trained spam, has no link and a sender without a name, so a mail
	// without both would carry two perfect ham clues (spam.Tokens' shape).
	line := "Claim your free jackpot spins at our online casino. Click http://casino.test/win to collect your prize. "
	body := strings.Repeat(line, 10<<20/len(line))
	start := time.Now()
	n := e.ingest(10, mailFrom("Lucky Winner <x@casino.test>", testDesk, "big", "big@casino.test", body))
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("ingesting 10 MB took %v", took)
	}
	if !e.ticket(n).Spam {
		t.Error("10 MB of casino spam is not spam")
	}
}

// TestBlockedSenderIsSpam: once staff block a requester, that sender's next
// mail opens a spam ticket and gets no thank-you.
func TestBlockedSenderIsSpam(t *testing.T) {
	e := newIngestEnv(t, 1)
	const spammer = "lucky@casino.example"
	first := e.ingest(10, mailFrom(spammer, testDesk, "Hello friend", "c1@casino.example", "Just saying hi."))
	if _, err := e.st.BlockSender(context.Background(), e.ticket(first).ID, true, "Ana"); err != nil {
		t.Fatal(err)
	}
	queued := len(e.outbox())
	second := e.ingest(11, mailFrom("other@casino.example", testDesk, "Another note", "c2@casino.example", "Hi again."))
	if tk := e.ticket(second); !tk.Spam {
		t.Fatalf("mail from a blocked domain opened a ticket that is not spam: %+v", tk)
	}
	if got := len(e.outbox()); got != queued {
		t.Fatalf("a blocked sender got automated mail: outbox %d → %d", queued, got)
	}
}
