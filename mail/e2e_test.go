package mail_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"desk/mail/demo"
	"desk/mail/internal/dovecottest"
)

// deskBinary is the desk command built once for the end-to-end tests.
var deskBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "desk-e2e-")
	if err != nil {
		panic(err)
	}
	deskBinary = filepath.Join(dir, "desk")
	build := exec.Command("go", "build", "-o", deskBinary, "desk")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building desk: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// loopEnv is a mail system the end-to-end scenario runs against: an IMAP
// server holding the desk mailbox, and an SMTP sink recording what desk
// sends.
type loopEnv struct {
	imapAddr, password string
	deliver            func(raw []byte) // into the desk mailbox, as an MDA
	sink               *demo.System
}

const (
	deskAddr = "support@desk.test"
	alice    = "alice@customer.test"
	bob      = "bob@customer.test"
	carol    = "carol@customer.test"
)

// deskRun runs the desk binary with a config for env and returns stdout.
func deskRun(t *testing.T, env loopEnv, dir string, stdin string, args ...string) string {
	t.Helper()
	cfg := filepath.Join(dir, "config.toml")
	if _, err := os.Stat(cfg); err != nil {
		body := fmt.Sprintf(`[staff]
name = "Tess"

[accounts.test]
address = %q
imap = "imap://%s"
smtp = "smtp://%s"
user = %q
password_env = "DESK_TEST_PASSWORD"
tls = "none"
`, deskAddr, env.imapAddr, env.sink.SMTPAddr, deskAddr)
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(deskBinary, append(args, "--config", cfg, "--db", filepath.Join(dir, "desk.db"))...)
	cmd.Env = append(os.Environ(), "DESK_TEST_PASSWORD="+env.password, "XDG_STATE_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("desk %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

type listedTicket struct {
	Number    int64    `json:"number"`
	Subject   string   `json:"subject"`
	State     string   `json:"state"`
	Project   string   `json:"project"`
	Requester string   `json:"requester"`
	Labels    []string `json:"labels"`
	Messages  int      `json:"messages"`
	Updated   string   `json:"updated"`
}

type shownTicket struct {
	listedTicket
	Messages []struct {
		MessageID string `json:"message_id"`
		From      string `json:"from"`
		Date      string `json:"date"`
		Kind      string `json:"kind"`
		Body      string `json:"body"`
	} `json:"messages"`
}

func listTickets(t *testing.T, env loopEnv, dir string) map[string]listedTicket {
	t.Helper()
	var list []listedTicket
	if err := json.Unmarshal([]byte(deskRun(t, env, dir, "", "list", "--state", "all", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	byRequester := map[string]listedTicket{}
	for _, tk := range list {
		if _, err := time.Parse(time.RFC3339, tk.Updated); err != nil {
			t.Errorf("ticket #%d updated %q is not RFC 3339", tk.Number, tk.Updated)
		}
		byRequester[tk.Requester] = tk
	}
	return byRequester
}

func showTicket(t *testing.T, env loopEnv, dir string, n int64) shownTicket {
	t.Helper()
	var s shownTicket
	if err := json.Unmarshal([]byte(deskRun(t, env, dir, "", "show", fmt.Sprint(n), "--json")), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func customerMail(from, to, subject, msgID, inReplyTo, body string, extra ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\n",
		from, to, subject, time.Now().Format(time.RFC1123Z), msgID)
	if inReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", inReplyTo, inReplyTo)
	}
	for _, e := range extra {
		b.WriteString(e + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
	return []byte(b.String())
}

// sentTo returns the deliveries the sink received for rcpt.
func sentTo(sink *demo.System, rcpt string) []*mail.Message {
	var out []*mail.Message
	for _, d := range sink.Deliveries() {
		for _, to := range d.To {
			if strings.EqualFold(to, rcpt) {
				m, err := mail.ReadMessage(bytes.NewReader(d.Raw))
				if err == nil {
					out = append(out, m)
				}
			}
		}
	}
	return out
}

// rootFlags reads the flags of the message with uid in the desk mailbox.
func rootFlags(t *testing.T, env loopEnv, uid int64) []string {
	t.Helper()
	c, err := imapclient.DialInsecure(env.imapAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(deskAddr, env.password).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	bufs, err := c.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil || len(bufs) != 1 {
		t.Fatalf("fetch flags of UID %d: %v (%d results)", uid, err, len(bufs))
	}
	var out []string
	for _, f := range bufs[0].Flags {
		out = append(out, strings.ToLower(string(f)))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// runLoop is the whole Service Desk loop through the desk command.
func runLoop(t *testing.T, env loopEnv) {
	dir := t.TempDir()
	// Mail already in the mailbox at the first sync.
	env.deliver(customerMail("Alice <"+alice+">", "support+billing@desk.test", "Charged twice", "a1@customer.test", "", "Please refund one charge."))
	env.deliver(customerMail("Bob <"+bob+">", "support+app@desk.test", "App crashes", "b1@customer.test", "", "It crashes on start."))
	env.deliver(customerMail("Bob <"+bob+">", deskAddr, "Out of office", "b-ooo@customer.test", "", "I am away.", "Auto-Submitted: auto-replied"))
	deskRun(t, env, dir, "", "sync", "--once")

	tickets := listTickets(t, env, dir)
	if len(tickets) != 2 {
		t.Fatalf("want 2 tickets (the auto-reply opens none), got %v", tickets)
	}
	ta, tb := tickets[alice], tickets[bob]
	if ta.Project != "billing" || tb.Project != "app" || ta.State != "open" || ta.Messages != 1 {
		t.Fatalf("routing: %+v %+v", ta, tb)
	}
	if n := len(env.sink.Deliveries()); n != 0 {
		t.Fatalf("mail present at the first sync got %d automated mails, want none", n)
	}

	// New mail after the first sync gets exactly one thank-you.
	env.deliver(customerMail("Carol <"+carol+">", "support+app@desk.test", "Feature request", "c1@customer.test", "", "Dark mode please."))
	deskRun(t, env, dir, "", "sync", "--once")
	tc := listTickets(t, env, dir)[carol]
	thanks := sentTo(env.sink, carol)
	if len(thanks) != 1 {
		t.Fatalf("carol got %d mails, want one thank-you", len(thanks))
	}
	th := thanks[0].Header
	if !strings.Contains(th.Get("Subject"), fmt.Sprintf("[#%d]", tc.Number)) || th.Get("Auto-Submitted") != "auto-replied" ||
		th.Get("In-Reply-To") != "<c1@customer.test>" || !strings.HasPrefix(th.Get("Reply-To"), "<support+app-") ||
		!strings.Contains(th.Get("List-Unsubscribe"), "-unsubscribe@desk.test") {
		t.Fatalf("thank-you headers: %v", th)
	}
	deskRun(t, env, dir, "", "sync", "--once")
	if n := len(sentTo(env.sink, carol)); n != 1 {
		t.Fatalf("a second sync sent the thank-you again: %d mails", n)
	}

	// A staff reply through the CLI.
	deskRun(t, env, dir, "Hi Alice,\nrefunded.\nTess\n", "reply", fmt.Sprint(ta.Number))
	replies := sentTo(env.sink, alice)
	if len(replies) != 1 {
		t.Fatalf("alice got %d mails, want the reply", len(replies))
	}
	rh := replies[0].Header
	replyTo := strings.Trim(rh.Get("Reply-To"), "<>")
	if !strings.Contains(rh.Get("From"), deskAddr) || !strings.Contains(rh.Get("From"), "Tess via Billing Support") ||
		rh.Get("To") != "\"Alice\" <"+alice+">" && rh.Get("To") != "Alice <"+alice+">" ||
		!strings.HasPrefix(replyTo, "support+billing-") || rh.Get("In-Reply-To") != "<a1@customer.test>" ||
		!strings.Contains(rh.Get("References"), "<a1@customer.test>") ||
		!strings.Contains(rh.Get("Subject"), fmt.Sprintf("[#%d]", ta.Number)) {
		t.Fatalf("reply headers: %v", rh)
	}
	if body, _ := readBody(replies[0]); !strings.Contains(body, "refunded.") {
		t.Fatalf("reply body %q", body)
	}

	// The customer answers to the reply key address; it threads back.
	replyID := strings.Trim(rh.Get("Message-Id"), "<>")
	env.deliver(customerMail("Alice <"+alice+">", replyTo, "Re: Charged twice", "a2@customer.test", replyID, "Thanks, got it!"))
	deskRun(t, env, dir, "", "sync", "--once")
	shown := showTicket(t, env, dir, ta.Number)
	var kinds []string
	for _, m := range shown.Messages {
		kinds = append(kinds, m.Kind)
	}
	if strings.Join(kinds, ",") != "customer,reply,customer" || shown.Messages[2].MessageID != "a2@customer.test" {
		t.Fatalf("thread of #%d: %v", ta.Number, kinds)
	}

	// Close: a keyword on the root message in the mailbox.
	deskRun(t, env, dir, "", "close", fmt.Sprint(ta.Number))
	if f := rootFlags(t, env, ta.Number); !contains(f, "$desk-closed") {
		t.Fatalf("root flags after close: %v", f)
	}
	// An internal note is appended, never sent.
	deskRun(t, env, dir, "Customer is on the legacy plan.", "reply", "--internal", fmt.Sprint(ta.Number))
	if n := len(sentTo(env.sink, alice)); n != 1 {
		t.Fatalf("the note was sent: alice has %d mails", n)
	}

	// Rebuild from the mailbox alone: same tickets, numbers, states, threads.
	before := listTickets(t, env, dir)
	sent := len(env.sink.Deliveries())
	if err := os.Remove(filepath.Join(dir, "desk.db")); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "desk.db-wal"))
	os.Remove(filepath.Join(dir, "desk.db-shm"))
	deskRun(t, env, dir, "", "sync", "--once")
	after := listTickets(t, env, dir)
	for who, b := range before {
		a := after[who]
		if a.Number != b.Number || a.State != b.State || a.Messages != b.Messages || a.Project != b.Project {
			t.Errorf("rebuild changed %s's ticket: before %+v after %+v", who, b, a)
		}
	}
	if after[alice].State != "closed" || after[alice].Messages != 4 {
		t.Errorf("rebuilt #%d: %+v, want closed with 4 messages (note included)", ta.Number, after[alice])
	}
	if n := len(env.sink.Deliveries()); n != sent {
		t.Errorf("the rebuild sent %d automated mails", n-sent)
	}
}

func readBody(m *mail.Message) (string, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(m.Body)
	return strings.ReplaceAll(b.String(), "=\r\n", ""), err
}

func TestLoopInProcess(t *testing.T) {
	sys, err := demo.NewSystem()
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	sys.AddUser(deskAddr)
	runLoop(t, loopEnv{
		imapAddr: sys.IMAPAddr,
		password: demo.Password,
		deliver: func(raw []byte) {
			if _, err := sys.Append(deskAddr, raw); err != nil {
				t.Fatal(err)
			}
		},
		sink: sys,
	})
}

func TestLoopDovecot(t *testing.T) {
	dc := dovecottest.Start(t)
	sink, err := demo.NewSystem()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sink.SMTPPassword = dc.Password
	runLoop(t, loopEnv{
		imapAddr: dc.Addr,
		password: dc.Password,
		deliver:  func(raw []byte) { dc.Deliver(t, deskAddr, raw) },
		sink:     sink,
	})
}

// TestCLIErrors: user errors are one clear line on stderr with exit status 2
// (1 for a missing ticket), never a stack trace.
func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	badKey := filepath.Join(dir, "bad-key.toml")
	os.WriteFile(badKey, []byte("[accounts.a]\naddress = \"support@x.test\"\nimpa = \"imap://127.0.0.1\"\n"), 0o600)
	badSyntax := filepath.Join(dir, "bad-syntax.toml")
	os.WriteFile(badSyntax, []byte("[staff]\nname = \"Ana\"\nthis is not toml\n"), 0o600)
	remote := filepath.Join(dir, "remote-plain.toml")
	os.WriteFile(remote, []byte("[accounts.a]\naddress = \"support@x.test\"\nimap = \"imap://mail.x.test\"\nsmtp = \"smtp://mail.x.test\"\nuser = \"u\"\npassword_env = \"P\"\ntls = \"none\"\n"), 0o600)
	empty := filepath.Join(dir, "empty.toml")
	os.WriteFile(empty, nil, 0o600)
	sys, err := demo.NewSystem()
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	sys.AddUser(deskAddr)
	env := loopEnv{imapAddr: sys.IMAPAddr, password: demo.Password, sink: sys}
	deskRun(t, env, dir, "", "sync", "--once") // a valid store in dir

	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"list", "--config", badKey}, 2, `accounts.a.impa: unknown key (did you mean "imap"?)`},
		{[]string{"list", "--config", badSyntax}, 2, "bad-syntax.toml:3"},
		{[]string{"sync", "--once", "--config", remote}, 2, "only accepted for loopback"},
		{[]string{"list", "--config", empty, "--db", filepath.Join(dir, "none.db")}, 2, "no store at"},
		{[]string{"show", "999", "--config", filepath.Join(dir, "config.toml"), "--db", filepath.Join(dir, "desk.db")}, 1, "ticket #999: not found"},
		{[]string{"show", "abc", "--config", empty}, 2, "not a ticket number"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		// the common flags before the command
		{[]string{"--config", filepath.Join(dir, "config.toml"), "--db", filepath.Join(dir, "desk.db"), "show", "999"}, 1, "ticket #999: not found"},
		{[]string{"--db", filepath.Join(dir, "none.db"), "--config", empty, "list"}, 2, "no store at"},
		{[]string{"--config", empty, "frobnicate"}, 2, "unknown command"},
		{[]string{"--config", empty}, 2, "desk demo"},
	}
	for _, c := range cases {
		cmd := exec.Command(deskBinary, c.args...)
		cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != c.code || !strings.Contains(stderr.String(), c.want) || strings.Contains(stderr.String(), "goroutine") {
			t.Errorf("desk %v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr.String(), c.code, c.want)
		}
	}
}

// TestAttachmentSave: the store lists attachments; saving one fetches the
// message from the mailbox and writes the decoded part under its safe name
// inside the chosen folder, never over an existing file.
func TestAttachmentSave(t *testing.T) {
	sys, err := demo.NewSystem()
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	sys.AddUser(deskAddr)
	env := loopEnv{imapAddr: sys.IMAPAddr, password: demo.Password, sink: sys}
	dir := t.TempDir()
	raw := "From: Alice <" + alice + ">\r\nTo: support+app@desk.test\r\nSubject: Logs\r\nMessage-ID: <att1@customer.test>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nLogs attached.\r\n" +
		"--b\r\nContent-Type: text/plain; name=\"../../evil.log\"\r\nContent-Disposition: attachment; filename=\"../../evil.log\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nRkFUQUwgZXJyb3IgNDI=\r\n--b--\r\n"
	if _, err := sys.Append(deskAddr, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	deskRun(t, env, dir, "", "sync", "--once")
	n := listTickets(t, env, dir)[alice].Number
	listing := deskRun(t, env, dir, "", "attachment", fmt.Sprint(n))
	if !strings.HasPrefix(listing, "1\t") || !strings.Contains(listing, "evil.log") || strings.Contains(listing, "../") {
		t.Fatalf("listing: %q", listing)
	}
	out := filepath.Join(dir, "saved")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for range 2 {
		paths = append(paths, strings.TrimSpace(deskRun(t, env, dir, "", "attachment", fmt.Sprint(n), "1", "--out", out)))
	}
	for _, p := range paths {
		if filepath.Dir(p) != out {
			t.Fatalf("saved outside the chosen folder: %s", p)
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != "FATAL error 42" {
			t.Fatalf("saved %s: %q %v", p, b, err)
		}
	}
	if paths[0] == paths[1] {
		t.Fatalf("the second save overwrote the first: %v", paths)
	}
}
