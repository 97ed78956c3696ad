package tui

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// runInPlace makes the harness run custom commands at once, as
// tea.ExecProcess would with the terminal handed over.
func runInPlace(h *harness) {
	h.m.execProcess = func(c *exec.Cmd, done tea.ExecCallback) tea.Cmd {
		return func() tea.Msg { return done(c.Run()) }
	}
}

// TestCustomCommandInjection: a hostile subject reaches the command as one
// word, and nothing in it runs.
func TestCustomCommandInjection(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOME", filepath.Join(dir, "home")) // were ~ ever expanded, it names nothing of value
	pwned := filepath.Join(dir, "pwned")
	subject := "$(touch " + pwned + ")'; rm -rf ~ `touch " + pwned + "` \"; touch " + pwned + "; echo \""
	out := filepath.Join(dir, "out")
	keys, err := NewKeys(nil, []Command{{Key: "O", Name: "crm",
		Run: "printf '%s|' {{.Number}} {{.Subject}} https://crm.example.com/{{.Requester}} > '" + out + "'"}})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	addNewTicket(t, f, 106, subject)
	for _, screen := range []string{"list", "thread"} {
		h := newHarnessOpts(t, f, 100, 30, Options{Author: "Dana", Keys: keys})
		runInPlace(h)
		h.selectNumber(106)
		if screen == "thread" {
			h.press(keyEnter)
		}
		h.press(keyOf('O'))
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("%s: the command did not run: %v (flash %q)", screen, err, h.m.flash)
		}
		if want := "106|" + subject + "|https://crm.example.com/eve@example.com|"; string(got) != want {
			t.Errorf("%s: the command got\n%s\nwant\n%s", screen, got, want)
		}
		if _, err := os.Stat(pwned); err == nil {
			t.Fatalf("%s: the subject ran as shell code", screen)
		}
		if h.m.flash != "crm: done" {
			t.Errorf("%s: flash = %q", screen, h.m.flash)
		}
		os.Remove(out)
	}
}

// TestCustomCommandRefused: over SSH and read-only, a command does not
// run and says why; a failing command says so.
func TestCustomCommandRefused(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	keys, err := NewKeys(nil, []Command{{Key: "O", Name: "crm", Run: "touch '" + marker + "'"},
		{Key: "X", Name: "broken", Run: "exit 3"}})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Remote: true}, "crm: commands run only in a local desk, not over SSH"},
		{Options{ReadOnly: true}, "crm: read-only: commands are off"},
	} {
		tc.opts.Keys = keys
		h := newHarnessOpts(t, f, 100, 30, tc.opts)
		runInPlace(h)
		h.press(keyOf('O'))
		if h.m.flash != tc.want || !h.m.flashErr {
			t.Errorf("flash = %q, want %q", h.m.flash, tc.want)
		}
		if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
			t.Fatal("the command ran")
		}
	}
	h := newHarnessOpts(t, f, 100, 30, Options{Keys: keys})
	runInPlace(h)
	h.press(keyOf('X'))
	if h.m.flash != "broken: exit status 3" || !h.m.flashErr {
		t.Errorf("flash = %q", h.m.flash)
	}
	h.press(keyOf('O'))
	if _, err := os.Stat(marker); err != nil {
		t.Fatal("a local desk did not run the command")
	}
	// Letters are text in the composer, never a command.
	h.selectNumber(103)
	h.press(keyOf('r'))
	h.typeText("OX")
	if got := h.m.compose.ta.Value(); !strings.HasSuffix(got, "OX") {
		t.Errorf("composer text = %q", got)
	}
}
