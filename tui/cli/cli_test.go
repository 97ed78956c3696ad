package cli

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

var table = Table{
	Program: "desk",
	Summary: "a Service Desk in the terminal",
	Common:  []Flag{{Name: "config", Arg: "FILE", Usage: "config file"}},
	Files:   "$XDG_DATA_HOME/desk/desk.db   the store — ok\n.dotted line",
	Commands: []Command{
		{Summary: "open the TUI"},
		{Name: "show", Args: "N", Summary: "show ticket N", Flags: []Flag{{Name: "json", Usage: "JSON output"}}},
		{Name: "serve", Summary: "serve over SSH", Details: "Keys are refused unless listed.",
			Flags: []Flag{{Name: "listen", Arg: "ADDR", Usage: "where to listen, e.g. 127.0.0.1:2222"}}},
	},
}

func TestUsageAndHelp(t *testing.T) {
	var b bytes.Buffer
	table.Usage(&b)
	for _, want := range []string{"desk show N  show ticket N", "desk serve   serve over SSH", "[--config FILE]", "desk help COMMAND"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	c, ok := table.Find("serve")
	if !ok {
		t.Fatal("serve not found")
	}
	table.Help(&b, c)
	for _, want := range []string{"Usage: desk serve [--listen ADDR]", "Keys are refused unless listed.", "--listen ADDR", "--config FILE"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, b.String())
		}
	}
	if _, ok := table.Find("frob"); ok {
		t.Error("found a command that is not in the table")
	}
}

func TestMan(t *testing.T) {
	var b bytes.Buffer
	table.Man(&b, "2026-11-24")
	man := b.String()
	for _, want := range []string{".TH DESK 1 \"2026-11-24\"", ".SH NAME\ndesk \\- a Service Desk", ".B show N", "\\-\\-listen ADDR", "\\&.dotted line", `store \[u2014] ok`} {
		if !strings.Contains(man, want) {
			t.Errorf("man page lacks %q:\n%s", want, man)
		}
	}
	if _, err := exec.LookPath("groff"); err != nil {
		t.Log("groff not installed: the page is not rendered")
		return
	}
	cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(man)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("groff: %v\n%s", err, out)
	}
}

// TestBashCompletion runs the script in bash and asks it to complete.
func TestBashCompletion(t *testing.T) {
	var b bytes.Buffer
	if err := table.Completion(&b, "bash"); err != nil {
		t.Fatal(err)
	}
	script := b.String() + `
COMP_WORDS=(desk se); COMP_CWORD=1; _desk; echo "${COMPREPLY[*]}"
COMP_WORDS=(desk serve --li); COMP_CWORD=2; _desk; echo "${COMPREPLY[*]}"
`
	out, err := exec.Command("bash", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	if got := string(out); got != "serve\n--listen\n" {
		t.Fatalf("completions %q", got)
	}
}

func TestOtherShells(t *testing.T) {
	for shell, want := range map[string]string{
		"zsh":  "#compdef desk\n",
		"fish": "complete -c desk -n '__fish_seen_subcommand_from serve' -l listen -r -d 'where to listen, e.g. 127.0.0.1:2222'\n",
	} {
		var b bytes.Buffer
		if err := table.Completion(&b, shell); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), want) {
			t.Errorf("%s script lacks %q:\n%s", shell, want, b.String())
		}
		if bin, err := exec.LookPath(shell); err == nil {
			if out, err := exec.Command(bin, "-n", "-c", b.String()).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		}
	}
	if err := table.Completion(&bytes.Buffer{}, "tcsh"); err == nil {
		t.Error("tcsh accepted")
	}
}
