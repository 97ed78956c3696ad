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

// quitWithQ presses q and waits for desk to exit.
func (s *tmuxSession) quitWithQ() {
	s.t.Helper()
	s.keys("q")
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("tmux", "-L", s.socket, "has-session", "-t", "desk").Run() == nil {
		if time.Now().After(deadline) {
			s.t.Fatalf("desk did not quit on q; screen:\n%s", s.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// buildForTmux skips (or, under CI, fails) without tmux, and builds desk
// into a temporary directory.
func buildForTmux(t *testing.T) (dir, bin string) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is required when CI=true (apt-get install tmux)")
		}
		t.Skip("SKIP: tmux not installed; install tmux to run the terminal test")
	}
	dir = t.TempDir()
	bin = filepath.Join(dir, "desk")
	if out, err := exec.Command("go", "build", "-o", bin, "desk").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return dir, bin
}

// TestDemoUnderTmux runs `desk demo` in a real terminal: the seeded list
// appears, a new customer mail arrives live, a reply typed in the composer
// goes out and the simulated customer's answer threads back on screen.
func TestDemoUnderTmux(t *testing.T) {
	dir, bin := buildForTmux(t)
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
	s.waitFor("We have received your request", 10*time.Second) // the thank-you, shown in the thread
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
	s.waitFor("[Open ", 5*time.Second)
	s.quitWithQ()
}

// TestTriageUnderTmux runs desk on a seeded store in a real terminal: a
// query typed into a section, the preview pane, marking and a bulk close,
// undo, an internal note with a quick action, a macro, the help overlay,
// the command line and a resize.
func TestTriageUnderTmux(t *testing.T) {
	dir, bin := buildForTmux(t)
	db := filepath.Join(dir, "desk.db")
	if out, err := exec.Command(bin, "dev", "seed", "--tickets", "300", "--db", db).CombinedOutput(); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	// A config file with the staff name, and one macro beside it.
	conf := t.TempDir()
	if err := os.MkdirAll(filepath.Join(conf, "desk", "macros"), 0o700); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"config.toml":      "[staff]\nname = \"Ana\"\n",
		"macros/refund.md": "---\nstatus: pending\nlabels: refund\n---\nHi, the refund is on its way.\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(conf, "desk", name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := &tmuxSession{t: t, socket: fmt.Sprintf("desk-triage-%d", os.Getpid())}
	cmd := fmt.Sprintf("XDG_CONFIG_HOME=%s XDG_STATE_HOME=%s %s --db %s", conf, dir, bin, db)
	s.tmux("new-session", "-d", "-s", "desk", "-x", "80", "-y", "24", cmd)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })

	s.waitFor("[Open ", 20*time.Second)
	// A query: the Open section now lists solved tickets.
	s.keys("/", "C-u")
	s.text("status:solved")
	s.keys("Enter")
	s.waitFor(" solved ", 10*time.Second)
	// The preview pane opens below the list at 80 columns and closes.
	s.keys("p")
	s.waitFor("p hide preview", 5*time.Second)
	s.waitFor("────\n#", 5*time.Second)
	s.keys("p")
	s.waitFor("space mark", 5*time.Second)
	// Mark two and close them together, then undo.
	s.keys("g", "Space", "Space")
	s.waitFor("2 marked", 5*time.Second)
	s.keys("c")
	s.waitFor("Closed 2 tickets · u undo", 10*time.Second)
	s.keys("u")
	s.waitFor("Undone: Closed 2 tickets", 10*time.Second)
	// An internal note whose quick action labels the ticket on send.
	s.keys("Enter")
	s.waitFor("Support Bot on behalf of", 10*time.Second)
	s.keys("n")
	s.waitFor("ctrl+s", 5*time.Second)
	s.text("Checked the relay logs.")
	s.keys("Enter")
	s.text("/label ~tmuxcheck")
	s.keys("C-s")
	s.waitFor("Checked the relay logs.", 10*time.Second)
	s.waitFor("labelled tmuxcheck by Ana", 10*time.Second)
	// A macro: picked by name, it fills the reply and sets status and label.
	s.keys("M")
	s.waitFor("refund", 5*time.Second)
	s.text("refund")
	s.keys("Enter")
	s.waitFor("Hi, the refund is on its way.", 5*time.Second)
	s.keys("C-s")
	scr := s.waitFor("→ pending by Ana", 10*time.Second)
	if !strings.Contains(scr, "labelled refund by Ana") {
		t.Fatalf("the macro's label is not on the ticket:\n%s", scr)
	}
	s.keys("q")
	s.waitFor("[Open ", 5*time.Second)
	// The overlay filters as you type.
	s.keys("?")
	s.waitFor("Keys and commands", 5*time.Second)
	s.text("range")
	scr = s.waitFor("mark range", 5*time.Second)
	if strings.Contains(scr, "page down") {
		t.Fatalf("the overlay does not filter:\n%s", scr)
	}
	s.keys("Escape")
	s.waitFor("[Open ", 5*time.Second) // before the next key, or ESC : reads as alt+:
	// The command line switches section.
	s.keys(":")
	s.text("section Spam")
	s.keys("Enter")
	s.waitFor("[Spam ", 10*time.Second)
	// Resize: the layout follows.
	s.tmux("resize-window", "-t", "desk", "-x", "160", "-y", "48")
	s.waitFor("ASSIGNEE", 10*time.Second)
	s.quitWithQ()
}
