// Command desk is a Service Desk for the terminal: customers write to one
// support address, every conversation becomes a ticket, and staff triage
// and answer it here. The IMAP mailbox is the server; SQLite is the local
// cache and offline queue.
//
// This file holds the command line, the configuration and the wiring of
// the store, mail and tui packages.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/BurntSushi/toml"

	"desk/mail"
	"desk/mail/demo"
	"desk/store"
	"desk/tui"
	"desk/tui/sanitize"
)

const usage = `desk — a Service Desk in the terminal

Usage:
  desk [--config FILE] [--db PATH]          open the TUI (syncs configured accounts)
  desk demo [--db PATH]                      the whole loop on an in-process mail system
  desk sync [--once]                         sync and send headless (until SIGINT/SIGTERM)
  desk list [--state open|closed|all] [--json]
  desk show N [--json]
  desk reply N [--internal] [--body-file F]  body from stdin without --body-file
  desk close N | desk reopen N
  desk search QUERY [--json]

Every command takes --config FILE and --db PATH.
Config: $XDG_CONFIG_HOME/desk/config.toml   Store: $XDG_DATA_HOME/desk/desk.db
`

// exampleConfig is shown when desk has nothing to open.
const exampleConfig = `[staff]
name = "Ana"

[accounts.work]
address = "support@example.com"          # +tag sub-addresses route to projects
imap = "imaps://imap.example.com"        # or imap://host (STARTTLS required)
smtp = "smtps://smtp.example.com"        # or smtp://host:587 (STARTTLS required)
user = "support@example.com"
password_cmd = "pass show mail/support"  # or password_env = "DESK_PASSWORD"
# ca_file = "/path/to/ca.pem"
# mailbox = "INBOX"
# default_project = "general"

[accounts.work.projects]                 # tag = display name
billing = "Billing"
app = "App"
`

// userError is an error caused by how desk was called: printed without
// decoration, exit status 2.
type userError struct{ msg string }

func (e userError) Error() string { return e.msg }

func usageErr(format string, args ...any) error { return userError{fmt.Sprintf(format, args...)} }

func main() {
	err := run(os.Args[1:], os.Stdin, os.Stdout)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "desk:", err)
	var ue userError
	if errors.As(err, &ue) {
		os.Exit(2)
	}
	os.Exit(1)
}

// common are the flags every command takes.
type common struct {
	config string
	db     string
	debug  bool
}

func newFlags(name string, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.config, "config", "", "config file")
	fs.StringVar(&c.db, "db", "", "store path")
	fs.BoolVar(&c.debug, "debug", false, "verbose log")
	return fs
}

// parseFlags parses args, accepting flags before and after positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usageErr("%s", usage)
			}
			return nil, usageErr("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var c common
	switch cmd {
	case "":
		fs := newFlags("desk", &c)
		if _, err := parseFlags(fs, args); err != nil {
			return err
		}
		return runTUI(c)
	case "demo":
		return runDemo(c, args)
	case "sync":
		return runSync(c, args)
	case "list":
		return runList(c, args, stdout)
	case "show":
		return runShow(c, args, stdout)
	case "reply":
		return runReply(c, args, stdin, stdout)
	case "close", "reopen":
		return runState(c, cmd, args, stdout)
	case "search":
		return runSearch(c, args, stdout)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return usageErr("unknown command %q\n\n%s", cmd, usage)
	}
}

// Config is the TOML configuration file.
type Config struct {
	Staff struct {
		Name string `toml:"name"`
	} `toml:"staff"`
	Accounts map[string]AccountConfig `toml:"accounts"`
}

// AccountConfig is one [accounts.NAME] table.
type AccountConfig struct {
	Address        string            `toml:"address"`
	IMAP           string            `toml:"imap"`
	SMTP           string            `toml:"smtp"`
	User           string            `toml:"user"`
	PasswordCmd    string            `toml:"password_cmd"`
	PasswordEnv    string            `toml:"password_env"`
	CAFile         string            `toml:"ca_file"`
	TLS            string            `toml:"tls"`
	Mailbox        string            `toml:"mailbox"`
	DefaultProject string            `toml:"default_project"`
	Projects       map[string]string `toml:"projects"`
}

// setup is what a command runs on: the config (maybe empty), its accounts
// and the store path.
type setup struct {
	cfg      Config
	accounts []*mail.Account
	dbPath   string
	haveFile bool
}

func xdgDir(env, fallback string) string {
	if d := os.Getenv(env); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, fallback)
}

// loadSetup reads the config file (explicit, or the default one if it
// exists) and resolves the store path.
func loadSetup(c common) (*setup, error) {
	s := &setup{dbPath: c.db}
	path := c.config
	if path == "" {
		def := filepath.Join(xdgDir("XDG_CONFIG_HOME", ".config"), "desk", "config.toml")
		if _, err := os.Stat(def); err == nil {
			path = def
		}
	}
	if path != "" {
		md, err := toml.DecodeFile(path, &s.cfg)
		if err != nil {
			var perr toml.ParseError
			if errors.As(err, &perr) {
				return nil, usageErr("config %s:%d: %s", path, perr.Position.Line, perr.Message)
			}
			return nil, usageErr("config %s: %v", path, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			return nil, usageErr("config %s: unknown key %s", path, und[0])
		}
		s.haveFile = true
		names := make([]string, 0, len(s.cfg.Accounts))
		for name := range s.cfg.Accounts {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			ac := s.cfg.Accounts[name]
			a := &mail.Account{Name: name, Address: ac.Address, IMAP: ac.IMAP, SMTP: ac.SMTP, User: ac.User,
				PasswordCmd: ac.PasswordCmd, PasswordEnv: ac.PasswordEnv, CAFile: ac.CAFile, TLS: ac.TLS,
				Mailbox: ac.Mailbox, DefaultProject: ac.DefaultProject, ProjectNames: ac.Projects}
			if err := a.Validate(); err != nil {
				return nil, usageErr("config %s: %v", path, err)
			}
			s.accounts = append(s.accounts, a)
		}
	}
	if s.dbPath == "" {
		s.dbPath = filepath.Join(xdgDir("XDG_DATA_HOME", ".local/share"), "desk", "desk.db")
	}
	return s, nil
}

// openStore opens the store of a setup; for commands that read it, a
// missing store is an error rather than an empty new one.
func (s *setup) openStore(mustExist bool) (*store.Store, error) {
	if mustExist {
		if _, err := os.Stat(s.dbPath); err != nil {
			return nil, usageErr("no store at %s: run `desk sync --once` (or `desk demo --db %s`) first", s.dbPath, s.dbPath)
		}
	}
	return store.Open(s.dbPath)
}

// logger writes to a file under $XDG_STATE_HOME/desk, never to the
// terminal the TUI draws on.
func logger(debug bool) (*slog.Logger, func()) {
	dir := filepath.Join(xdgDir("XDG_STATE_HOME", ".local/state"), "desk")
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	if err := os.MkdirAll(dir, 0o700); err == nil {
		if f, err := os.OpenFile(filepath.Join(dir, "desk.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err == nil {
			return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: level})), func() { f.Close() }
		}
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil)), func() {}
}

func staffName(cfg Config) string {
	if cfg.Staff.Name != "" {
		return cfg.Staff.Name
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "Staff"
}

// runTUI opens the interface on the configured accounts, or offline on a
// store given with --db.
func runTUI(c common) error {
	s, err := loadSetup(c)
	if err != nil {
		return err
	}
	if len(s.accounts) == 0 && c.db == "" {
		return usageErr("nothing to open: no account configured and no --db given.\n\n"+
			"Try the whole loop with no setup:  desk demo\n"+
			"Or write %s, e.g.:\n\n%s", filepath.Join(xdgDir("XDG_CONFIG_HOME", ".config"), "desk", "config.toml"), exampleConfig)
	}
	st, err := s.openStore(len(s.accounts) == 0)
	if err != nil {
		return err
	}
	defer st.Close()
	names := make([]string, len(s.accounts))
	for i, a := range s.accounts {
		names[i] = a.Name
	}
	title := "desk — " + strings.Join(names, ", ")
	if len(names) == 0 {
		title = "desk — " + s.dbPath
	}
	log, closeLog := logger(c.debug)
	defer closeLog()
	return interactive(st, s.accounts, tui.Options{Author: staffName(s.cfg), Title: title, Offline: len(s.accounts) == 0}, log)
}

// interactive runs the TUI with the accounts syncing in the background.
func interactive(st *store.Store, accounts []*mail.Account, opts tui.Options, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := tea.NewProgram(tui.New(st, opts), tea.WithContext(ctx))
	svc := mail.NewService(st, accounts, func(ev any) { p.Send(ev) }, log)
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.Run(ctx)
	}()
	_, err := p.Run()
	cancel()
	<-done
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		err = nil
	}
	return err
}

// runDemo runs the whole loop on an in-process mail system.
func runDemo(c common, args []string) error {
	fs := newFlags("demo", &c)
	delay := fs.Duration("customer-delay", 3*time.Second, "how long the simulated customer takes to answer")
	newMail := fs.Duration("new-mail-after", 20*time.Second, "when a new customer mail arrives (0: never)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	dbPath := c.db
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "desk-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbPath = filepath.Join(dir, "desk.db")
	}
	log, closeLog := logger(c.debug)
	defer closeLog()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := demo.Start(ctx, demo.Options{CustomerDelay: *delay, NewMailAfter: *newMail, Log: log})
	if err != nil {
		return err
	}
	defer d.Wait()
	defer cancel()
	st, err := store.Open(dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	return interactive(st, []*mail.Account{d.Account}, tui.Options{Author: "Ana", Title: "desk — demo (" + demo.Desk + ")"}, log)
}

// runSync syncs headless: once, or until SIGINT/SIGTERM.
func runSync(c common, args []string) error {
	fs := newFlags("sync", &c)
	once := fs.Bool("once", false, "sync every account and flush the outbox, then exit")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	s, err := loadSetup(c)
	if err != nil {
		return err
	}
	if len(s.accounts) == 0 {
		return usageErr("no account configured: write a config file (see `desk` without arguments for an example)")
	}
	st, err := s.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()
	log, closeLog := logger(c.debug)
	defer closeLog()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	svc := mail.NewService(st, s.accounts, stderrProgress(), log)
	if *once {
		return svc.SyncOnce(ctx)
	}
	svc.Run(ctx)
	return nil
}

// stderrProgress prints sync progress and failures on stderr.
func stderrProgress() func(any) {
	return func(ev any) {
		switch e := ev.(type) {
		case store.SyncStatus:
			switch {
			case e.Phase == store.PhaseOffline:
				fmt.Fprintf(os.Stderr, "%s: offline — retry in %s: %s\n", e.Account, time.Until(e.RetryAt).Round(time.Second), e.Err)
			case e.Phase == store.PhaseSyncing && e.Total > 0:
				fmt.Fprintf(os.Stderr, "%s: syncing %d/%d\n", e.Account, e.Done, e.Total)
			}
		case store.OutboxChanged:
			if e.Failed > 0 {
				fmt.Fprintf(os.Stderr, "outbox: %d queued, %d failed\n", e.Queued, e.Failed)
			}
		}
	}
}

// ticketArg parses the ticket number argument of show, reply, close, reopen.
func ticketArg(cmd string, pos []string) (int64, error) {
	if len(pos) != 1 {
		return 0, usageErr("usage: desk %s N", cmd)
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(pos[0], "#"), 10, 64)
	if err != nil || n <= 0 {
		return 0, usageErr("%s: %q is not a ticket number", cmd, pos[0])
	}
	return n, nil
}

// openForCommand loads the setup and opens an existing store.
func openForCommand(c common) (*setup, *store.Store, error) {
	s, err := loadSetup(c)
	if err != nil {
		return nil, nil, err
	}
	st, err := s.openStore(true)
	return s, st, err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runList(c common, args []string, out io.Writer) error {
	fs := newFlags("list", &c)
	state := fs.String("state", "open", "open, closed or all")
	asJSON := fs.Bool("json", false, "JSON output")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	_, st, err := openForCommand(c)
	if err != nil {
		return err
	}
	defer st.Close()
	tickets, err := st.List(context.Background(), store.ListFilter{State: *state})
	if err != nil {
		return usageErr("list: %v", err)
	}
	if *asJSON {
		if tickets == nil {
			tickets = []*store.Ticket{}
		}
		return writeJSON(out, tickets)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	now := time.Now()
	for _, t := range tickets {
		fmt.Fprintf(tw, "#%d\t%s\t%s\t%s\t%s\t%s\n", t.Number, t.State, sanitize.Line(t.Project),
			shortAge(now.Sub(t.Updated)), sanitize.Line(t.Requester), sanitize.Line(t.Subject))
	}
	return tw.Flush()
}

// shortAge renders a duration as 5m, 3h, 2d.
func shortAge(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

func runShow(c common, args []string, out io.Writer) error {
	fs := newFlags("show", &c)
	asJSON := fs.Bool("json", false, "JSON output")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	n, err := ticketArg("show", pos)
	if err != nil {
		return err
	}
	_, st, err := openForCommand(c)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	t, err := st.TicketByNumber(ctx, n)
	if err != nil {
		return err
	}
	msgs, err := st.Messages(ctx, t.ID)
	if err != nil {
		return err
	}
	if *asJSON {
		if msgs == nil {
			msgs = []*store.Message{}
		}
		return writeJSON(out, struct {
			*store.Ticket
			Messages []*store.Message `json:"messages"`
		}{t, msgs})
	}
	fmt.Fprintf(out, "#%d %s\n%s · %s · %s · %s\n", t.Number, sanitize.Line(t.Subject), t.State,
		sanitize.Line(t.Project), sanitize.Line(t.Requester), strings.Join(t.Labels, ", "))
	for _, m := range msgs {
		from := sanitize.Line(m.From)
		if m.FromName != "" {
			from = sanitize.Line(m.FromName) + " <" + from + ">"
		}
		status := m.Kind
		if m.Outbox != "" && m.Outbox != store.OutboxSent {
			status += ", " + m.Outbox
		}
		fmt.Fprintf(out, "\n--- %s (%s) %s\n", from, status, m.Date.Local().Format("2006-01-02 15:04"))
		if m.ParseWarning != "" {
			fmt.Fprintf(out, "⚠ %s\n", sanitize.Line(m.ParseWarning))
		}
		fmt.Fprintln(out, sanitize.Text(m.Body))
	}
	return nil
}

// pushNow runs one sync of every account so that work just queued leaves;
// it reports (on stderr) but does not fail when the network is down: the
// work stays queued.
func pushNow(s *setup, st *store.Store, debug bool) {
	if len(s.accounts) == 0 {
		fmt.Fprintln(os.Stderr, "desk: no account configured: queued in the store only")
		return
	}
	log, closeLog := logger(debug)
	defer closeLog()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := mail.NewService(st, s.accounts, nil, log).SyncOnce(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "desk: offline, kept in the outbox for the next sync: %v\n", err)
	}
}

func runReply(c common, args []string, stdin io.Reader, out io.Writer) error {
	fs := newFlags("reply", &c)
	internal := fs.Bool("internal", false, "internal note: stored and shared with staff, never sent")
	bodyFile := fs.String("body-file", "", "read the body from this file instead of stdin")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	n, err := ticketArg("reply", pos)
	if err != nil {
		return err
	}
	var body []byte
	if *bodyFile != "" {
		body, err = os.ReadFile(*bodyFile)
	} else {
		body, err = io.ReadAll(stdin)
	}
	if err != nil {
		return fmt.Errorf("reply: %w", err)
	}
	s, st, err := openForCommand(c)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	t, err := st.TicketByNumber(ctx, n)
	if err != nil {
		return err
	}
	kind := store.KindReply
	if *internal {
		kind = store.KindNote
	}
	m, err := st.QueueReply(ctx, t.ID, kind, staffName(s.cfg), string(body))
	if err != nil {
		return usageErr("reply: %v", err)
	}
	pushNow(s, st, c.debug)
	msgs, err := st.Messages(ctx, t.ID)
	if err != nil {
		return err
	}
	for _, x := range msgs {
		if x.MessageID != m.MessageID {
			continue
		}
		switch x.Outbox {
		case store.OutboxFailed:
			return fmt.Errorf("reply to #%d refused by the server: %s", n, x.OutboxError)
		case store.OutboxSent:
			fmt.Fprintf(out, "%s on #%d sent: %s\n", kind, n, m.MessageID)
		default:
			fmt.Fprintf(out, "%s on #%d queued: %s\n", kind, n, m.MessageID)
		}
	}
	return nil
}

func runState(c common, cmd string, args []string, out io.Writer) error {
	fs := newFlags(cmd, &c)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	n, err := ticketArg(cmd, pos)
	if err != nil {
		return err
	}
	s, st, err := openForCommand(c)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	t, err := st.TicketByNumber(ctx, n)
	if err != nil {
		return err
	}
	state := store.StateClosed
	if cmd == "reopen" {
		state = store.StateOpen
	}
	if err := st.SetTicketState(ctx, t.ID, state); err != nil {
		return err
	}
	pushNow(s, st, c.debug)
	fmt.Fprintf(out, "#%d %s\n", n, state)
	return nil
}

func runSearch(c common, args []string, out io.Writer) error {
	fs := newFlags("search", &c)
	asJSON := fs.Bool("json", false, "JSON output")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr("usage: desk search QUERY")
	}
	_, st, err := openForCommand(c)
	if err != nil {
		return err
	}
	defer st.Close()
	hits, err := st.Search(context.Background(), strings.Join(pos, " "), 0)
	if err != nil {
		return err
	}
	if *asJSON {
		if hits == nil {
			hits = []store.SearchHit{}
		}
		return writeJSON(out, hits)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, h := range hits {
		fmt.Fprintf(tw, "#%d\t%s\t%s\t%s\n", h.Ticket, h.Date.Local().Format("2006-01-02 15:04"),
			sanitize.Line(h.From), sanitize.Line(h.Subject))
	}
	return tw.Flush()
}
