package serve

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	gossh "golang.org/x/crypto/ssh"

	"desk/store"
	"desk/tui"
)

// probe is a session model that shows who it runs as, how many store
// events reached it, and who else is on ticket 1; "p" panics, "o" opens
// ticket 1, "q" quits.
type probe struct {
	opts   tui.Options
	events int
	views  *views
}

func (m *probe) Init() tea.Cmd { return nil }

func (m *probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case store.TicketsChanged:
		m.events++
	case tea.KeyPressMsg:
		switch msg.String() {
		case "q":
			return m, tea.Quit
		case "p":
			panic("probe panic")
		case "o":
			m.opts.Presence.Focus("work", 1, false)
		}
	}
	return m, nil
}

func (m *probe) View() tea.View {
	others := strings.Join(m.opts.Presence.Others("work", 1), ",")
	var sections []string
	for _, s := range m.opts.Sections {
		sections = append(sections, s.Title)
	}
	v := fmt.Sprintf("author=%s remote=%v events=%d others=[%s] sections=%v", m.opts.Author, m.opts.Remote, m.events, others, sections)
	m.views.set(m.opts.Author, v)
	return tea.NewView(v)
}

// views holds the latest view of each session's probe: the terminal
// stream is diffed cell by cell, so later states are read here.
type views struct {
	mu     sync.Mutex
	latest map[string]string
	more   chan struct{}
}

func (v *views) set(author, view string) {
	v.mu.Lock()
	v.latest[author] = view
	v.mu.Unlock()
	select {
	case v.more <- struct{}{}:
	default:
	}
}

// waitFor waits (bounded) until author's session view contains s.
func (v *views) waitFor(t *testing.T, author, s string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		v.mu.Lock()
		cur := v.latest[author]
		v.mu.Unlock()
		if strings.Contains(cur, s) {
			return
		}
		select {
		case <-v.more:
		case <-deadline:
			t.Fatalf("%s's view is %q, want %q", author, cur, s)
		}
	}
}

type key struct {
	signer gossh.Signer
	line   string
}

func newKey(t *testing.T, comment string) key {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey()))) + " " + comment
	return key{signer: signer, line: line}
}

type fixture struct {
	views    *views
	srv      *Server
	addr     string
	hostKey  string
	ana, bo  key
	stranger key
}

func start(t *testing.T, dir string, idle time.Duration) *fixture {
	t.Helper()
	f := &fixture{views: &views{latest: map[string]string{}, more: make(chan struct{}, 1)}, hostKey: filepath.Join(dir, "host_ed25519"),
		ana: newKey(t, "Ana Lima <ana@example.com>"), bo: newKey(t, "Bo"), stranger: newKey(t, "Stranger")}
	authz := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authz, []byte("# staff\n"+f.ana.line+"\n"+f.bo.line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "desk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// Every session starts from the config's options, with its own author.
	session := tui.Options{Author: "nobody", Sections: []tui.Section{{Title: "Urgent", Query: "label:urgent"}}}
	f.srv, err = New(Options{Store: st, HostKeyPath: f.hostKey, AuthorizedKeys: authz, IdleTimeout: idle, Session: session,
		NewModel: func(_ *store.Store, o tui.Options) tea.Model { return &probe{opts: o, views: f.views} }})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	go f.srv.Serve(ln)
	t.Cleanup(func() { f.srv.Close() })
	return f
}

// term is a client session with a PTY whose output is collected.
type term struct {
	sess *gossh.Session
	in   interface{ Write([]byte) (int, error) }
	mu   sync.Mutex
	out  bytes.Buffer
	more chan struct{}
	done chan error
}

func (f *fixture) dial(t *testing.T, k key) (*term, error) {
	t.Helper()
	client, err := gossh.Dial("tcp", f.addr, &gossh.ClientConfig{User: "desk", Auth: []gossh.AuthMethod{gossh.PublicKeys(k.signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey()})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { client.Close() })
	sess, err := client.NewSession()
	if err != nil {
		return nil, err
	}
	if err := sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
		return nil, err
	}
	tm := &term{sess: sess, more: make(chan struct{}, 1), done: make(chan error, 1)}
	stdout, _ := sess.StdoutPipe()
	stdin, _ := sess.StdinPipe()
	tm.in = stdin
	if err := sess.Shell(); err != nil {
		return nil, err
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := stdout.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			select {
			case tm.more <- struct{}{}:
			default:
			}
			if err != nil {
				tm.done <- sess.Wait()
				return
			}
		}
	}()
	return tm, nil
}

// waitFor waits (bounded) until the session has printed s.
func (tm *term) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		tm.mu.Lock()
		ok := strings.Contains(tm.out.String(), s)
		tm.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-tm.more:
		case <-deadline:
			tm.mu.Lock()
			defer tm.mu.Unlock()
			t.Fatalf("no %q in session output:\n%q", s, tm.out.String())
		}
	}
}

func (tm *term) waitEnd(t *testing.T) {
	t.Helper()
	select {
	case <-tm.done:
	case <-time.After(10 * time.Second):
		t.Fatal("session did not end")
	}
}

func waitSessions(t *testing.T, srv *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for srv.Sessions() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions, want %d", srv.Sessions(), n)
		}
		time.Sleep(10 * time.Millisecond) // polling the server's count: no event to wait on
	}
}

func TestServeSessions(t *testing.T) {
	f := start(t, t.TempDir(), time.Minute)
	if _, err := f.dial(t, f.stranger); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("unknown key: %v", err)
	}
	ana, err := f.dial(t, f.ana)
	if err != nil {
		t.Fatal(err)
	}
	ana.waitFor(t, "author=Ana Lima remote=true events=0")
	bo, err := f.dial(t, f.bo)
	if err != nil {
		t.Fatal(err)
	}
	bo.waitFor(t, "author=Bo remote=true")
	bo.waitFor(t, "sections=[Urgent]")
	waitSessions(t, f.srv, 2)

	// One event from the sync service reaches every session.
	f.srv.Notify(store.TicketsChanged{Account: "work", Numbers: []int64{1}})
	f.views.waitFor(t, "Ana Lima", "events=1")
	f.views.waitFor(t, "Bo", "events=1")

	// Presence: Ana opens ticket 1, Bo sees her there.
	ana.in.Write([]byte("o"))
	f.views.waitFor(t, "Bo", "others=[Ana Lima viewing]")

	// A panic ends Ana's session only; Bo's goes on, and she can come back.
	ana.in.Write([]byte("p"))
	ana.waitEnd(t)
	f.views.waitFor(t, "Bo", "others=[]")
	waitSessions(t, f.srv, 1)
	f.srv.Notify(store.TicketsChanged{})
	f.views.waitFor(t, "Bo", "events=2")
	again, err := f.dial(t, f.ana)
	if err != nil {
		t.Fatal(err)
	}
	again.waitFor(t, "author=Ana Lima")

	bo.in.Write([]byte("q"))
	bo.waitEnd(t)
	again.in.Write([]byte("q"))
	again.waitEnd(t)
	waitSessions(t, f.srv, 0)
}

func TestServeIdleTimeoutAndHostKey(t *testing.T) {
	dir := t.TempDir()
	f := start(t, dir, 300*time.Millisecond)
	ana, err := f.dial(t, f.ana)
	if err != nil {
		t.Fatal(err)
	}
	ana.waitFor(t, "author=Ana Lima")
	ana.waitEnd(t) // no input: the idle timeout closes it
	first, err := os.ReadFile(f.hostKey)
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Close()
	start(t, dir, time.Minute)
	second, err := os.ReadFile(f.hostKey)
	if err != nil || !bytes.Equal(first, second) {
		t.Fatalf("host key changed across restarts (%v)", err)
	}
}

func TestAuthorizedKeysErrors(t *testing.T) {
	dir := t.TempDir()
	k := newKey(t, "")
	for body, want := range map[string]string{
		k.line + "\n":                     "authorized_keys:1: the key has no comment",
		"# c\nnot a key Ana\n":            "authorized_keys:2:",
		k.line + "Ana <not an address>\n": `want "Name <address>"`,
	} {
		path := filepath.Join(dir, "authorized_keys")
		os.WriteFile(path, []byte(body), 0o600)
		if _, err := readAuthorizedKeys(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %s", body, err, want)
		}
	}
}
