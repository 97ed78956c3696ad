package serve

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"desk/store"
)

// needTool skips without cmd, or fails when CI=true.
func needTool(t *testing.T, cmd, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(cmd); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required when CI=true (apt-get install %s)", cmd, pkg)
		}
		t.Skipf("SKIP: %s not installed; install %s to run the OpenSSH test", cmd, pkg)
	}
}

// keyFile writes a new private key for OpenSSH and returns its path and
// its authorized_keys line with comment.
func keyFile(t *testing.T, dir, name, comment string) (string, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return path, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(sshPub))) + " " + comment
}

// tmuxPane drives one window of a private tmux server.
type tmuxPane struct {
	t            *testing.T
	socket, name string
}

func (p tmuxPane) tmux(args ...string) string {
	p.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", p.socket}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (p tmuxPane) keys(keys ...string) {
	p.tmux(append([]string{"send-keys", "-t", p.name}, keys...)...)
}

// waitFor polls the pane (an external process: polling, bounded) until it
// shows want.
func (p tmuxPane) waitFor(want string) {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		scr := p.tmux("capture-pane", "-p", "-t", p.name)
		if strings.Contains(scr, want) {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s's screen never showed %q:\n%s", p.name, want, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestOpenSSHClient serves the real TUI to the real OpenSSH client under
// tmux: two staff see the ticket list, each sees the other on the ticket
// and replying, an unknown key is refused.
func TestOpenSSHClient(t *testing.T) {
	needTool(t, "ssh", "openssh-client")
	needTool(t, "tmux", "tmux")
	dir := t.TempDir()
	anaKey, anaLine := keyFile(t, dir, "ana", "Ana Lima <ana@example.com>")
	boKey, boLine := keyFile(t, dir, "bo", "Bo")
	strangerKey, _ := keyFile(t, dir, "stranger", "Stranger")
	authz := filepath.Join(dir, "authorized_keys")
	os.WriteFile(authz, []byte(anaLine+"\n"+boLine+"\n"), 0o600)

	st, err := store.Open(filepath.Join(dir, "desk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	acct, err := st.EnsureAccount(ctx, "work", "support@example.com", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(ctx, func(tx *store.Tx) error {
		tk := &store.Ticket{Number: 7, Project: "general", Subject: "Printer on fire", Requester: "alice@customer.test",
			ReplyKey: "k7", RootMessageID: "fire@customer.test", Created: time.Now()}
		if err := tx.CreateTicket(acct.ID, tk); err != nil {
			return err
		}
		return tx.AddMessage(acct.ID, &store.Message{TicketID: tk.ID, UID: 7, MessageID: tk.RootMessageID,
			From: "alice@customer.test", Subject: tk.Subject, Date: time.Now(), Kind: store.KindCustomer, Body: "Flames everywhere."})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("EDITOR", "touch "+filepath.Join(dir, "editor-ran")+" #")
	srv, err := New(Options{Store: st, HostKeyPath: filepath.Join(dir, "host"), AuthorizedKeys: authz, Title: "desk — team"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ssh := func(key string) string {
		return fmt.Sprintf("ssh -F /dev/null -i %s -p %s -o IdentitiesOnly=yes -o StrictHostKeyChecking=no "+
			"-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -tt desk@127.0.0.1", key, port)
	}

	// The stranger's key is refused before any session.
	out, err := exec.Command("sh", "-c", ssh(strangerKey)+" -o BatchMode=yes true").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Permission denied") {
		t.Fatalf("unknown key: %v\n%s", err, out)
	}

	socket := fmt.Sprintf("desk-serve-%d", os.Getpid())
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", socket, "kill-server").Run() })
	ana, bo := tmuxPane{t, socket, "ana"}, tmuxPane{t, socket, "bo"}
	ana.tmux("new-session", "-d", "-s", "ana", "-x", "110", "-y", "30", ssh(anaKey))
	bo.tmux("new-session", "-d", "-s", "bo", "-x", "110", "-y", "30", ssh(boKey))
	ana.waitFor("Printer on fire")
	bo.waitFor("Printer on fire")

	ana.keys("Enter")
	ana.waitFor("Flames everywhere.")
	bo.keys("Enter")
	bo.waitFor("also here: Ana Lima viewing")
	ana.waitFor("also here: Bo viewing")
	ana.keys("r")
	bo.waitFor("also here: Ana Lima replying")
	// No $EDITOR runs on the server, even when the server has one.
	ana.keys("C-e")
	ana.waitFor("not available over SSH")

	// Bo leaves; Ana's header forgets him.
	bo.keys("C-c")
	ana.waitFor("#7 Printer on fire")
	deadline := time.Now().Add(15 * time.Second)
	for srv.Sessions() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions after Bo quit", srv.Sessions())
		}
		time.Sleep(100 * time.Millisecond) // the server's count: no event to wait on
	}
	if _, err := os.Stat(filepath.Join(dir, "editor-ran")); err == nil {
		t.Fatal("$EDITOR ran on the server for an SSH session")
	}
}
