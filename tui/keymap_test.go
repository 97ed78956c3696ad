package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"desk/mail/config"
)

var keyCtrlU = tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}

// TestDefaultKeys: the default bindings are valid in every context, and
// every action a context lists is a binding of the KeyMap.
func TestDefaultKeys(t *testing.T) {
	ks, err := NewKeys(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for ctx, actions := range contextActions {
		km := ks.of(ctx)
		for _, a := range actions {
			b, ok := actionField(&km, a)
			if !ok || len(b.Keys()) == 0 {
				t.Errorf("%s: action %q has no binding", ctx, a)
			}
		}
	}
	if got := ks.of(ctxCompose).Macro.Keys(); len(got) != 1 || got[0] != "ctrl+o" {
		t.Errorf("compose macro keys = %v, want ctrl+o (a letter is text there)", got)
	}
	if got := ks.of(ctxList).Macro.Keys(); len(got) != 1 || got[0] != "M" {
		t.Errorf("list macro keys = %v", got)
	}
}

func TestNewKeysErrors(t *testing.T) {
	crm := Command{Key: "O", Name: "open in CRM", Run: "xdg-open https://crm/{{.Requester}}", Line: 30}
	for _, tc := range []struct {
		name   string
		remaps []Remap
		cmds   []Command
		want   string
	}{
		{"unknown action", []Remap{{Context: "list", Action: "rply", Keys: []string{"R"}, Line: 12}}, nil,
			`line 12: keys.list.rply: unknown action "rply" in list (did you mean "reply"?)`},
		{"action of another context", []Remap{{Context: "list", Action: "send", Keys: []string{"R"}, Line: 3}}, nil,
			`line 3: keys.list.send: unknown action "send" in list`},
		{"unknown context", []Remap{{Context: "lsit", Action: "reply", Keys: []string{"R"}, Line: 4}}, nil,
			`line 4: keys.lsit: unknown context "lsit" (contexts: compose, confirm, list, prompt, search, thread)`},
		{"bound twice", []Remap{{Context: "list", Action: "reply", Keys: []string{"n"}, Line: 7}}, nil,
			`line 7: keys.list.reply: key "n" is bound to both reply and note in list`},
		{"two remaps on one key", []Remap{{Context: "thread", Action: "history", Keys: []string{"x"}, Line: 8},
			{Context: "thread", Action: "save", Keys: []string{"x"}, Line: 9}}, nil,
			`line 9: keys.thread.save: key "x" is bound to both history and save in thread`},
		{"not a key", []Remap{{Context: "list", Action: "reply", Keys: []string{"ctrl r"}, Line: 5}}, nil,
			`line 5: keys.list.reply: "ctrl r" is not a key`},
		{"command on a bound key", nil, []Command{{Key: "r", Name: "crm", Run: "true", Line: 20}},
			`line 20: commands: key "r" of command "crm" is bound to reply in list`},
		{"remap onto a command's key", []Remap{{Context: "thread", Action: "save", Keys: []string{"O"}, Line: 40}}, []Command{crm},
			`line 40: keys.thread.save: key "O" of command "open in CRM" is bound to save in thread`},
		{"two commands on one key", nil, []Command{crm, {Key: "O", Name: "other", Run: "true", Line: 35}},
			`line 35: commands: key "O" of command "other" is bound to open in CRM in list`},
		{"unknown field", nil, []Command{{Key: "O", Name: "crm", Run: "open {{.Email}}", Line: 21}},
			`line 21: commands.run: `},
		{"bad template", nil, []Command{{Key: "O", Name: "crm", Run: "open {{.Requester", Line: 22}},
			`line 22: commands.run: template: run:1: unclosed action`},
		{"placeholder in double quotes", nil, []Command{{Key: "O", Name: "crm", Run: `xdg-open "https://crm/?q={{.Subject}}"`, Line: 23}},
			`line 23: commands.run: a placeholder inside "…" quotes at column 26`},
		{"placeholder in single quotes", nil, []Command{{Key: "O", Name: "crm", Run: `echo "it's" \"{{.Number}}\" '#{{.Number}}'`, Line: 24}},
			`line 24: commands.run: a placeholder inside '…' quotes at column 31`},
	} {
		_, err := NewKeys(tc.remaps, tc.cmds)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: error = %v\nwant prefix %s", tc.name, err, tc.want)
		}
	}
	// Moving a key away first frees it for another action.
	_, err := NewKeys([]Remap{{Context: "list", Action: "note", Keys: []string{"N"}}, {Context: "list", Action: "reply", Keys: []string{"n"}}}, nil)
	if err != nil {
		t.Errorf("swap: %v", err)
	}
}

// TestRemappedKeys: a remapped key acts in its context only, and the hint
// line and the ? overlay show it.
func TestRemappedKeys(t *testing.T) {
	keys, err := NewKeys([]Remap{{Context: "list", Action: "reply", Keys: []string{"R"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	h := newHarnessOpts(t, f, 120, 30, Options{Author: "Dana", Title: "desk — test", Keys: keys})
	if s := h.screen(); !strings.Contains(s, "R reply") || strings.Contains(s, "r reply") {
		t.Fatalf("hint line does not show the remap:\n%s", s)
	}
	h.selectNumber(103)
	h.press(keyOf('r'))
	if h.m.compose != nil {
		t.Fatal("r still replies from the list")
	}
	h.press(keyOf('R'))
	if h.m.compose == nil || h.m.compose.kind != "reply" {
		t.Fatal("R does not reply from the list")
	}
	h.press(keyEsc, keyEsc) // leave the composer, then the thread
	h.press(keyEnter)
	h.press(keyOf('r')) // the thread keeps r
	if h.m.compose == nil {
		t.Fatal("the list's remap changed the thread")
	}
	h.press(keyEsc, keyEsc)

	h.press(keyOf('?'))
	h.typeText("reply")
	if s := h.screen(); !strings.Contains(s, "R              reply") {
		t.Fatalf("overlay does not show the remap:\n%s", s)
	}
	h.press(keyEnter) // runs the entry: R
	if h.m.compose == nil {
		t.Fatal("the overlay entry of the remapped key does nothing")
	}
}

// TestCustomCommandInHelp: custom commands are listed in the ? overlay of
// the list and the thread.
func TestCustomCommandInHelp(t *testing.T) {
	keys, err := NewKeys(nil, []Command{{Key: "O", Name: "open in CRM", Run: "true"}})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessOpts(t, newFixture(t), 100, 30, Options{Author: "Dana", Keys: keys})
	h.press(keyOf('?'))
	h.typeText("crm")
	if s := h.screen(); !strings.Contains(s, "O              open in CRM") {
		t.Fatalf("overlay lacks the command:\n%s", s)
	}
	var b key.Binding = keys.commands[0].binding()
	if b.Help().Key != "O" {
		t.Errorf("binding help = %+v", b.Help())
	}
}

// TestSaveSection: :save NAME writes the current query into the config as
// a section; reloading the config finds it, and the tab is there at once.
func TestSaveSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	orig := "# my desk\n[staff]\nname = \"Dana\" # me\n"
	if err := os.WriteFile(path, []byte(orig), 0o640); err != nil {
		t.Fatal(err)
	}
	save := func(s Section) error {
		return config.AppendSection(path, config.Section{Title: s.Title, Query: s.Query, Sort: s.Sort, Limit: s.Limit})
	}
	h := newHarnessOpts(t, newFixture(t), 100, 30, Options{Author: "Dana", SaveSection: save})
	h.press(keyOf('/'), keyCtrlU)
	h.typeText("label:vip")
	h.press(keyEnter, keyOf(':'))
	h.typeText("save VIP now")
	h.press(keyEnter)
	if h.m.flash != "saved section VIP now in the config" {
		t.Fatalf("flash = %q", h.m.flash)
	}
	if s := h.m.sections[h.m.sec]; s.Title != "VIP now" || s.Query != "label:vip" || h.m.total != 1 {
		t.Errorf("current section %+v with %d tickets", s.Section, h.m.total)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sections) != 1 || cfg.Sections[0].Title != "VIP now" || cfg.Sections[0].Query != "label:vip" {
		t.Fatalf("config sections = %+v", cfg.Sections)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), orig) {
		t.Errorf("the config's text changed:\n%s", data)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v", info.Mode())
	}

	// Saving the same name again is refused by the config and says so.
	h.press(keyOf(':'))
	h.typeText("save vip now")
	h.press(keyEnter)
	if !strings.Contains(h.m.flash, "defined twice") || !h.m.flashErr {
		t.Errorf("flash = %q", h.m.flash)
	}
	// Without a config file, :save says why under the prompt.
	h = newHarnessOpts(t, newFixture(t), 100, 30, Options{Author: "Dana"})
	h.press(keyOf(':'))
	h.typeText("save X")
	h.press(keyEnter)
	if h.m.prompt == nil || !strings.Contains(h.m.prompt.err, "no config file") {
		t.Errorf("no config: %+v", h.m.prompt)
	}
}

// TestSectionLimit: a section with a limit shows and counts at most that
// many tickets, newest activity first.
func TestSectionLimit(t *testing.T) {
	f := newFixture(t)
	h := newHarnessOpts(t, f, 100, 30, Options{Author: "Dana", Sections: []Section{
		{Title: "Latest", Query: "-is:spam", Limit: 2}, {Title: "All", Query: "-is:spam"}}})
	if h.m.total != 2 || h.m.sections[0].count != 2 || h.m.sections[1].count <= 2 {
		t.Fatalf("total %d, counts %d and %d", h.m.total, h.m.sections[0].count, h.m.sections[1].count)
	}
	h.press(keyOf('G'))
	if r, _ := h.m.current(); h.m.cursor != 1 || r.Number == 0 {
		t.Errorf("cursor %d on #%d", h.m.cursor, r.Number)
	}
	if s := h.screen(); !strings.Contains(s, "[Latest 2]") {
		t.Errorf("tab:\n%s", s)
	}
}
