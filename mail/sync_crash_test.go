package mail_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"desk/store"
)

var (
	crashMessages = flag.Int("crash.messages", 300, "messages in the mailbox of TestSyncCrashSafety (e.g. 3000 for the full run)")
	crashKills    = flag.Int("crash.kills", 20, "SIGKILLs of desk sync in TestSyncCrashSafety")
)

// TestSyncCrashSafety runs `desk sync` against Dovecot and kills it with
// SIGKILL at random moments, with new deliveries and keyword changes by a
// teammate in between, then lets it finish: the store must equal a fresh
// full sync into an empty database, with nothing lost or duplicated.
// The default is a reduced run; -crash.messages=3000 is the full one.
func TestSyncCrashSafety(t *testing.T) {
	e := newSyncEnv(t)
	const user = "support@desk.test"
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	seed := rng.Uint64()
	rng = rand.New(rand.NewPCG(seed, 7))
	t.Logf("seed %d, %d messages, %d kills", seed, *crashMessages, *crashKills)
	gen := &mailGen{rng: rng}
	e.srv.DeliverBulk(t, user, gen.next(*crashMessages))

	dir := t.TempDir()
	cfg := writeSyncConfig(t, e, dir)
	db := filepath.Join(dir, "desk.db")
	mates := e.srv.Login(t, user, nil)
	if _, err := mates.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	var killedAt []string
	for k := range *crashKills {
		cmd := deskCommand(dir, cfg, db, e.srv.Password, "sync")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// A random moment: early kills land in the first full sync, later
		// ones among deliveries, claims, sends and keyword pushes.
		delay := time.Duration(20+rng.IntN(30*k+*crashMessages/10)) * time.Millisecond
		timer := time.AfterFunc(delay, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
		err := cmd.Wait()
		timer.Stop()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("desk sync ended by itself before the kill (%v): %v\n%s", delay, err, stderr.String())
		}
		killedAt = append(killedAt, delay.String())
		switch k % 3 {
		case 0:
			e.srv.DeliverBulk(t, user, gen.next(1+rng.IntN(5)))
		case 1:
			for range 1 + rng.IntN(3) {
				e.srv.Deliver(t, user, gen.next(1)[0])
			}
		}
		changeKeywords(t, mates, rng)
	}
	t.Logf("killed after %s", strings.Join(killedAt, " "))
	if out, err := deskCommand(dir, cfg, db, e.srv.Password, "sync", "--once").CombinedOutput(); err != nil {
		t.Fatalf("final desk sync --once: %v\n%s", err, out)
	}

	freshDir := t.TempDir()
	freshDB := filepath.Join(freshDir, "desk.db")
	if out, err := deskCommand(freshDir, writeSyncConfig(t, e, freshDir), freshDB, e.srv.Password, "sync", "--once").CombinedOutput(); err != nil {
		t.Fatalf("fresh desk sync --once: %v\n%s", err, out)
	}
	got, want := dumpStore(t, db), dumpStore(t, freshDB)
	if len(want) < *crashMessages/2 {
		t.Fatalf("the fresh sync holds only %d lines for %d messages", len(want), *crashMessages)
	}
	if diff := lineDiff(got, want); diff != "" {
		t.Fatalf("store after %d kills differs from a fresh sync (-killed +fresh):\n%s", *crashKills, diff)
	}
}

// writeSyncConfig writes a desk config for e's Dovecot and sink in dir.
func writeSyncConfig(t *testing.T, e *syncEnv, dir string) string {
	t.Helper()
	cfg := filepath.Join(dir, "config.toml")
	body := fmt.Sprintf("[staff]\nname = \"Tess\"\n\n[accounts.test]\naddress = %q\nimap = \"imap://%s\"\nsmtp = \"smtp://%s\"\n"+
		"user = %q\npassword_env = \"DESK_TEST_PASSWORD\"\ntls = \"none\"\n", deskAddr, e.srv.Addr, e.sink.SMTPAddr, deskAddr)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// deskCommand is the desk binary with args on a config and a store.
func deskCommand(dir, cfg, db, password string, args ...string) *exec.Cmd {
	cmd := exec.Command(deskBinary, append(args, "--config", cfg, "--db", db)...)
	cmd.Env = append(os.Environ(), "DESK_TEST_PASSWORD="+password, "XDG_STATE_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	return cmd
}

// changeKeywords closes, reopens or labels a few random messages, as a
// teammate would (keywords on non-root messages must be ignored alike).
func changeKeywords(t *testing.T, c *imapclient.Client, rng *rand.Rand) {
	t.Helper()
	if err := c.Noop().Wait(); err != nil { // see the latest deliveries
		t.Fatal(err)
	}
	found, err := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	uids := found.AllUIDs()
	for range min(len(uids), 1+rng.IntN(3)) {
		uid := uids[rng.IntN(len(uids))]
		ops := []imap.StoreFlags{
			{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{store.KeywordClosed}},
			{Op: imap.StoreFlagsDel, Flags: []imap.Flag{store.KeywordClosed}},
			{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{store.KeywordLabelPrefix + "vip"}},
		}
		op := ops[rng.IntN(len(ops))]
		op.Silent = true
		if err := c.Store(imap.UIDSetNum(uid), &op, nil).Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// mailGen makes realistic customer mail: new requests, replies that thread
// by In-Reply-To, a [#N]-less follow-up, mail without a Message-ID, HTML
// only, non-ASCII subjects and out-of-office auto-replies.
type mailGen struct {
	rng *rand.Rand
	n   int
}

func (g *mailGen) next(count int) [][]byte {
	out := make([][]byte, 0, count)
	for range count {
		g.n++
		n := g.n
		who := g.rng.IntN(40)
		from := fmt.Sprintf("Customer %d <c%d@customer%d.test>", who, who, who%5)
		subject := fmt.Sprintf("Request %d: %s", n, []string{"printer on fire", "invoice wrong", "Rechnung falsch – bitte prüfen", "ログインできません", "refund"}[g.rng.IntN(5)])
		head := fmt.Sprintf("From: %s\r\nTo: support+%s@desk.test\r\nDate: %s\r\n",
			from, []string{"billing", "app", "general"}[g.rng.IntN(3)], time.Date(2025, 1, 1, 0, 0, n, 0, time.UTC).Format(time.RFC1123Z))
		switch r := g.rng.IntN(20); {
		case r < 6 && n > 1:
			parent := 1 + g.rng.IntN(n-1)
			head += fmt.Sprintf("Subject: Re: earlier\r\nIn-Reply-To: <g%d@customer.test>\r\nReferences: <g%d@customer.test>\r\nMessage-ID: <g%d@customer.test>\r\n", parent, parent, n)
		case r < 7:
			head += "Subject: =?utf-8?q?no_id_=C3=BCber?= " + fmt.Sprint(n) + "\r\n"
		case r < 8:
			head += fmt.Sprintf("Subject: Out of office\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <g%d@customer.test>\r\n", n)
		case r < 10:
			head += fmt.Sprintf("Subject: %s\r\nMessage-ID: <g%d@customer.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>support</b>, message %d.</p>\r\n", subject, n, n)
			out = append(out, []byte(head))
			continue
		default:
			head += fmt.Sprintf("Subject: %s\r\nMessage-ID: <g%d@customer.test>\r\n", subject, n)
		}
		body := fmt.Sprintf("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello,\r\n\r\nmessage %d: %s\r\n\r\nThanks\r\n", n, strings.Repeat("lorem ipsum dolor ", 1+g.rng.IntN(60)))
		out = append(out, []byte(head+body))
	}
	return out
}

// dumpStore lists what a rebuild must reproduce, one line per ticket and
// per message, sorted: numbers, states, labels, threading.
func dumpStore(t *testing.T, path string) []string {
	t.Helper()
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	tickets, err := st.List(ctx, store.ListFilter{State: "all"})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tk := range tickets {
		out = append(out, fmt.Sprintf("#%d %s project=%s state=%s labels=%v assignee=%q spam=%v requester=%s",
			tk.Number, tk.Subject, tk.Project, tk.State, tk.Labels, tk.Assignee, tk.Spam, tk.Requester))
		msgs, err := st.Messages(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			out = append(out, fmt.Sprintf("#%d message %s kind=%s from=%s", tk.Number, m.MessageID, m.Kind, m.From))
		}
	}
	slices.Sort(out)
	return out
}

// lineDiff shows the lines only in got (-) or only in want (+), at most 40.
func lineDiff(got, want []string) string {
	var b strings.Builder
	n := 0
	i, j := 0, 0
	for (i < len(got) || j < len(want)) && n < 40 {
		switch {
		case j == len(want) || (i < len(got) && got[i] < want[j]):
			fmt.Fprintf(&b, "- %s\n", got[i])
			i++
			n++
		case i == len(got) || want[j] < got[i]:
			fmt.Fprintf(&b, "+ %s\n", want[j])
			j++
			n++
		default:
			i++
			j++
		}
	}
	return b.String()
}
