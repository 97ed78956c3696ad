// Package serve is `desk serve`: the TUI over SSH with Charm's wish. Every
// session runs its own tea.Program over one shared store; one sync service
// feeds all of them through a Broadcaster. Staff log in with a public key
// listed in an authorized-keys file whose comment names them; unknown keys
// are refused. Nothing runs on the server for a session: no $EDITOR, no
// shell.
package serve

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	charmlog "charm.land/log/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	bm "charm.land/wish/v2/bubbletea"
	"charm.land/wish/v2/recover"
	gossh "golang.org/x/crypto/ssh"

	"desk/store"
	"desk/tui"
)

// Identity is the staff member a public key belongs to.
type Identity struct {
	Name    string
	Address string // may be empty
}

// Options configure a Server.
type Options struct {
	Store          *store.Store
	HostKeyPath    string        // created (ed25519) on first start, reused after
	AuthorizedKeys string        // authorized_keys format; the comment is "Name <address>"
	IdleTimeout    time.Duration // a session with no input for this long is closed; 0: 30 minutes
	Title          string        // shown in every session's header
	Log            *slog.Logger
	// Session is what every session starts from: the config's sections,
	// staff, keys and macros. Author, Title, Remote and Presence are set
	// per session.
	Session tui.Options
	// NewModel makes a session's model; nil means tui.New. Tests use it.
	NewModel func(st *store.Store, opts tui.Options) tea.Model
}

// Server is a desk SSH server.
type Server struct {
	opts     Options
	ssh      *ssh.Server
	sessions *Broadcaster
	presence *Hub
}

type identityKey struct{}

// New prepares a server; it does not listen yet.
func New(opts Options) (*Server, error) {
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 30 * time.Minute
	}
	if opts.NewModel == nil {
		opts.NewModel = tui.New
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if _, err := readAuthorizedKeys(opts.AuthorizedKeys); err != nil {
		return nil, err
	}
	// wish and its middleware report through charm's default logger: send
	// that to our log, never to a terminal.
	charmlog.SetOutput(logWriter{opts.Log})
	s := &Server{opts: opts, sessions: NewBroadcaster(opts.Log)}
	s.presence = NewHub(s.sessions)
	srv, err := wish.NewServer(
		wish.WithHostKeyPath(opts.HostKeyPath),
		wish.WithPublicKeyAuth(s.authorize),
		wish.WithIdleTimeout(opts.IdleTimeout),
		wish.WithMiddleware(
			// The last middleware runs first: the program, then leave.
			recover.MiddlewareWithLogger(panicLogger{opts.Log}, leave, bm.MiddlewareWithProgramHandler(s.program)),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	s.ssh = srv
	return s, nil
}

// Notify hands an event of package store to every session: pass it as the
// notify function of the sync service.
func (s *Server) Notify(ev any) { s.sessions.Send(ev) }

// Sessions is how many sessions are running.
func (s *Server) Sessions() int { return s.sessions.Len() }

// Serve accepts connections on ln until Close.
func (s *Server) Serve(ln net.Listener) error {
	err := s.ssh.Serve(ln)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops accepting and ends every session at once: a TUI session has
// nothing to drain (what was typed is in the store).
func (s *Server) Close() error { return s.ssh.Close() }

// authorize accepts a key listed in the authorized-keys file (re-read at
// every login, so edits apply without a restart) and remembers whose it is.
func (s *Server) authorize(ctx ssh.Context, key ssh.PublicKey) bool {
	keys, err := readAuthorizedKeys(s.opts.AuthorizedKeys)
	if err != nil {
		s.opts.Log.Error("serve: authorized keys", "err", err)
		return false
	}
	id, ok := keys[string(key.Marshal())]
	if !ok {
		s.opts.Log.Warn("serve: refused unknown key", "user", ctx.User(), "remote", ctx.RemoteAddr().String(),
			"fingerprint", gossh.FingerprintSHA256(key))
		return false
	}
	ctx.SetValue(identityKey{}, id)
	return true
}

// program makes a session's tea.Program and registers it for events and
// presence until the session ends.
func (s *Server) program(sess ssh.Session) *tea.Program {
	id, ok := sess.Context().Value(identityKey{}).(Identity)
	if !ok {
		wish.Fatalln(sess, "desk: no identity for this key")
		return nil
	}
	if _, _, ok := sess.Pty(); !ok {
		wish.Fatalln(sess, "desk: needs a terminal: ssh -t")
		return nil
	}
	seat := s.presence.Join(id.Name)
	opts := s.opts.Session
	opts.Author, opts.Title, opts.Remote, opts.Presence = id.Name, s.opts.Title, true, seat
	p := tea.NewProgram(s.opts.NewModel(s.opts.Store, opts),
		append(bm.MakeOptions(sess), tea.WithContext(sess.Context()))...)
	seat.onLeave = s.sessions.Register(p)
	sess.Context().SetValue(seatKey{}, seat)
	s.opts.Log.Info("serve: session", "staff", id.Name, "remote", sess.RemoteAddr().String())
	return p
}

type seatKey struct{}

// leave runs once a session's program has ended, however it ended (quit,
// panic, dropped connection): it takes the session out of presence and
// events.
func leave(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if seat, ok := sess.Context().Value(seatKey{}).(*Seat); ok {
			seat.Leave()
		}
		next(sess)
	}
}

// readAuthorizedKeys parses an authorized-keys file: one key a line, its
// comment the staff identity ("Ana Lima <ana@example.com>" or "Ana").
func readAuthorizedKeys(path string) (map[string]Identity, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("serve: authorized keys: %w", err)
	}
	keys := map[string]Identity{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, comment, _, _, err := gossh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("serve: %s:%d: %v", path, n, err)
		}
		id, err := parseIdentity(comment)
		if err != nil {
			return nil, fmt.Errorf("serve: %s:%d: %v", path, n, err)
		}
		keys[string(key.Marshal())] = id
	}
	return keys, sc.Err()
}

// parseIdentity reads "Name <address>" or a bare name.
func parseIdentity(comment string) (Identity, error) {
	comment = strings.TrimSpace(comment)
	if comment == "" {
		return Identity{}, errors.New(`the key has no comment: end the line with the staff name, e.g. "Ana Lima <ana@example.com>"`)
	}
	if strings.Contains(comment, "<") {
		a, err := mail.ParseAddress(comment)
		if err != nil || a.Name == "" {
			return Identity{}, fmt.Errorf("comment %q: want \"Name <address>\"", comment)
		}
		return Identity{Name: a.Name, Address: a.Address}, nil
	}
	return Identity{Name: comment}, nil
}

// logWriter turns the lines charm's logger writes into log entries.
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.log.Warn("serve: wish", "msg", strings.TrimSpace(string(p)))
	return len(p), nil
}

// panicLogger writes the recover middleware's reports to the log.
type panicLogger struct{ log *slog.Logger }

func (l panicLogger) Printf(format string, v ...any) {
	l.log.Error("serve: session panicked", "report", fmt.Sprintf(format, v...))
}
