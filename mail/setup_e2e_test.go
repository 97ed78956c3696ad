package mail_test

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"desk/mail/config"
	"desk/mail/demo"
	"desk/mail/importer"
)

// desk runs the binary with env added to the environment and returns
// stdout, stderr and the exit code.
func desk(t *testing.T, stdin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(deskBinary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// demoSystem runs an in-process mail system with the desk mailbox until
// the test ends.
func demoSystem(t *testing.T) *demo.System {
	t.Helper()
	sys, err := demo.NewSystem()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sys.Close)
	sys.AddUser(deskAddr)
	return sys
}

// TestInit: desk init asks, tests the connection with the secret source
// given, and only then writes a private config that desk then runs on.
func TestInit(t *testing.T) {
	sys := demoSystem(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "desk", "config.toml")
	env := []string{"XDG_STATE_HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "XDG_DATA_HOME=" + dir, "GOOD_PW=" + demo.Password, "BAD_PW=nope"}
	answers := func(secretChoice, secret string) string {
		return strings.Join([]string{"Tess", "tess@desk.test", deskAddr,
			"imap://" + sys.IMAPAddr, "smtp://" + sys.SMTPAddr, "", secretChoice, secret, "billing=Billing"}, "\n") + "\n"
	}

	// A wrong password: the test fails and nothing is written.
	_, stderr, code := desk(t, answers("2", "BAD_PW"), env, "init", "--tls", "none")
	if code != 1 || !strings.Contains(stderr, "connection test failed, nothing written") {
		t.Fatalf("bad password: exit %d, %s", code, stderr)
	}
	// A plaintext password in disguise is refused.
	// (The answers end there: a refused answer is asked again.)
	refused := strings.TrimSuffix(answers("1", "echo "+demo.Password), "billing=Billing\n")
	_, stderr, code = desk(t, refused, env, "init", "--tls", "none")
	if code != 2 || !strings.Contains(stderr, "plaintext passwords are refused") {
		t.Fatalf("echo password: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(cfg); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a config was written after a failure: %v", err)
	}

	out, stderr, code := desk(t, answers("2", "GOOD_PW"), env, "init", "--tls", "none")
	if code != 0 || !strings.Contains(out, "Connection works. Wrote "+cfg) {
		t.Fatalf("init: exit %d\n%s\n%s", code, out, stderr)
	}
	info, err := os.Stat(cfg)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("config %v mode %v", err, info.Mode())
	}
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c.Staff.String() != "Tess <tess@desk.test>" || c.Accounts[0].PasswordEnv != "GOOD_PW" || c.Accounts[0].ProjectNames["billing"] != "Billing" {
		t.Fatalf("config: %+v %+v", c.Staff, c.Accounts[0].Account)
	}
	if text, _ := os.ReadFile(cfg); bytes.Contains(text, []byte(demo.Password+"\"")) {
		t.Fatalf("the config holds the password:\n%s", text)
	}
	// desk runs on it, and init will not overwrite it unasked.
	if _, stderr, code := desk(t, "", env, "sync", "--once"); code != 0 {
		t.Fatalf("sync on the written config: %s", stderr)
	}
	if _, stderr, code := desk(t, answers("2", "GOOD_PW"), env, "init", "--tls", "none"); code != 2 || !strings.Contains(stderr, "exists (--force overwrites it)") {
		t.Fatalf("second init: exit %d %s", code, stderr)
	}
}

// TestImportExport imports an mbox for offline triage (threads into
// tickets, nothing queued to send, idempotent) and exports a ticket back.
func TestImportExport(t *testing.T) {
	dir := t.TempDir()
	var mbox bytes.Buffer
	w := importer.NewMboxWriter(&mbox)
	msgs := [][]byte{
		customerMail(alice, "help@old.test", "Cannot log in", "a1@customer.test", "", "From now on I cannot log in."),
		customerMail(bob, "help@old.test", "Invoice", "b1@customer.test", "", "Wrong amount."),
		customerMail(alice, "help@old.test", "Re: Cannot log in", "a2@customer.test", "a1@customer.test", "Still broken."),
	}
	for _, m := range msgs {
		if err := w.Write(alice, time.Now(), m); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	path := filepath.Join(dir, "old.mbox")
	os.WriteFile(path, mbox.Bytes(), 0o600)
	env := []string{"XDG_STATE_HOME=" + dir, "XDG_CONFIG_HOME=" + dir}
	db := filepath.Join(dir, "desk.db")
	out, stderr, code := desk(t, "", env, "import", path, "--address", "help@old.test", "--db", db)
	if code != 0 || !strings.Contains(out, "imported 3 new of 3 messages") || !strings.Contains(stderr, "import: 3 read") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, stderr)
	}
	if out, _, _ := desk(t, "", env, "import", path, "--db", db); !strings.Contains(out, "imported 0 new of 3") {
		t.Fatalf("second import: %s", out)
	}
	out, _, _ = desk(t, "", env, "list", "--state", "all", "--json", "--db", db)
	var list []listedTicket
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 {
		t.Fatalf("list after import (%v): %s", err, out)
	}
	var login listedTicket
	for _, tk := range list {
		if tk.Requester == alice {
			login = tk
		}
	}
	if login.Messages != 2 {
		t.Fatalf("the follow-up did not thread: %+v", list)
	}
	out, _, _ = desk(t, "", env, "show", "1", "--json", "--db", db)
	if strings.Contains(out, `"kind": "auto"`) || strings.Contains(out, `"outbox"`) {
		t.Fatalf("import queued mail to send: %s", out)
	}

	exported := filepath.Join(dir, "ticket.mbox")
	if _, stderr, code := desk(t, "", env, "export", fmt.Sprintf("#%d", login.Number), "--out", exported, "--db", db); code != 0 {
		t.Fatalf("export: %s", stderr)
	}
	src, err := importer.Open(exported)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var bodies []string
	for range 10 {
		raw, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, string(raw))
	}
	if len(bodies) != 2 || !strings.Contains(bodies[0], "Message-Id: <a1@customer.test>") ||
		!strings.Contains(bodies[0], "From now on I cannot log in.") || !strings.Contains(bodies[1], "In-Reply-To: <a1@customer.test>") {
		t.Fatalf("exported mbox:\n%q", bodies)
	}
}

// TestHelpCommands: help, completion and man through the binary.
func TestHelpCommands(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, 0, "desk serve "},
		{[]string{"help", "export"}, 0, "Usage: desk export [--out FILE] N"},
		{[]string{"import", "--help"}, 0, "Usage: desk import"},
		{[]string{"help", "frob"}, 2, `no command "frob"`},
		{[]string{"completion", "bash"}, 0, "complete -o default -F _desk desk"},
		{[]string{"completion", "tcsh"}, 2, "want bash, zsh or fish"},
		{[]string{"man"}, 0, ".SH COMMANDS"},
	} {
		out, stderr, code := desk(t, "", nil, c.args...)
		if code != c.code || !strings.Contains(out+stderr, c.want) {
			t.Errorf("desk %v: exit %d, want %d and %q:\n%s%s", c.args, code, c.code, c.want, out, stderr)
		}
	}
}

// TestServeCommand: `desk serve` lets a listed key in to the TUI, refuses
// any other, and stops cleanly on SIGTERM.
func TestServeCommand(t *testing.T) {
	sys := demoSystem(t)
	dir := t.TempDir()
	env := loopEnv{imapAddr: sys.IMAPAddr, password: demo.Password, sink: sys}
	deskRun(t, env, dir, "", "sync", "--once")

	staff, stranger := sshKey(t), sshKey(t)
	authz := filepath.Join(dir, "authorized_keys")
	os.WriteFile(authz, append(bytes.TrimSpace(gossh.MarshalAuthorizedKey(staff.PublicKey())), " Tess <tess@desk.test>\n"...), 0o600)
	cmd := exec.Command(deskBinary, "serve", "--listen", "127.0.0.1:0", "--authorized-keys", authz,
		"--host-key", filepath.Join(dir, "host_key"), "--config", filepath.Join(dir, "config.toml"), "--db", filepath.Join(dir, "desk.db"))
	cmd.Env = append(os.Environ(), "DESK_TEST_PASSWORD="+demo.Password, "XDG_STATE_HOME="+dir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stderr).ReadString('\n')
	_, addr, ok := strings.Cut(line, "serving on ")
	addr, _, _ = strings.Cut(addr, " ")
	if err != nil || !ok {
		t.Fatalf("desk serve said %q (%v)", line, err)
	}
	dial := func(key gossh.Signer) (*gossh.Client, error) {
		return gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "desk", Auth: []gossh.AuthMethod{gossh.PublicKeys(key)},
			HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	}
	if c, err := dial(stranger); err == nil {
		c.Close()
		t.Fatal("an unknown key got in")
	}
	c, err := dial(staff)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", 30, 100, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	out, _ := sess.StdoutPipe()
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	// The first frame is drawn whole: the title names the server.
	want := "desk — " + addr
	var screen bytes.Buffer
	buf := make([]byte, 4096)
	for !strings.Contains(screen.String(), want) {
		n, err := out.Read(buf)
		screen.Write(buf[:n])
		if err != nil || screen.Len() > 1<<20 {
			t.Fatalf("no %q in the session (%v):\n%q", want, err, screen.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("desk serve exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("desk serve did not stop on SIGTERM")
	}
}

func sshKey(t *testing.T) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
