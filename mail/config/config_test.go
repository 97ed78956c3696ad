package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const good = `[staff]
name = "Ana Lima"
address = "ana@example.com"

[accounts.work]
address = "support@example.com"
imap = "imaps://imap.example.com"
smtp = "smtps://smtp.example.com"
user = "support@example.com"
password_cmd = "secret-tool lookup service desk account work"

[accounts.work.projects]
billing = "Billing"

[accounts.work.projects.app]
name = "The App"
staff = ["Ana Lima", "Bo"]
views = { urgent = "label:urgent" }

[accounts.gmail]
address = "help@example.org"
imap = "imaps://imap.gmail.com"
smtp = "smtps://smtp.gmail.com"
user = "help@example.org"
oauth_token_cmd = "oauth2-token help@example.org"
`

func TestParseGood(t *testing.T) {
	cfg, err := Parse("c.toml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Staff.String(); got != "Ana Lima <ana@example.com>" {
		t.Errorf("staff = %s", got)
	}
	if len(cfg.Accounts) != 2 || cfg.Accounts[0].Name != "gmail" || cfg.Accounts[1].Name != "work" {
		t.Fatalf("accounts = %+v", cfg.Accounts)
	}
	if !cfg.Accounts[0].OAuth() || cfg.Accounts[1].OAuth() {
		t.Error("oauth_token_cmd not carried to the account")
	}
	work := cfg.Accounts[1]
	if len(work.Projects) != 2 || work.ProjectNames["app"] != "The App" || work.ProjectNames["billing"] != "Billing" {
		t.Fatalf("projects = %+v names %v", work.Projects, work.ProjectNames)
	}
	app := work.Projects[0]
	if app.Tag != "app" || len(app.Staff) != 2 || app.Views["urgent"] != "label:urgent" {
		t.Errorf("app project = %+v", app)
	}
	if work.Mailbox != "INBOX" {
		t.Errorf("defaults not filled: mailbox %q", work.Mailbox)
	}
}

// TestParseErrors edits the good config one way each and checks that the
// error names the file, line and key.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ from, to, want string }{
		{"password_cmd =", "pasword_cmd =",
			`c.toml:10: accounts.work.pasword_cmd: unknown key (did you mean "password_cmd"?)`},
		{`address = "ana@`, `adress = "ana@`,
			`c.toml:3: staff.adress: unknown key (did you mean "address"?)`},
		{`staff = ["Ana`, `staf = ["Ana`,
			`c.toml:17: accounts.work.projects.app.staf: unknown key (did you mean "staff"?)`},
		{"[staff]", "[staf]",
			`c.toml:1: staf: unknown key (did you mean "staff"?)`},
		{"password_cmd = \"secret-tool", "password = \"hunter2\"\npassword_cmd = \"secret-tool",
			`c.toml:10: accounts.work.password: plaintext passwords are refused`},
		{"password_cmd =", "password_env = \"X\"\npassword_cmd =",
			`c.toml:5: accounts.work: set exactly one of password_cmd, password_env, oauth_token_cmd (found 2)`},
		{`billing = "Billing"`, "billing = \"Billing\"\nbroken = ", `c.toml:14`},
		{`billing = "Billing"`, "billing = \"Billing\"\n\"Sales+x\" = \"S\"", `c.toml:14: accounts.work.projects.Sales+x: project tag`},
		{`imap = "imaps://imap.example.com"`, `imap = "pop3://imap.example.com"`,
			`c.toml:7: accounts.work.imap: imap URL "pop3://imap.example.com": scheme must be imap or imaps`},
		{`address = "support@example.com"`, `address = "support+x@example.com"`,
			`c.toml:6: accounts.work.address: address "support+x@example.com" is not a plain address`},
		{`address = "ana@example.com"`, `address = "Ana <ana@example.com>"`,
			`c.toml:3: staff.address: "Ana <ana@example.com>" is not a plain address`},
		{`smtp = "smtps://smtp.example.com"`, ``, `c.toml:5: accounts.work: missing key "smtp"`},
		{`imap = "imaps://imap.example.com"`, "imap = \"imaps://imap.example.com\"\ntls = \"none\"",
			`c.toml:8: accounts.work.tls: tls = "none" is only accepted for loopback hosts`},
		{`staff = ["Ana Lima", "Bo"]`, `staff = "Bo"`, `c.toml:15: accounts.work.projects.app: want a display name or a table`},
	} {
		text := strings.Replace(good, tc.from, tc.to, 1)
		_, err := Parse("c.toml", []byte(text))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s → %s:\nerror = %v\nwant prefix %s", tc.from, tc.to, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestLoadRefusesReadableConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "readable by others (mode 0644)") || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("error = %v", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Fatal(err)
	}
	// With no account there is no secret source to protect.
	if err := os.WriteFile(path, []byte("[staff]\nname = \"Ana\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Fatal(err)
	}
}

func TestSuggest(t *testing.T) {
	for in, want := range map[string]string{"imaps": "imap", "pasword_env": "password_env", "oauth_token": "oauth_token_cmd", "zzzzzz": ""} {
		if got := suggest(in, accountKeys); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAccountExtras(t *testing.T) {
	text := strings.Replace(good, "[accounts.work.projects]\n", `authserv_id = "mx.example.com"
sender = false
staff_addresses = ["ana@example.com"]
from_format = "%{AGENT} at %{PROJECT}"
aliases = { "Billing@Example.com" = "billing" }

[accounts.work.spam]
allow = ["partner.example"]
block = ["spam.example"]

[accounts.work.projects]
`, 1)
	cfg, err := Parse("c.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Accounts[1]
	if a.AuthservID != "mx.example.com" || a.Sender == nil || *a.Sender || a.Aliases["billing@example.com"] != "billing" ||
		len(a.Staff) != 1 || a.Send.FromFormat != "%{AGENT} at %{PROJECT}" || a.Spam.Allow[0] != "partner.example" || a.Spam.Block[0] != "spam.example" {
		t.Fatalf("account %+v", a.Account)
	}
	bad := strings.Replace(text, `"billing" }`, `"sales" }`, 1)
	if _, err := Parse("c.toml", []byte(bad)); err == nil || !strings.HasPrefix(err.Error(), `c.toml:16: accounts.work.aliases.Billing@Example.com: project "sales" is not in`) {
		t.Fatalf("alias to an unknown project: %v", err)
	}
	typo := strings.Replace(text, "block =", "blok =", 1)
	if _, err := Parse("c.toml", []byte(typo)); err == nil || !strings.Contains(err.Error(), `accounts.work.spam.blok: unknown key (did you mean "block"?)`) {
		t.Fatalf("typo in spam table: %v", err)
	}
}

// TestReadmeExample: the configuration shown in the README is valid.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "## Configuration\n")
	_, rest, ok2 := strings.Cut(rest, "```toml\n")
	block, _, ok3 := strings.Cut(rest, "```\n")
	if !ok || !ok2 || !ok3 {
		t.Fatal("no toml block under ## Configuration in README.md")
	}
	cfg, err := Parse("README.md", []byte(block))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Accounts) != 1 || len(cfg.Accounts[0].Projects) != 2 {
		t.Fatalf("README config: %+v", cfg.Accounts)
	}
}

// TestOutboundOptions: per-project notice switches and limits reach the
// account, and a template with an unknown placeholder stops start-up.
func TestOutboundOptions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	text := strings.Replace(good, `views = { urgent = "label:urgent" }`,
		"views = { urgent = \"label:urgent\" }\nthank_you = false\nclosed = true", 1)
	text = strings.Replace(text, `password_cmd = "secret-tool lookup service desk account work"`,
		"password_cmd = \"secret-tool lookup service desk account work\"\nsender_per_hour = 3\nfrom_format = \"%{AGENT} for %{PROJECT}\"", 1)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var work *Account
	for _, a := range cfg.Accounts {
		if a.Name == "work" {
			work = a
		}
	}
	app := work.Send.Projects["app"]
	if app.ThankYou == nil || *app.ThankYou || app.Closed == nil || !*app.Closed || work.Send.SenderPerHour != 3 || work.Send.Templates == nil {
		t.Fatalf("outbound options not applied: %+v", work.Send)
	}
	if err := os.MkdirAll(filepath.Join(dir, "templates", "app"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "templates", "app", "thank_you.md"), []byte("Hi %{ISSUE_IDD}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "ISSUE_IDD") {
		t.Fatalf("unknown placeholder: got %v", err)
	}
	bad := strings.Replace(text, "%{AGENT} for %{PROJECT}", "%{AGENT} for %{TEAM}", 1)
	if _, err := Parse(path, []byte(bad)); err == nil || !strings.Contains(err.Error(), "TEAM") {
		t.Fatalf("bad from_format: got %v", err)
	}
}

// ui is a config of the interface's tables only.
const ui = `# my desk
[staff]
name = "Ana"

[[sections]]
title = "Urgent"
query = "label:urgent status:unsolved"
limit = 50

[[sections]]
title = "Billing"
query = "project:billing"
sort = "created asc"

[keys.list]
reply = "R"
note = ["N", "ctrl+n"]

[[commands]]
key = "O"
name = "open in CRM"
run = "xdg-open https://crm.example.com/{{.Requester}}"
`

func TestParseUI(t *testing.T) {
	cfg, err := Parse("c.toml", []byte(ui))
	if err != nil {
		t.Fatal(err)
	}
	want := []Section{{Title: "Urgent", Query: "label:urgent status:unsolved", Limit: 50, Line: 5},
		{Title: "Billing", Query: "project:billing", Sort: "created asc", Line: 10}}
	if fmt.Sprint(cfg.Sections) != fmt.Sprint(want) {
		t.Errorf("sections = %+v\nwant %+v", cfg.Sections, want)
	}
	keys := []KeyRemap{{Context: "list", Action: "note", Keys: []string{"N", "ctrl+n"}, Line: 17},
		{Context: "list", Action: "reply", Keys: []string{"R"}, Line: 16}}
	if fmt.Sprint(cfg.Keys) != fmt.Sprint(keys) {
		t.Errorf("keys = %+v\nwant %+v", cfg.Keys, keys)
	}
	cmds := []Command{{Key: "O", Name: "open in CRM", Run: "xdg-open https://crm.example.com/{{.Requester}}", Line: 19}}
	if fmt.Sprint(cfg.Commands) != fmt.Sprint(cmds) {
		t.Errorf("commands = %+v\nwant %+v", cfg.Commands, cmds)
	}
}

// TestSectionSorts: every order the store reads, in either direction, is
// a section's sort as written.
func TestSectionSorts(t *testing.T) {
	for _, sort := range []string{"updated", "updated asc", "created", "number desc", "requester", "requester desc", "status", "Status DESC"} {
		cfg, err := Parse("c.toml", []byte(strings.Replace(ui, `sort = "created asc"`, `sort = "`+sort+`"`, 1)))
		if err != nil {
			t.Errorf("sort = %q: %v", sort, err)
		} else if cfg.Sections[1].Sort != sort {
			t.Errorf("sort = %q read as %q", sort, cfg.Sections[1].Sort)
		}
	}
}

func TestParseUIErrors(t *testing.T) {
	for _, tc := range []struct{ from, to, want string }{
		{`title = "Billing"`, `title = ""`, `c.toml:10: sections.title: a section needs a title`},
		{`title = "Billing"`, `title = "urgent"`, `c.toml:10: sections.title: section "urgent" is defined twice`},
		{`query = "project:billing"`, `query = "project:billing from:\"x"`, `c.toml:10: sections.query: "project:billing from:\"x": `},
		{`sort = "created asc"`, `sort = "priority"`, `c.toml:10: sections.sort: unknown order "priority" (want one of updated, created, number, requester, status, optionally followed by asc or desc)`},
		{`sort = "created asc"`, `sort = "-created"`, `c.toml:10: sections.sort: unknown order "-created"`},
		{`sort = "created asc"`, `sort = "status up"`, `c.toml:10: sections.sort: order "status up": want asc or desc after status, not "up"`},
		{`sort = "created asc"`, `sort = "number desc asc"`, `c.toml:10: sections.sort: unknown order "number desc asc"`},
		{`limit = 50`, `limit = -1`, `c.toml:5: sections.limit: want a positive number`},
		{`limit = 50`, `limti = 50`, `c.toml:8: sections.limti: unknown key (did you mean "limit"?)`},
		{`reply = "R"`, `reply = 3`, `c.toml:16: keys.list.reply: want a key or a list of keys`},
		{`reply = "R"`, `reply = []`, `c.toml:16: keys.list.reply: want a key or a list of keys`},
		{`key = "O"`, `key = ""`, `c.toml:19: commands.key: a command needs a key`},
		{`run = "xdg-open`, `rnu = "xdg-open`, `c.toml:22: commands.rnu: unknown key (did you mean "run"?)`},
	} {
		text := strings.Replace(ui, tc.from, tc.to, 1)
		_, err := Parse("c.toml", []byte(text))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s → %s:\nerror = %v\nwant prefix %s", tc.from, tc.to, err, tc.want)
		}
	}
}

// TestAppendSection: a saved section is appended, the rest of the file
// (comments, mode) stays, and reloading the file finds it.
func TestAppendSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	text := strings.TrimSuffix(good, "\n") // no final newline: one is added
	text = "# keep this comment\n" + text
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := AppendSection(path, Section{Title: `Late "VIP"`, Query: `label:vip updated:>2d`, Limit: 10}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), text+"\n") {
		t.Fatalf("the old text changed:\n%s", data)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("mode changed: %v %v", info.Mode(), err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sections) != 1 || cfg.Sections[0].Title != `Late "VIP"` || cfg.Sections[0].Query != "label:vip updated:>2d" || cfg.Sections[0].Limit != 10 {
		t.Fatalf("sections after reload: %+v", cfg.Sections)
	}
	// A second section of the same title would break the file: refused,
	// and the file is left as it was.
	if err := AppendSection(path, Section{Title: `late "vip"`, Query: "is:unread"}); err == nil || !strings.Contains(err.Error(), "defined twice") {
		t.Fatalf("duplicate title: %v", err)
	}
	again, _ := os.ReadFile(path)
	if string(again) != string(data) {
		t.Fatalf("a refused save changed the file:\n%s", again)
	}
}
