package mail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"desk/mail/demo"
	"desk/mail/internal/dovecottest"
	"desk/store"
)

// teamTicket is what `desk show N --json` says of a ticket's shared state.
type teamTicket struct {
	Number   int64    `json:"number"`
	State    string   `json:"state"`
	Labels   []string `json:"labels"`
	Assignee string   `json:"assignee"`
	Spam     bool     `json:"spam"`
	Messages []struct {
		Kind     string `json:"kind"`
		FromName string `json:"from_name"`
		Body     string `json:"body"`
	} `json:"messages"`
}

// teammate is one staff member's desk: own config (own staff identity),
// own store, a `desk sync` process running against the shared mailbox.
type teammate struct {
	name string
	dir  string
	env  loopEnv
}

func newTeammate(t *testing.T, env loopEnv, name string) *teammate {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`[staff]
name = %q
address = "%s@desk.test"

[accounts.test]
address = %q
imap = "imap://%s"
smtp = "smtp://%s"
user = %q
password_env = "DESK_TEST_PASSWORD"
tls = "none"
`, name, strings.ToLower(name), deskAddr, env.imapAddr, env.sink.SMTPAddr, deskAddr)
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	tm := &teammate{name: name, dir: dir, env: env}
	cmd := exec.Command(deskBinary, "sync", "--debug", "--config", filepath.Join(dir, "config.toml"), "--db", tm.db())
	cmd.Env = append(os.Environ(), "DESK_TEST_PASSWORD="+env.password, "XDG_STATE_HOME="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s's desk sync: %v\n%s", name, err, stderr.String())
		}
	})
	return tm
}

func (tm *teammate) db() string { return filepath.Join(tm.dir, "desk.db") }

// synced reports whether this desk's first sync is done.
func (tm *teammate) synced(t *testing.T) bool {
	t.Helper()
	if _, err := os.Stat(tm.db()); err != nil {
		return false
	}
	st, err := store.Open(tm.db())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var baseline uint32
	err = st.Update(context.Background(), func(tx *store.Tx) error {
		a, err := tx.Account("test")
		if err == nil {
			baseline = a.BaselineUID
		}
		return nil
	})
	return err == nil && baseline > 0
}

func (tm *teammate) run(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	return deskRun(t, tm.env, tm.dir, stdin, args...)
}

// ticket reads ticket n from this teammate's store, or nil if not there.
func (tm *teammate) ticket(t *testing.T, n int64) *teamTicket {
	t.Helper()
	cmd := exec.Command(deskBinary, "show", fmt.Sprint(n), "--json", "--config", filepath.Join(tm.dir, "config.toml"), "--db", tm.db())
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+tm.dir)
	out, err := cmd.Output()
	if err != nil {
		return nil
	}
	var tk teamTicket
	if err := json.Unmarshal(out, &tk); err != nil {
		t.Fatal(err)
	}
	return &tk
}

// change applies a change in this teammate's store, as the TUI does, and
// pushes it with a one-shot sync.
func (tm *teammate) change(t *testing.T, n int64, c store.Change) {
	t.Helper()
	st, err := store.Open(tm.db())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tk, err := st.TicketByNumber(ctx, n)
	if err == nil {
		_, err = st.ApplyChange(ctx, tm.name, []int64{tk.ID}, c)
	}
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	tm.run(t, "", "sync", "--once")
}

// eventually polls the desk processes (bounded) until ok holds; on a
// timeout it reports what each store holds.
func eventually(t *testing.T, what string, ok func() bool, team ...*teammate) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			var state strings.Builder
			for _, tm := range team {
				out, _ := exec.Command(deskBinary, "list", "--state", "all", "--json", "--db", tm.db()).CombinedOutput()
				log, _ := os.ReadFile(filepath.Join(tm.dir, "desk", "desk.log"))
				fmt.Fprintf(&state, "\n%s's store: %s\n%s's log:\n%s", tm.name, out, tm.name, log)
			}
			t.Fatalf("timed out waiting: %s%s", what, state.String())
		}
		time.Sleep(200 * time.Millisecond) // external processes: poll
	}
}

// TestTeamOverIMAP: two staff, each with their own desk and store, share
// one Dovecot mailbox. What one does, the other sees within a sync, and the
// customer gets exactly one thank-you however many clients run.
func TestTeamOverIMAP(t *testing.T) {
	dc := dovecottest.Start(t)
	sink, err := demo.NewSystem()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sink.SMTPPassword = dc.Password
	env := loopEnv{imapAddr: dc.Addr, password: dc.Password, sink: sink}
	ana := newTeammate(t, env, "Ana")
	bo := newTeammate(t, env, "Bo")

	// Mail already in the mailbox at a desk's first sync is history and is
	// never answered: deliver once both have synced.
	eventually(t, "both desks made their first sync", func() bool {
		return ana.synced(t) && bo.synced(t)
	}, ana, bo)
	dc.Deliver(t, deskAddr, customerMail(alice, deskAddr, "Invoice is wrong", "inv-1@customer.test", "", "Please fix my invoice."))
	var n int64
	eventually(t, "both stores have the one ticket", func() bool {
		var list []struct {
			Number int64 `json:"number"`
		}
		for _, tm := range []*teammate{ana, bo} {
			cmd := exec.Command(deskBinary, "list", "--state", "all", "--json", "--config", filepath.Join(tm.dir, "config.toml"), "--db", tm.db())
			cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+tm.dir)
			out, err := cmd.Output()
			if err != nil || json.Unmarshal(out, &list) != nil || len(list) != 1 {
				return false
			}
			n = list[0].Number
		}
		return true
	}, ana, bo)
	if a, b := ana.ticket(t, n), bo.ticket(t, n); a == nil || b == nil {
		t.Fatalf("ticket #%d differs between the stores: %v %v", n, a, b)
	}
	eventually(t, "both see the one thank-you", func() bool {
		for _, tm := range []*teammate{ana, bo} {
			tk := tm.ticket(t, n)
			autos := 0
			for _, m := range tk.Messages {
				if m.Kind == store.KindAuto {
					autos++
				}
			}
			if autos != 1 {
				return false
			}
		}
		return true
	}, ana, bo)
	if got := len(sentTo(sink, alice)); got != 1 {
		t.Fatalf("alice got %d thank-yous, want 1", got)
	}

	converge := func(what string, ok func(*teamTicket) bool) {
		t.Helper()
		eventually(t, what, func() bool {
			a, b := ana.ticket(t, n), bo.ticket(t, n)
			return a != nil && b != nil && ok(a) && ok(b)
		}, ana, bo)
	}
	ana.run(t, "", "close", fmt.Sprint(n))
	converge("closed by Ana", func(tk *teamTicket) bool { return tk.State == store.StateClosed })
	bo.run(t, "", "reopen", fmt.Sprint(n))
	converge("reopened by Bo", func(tk *teamTicket) bool { return tk.State == store.StateOpen })

	assignee := "Bo"
	ana.change(t, n, store.Change{Assignee: &assignee, AddLabels: []string{"billing", "urgent"}})
	converge("assigned to Bo with labels", func(tk *teamTicket) bool {
		return strings.EqualFold(tk.Assignee, "Bo") && len(tk.Labels) == 2
	})
	bo.change(t, n, store.Change{RemoveLabels: []string{"urgent"}})
	converge("label removed by Bo", func(tk *teamTicket) bool { return len(tk.Labels) == 1 && tk.Labels[0] == "billing" })

	bo.run(t, "Fixed: the invoice is corrected.", "reply", fmt.Sprint(n))
	converge("Bo's reply", func(tk *teamTicket) bool {
		for _, m := range tk.Messages {
			if m.Kind == store.KindReply && strings.Contains(m.Body, "invoice is corrected") {
				return true
			}
		}
		return false
	})
	spam := true
	ana.change(t, n, store.Change{Spam: &spam})
	converge("marked spam by Ana", func(tk *teamTicket) bool { return tk.Spam })

	if got := len(sentTo(sink, alice)); got != 2 {
		t.Errorf("alice got %d mails, want the thank-you and Bo's reply", got)
	}
}
