package tui

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"desk/store"
)

var keyCtrlO = tea.KeyPressMsg{Code: 'o', Mod: tea.ModCtrl}

const refundMacro = `---
status: solved
assignee: me
labels: billing, refund
---
Hi,

the refund is on its way.
`

// macroDir writes macro files into a new folder.
func macroDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "macros")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// standardMacros are the macros of the tests: three good, one bad.
func standardMacros(t *testing.T) string {
	return macroDir(t, map[string]string{
		"refund.md":       refundMacro,
		"ask-for-logs.md": "---\nstatus: pending\nkind: reply\n---\nCould you send us the logs?\n",
		"escalate.md":     "---\nkind: note\nassignee: Bo Smith\nlabels: ~tier2\n---\nEscalating to tier 2.\n",
		"broken.md":       "---\nstatus: done\n---\nbody\n",
		"notes.txt":       "not a macro: wrong extension",
	})
}

func TestParseMacro(t *testing.T) {
	mc, err := parseMacro("refund.md", refundMacro)
	if err != nil {
		t.Fatal(err)
	}
	want := "Hi,\n\nthe refund is on its way.\n\n/status solved\n/assign @me\n/label ~billing ~refund"
	if mc.name != "refund" || mc.text != want || mc.kind != "" {
		t.Errorf("macro = %+v\nwant text %q", mc, want)
	}
	if mc.about != "solved · assign me · +billing · +refund" {
		t.Errorf("about = %q", mc.about)
	}
	plain, err := parseMacro("thanks.md", "Thanks!\n---\nnot a header\n")
	if err != nil || plain.text != "Thanks!\n---\nnot a header" {
		t.Errorf("headerless macro = %+v, %v", plain, err)
	}
	none, err := parseMacro("drop.md", "---\nassignee: none\nkind: note\n---\n")
	if err != nil || none.text != "/unassign" || none.kind != store.KindNote {
		t.Errorf("header-only macro = %+v, %v", none, err)
	}
	for _, tc := range []struct{ text, want string }{
		{"---\nstatus: solved\nowner: me\n---\nx", `m.md:3: unknown key "owner" (keys: status, assignee, labels, kind)`},
		{"---\n# a comment\nstatus: done\n---\nx", "m.md:3: /status wants one of open, pending, on-hold, solved, closed"},
		{"---\nstatus solved\n---\nx", "m.md:2: want key: value"},
		{"---\nlabels:\n---\nx", "m.md:2: want key: value"},
		{"---\nkind: email\n---\nx", `m.md:2: kind: want reply or note, not "email"`},
		{"---\nstatus: solved\nbody without an end", `m.md:1: the header has no closing "---" line`},
		{"\n\n", "m.md:1: empty macro"},
	} {
		if _, err := parseMacro("m.md", tc.text); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: error = %v\nwant prefix %s", tc.text, err, tc.want)
		}
	}
}

func TestFuzzyScore(t *testing.T) {
	if _, ok := fuzzyScore("rfd", "refund"); !ok {
		t.Error("rfd does not match refund")
	}
	if _, ok := fuzzyScore("dfr", "refund"); ok {
		t.Error("dfr matches refund")
	}
	tight, _ := fuzzyScore("esc", "escalate")
	loose, ok := fuzzyScore("esc", "ease-scheduled")
	if !ok {
		t.Fatal("esc does not match ease-scheduled")
	}
	if tight >= loose {
		t.Errorf("a contiguous match (%d) does not beat a scattered one (%d)", tight, loose)
	}
}

// TestMacroPickerGolden: the picker at 80×24, its bad file reported with
// file and line.
func TestMacroPickerGolden(t *testing.T) {
	h := newHarnessOpts(t, newFixture(t), 80, 24, Options{Author: "Dana", Title: "desk — test", MacroDir: standardMacros(t)})
	h.selectNumber(103)
	h.press(keyEnter, keyOf('M'))
	checkFits(t, h.m.View().Content, 80, 24)
	golden.RequireEqual(t, h.goldenScreen())
	h.typeText("esc")
	if p := h.m.picker; len(p.shown) != 1 || p.macros[p.shown[0]].name != "escalate" {
		t.Errorf("filter esc shows %v", p.shown)
	}
	h.press(keyEsc)
	if h.m.picker != nil || h.m.compose != nil {
		t.Error("esc does not close the picker")
	}
}

// TestMacroApplyAndSend: a macro fills the composer and its header acts on
// send through the quick actions.
func TestMacroApplyAndSend(t *testing.T) {
	f := newFixture(t)
	h := newHarnessOpts(t, f, 100, 30, Options{Author: "Dana", MacroDir: standardMacros(t)})
	h.selectNumber(103)
	h.press(keyEnter, keyOf('M'))
	h.send(tea.PasteMsg{Content: "refu"}) // a paste filters like typing
	if p := h.m.picker; len(p.shown) != 1 {
		t.Fatalf("pasted filter shows %d macros", len(p.shown))
	}
	h.press(keyEnter)
	c := h.m.compose
	if c == nil || h.m.picker != nil {
		t.Fatal("the macro did not open the composer")
	}
	if !strings.Contains(c.ta.Value(), "the refund is on its way.\n\n/status solved") {
		t.Fatalf("composer text = %q", c.ta.Value())
	}
	if r := c.review(); !strings.Contains(r, "status after send: solved") || !strings.Contains(r, "+refund") {
		t.Errorf("review line = %q", r)
	}
	h.press(keyCtrlS)
	tk := f.ticket(t, 103)
	if tk.State != store.StateSolved || tk.Assignee != store.NormalizeAssignee("Dana") || !slices.Contains(tk.Labels, "refund") {
		t.Errorf("after send: state %s assignee %q labels %v", tk.State, tk.Assignee, tk.Labels)
	}
	msgs := f.messages(t, 103)
	last := msgs[len(msgs)-1]
	if last.Kind != store.KindReply || last.Body != "Hi,\n\nthe refund is on its way." {
		t.Errorf("sent %s %q", last.Kind, last.Body)
	}
}

// TestMacroFromListAndPalette: M on the list opens the ticket's composer,
// :macro NAME applies a macro without the picker, a macro of kind note
// makes a note, and ctrl+o adds a macro to what is typed.
func TestMacroFromListAndPalette(t *testing.T) {
	f := newFixture(t)
	h := newHarnessOpts(t, f, 100, 30, Options{Author: "Dana", MacroDir: standardMacros(t)})
	h.selectNumber(101)
	h.press(keyOf('M'))
	h.typeText("logs")
	h.press(keyEnter)
	if h.m.screen != screenThread || h.m.compose == nil || h.m.thread.row.Number != 101 ||
		!strings.HasPrefix(h.m.compose.ta.Value(), "Could you send us the logs?") {
		t.Fatalf("M from the list: screen %v compose %+v", h.m.screen, h.m.compose)
	}
	h.press(keyEsc, keyOf('y'), keyEsc) // discard, back to the list

	h.press(keyOf(':'))
	h.typeText("macro escalate")
	h.press(keyEnter)
	c := h.m.compose
	if h.m.picker != nil || c == nil || c.kind != store.KindNote || !strings.Contains(c.ta.Value(), "/assign @Bo Smith") {
		t.Fatalf(":macro escalate: picker %v compose %+v", h.m.picker, c)
	}
	h.press(keyCtrlS)
	if tk := f.ticket(t, h.m.thread.row.Number); tk.Assignee != store.NormalizeAssignee("Bo Smith") || !slices.Contains(tk.Labels, "tier2") {
		t.Errorf("after the note: assignee %q labels %v", tk.Assignee, tk.Labels)
	}

	h.press(keyOf('r'))
	h.typeText("Hello")
	h.press(keyOf('M')) // a letter is text here
	h.send(keyCtrlO)
	h.typeText("refund")
	h.press(keyEnter)
	if got := h.m.compose.ta.Value(); !strings.HasPrefix(got, "HelloM\n\nHi,") {
		t.Errorf("ctrl+o in the composer: %q", got)
	}

	h.press(keyEsc, keyOf('y'), keyEsc)
	h.press(keyOf(':'))
	h.typeText("macro nosuch")
	h.press(keyEnter)
	if h.m.picker == nil || len(h.m.picker.shown) != 0 || !strings.Contains(h.screen(), "nothing matches") {
		t.Errorf(":macro nosuch: %s", h.screen())
	}
}

// TestMacroRefused: no macros read-only, and none without a ticket.
func TestMacroRefused(t *testing.T) {
	h := newHarnessOpts(t, newFixture(t), 100, 30, Options{ReadOnly: true, MacroDir: standardMacros(t)})
	h.press(keyOf('M'))
	if h.m.picker != nil || !strings.Contains(h.m.flash, "read-only") {
		t.Errorf("read-only: picker %v flash %q", h.m.picker, h.m.flash)
	}
	h = newHarnessOpts(t, newFixture(t), 100, 30, Options{})
	h.press(keyOf('M'))
	if !strings.Contains(h.screen(), "no macro folder") {
		t.Errorf("no folder:\n%s", h.screen())
	}
}

// TestReadmeMacro: the macro shown in the README is valid and does what it
// says.
func TestReadmeMacro(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "Macros are files")
	_, rest, ok2 := strings.Cut(rest, "```\n")
	block, _, ok3 := strings.Cut(rest, "```\n")
	if !ok || !ok2 || !ok3 {
		t.Fatal("no macro example in README.md")
	}
	mc, err := parseMacro("refund.md", block)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(mc.text, "/status solved\n/assign @me\n/label ~billing ~refund") {
		t.Errorf("README macro text = %q", mc.text)
	}
}

// TestMacroKeepsDraftKind: a reply macro applied to an internal note that
// has text is refused, so the note's text never goes to the customer.
func TestMacroKeepsDraftKind(t *testing.T) {
	f := newFixture(t)
	h := newHarnessOpts(t, f, 100, 30, Options{Author: "Dana", MacroDir: standardMacros(t)})
	h.selectNumber(103)
	h.press(keyEnter, keyOf('n'))
	h.typeText("internal: the customer is on the legacy plan")
	h.send(keyCtrlO)
	h.typeText("logs")
	h.press(keyEnter)
	c := h.m.compose
	if c == nil || c.kind != store.KindNote || strings.Contains(c.ta.Value(), "Could you send us the logs?") {
		t.Fatalf("a reply macro changed a note with text: %+v", c)
	}
	if !strings.Contains(h.screen(), "send or clear it first") {
		t.Errorf("no message says why:\n%s", h.screen())
	}
}
