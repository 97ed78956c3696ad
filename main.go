// Command desk is a Service Desk for the terminal: customers write to one
// support address, every conversation becomes a ticket, and staff triage
// and answer it here. The IMAP mailbox is the server; SQLite is the local
// cache and offline queue.
//
// This file holds the command line, the configuration and the wiring of
// the store, mail and tui packages.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/term"

	"desk/mail"
	"desk/mail/config"
	"desk/mail/demo"
	"desk/mail/importer"
	"desk/mail/spam"
	"desk/store"
	"desk/tui"
	"desk/tui/cli"
	"desk/tui/sanitize"
	"desk/tui/serve"
	initflow "desk/tui/setup"
)

// commands is the command line as documented: --help, `desk help
// COMMAND`, the man page and the shell completions all come from it.
var commands = cli.Table{
	Program: "desk",
	Summary: "a Service Desk in the terminal",
	Common: []cli.Flag{
		{Name: "config", Arg: "FILE", Usage: "config file (default $XDG_CONFIG_HOME/desk/config.toml)"},
		{Name: "db", Arg: "PATH", Usage: "store (default $XDG_DATA_HOME/desk/desk.db)"},
		{Name: "debug", Usage: "verbose log (to the log file, never the terminal)"},
	},
	Files: "$XDG_CONFIG_HOME/desk/config.toml   configuration (mode 0600)\n" +
		"$XDG_CONFIG_HOME/desk/authorized_keys   staff keys for desk serve\n" +
		"$XDG_CONFIG_HOME/desk/macros/NAME.md   macros (M in the TUI, ctrl+o in the composer)\n" +
		"$XDG_DATA_HOME/desk/desk.db   the store\n" +
		"$XDG_STATE_HOME/desk/desk.log   the log",
	Commands: []cli.Command{
		{Summary: "open the TUI on the configured accounts (syncs in the background)",
			Details: "The config may add [[sections]] (title, query, optional sort and limit), remap keys per context " +
				"([keys.list] reply = \"R\"; contexts list, thread, compose, confirm, prompt, search; actions as ? names them) " +
				"and bind [[commands]] (key, name, run: a sh -c line with {{.Number}}, {{.Requester}}, {{.Subject}}… " +
				"passed as quoted variables, never as shell text; not over SSH or --readonly). Macros are files " +
				"macros/NAME.md beside the config: a header between --- lines (status, assignee, labels, kind), then the body; " +
				":macro NAME applies one, :save NAME keeps the current query as a section in the config.",
			Flags: []cli.Flag{{Name: "readonly", Usage: "observe: change and send nothing"}}},
		{Name: "init", Summary: "write a config file, asking for the account and testing the connection first",
			Details: "Asks for the desk address, the IMAP and SMTP servers (with defaults for Gmail, Microsoft 365 and Fastmail), " +
				"the secret source (password_cmd, password_env or oauth_token_cmd; never a plaintext password) and the projects; " +
				"logs in by IMAP and SMTP with that secret, and only then writes the config with mode 0600.",
			Flags: []cli.Flag{{Name: "force", Usage: "overwrite an existing config file"}}},
		{Name: "demo", Summary: "the whole loop on an in-process mail system, no setup",
			Flags: []cli.Flag{{Name: "customer-delay", Arg: "DURATION", Usage: "how long the simulated customer takes to answer"},
				{Name: "new-mail-after", Arg: "DURATION", Usage: "when a new customer mail arrives (0: never)"}}},
		{Name: "sync", Summary: "sync and send headless, until SIGINT/SIGTERM (for systemd or cron)",
			Flags: []cli.Flag{{Name: "once", Usage: "sync every account and flush the outbox, then exit"}}},
		{Name: "list", Summary: "list tickets",
			Flags: []cli.Flag{{Name: "state", Arg: "open|closed|all", Usage: "which tickets"}, {Name: "json", Usage: "JSON output"}}},
		{Name: "show", Args: "N", Summary: "show ticket N with its thread", Flags: []cli.Flag{{Name: "json", Usage: "JSON output"}}},
		{Name: "reply", Args: "N", Summary: "reply to ticket N (body from stdin or --body-file)",
			Flags: []cli.Flag{{Name: "internal", Usage: "internal note: shared with staff, never sent"},
				{Name: "body-file", Arg: "FILE", Usage: "read the body from FILE"}}},
		{Name: "close", Args: "N", Summary: "close ticket N (shared with every teammate)"},
		{Name: "reopen", Args: "N", Summary: "reopen ticket N"},
		{Name: "search", Args: "QUERY", Summary: "full-text search", Flags: []cli.Flag{{Name: "json", Usage: "JSON output"}}},
		{Name: "spam", Args: "train|score", Summary: "train the spam filter on folders of ham and spam, or score files"},
		{Name: "import", Args: "PATH", Summary: "import a Maildir or mbox for offline triage (nothing is ever sent for it)",
			Details: "Imported mail goes to its own offline account (\"import\" unless --account names another) and threads into tickets " +
				"as synced mail does. Messages already imported are skipped, so an import can run again.",
			Flags: []cli.Flag{{Name: "account", Arg: "NAME", Usage: "the offline account to import into"},
				{Name: "address", Arg: "ADDR", Usage: "the desk address of the export (mail from it counts as staff replies)"}}},
		{Name: "export", Args: "N", Summary: "write ticket N as an mbox on stdout (or --out FILE)",
			Flags: []cli.Flag{{Name: "out", Arg: "FILE", Usage: "write to FILE instead of stdout"}}},
		{Name: "attachment", Args: "N [I]", Summary: "list ticket N's attachments, or save the I-th (fetched from the mailbox)",
			Flags: []cli.Flag{{Name: "out", Arg: "DIR", Usage: "save into DIR (default: the current directory)"}}},
		{Name: "serve", Summary: "serve the TUI over SSH to the staff in the authorized-keys file",
			Details: "Every session runs its own TUI over the one store and sync service of this process; each sees who else " +
				"views or replies to a ticket. Keys not in the authorized-keys file are refused; each key's comment names the " +
				"staff member, e.g. \"ssh-ed25519 AAAA… Ana Lima <ana@example.com>\". Nothing runs on the server for a session " +
				"(no $EDITOR, no shell).",
			Flags: []cli.Flag{{Name: "listen", Arg: "ADDR", Usage: "address to listen on (default 127.0.0.1:2222)"},
				{Name: "host-key", Arg: "FILE", Usage: "host key, created on first start (default $XDG_DATA_HOME/desk/ssh_host_ed25519)"},
				{Name: "authorized-keys", Arg: "FILE", Usage: "staff keys (default $XDG_CONFIG_HOME/desk/authorized_keys)"},
				{Name: "idle", Arg: "DURATION", Usage: "close a session idle this long (default 30m)"}}},
		{Name: "dev", Args: "seed", Summary: "developer tools: seed a store with deterministic benchmark tickets",
			Flags: []cli.Flag{{Name: "tickets", Arg: "N", Usage: "how many tickets (five messages each on average)"},
				{Name: "seed", Arg: "S", Usage: "random seed: the same seed gives the same tickets"}}},
		{Name: "help", Args: "[COMMAND]", Summary: "this overview, or the help of COMMAND"},
		{Name: "completion", Args: "bash|zsh|fish", Summary: "print a shell completion script"},
		{Name: "man", Summary: "print the man page (roff): desk man | man -l -"},
	},
}

// usage is the overview printed by --help and on a usage error.
func usage() string {
	var b strings.Builder
	commands.Usage(&b)
	return b.String()
}

// exampleConfig is shown when desk has nothing to open.
const exampleConfig = `[staff]
name = "Ana"
address = "ana@example.com"              # optional

[accounts.work]
address = "support@example.com"          # +tag sub-addresses route to projects
imap = "imaps://imap.example.com"        # or imap://host (STARTTLS required)
smtp = "smtps://smtp.example.com"        # or smtp://host:587 (STARTTLS required)
user = "support@example.com"
password_cmd = "pass show mail/support"  # or password_env, or oauth_token_cmd (OAuth2)
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
	config   string
	db       string
	debug    bool
	readonly bool // the TUI only: change and send nothing
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
				return nil, usageErr("%s", usage())
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

// commandAt is the index in args of the command, the first word that is
// not a flag or the value of --config or --db (so that the common flags
// may come first: desk --db PATH search QUERY), or -1 for none (the TUI).
func commandAt(args []string) int {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case !strings.HasPrefix(a, "-"):
			return i
		case slices.Contains([]string{"-config", "--config", "-db", "--db"}, a):
			i++ // its value
		}
	}
	return -1
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	cmd := ""
	if i := commandAt(args); i >= 0 {
		cmd, args = args[i], append(args[:i:i], args[i+1:]...)
	}
	if cmd != "help" && slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "--help" || a == "-help" }) {
		return runHelp([]string{cmd}, stdout)
	}
	var c common
	switch cmd {
	case "":
		fs := newFlags("desk", &c)
		fs.BoolVar(&c.readonly, "readonly", false, "observe: change and send nothing")
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
	case "dev":
		return runDev(c, args, stdout)
	case "spam":
		return runSpam(c, args, stdout)
	case "init":
		return runInit(c, args, stdin, stdout)
	case "import":
		return runImport(c, args, stdout)
	case "export":
		return runExport(c, args, stdout)
	case "attachment":
		return runAttachment(c, args, stdout)
	case "serve":
		return runServe(c, args)
	case "help":
		return runHelp(args, stdout)
	case "completion":
		if len(args) != 1 {
			return usageErr("usage: desk completion bash|zsh|fish")
		}
		if err := commands.Completion(stdout, args[0]); err != nil {
			return usageErr("%v", err)
		}
		return nil
	case "man":
		commands.Man(stdout, time.Now().Format("2006-01-02"))
		return nil
	default:
		return usageErr("unknown command %q\n\n%s", cmd, usage())
	}
}

// setup is what a command runs on: the config (maybe empty), its accounts
// and the store path.
type setup struct {
	cfg      *config.Config
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
	s := &setup{dbPath: c.db, cfg: &config.Config{}}
	path := c.config
	if path == "" {
		def := filepath.Join(xdgDir("XDG_CONFIG_HOME", ".config"), "desk", "config.toml")
		if _, err := os.Stat(def); err == nil {
			path = def
		}
	}
	if path != "" {
		cfg, err := config.Load(path)
		if err != nil {
			return nil, usageErr("config %v", err)
		}
		s.cfg, s.haveFile = cfg, true
		for _, a := range cfg.Accounts {
			s.accounts = append(s.accounts, a.Account)
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

func staffName(cfg *config.Config) string {
	if cfg.Staff.Name != "" {
		return cfg.Staff.Name
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "Staff"
}

// viewsAndStaff turns the config's per-project saved views into sections
// after the default ones, and collects the staff names for completion.
func viewsAndStaff(cfg *config.Config) ([]tui.Section, []string) {
	var sections []tui.Section
	staff := map[string]bool{}
	if cfg.Staff.Name != "" {
		staff[cfg.Staff.Name] = true
	}
	for _, a := range cfg.Accounts {
		for _, p := range a.Projects {
			names := make([]string, 0, len(p.Views))
			for name := range p.Views {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				sections = append(sections, tui.Section{Title: name, Query: "project:" + p.Tag + " " + p.Views[name]})
			}
			for _, n := range p.Staff {
				staff[n] = true
			}
		}
	}
	if len(sections) > 0 || len(cfg.Sections) > 0 {
		sections = append(tui.DefaultSections(), sections...)
	}
	// [[sections]] come last; one titled like a default replaces it.
	for _, cs := range cfg.Sections {
		sec := tui.Section{Title: cs.Title, Query: cs.Query, Sort: cs.Sort, Limit: cs.Limit}
		i := slices.IndexFunc(sections, func(s tui.Section) bool { return strings.EqualFold(s.Title, cs.Title) })
		if i >= 0 {
			sections[i] = sec
		} else {
			sections = append(sections, sec)
		}
	}
	names := make([]string, 0, len(staff))
	for n := range staff {
		names = append(names, n)
	}
	sort.Strings(names)
	return sections, names
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
			"Set up a real mailbox (tests the login first):  desk init\n"+
			"Or write %s (mode 0600), e.g.:\n\n%s", filepath.Join(xdgDir("XDG_CONFIG_HOME", ".config"), "desk", "config.toml"), exampleConfig)
	}
	var opts tui.Options
	if err := configureTUI(s, &opts); err != nil {
		return err
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
	opts.Sections, opts.Staff = viewsAndStaff(s.cfg)
	opts.Author, opts.Title, opts.Offline, opts.ReadOnly = staffName(s.cfg), title, len(s.accounts) == 0, c.readonly
	return interactive(st, s.accounts, opts, log)
}

// configureTUI applies the config's key remaps and custom commands (an
// error names the config line) and, with a config file, its macro folder
// and the :save writer.
func configureTUI(s *setup, opts *tui.Options) error {
	cfg := s.cfg
	remaps := make([]tui.Remap, len(cfg.Keys))
	for i, k := range cfg.Keys {
		remaps[i] = tui.Remap{Context: k.Context, Action: k.Action, Keys: k.Keys, Line: k.Line}
	}
	cmds := make([]tui.Command, len(cfg.Commands))
	for i, c := range cfg.Commands {
		cmds[i] = tui.Command{Key: c.Key, Name: c.Name, Run: c.Run, Line: c.Line}
	}
	keys, err := tui.NewKeys(remaps, cmds)
	var ke *tui.KeyError
	if errors.As(err, &ke) {
		return usageErr("config %v", cfg.ErrorAt(ke.Line, ke.Key, ke.Msg))
	} else if err != nil {
		return err
	}
	opts.Keys = keys
	if s.haveFile {
		opts.MacroDir = filepath.Join(filepath.Dir(cfg.Path), "macros")
		opts.SaveSection = func(sec tui.Section) error {
			return config.AppendSection(cfg.Path, config.Section{Title: sec.Title, Query: sec.Query, Sort: sec.Sort, Limit: sec.Limit})
		}
	}
	return nil
}

// interactive runs the TUI with the accounts syncing in the background.
func interactive(st *store.Store, accounts []*mail.Account, opts tui.Options, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var p *tea.Program
	svc := mail.NewService(st, accounts, func(ev any) { p.Send(ev) }, log)
	if len(accounts) > 0 {
		opts.SaveAttachment = func(ctx context.Context, account string, uid uint32, index int, dir string) (string, error) {
			raw, err := svc.FetchRaw(ctx, account, uid)
			if err != nil {
				return "", err
			}
			return mail.SaveAttachment(raw, index, dir)
		}
	}
	// lipgloss detected the terminal's colours for stdout when it loaded;
	// detecting them again costs a second `tmux info` under tmux.
	p = tea.NewProgram(tui.New(st, opts), tea.WithContext(ctx), tea.WithColorProfile(lipgloss.Writer.Profile))
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
		log.Debug("sync once", "accounts", len(s.accounts), "store", s.dbPath)
		err := svc.SyncOnce(ctx)
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "desk: interrupted; the next sync resumes where this one stopped")
			return nil
		}
		if err != nil {
			log.Error("sync failed", "err", err)
		}
		return err
	}
	svc.Run(ctx)
	return nil
}

// stderrProgress prints sync progress and failures on stderr: a redrawn
// bar when stderr is a terminal, else a line at most every few seconds.
func stderrProgress() func(any) {
	p := &progressPrinter{w: os.Stderr, tty: term.IsTerminal(os.Stderr.Fd()), last: map[string]time.Time{}}
	return p.event
}

// progressPrinter renders sync events; workers of several accounts call it
// concurrently.
type progressPrinter struct {
	mu   sync.Mutex
	w    io.Writer
	tty  bool
	open bool                 // a bar is drawn without its newline
	last map[string]time.Time // per account: when progress was last printed
}

func (p *progressPrinter) event(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := ev.(type) {
	case store.SyncStatus:
		switch e.Phase {
		case store.PhaseSyncing:
			p.progress(e)
		case store.PhaseOffline:
			p.line("%s: offline — retry in %s: %s", e.Account, time.Until(e.RetryAt).Round(time.Second), e.Err)
		case store.PhaseStopped:
			p.line("%s: stopped: %s", e.Account, e.Err)
		}
	case store.OutboxChanged:
		if e.Failed > 0 {
			p.line("outbox: %d queued, %d failed", e.Queued, e.Failed)
		}
	}
}

// progress prints messages done / total, rate and ETA, throttled.
func (p *progressPrinter) progress(e store.SyncStatus) {
	if e.Total == 0 {
		return
	}
	every := 3 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	finished := e.Done >= e.Total
	if !finished && e.Done > 0 && time.Since(p.last[e.Account]) < every {
		return
	}
	p.last[e.Account] = time.Now()
	text := fmt.Sprintf("%s: syncing %d/%d", e.Account, e.Done, e.Total)
	if e.Rate > 0 {
		text += fmt.Sprintf("  %.0f msg/s", e.Rate)
		if !finished {
			text += "  ETA " + e.ETA.Round(time.Second).String()
		}
	}
	if !p.tty {
		p.line("%s", text)
		return
	}
	const width = 30
	fill := width * e.Done / e.Total
	fmt.Fprintf(p.w, "\r\x1b[K[%s%s] %s", strings.Repeat("#", fill), strings.Repeat("-", width-fill), text)
	p.open = !finished
	if finished {
		fmt.Fprintln(p.w)
	}
}

// line prints one whole line, ending a bar in progress first.
func (p *progressPrinter) line(format string, args ...any) {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
	fmt.Fprintf(p.w, format+"\n", args...)
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
			tui.Age(now, t.Updated), sanitize.Line(t.Requester), sanitize.Line(t.Subject))
	}
	return tw.Flush()
}

// loadTicket opens the store and reads the ticket named by a command's
// argument, with its messages; the caller closes the store.
func loadTicket(c common, cmd string, pos []string) (*store.Store, *store.Ticket, []*store.Message, error) {
	n, err := ticketArg(cmd, pos)
	if err != nil {
		return nil, nil, nil, err
	}
	_, st, err := openForCommand(c)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx := context.Background()
	t, err := st.TicketByNumber(ctx, n)
	if err == nil {
		var msgs []*store.Message
		if msgs, err = st.Messages(ctx, t.ID); err == nil {
			return st, t, msgs, nil
		}
	}
	st.Close()
	return nil, nil, nil, err
}

func runShow(c common, args []string, out io.Writer) error {
	fs := newFlags("show", &c)
	asJSON := fs.Bool("json", false, "JSON output")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	st, t, msgs, err := loadTicket(c, "show", pos)
	if err != nil {
		return err
	}
	defer st.Close()
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
	// The same path as the TUI's: status keywords, the event naming who
	// did it, and the closed notice.
	if _, err := st.ApplyChange(ctx, staffName(s.cfg), []int64{t.ID}, store.Change{Status: state}); err != nil {
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
	// tabwriter writes every cell on its own: buffered, 200 hits take a
	// few writes instead of 1,600.
	bw := bufio.NewWriter(out)
	tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	for _, h := range hits {
		fmt.Fprintf(tw, "#%d\t%s\t%s\t%s\n", h.Ticket, h.Date.Local().Format("2006-01-02 15:04"),
			sanitize.Line(h.From), sanitize.Line(h.Subject))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// runSpam seeds the spam filter from folders of ham and spam, or scores
// messages: one line "PATH<TAB>SCORE<TAB>spam|ham" each, or a JSON array.
func runSpam(c common, args []string, out io.Writer) error {
	const spamUsage = "usage: desk spam train --ham DIR --spam DIR | desk spam score FILE… [--json]"
	if len(args) == 0 || (args[0] != "train" && args[0] != "score") {
		return usageErr("%s", spamUsage)
	}
	sub := args[0]
	fs := newFlags("spam "+sub, &c)
	var hams, spams []string
	fs.Func("ham", "ham folder or mbox (repeatable)", func(v string) error { hams = append(hams, v); return nil })
	fs.Func("spam", "spam folder or mbox (repeatable)", func(v string) error { spams = append(spams, v); return nil })
	asJSON := fs.Bool("json", false, "JSON output")
	files, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if sub == "train" && (len(hams) == 0 || len(spams) == 0 || len(files) > 0) {
		return usageErr("%s", spamUsage)
	}
	if sub == "score" && len(files) == 0 {
		return usageErr("%s", spamUsage)
	}
	s, err := loadSetup(c)
	if err != nil {
		return err
	}
	st, err := s.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	f, err := spam.Open(ctx, st, func(err error) {
		fmt.Fprintf(os.Stderr, "desk: %v: rebuilding it from the spam and ham marks of the tickets\n", err)
	})
	if err != nil {
		return err
	}
	if sub == "train" {
		rep, err := f.TrainPaths(ctx, st, hams, spams)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "trained %d ham, %d spam; threshold %.4g (%d-fold cross-validation: FPR %.4f, recall %.4f)\n",
			rep.Ham, rep.Spam, rep.Threshold, spam.CVFolds, rep.CV.FPR(), rep.CV.Recall())
		return nil
	}
	var results []spam.Result
	err = f.ScorePaths(files, func(r spam.Result) error {
		if *asJSON {
			results = append(results, r)
			return nil
		}
		_, err := fmt.Fprintf(out, "%s\t%.4f\t%s\n", r.Path, r.Score, r.Verdict)
		return err
	})
	if err == nil && *asJSON {
		if results == nil {
			results = []spam.Result{} // [] rather than null
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		err = enc.Encode(results)
	}
	return err
}

// runHelp prints the overview, or the help of one command.
func runHelp(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "" {
		commands.Usage(out)
		return nil
	}
	c, ok := commands.Find(args[0])
	if !ok {
		return usageErr("no command %q\n\n%s", args[0], usage())
	}
	commands.Help(out, c)
	return nil
}

// runImport files a Maildir or mbox into an offline account of the store.
func runImport(c common, args []string, out io.Writer) error {
	fs := newFlags("import", &c)
	account := fs.String("account", "import", "offline account to import into")
	address := fs.String("address", "support@import.invalid", "the desk address of the export")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("usage: desk import PATH   (a Maildir or an mbox file)")
	}
	s, err := loadSetup(c)
	if err != nil {
		return err
	}
	for _, a := range s.accounts {
		if a.Name == *account {
			return usageErr("import: %q is a synced account; import into an account of its own (--account)", *account)
		}
	}
	src, err := importer.Open(pos[0])
	if err != nil {
		return usageErr("import: %v", err)
	}
	defer src.Close()
	st, err := s.openStore(false)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	total := ""
	if n := src.Total(); n >= 0 {
		total = fmt.Sprintf("/%d", n)
	}
	read := 0
	next := func() ([]byte, error) {
		raw, err := src.Next()
		if err == nil {
			read++
		}
		return raw, err
	}
	n, err := mail.Import(ctx, st, &mail.Account{Name: *account, Address: strings.ToLower(*address)}, next,
		func(int) { fmt.Fprintf(os.Stderr, "\rimport: %d%s read", read, total) })
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	fmt.Fprintf(out, "imported %d new of %d messages into account %q\n", n, read, *account)
	return nil
}

// runExport writes one ticket as an mbox.
func runExport(c common, args []string, out io.Writer) error {
	fs := newFlags("export", &c)
	outFile := fs.String("out", "", "write to this file instead of stdout")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	st, t, msgs, err := loadTicket(c, "export", pos)
	if err != nil {
		return err
	}
	defer st.Close()
	if *outFile != "" {
		f, err := os.OpenFile(*outFile, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	w := importer.NewMboxWriter(out)
	for _, m := range msgs {
		if err := w.Write(m.From, m.Date, mail.ExportMessage(t, m)); err != nil {
			return err
		}
	}
	return w.Flush()
}

// runServe serves the TUI over SSH: one store and one sync service for
// every session.
func runServe(c common, args []string) error {
	fs := newFlags("serve", &c)
	listen := fs.String("listen", "127.0.0.1:2222", "address to listen on")
	hostKey := fs.String("host-key", filepath.Join(xdgDir("XDG_DATA_HOME", ".local/share"), "desk", "ssh_host_ed25519"), "host key file")
	authKeys := fs.String("authorized-keys", filepath.Join(xdgDir("XDG_CONFIG_HOME", ".config"), "desk", "authorized_keys"), "staff keys")
	idle := fs.Duration("idle", 30*time.Minute, "idle timeout")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	s, err := loadSetup(c)
	if err != nil {
		return err
	}
	var session tui.Options // the config's sections, staff, keys and macros
	if err := configureTUI(s, &session); err != nil {
		return err
	}
	session.SaveSection = nil // a session never writes the server's config file
	session.Sections, session.Staff = viewsAndStaff(s.cfg)
	st, err := s.openStore(len(s.accounts) == 0)
	if err != nil {
		return err
	}
	defer st.Close()
	log, closeLog := logger(c.debug)
	defer closeLog()
	if err := os.MkdirAll(filepath.Dir(*hostKey), 0o700); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	srv, err := serve.New(serve.Options{Store: st, HostKeyPath: *hostKey, AuthorizedKeys: *authKeys,
		IdleTimeout: *idle, Title: "desk — " + ln.Addr().String(), Log: log, Session: session})
	if err != nil {
		return usageErr("%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	svc := mail.NewService(st, s.accounts, srv.Notify, log)
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.Run(ctx)
	}()
	fmt.Fprintf(os.Stderr, "desk: serving on %s (keys: %s)\n", ln.Addr(), *authKeys)
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	err = srv.Serve(ln)
	stop()
	<-done
	return err
}

// runInit asks for the account, tests the connection with the secret it
// names, and only then writes the config file (mode 0600).
func runInit(c common, args []string, stdin io.Reader, out io.Writer) error {
	fs := newFlags("init", &c)
	force := fs.Bool("force", false, "overwrite an existing config file")
	tlsMode := fs.String("tls", "", `"none" for a plain-text test server on loopback`)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	path := c.config
	if path == "" {
		path = filepath.Join(xdgDir("XDG_CONFIG_HOME", ".config"), "desk", "config.toml")
	}
	if _, err := os.Stat(path); err == nil && !*force {
		return usageErr("init: %s exists (--force overwrites it)", path)
	}
	f, isFile := stdin.(*os.File)
	accessible := !isFile || !term.IsTerminal(f.Fd())
	var ans initflow.Answers
	if err := initflow.Ask(stdin, out, accessible, &ans); err != nil {
		return usageErr("init: %v", err)
	}
	projects, _ := initflow.ParseProjects(ans.Projects)
	a := &mail.Account{Name: "desk", Address: strings.ToLower(ans.Address), IMAP: ans.IMAP, SMTP: ans.SMTP,
		User: ans.User, TLS: *tlsMode, ProjectNames: projects}
	switch ans.SecretSource {
	case initflow.PasswordEnv:
		a.PasswordEnv = ans.Secret
	case initflow.OAuthTokenCmd:
		a.OAuthTokenCmd = ans.Secret
	default:
		a.PasswordCmd = ans.Secret
	}
	if err := a.Validate(); err != nil {
		return usageErr("init: %v", err)
	}
	fmt.Fprintf(out, "Testing %s and %s as %s…\n", a.IMAP, a.SMTP, a.User)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := a.Check(ctx); err != nil {
		return fmt.Errorf("init: the connection test failed, nothing written: %w", err)
	}
	text, err := config.Render(config.Staff{Name: ans.StaffName, Address: ans.StaffAddress}, a)
	if err != nil {
		return err
	}
	if _, err := config.Parse(path, text); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(path, text, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(path, 0o600); err != nil { // an overwritten file keeps its mode
		return err
	}
	fmt.Fprintf(out, "Connection works. Wrote %s.\nNext: `desk sync --once`, then `desk`.\n", path)
	return nil
}

// runDev runs developer tools: `desk dev seed --tickets N --db PATH` fills
// a store with deterministic benchmark data.
func runDev(c common, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "seed" {
		return usageErr("usage: desk dev seed --tickets N --db PATH [--seed S]")
	}
	fs := newFlags("dev seed", &c)
	n := fs.Int("tickets", 1000, "how many tickets to add")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same tickets")
	if _, err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if c.db == "" {
		return usageErr("dev seed: --db PATH is required (it never seeds your real store by default)")
	}
	st, err := store.Open(c.db)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	// Dates are anchored at today's midnight: the same seed gives the same
	// data all day.
	now := time.Now().Truncate(24 * time.Hour)
	if err := st.Seed(context.Background(), store.SeedOptions{Tickets: *n, Seed: *seed, Now: now}); err != nil {
		return err
	}
	fmt.Fprintf(out, "seeded %d tickets into %s in %s\n", *n, c.db, time.Since(start).Round(time.Millisecond))
	return nil
}

// runAttachment lists a ticket's attachments, numbered across its
// messages, or saves one: the store keeps only their names, so the message
// is fetched from the mailbox and the part written under its safe name.
func runAttachment(c common, args []string, out io.Writer) error {
	fs := newFlags("attachment", &c)
	dir := fs.String("out", ".", "directory to save into")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || len(pos) > 2 {
		return usageErr("usage: desk attachment N [I] [--out DIR]")
	}
	st, t, msgs, err := loadTicket(c, "attachment", pos[:1])
	if err != nil {
		return err
	}
	defer st.Close()
	type located struct {
		msg   *store.Message
		index int
	}
	var all []located
	for _, m := range msgs {
		for i, a := range m.Attachments {
			all = append(all, located{m, i})
			if len(pos) == 1 {
				fmt.Fprintf(out, "%d\t%s\t%s\t%d bytes\t%s %s\n", len(all), sanitize.Line(a.Filename),
					sanitize.Line(a.ContentType), a.Size, sanitize.Line(m.From), m.Date.Local().Format("2006-01-02 15:04"))
			}
		}
	}
	if len(pos) == 1 {
		if len(all) == 0 {
			fmt.Fprintf(out, "ticket #%d has no attachments\n", t.Number)
		}
		return nil
	}
	i, err := strconv.Atoi(pos[1])
	if err != nil || i < 1 || i > len(all) {
		return usageErr("attachment: %q is not one of 1..%d (desk attachment %d lists them)", pos[1], len(all), t.Number)
	}
	pick := all[i-1]
	if pick.msg.UID == 0 {
		return fmt.Errorf("attachment: the message is not in the mailbox (yet): sync first")
	}
	s, err := loadSetup(c)
	if err != nil {
		return err
	}
	log, closeLog := logger(c.debug)
	defer closeLog()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	raw, err := mail.NewService(st, s.accounts, nil, log).FetchRaw(ctx, t.Account, pick.msg.UID)
	if err != nil {
		return fmt.Errorf("attachment: %w", err)
	}
	path, err := mail.SaveAttachment(raw, pick.index, *dir)
	if err != nil {
		return fmt.Errorf("attachment: %w", err)
	}
	fmt.Fprintln(out, path)
	return nil
}
