package tui_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxSession drives the real desk binary in a private tmux server.
type tmuxSession struct {
	t      *testing.T
	socket string
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (s *tmuxSession) screen() string { return s.tmux("capture-pane", "-p", "-t", "desk") }

// waitFor polls the screen until it contains want, failing after limit.
func (s *tmuxSession) waitFor(want string, limit time.Duration) string {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		scr := s.screen()
		if strings.Contains(scr, want) {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen never showed %q; last screen:\n%s", want, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *tmuxSession) keys(keys ...string) {
	s.tmux(append([]string{"send-keys", "-t", "desk"}, keys...)...)
}

func (s *tmuxSession) text(text string) { s.tmux("send-keys", "-t", "desk", "-l", text) }

// TestDemoUnderTmux runs `desk demo` in a real terminal: the seeded list
// appears, a new customer mail arrives live, a reply typed in the composer
// goes out and the simulated customer's answer threads back on screen.
func TestDemoUnderTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is required when CI=true (apt-get install tmux)")
		}
		t.Skip("SKIP: tmux not installed; install tmux to run the terminal test")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "desk")
	if out, err := exec.Command("go", "build", "-o", bin, "desk").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	s := &tmuxSession{t: t, socket: fmt.Sprintf("desk-test-%d", os.Getpid())}
	cmd := fmt.Sprintf("XDG_STATE_HOME=%s %s demo --db %s --customer-delay 1s --new-mail-after 1s",
		dir, bin, filepath.Join(dir, "desk.db"))
	s.tmux("new-session", "-d", "-s", "desk", "-x", "110", "-y", "36", cmd)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })

	s.waitFor("Charged twice for the March invoice", 20*time.Second)
	scr := s.waitFor("moth in relay 70", 20*time.Second)
	if strings.Contains(scr, "Out of office") {
		t.Fatalf("the auto-reply became a ticket:\n%s", scr)
	}
	// The live mail is the newest: open it, answer it.
	s.keys("g")
	s.keys("Enter")
	s.waitFor("Support Bot on behalf of grace@example.edu", 10*time.Second)
	s.waitFor("opened ticket #", 10*time.Second) // the thank-you, shown in the thread
	s.keys("r")
	s.waitFor("ctrl+s", 5*time.Second)
	s.text("We found the moth. Fixed in tonight's build.")
	s.keys("C-s")
	s.waitFor("We found the moth", 5*time.Second)
	scr = s.waitFor("Thank you, that solved it!", 20*time.Second)
	if !strings.Contains(scr, "Ana (reply)") {
		t.Fatalf("the staff reply is not shown as a reply:\n%s", scr)
	}
	s.keys("q")
	s.waitFor("tickets", 5*time.Second)
	s.keys("q")
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("tmux", "-L", s.socket, "has-session", "-t", "desk").Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("desk did not quit on q; screen:\n%s", s.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
