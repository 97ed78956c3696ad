// Package config reads and validates desk's TOML configuration: the staff
// identity, one or more accounts, the projects of each account, and the
// interface's sections, key remaps and custom commands. Every
// error names the file, the line and the key; an unknown key is an error
// with a "did you mean" hint. Secrets are never in the file: a config that
// names a secret source must not be readable by group or others.
package config

import (
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	deskmail "desk/mail"
	"desk/store"
)

// Config is a validated configuration.
type Config struct {
	Path     string
	Staff    Staff
	Accounts []*Account // sorted by name
	// Sections are the [[sections]] tables, in file order.
	Sections []Section
	// Keys are the [keys.CONTEXT] remaps, sorted by context and action;
	// the interface checks the action names (config knows no actions).
	Keys []KeyRemap
	// Commands are the [[commands]] tables, in file order.
	Commands []Command
}

// Staff is who this desk works as: the author of replies and notes, and the
// name tickets are assigned to.
type Staff struct {
	Name    string
	Address string // optional; shown with the name
}

// String is "Name <address>" or just the name.
func (s Staff) String() string {
	if s.Address == "" {
		return s.Name
	}
	return s.Name + " <" + s.Address + ">"
}

// Account is one [accounts.NAME] table: the mail account and its projects.
type Account struct {
	*deskmail.Account
	Projects []Project // sorted by tag
}

// Project is one [accounts.NAME.projects.TAG] entry: a sub-address tag
// (support+TAG@…) with its display name, the staff who work it and saved
// views. (Templates of automated mail are files under the config
// directory: templates/<project>/<notice>.md.)
type Project struct {
	Tag   string
	Name  string
	Staff []string // staff names; empty means everyone
	// Views maps a saved view's name to its search query.
	Views map[string]string
}

// file mirrors the TOML layout.
type file struct {
	Staff    staffTable                `toml:"staff"`
	Accounts map[string]accountTable   `toml:"accounts"`
	Sections []sectionTable            `toml:"sections"`
	Keys     map[string]map[string]any `toml:"keys"`
	Commands []commandTable            `toml:"commands"`
}

type staffTable struct {
	Name    string `toml:"name"`
	Address string `toml:"address"`
}

type accountTable struct {
	Address        string                    `toml:"address"`
	IMAP           string                    `toml:"imap"`
	SMTP           string                    `toml:"smtp"`
	User           string                    `toml:"user"`
	PasswordCmd    string                    `toml:"password_cmd"`
	PasswordEnv    string                    `toml:"password_env"`
	OAuthTokenCmd  string                    `toml:"oauth_token_cmd"`
	CAFile         string                    `toml:"ca_file"`
	TLS            string                    `toml:"tls"`
	Mailbox        string                    `toml:"mailbox"`
	DefaultProject string                    `toml:"default_project"`
	SupportBotName string                    `toml:"support_bot_name"`
	Aliases        map[string]string         `toml:"aliases"`
	StaffAddresses []string                  `toml:"staff_addresses"`
	AuthservID     string                    `toml:"authserv_id"`
	Sender         *bool                     `toml:"sender"`
	FromFormat     string                    `toml:"from_format"`
	SystemHeader   string                    `toml:"system_header"`
	SystemFooter   string                    `toml:"system_footer"`
	MaxParticip    int                       `toml:"max_participants"`
	SenderPerHour  int                       `toml:"sender_per_hour"`
	ProjectPerHour int                       `toml:"project_per_hour"`
	Spam           spamTable                 `toml:"spam"`
	Projects       map[string]toml.Primitive `toml:"projects"`
}

type spamTable struct {
	Allow []string `toml:"allow"`
	Block []string `toml:"block"`
	Junk  string   `toml:"junk"`
}

type projectTable struct {
	Name  string            `toml:"name"`
	Staff []string          `toml:"staff"`
	Views map[string]string `toml:"views"`
	deskmail.ProjectOptions
}

// Keys of each kind of table, for unknown-key hints.
var (
	topKeys     = []string{"staff", "accounts", "sections", "keys", "commands"}
	staffKeys   = []string{"name", "address"}
	accountKeys = []string{"address", "imap", "smtp", "user", "password_cmd", "password_env", "oauth_token_cmd",
		"ca_file", "tls", "mailbox", "default_project", "support_bot_name", "aliases", "staff_addresses",
		"authserv_id", "sender", "from_format", "system_header", "system_footer", "max_participants",
		"sender_per_hour", "project_per_hour", "spam", "projects"}
	spamKeys    = []string{"allow", "block", "junk"}
	projectKeys = []string{"name", "staff", "views", "thank_you", "new_note", "closed", "reopen_on_reply", "new_participant"}
)

// Error is a configuration error at a place in the file.
type Error struct {
	Path string
	Line int    // 0 when the place is the whole file
	Key  string // dotted key, "" when none
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Load reads, checks and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Path: path, Msg: errors.Unwrap(err).Error()}
	}
	cfg, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	if err := checkMode(path, cfg); err != nil {
		return nil, err
	}
	// Templates of automated mail live beside the file; a bad placeholder
	// is an error now, not a surprise in a customer's inbox.
	tmpl, err := deskmail.LoadTemplates(filepath.Join(filepath.Dir(path), "templates"))
	if err != nil {
		return nil, &Error{Path: path, Msg: err.Error()}
	}
	for _, a := range cfg.Accounts {
		a.Send.Templates = tmpl
	}
	return cfg, nil
}

// checkMode refuses a file readable by group or others when it names a
// secret source: the commands and variable names it holds lead to the
// mailbox password.
func checkMode(path string, cfg *Config) error {
	if len(cfg.Accounts) == 0 {
		return nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return &Error{Path: path, Msg: err.Error()}
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return &Error{Path: path, Msg: fmt.Sprintf("readable by others (mode %04o) and names a secret source: run  chmod 600 %s", perm, path)}
	}
	return nil
}

// Parse validates the TOML text data read from path (used in messages).
func Parse(path string, data []byte) (*Config, error) {
	lines := keyLines(string(data))
	errAt := func(key []string, format string, args ...any) error {
		k := strings.Join(key, ".")
		// A key inside an inline table has no line of its own: use the
		// line of the nearest enclosing key.
		line := 0
		for n := len(key); n > 0 && line == 0; n-- {
			line = lines[strings.Join(key[:n], ".")]
		}
		return &Error{Path: path, Line: line, Key: k, Msg: fmt.Sprintf(format, args...)}
	}
	var f file
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, &Error{Path: path, Line: perr.Position.Line, Key: perr.LastKey, Msg: perr.Message}
		}
		return nil, &Error{Path: path, Msg: err.Error()}
	}
	cfg := &Config{Path: path, Staff: Staff{Name: f.Staff.Name, Address: f.Staff.Address}}
	if cfg.Staff.Address != "" {
		if a, err := mail.ParseAddress(cfg.Staff.Address); err != nil || a.Name != "" {
			return nil, errAt([]string{"staff", "address"}, "%q is not a plain address like ana@example.com", cfg.Staff.Address)
		}
	}
	// A misspelt key is reported before the missing key it was meant to
	// be; keys inside projects are known only once those decode, below.
	for _, key := range md.Undecoded() {
		if len(key) < 4 || key[0] != "accounts" || key[2] != "projects" {
			return nil, unknownKey(key, errAt)
		}
	}
	names := make([]string, 0, len(f.Accounts))
	for name := range f.Accounts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		acct, err := parseAccount(md, name, f.Accounts[name], errAt)
		if err != nil {
			return nil, err
		}
		cfg.Accounts = append(cfg.Accounts, acct)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, unknownKey(und[0], errAt)
	}
	if err := parseUI(cfg, &f, string(data), lines, errAt); err != nil {
		return nil, err
	}
	return cfg, nil
}

func parseAccount(md toml.MetaData, name string, t accountTable, errAt func([]string, string, ...any) error) (*Account, error) {
	at := func(key string) []string { return []string{"accounts", name, key} }
	a := &deskmail.Account{Name: name, Address: t.Address, IMAP: t.IMAP, SMTP: t.SMTP, User: t.User,
		PasswordCmd: t.PasswordCmd, PasswordEnv: t.PasswordEnv, OAuthTokenCmd: t.OAuthTokenCmd,
		CAFile: t.CAFile, TLS: t.TLS, Mailbox: t.Mailbox, DefaultProject: t.DefaultProject,
		SupportBotName: t.SupportBotName, ProjectNames: map[string]string{}, Aliases: map[string]string{},
		Staff: t.StaffAddresses, AuthservID: t.AuthservID, Sender: t.Sender,
		Send: deskmail.SendOptions{FromFormat: t.FromFormat, SystemHeader: t.SystemHeader, SystemFooter: t.SystemFooter,
			MaxParticipants: t.MaxParticip, SenderPerHour: t.SenderPerHour, ProjectPerHour: t.ProjectPerHour,
			Projects: map[string]deskmail.ProjectOptions{}}, Spam: deskmail.SpamOptions{Allow: t.Spam.Allow, Block: t.Spam.Block, Junk: t.Spam.Junk}}
	for addr, tag := range t.Aliases {
		if _, ok := t.Projects[tag]; !ok && tag != t.DefaultProject {
			return nil, errAt(append(at("aliases"), addr), "project %q is not in [accounts.%s.projects]", tag, name)
		}
		a.Aliases[strings.ToLower(addr)] = tag
	}
	for _, k := range []string{"address", "imap", "smtp", "user"} {
		if !md.IsDefined(at(k)...) {
			return nil, errAt([]string{"accounts", name}, "missing key %q", k)
		}
	}
	sources := 0
	for _, s := range []string{t.PasswordCmd, t.PasswordEnv, t.OAuthTokenCmd} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		return nil, errAt([]string{"accounts", name}, "set exactly one of password_cmd, password_env, oauth_token_cmd (found %d)", sources)
	}
	if err := a.Send.Check(); err != nil {
		return nil, errAt(at("from_format"), "%v", err)
	}
	if err := a.Validate(); err != nil {
		// Validate names the account; point at the key it complains of.
		key := []string{"accounts", name}
		for _, k := range []string{"tls", "imap", "smtp", "address"} {
			if strings.Contains(err.Error(), k) {
				key = at(k)
				break
			}
		}
		return nil, errAt(key, "%s", strings.TrimPrefix(err.Error(), "account "+name+": "))
	}
	acct := &Account{Account: a}
	tags := make([]string, 0, len(t.Projects))
	for tag := range t.Projects {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	for _, tag := range tags {
		key := append(at("projects"), tag)
		if tag == "" || strings.ContainsAny(tag, "+@ \t") || strings.ToLower(tag) != tag {
			return nil, errAt(key, "project tag %q: want lower case, no '+', '@' or spaces", tag)
		}
		p := Project{Tag: tag}
		prim := t.Projects[tag]
		var pt projectTable
		if err := md.PrimitiveDecode(prim, &p.Name); err != nil {
			if err := md.PrimitiveDecode(prim, &pt); err != nil {
				return nil, errAt(key, "want a display name or a table of %s", strings.Join(projectKeys, ", "))
			}
			p.Name, p.Staff, p.Views = pt.Name, pt.Staff, pt.Views
			a.Send.Projects[tag] = pt.ProjectOptions
		}
		if p.Name != "" {
			a.ProjectNames[tag] = p.Name
		}
		acct.Projects = append(acct.Projects, p)
	}
	return acct, nil
}

// unknownKey is the error for a key no table has, with the closest known
// key of that table as a hint.
func unknownKey(key toml.Key, errAt func([]string, string, ...any) error) error {
	var known []string
	switch {
	case len(key) == 1:
		known = topKeys
	case key[0] == "staff" && len(key) == 2:
		known = staffKeys
	case key[0] == "accounts" && len(key) == 3:
		known = accountKeys
	case key[0] == "accounts" && len(key) == 4 && key[2] == "spam":
		known = spamKeys
	case key[0] == "accounts" && len(key) == 5 && key[2] == "projects":
		known = projectKeys
	case key[0] == "sections" && len(key) == 2:
		known = sectionKeys
	case key[0] == "commands" && len(key) == 2:
		known = commandKeys
	}
	last := key[len(key)-1]
	if last == "password" && len(key) == 3 && key[0] == "accounts" {
		return errAt(key, "plaintext passwords are refused: use password_cmd (e.g. \"secret-tool lookup service desk account %s\"), password_env or oauth_token_cmd", key[1])
	}
	msg := "unknown key"
	if s := suggest(last, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return errAt(key, "%s", msg)
}

// suggest is the known key closest to k, if it is close enough to be a
// likely typo.
func suggest(k string, known []string) string {
	best, bestDist := "", len(k)/2+2
	for _, c := range known {
		if d := distance(k, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// distance is the Levenshtein edit distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// keyLines maps each dotted key of a TOML text (tables and key/value
// lines) to the line it is defined on. It understands bare and quoted
// keys, [table] headers and dotted keys; enough to place an error.
func keyLines(text string) map[string]int {
	lines := map[string]int{}
	var table []string
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#':
			continue
		case strings.HasPrefix(line, "["):
			inner := strings.Trim(strings.SplitN(line, "]", 2)[0], "[]")
			table = splitKey(inner)
			setLine(lines, strings.Join(table, "."), i+1)
		default:
			k, _, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			full := append(append([]string{}, table...), splitKey(k)...)
			setLine(lines, strings.Join(full, "."), i+1)
		}
	}
	return lines
}

func setLine(lines map[string]int, key string, n int) {
	if _, ok := lines[key]; !ok {
		lines[key] = n
	}
}

// splitKey splits a dotted TOML key, unquoting its parts.
func splitKey(k string) []string {
	var parts []string
	var cur strings.Builder
	quote := byte(0)
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		case c != ' ' && c != '\t':
			cur.WriteByte(c)
		}
	}
	return append(parts, strings.TrimSpace(cur.String()))
}

// Render is the TOML text of a config with one account, as `desk init`
// writes it. It holds where the secret comes from, never a secret.
func Render(staff Staff, a *deskmail.Account) ([]byte, error) {
	type account struct {
		Address       string            `toml:"address"`
		IMAP          string            `toml:"imap"`
		SMTP          string            `toml:"smtp"`
		User          string            `toml:"user"`
		PasswordCmd   string            `toml:"password_cmd,omitempty"`
		PasswordEnv   string            `toml:"password_env,omitempty"`
		OAuthTokenCmd string            `toml:"oauth_token_cmd,omitempty"`
		CAFile        string            `toml:"ca_file,omitempty"`
		TLS           string            `toml:"tls,omitempty"`
		Projects      map[string]string `toml:"projects,omitempty"`
	}
	out := struct {
		Staff    staffTable         `toml:"staff"`
		Accounts map[string]account `toml:"accounts"`
	}{
		Staff: staffTable{Name: staff.Name, Address: staff.Address},
		Accounts: map[string]account{a.Name: {Address: a.Address, IMAP: a.IMAP, SMTP: a.SMTP, User: a.User,
			PasswordCmd: a.PasswordCmd, PasswordEnv: a.PasswordEnv, OAuthTokenCmd: a.OAuthTokenCmd,
			CAFile: a.CAFile, TLS: a.TLS, Projects: a.ProjectNames}},
	}
	var b strings.Builder
	b.WriteString("# desk configuration, written by `desk init`. Keys: `desk help init`, README.\n\n")
	if err := toml.NewEncoder(&b).Encode(out); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// Section is one [[sections]] table: a titled query shown as a tab.
type Section struct {
	Title string
	Query string
	Sort  string // "key", "key asc" or "key desc" (store.ParseOrder); "" is newest activity first
	Limit int    // the most tickets the section shows; 0 means no limit
	Line  int    // where the table starts, for errors found later
}

// KeyRemap is one line of a [keys.CONTEXT] table: the keys an action of
// the interface is bound to in that context.
type KeyRemap struct {
	Context string // "list", "thread", "compose", …
	Action  string // "reply", "next_section", …
	Keys    []string
	Line    int
}

// Command is one [[commands]] table: a key that runs a shell command built
// from a text/template over the ticket's fields.
type Command struct {
	Key  string
	Name string
	Run  string
	Line int
}

type sectionTable struct {
	Title string `toml:"title"`
	Query string `toml:"query"`
	Sort  string `toml:"sort,omitempty"`
	Limit int    `toml:"limit,omitzero"`
}

type commandTable struct {
	Key  string `toml:"key"`
	Name string `toml:"name"`
	Run  string `toml:"run"`
}

var (
	sectionKeys = []string{"title", "query", "sort", "limit"}
	commandKeys = []string{"key", "name", "run"}
)

// ErrorAt is a configuration error at line of the file, for checks made
// outside this package (the interface checks key remaps).
func (c *Config) ErrorAt(line int, key, msg string) error {
	return &Error{Path: c.Path, Line: line, Key: key, Msg: msg}
}

// parseUI checks and copies the interface's tables: sections, key remaps
// and custom commands.
func parseUI(cfg *Config, f *file, text string, lines map[string]int, errAt func([]string, string, ...any) error) error {
	sectionLines, commandLines := tableLines(text, "sections"), tableLines(text, "commands")
	at := func(lines []int, i int) int {
		if i < len(lines) {
			return lines[i]
		}
		return 0
	}
	titles := map[string]bool{}
	for i, t := range f.Sections {
		line := at(sectionLines, i)
		fail := func(key, format string, args ...any) error {
			return &Error{Path: cfg.Path, Line: line, Key: "sections." + key, Msg: fmt.Sprintf(format, args...)}
		}
		title := strings.TrimSpace(t.Title)
		switch {
		case title == "":
			return fail("title", "a section needs a title")
		case titles[strings.ToLower(title)]:
			return fail("title", "section %q is defined twice", title)
		case t.Limit < 0:
			return fail("limit", "want a positive number of tickets, or no limit")
		}
		titles[strings.ToLower(title)] = true
		if _, err := store.ParseQuery(t.Query); err != nil {
			return fail("query", "%q: %v", t.Query, err)
		}
		if _, err := store.ParseOrder(t.Sort); err != nil {
			return fail("sort", "%v", err)
		}
		cfg.Sections = append(cfg.Sections, Section{Title: title, Query: t.Query, Sort: t.Sort, Limit: t.Limit, Line: line})
	}
	for i, t := range f.Commands {
		line := at(commandLines, i)
		fail := func(key, format string, args ...any) error {
			return &Error{Path: cfg.Path, Line: line, Key: "commands." + key, Msg: fmt.Sprintf(format, args...)}
		}
		switch {
		case t.Key == "":
			return fail("key", "a command needs a key")
		case strings.TrimSpace(t.Run) == "":
			return fail("run", "a command needs a shell command to run")
		}
		name := t.Name
		if name == "" {
			name = t.Run
		}
		cfg.Commands = append(cfg.Commands, Command{Key: t.Key, Name: name, Run: t.Run, Line: line})
	}
	contexts := make([]string, 0, len(f.Keys))
	for ctx := range f.Keys {
		contexts = append(contexts, ctx)
	}
	sort.Strings(contexts)
	for _, ctx := range contexts {
		actions := make([]string, 0, len(f.Keys[ctx]))
		for a := range f.Keys[ctx] {
			actions = append(actions, a)
		}
		sort.Strings(actions)
		for _, a := range actions {
			key := []string{"keys", ctx, a}
			keys, ok := stringList(f.Keys[ctx][a])
			if !ok || len(keys) == 0 {
				return errAt(key, `want a key or a list of keys, e.g. "R" or ["R", "ctrl+r"]`)
			}
			cfg.Keys = append(cfg.Keys, KeyRemap{Context: ctx, Action: a, Keys: keys, Line: lines[strings.Join(key, ".")]})
		}
	}
	return nil
}

// stringList is v as a list of non-empty strings: a string or an array of
// strings.
func stringList(v any) ([]string, bool) {
	switch v := v.(type) {
	case string:
		return []string{v}, v != ""
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// tableLines are the lines of each [[name]] header of a TOML text, in
// order: the place of each table of an array of tables.
func tableLines(text, name string) []int {
	var lines []int
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if inner, ok := strings.CutPrefix(line, "[["); ok {
			if inner, _, ok = strings.Cut(inner, "]]"); ok && strings.TrimSpace(inner) == name {
				lines = append(lines, i+1)
			}
		}
	}
	return lines
}

// AppendSection adds s as a [[sections]] table at the end of the file at
// path. The rest of the file, its comments and its mode are kept: the text
// is appended, never rewritten, and only once the whole file with it still
// parses.
func AppendSection(path string, s Section) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var add strings.Builder
	if len(old) > 0 && !strings.HasSuffix(string(old), "\n") {
		add.WriteString("\n")
	}
	add.WriteString("\n[[sections]]\n")
	enc := toml.NewEncoder(&add)
	if err := enc.Encode(sectionTable{Title: s.Title, Query: s.Query, Sort: s.Sort, Limit: s.Limit}); err != nil {
		return err
	}
	text := add.String()
	if _, err := Parse(path, append(append([]byte{}, old...), text...)); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
