// Package cli renders desk's command table: the --help text, `desk help
// COMMAND`, the man page and shell completions for bash, zsh and fish, so
// that all of them come from one source.
package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Command is one subcommand ("" is desk itself, the TUI).
type Command struct {
	Name    string
	Args    string // e.g. "N", "PATH"
	Summary string // one line
	Details string // paragraphs for `desk help NAME` and the man page
	Flags   []Flag
}

// Flag is one option of a command.
type Flag struct {
	Name  string // without dashes
	Arg   string // value placeholder, "" for a switch
	Usage string
}

// Table is the whole command line: every command and the flags all take.
type Table struct {
	Program  string
	Summary  string
	Commands []Command
	Common   []Flag
	Files    string // the FILES section: paths of config, store, logs
}

// Find returns the named command.
func (t Table) Find(name string) (Command, bool) {
	for _, c := range t.Commands {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

// synopsis is "desk NAME [--flag ARG]… ARGS".
func (t Table) synopsis(c Command) string {
	parts := []string{t.Program}
	if c.Name != "" {
		parts = append(parts, c.Name)
	}
	for _, f := range c.Flags {
		parts = append(parts, "["+flagText(f)+"]")
	}
	if c.Args != "" {
		parts = append(parts, c.Args)
	}
	return strings.Join(parts, " ")
}

func flagText(f Flag) string {
	if f.Arg == "" {
		return "--" + f.Name
	}
	return "--" + f.Name + " " + f.Arg
}

// Usage writes the overview shown by --help.
func (t Table) Usage(w io.Writer) {
	fmt.Fprintf(w, "%s — %s\n\nUsage:\n", t.Program, t.Summary)
	width := 0
	for _, c := range t.Commands {
		width = max(width, len(strings.TrimSpace(c.Name+" "+c.Args)))
	}
	for _, c := range t.Commands {
		fmt.Fprintf(w, "  %s %-*s  %s\n", t.Program, width, strings.TrimSpace(c.Name+" "+c.Args), c.Summary)
	}
	fmt.Fprintf(w, "\nEvery command takes:")
	for _, f := range t.Common {
		fmt.Fprintf(w, " [%s]", flagText(f))
	}
	fmt.Fprintf(w, "\n`%s help COMMAND` tells more.\n\n%s\n", t.Program, t.Files)
}

// Help writes the help of one command.
func (t Table) Help(w io.Writer, c Command) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", t.synopsis(c), c.Summary)
	if c.Details != "" {
		fmt.Fprintf(w, "\n%s\n", wrap(strings.TrimSpace(c.Details), 78))
	}
	flags := append(append([]Flag{}, c.Flags...), t.Common...)
	width := 0
	for _, f := range flags {
		width = max(width, len(flagText(f)))
	}
	fmt.Fprintln(w, "\nFlags:")
	for _, f := range flags {
		fmt.Fprintf(w, "  %-*s  %s\n", width, flagText(f), f.Usage)
	}
}

// wrap breaks text into lines of at most width columns at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	col := 0
	for _, word := range strings.Fields(text) {
		n := len([]rune(word))
		if col > 0 && col+1+n > width {
			b.WriteByte('\n')
			col = 0
		} else if col > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += n
	}
	return b.String()
}

// Man writes a man page (roff, section 1).
func (t Table) Man(w io.Writer, date string) {
	up := strings.ToUpper(t.Program)
	fmt.Fprintf(w, ".TH %s 1 %q %q \"User Commands\"\n", up, date, t.Program)
	fmt.Fprintf(w, ".SH NAME\n%s \\- %s\n.SH SYNOPSIS\n", t.Program, roff(t.Summary))
	for _, c := range t.Commands {
		fmt.Fprintf(w, ".B %s\n.br\n", roff(t.synopsis(c)))
	}
	fmt.Fprintln(w, ".SH COMMANDS")
	for _, c := range t.Commands {
		name := c.Name
		if name == "" {
			name = "(none)"
		}
		fmt.Fprintf(w, ".TP\n.B %s\n%s\n", roff(strings.TrimSpace(name+" "+c.Args)), roff(c.Summary))
		if c.Details != "" {
			fmt.Fprintf(w, ".IP\n%s\n", roff(strings.TrimSpace(c.Details)))
		}
		for _, f := range c.Flags {
			fmt.Fprintf(w, ".IP\n.B %s\n%s\n", roff(flagText(f)), roff(f.Usage))
		}
	}
	fmt.Fprintln(w, ".SH OPTIONS")
	for _, f := range t.Common {
		fmt.Fprintf(w, ".TP\n.B %s\n%s\n", roff(flagText(f)), roff(f.Usage))
	}
	fmt.Fprintf(w, ".SH FILES\n.nf\n%s\n.fi\n", roff(t.Files))
}

// roff escapes text for a man page: backslashes, and a leading dot or
// quote that roff would take for a request.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	var esc strings.Builder
	for _, r := range s {
		if r > 127 {
			fmt.Fprintf(&esc, `\[u%04X]`, r)
		} else {
			esc.WriteRune(r)
		}
	}
	lines := strings.Split(esc.String(), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}

// Completion writes a completion script for shell (bash, zsh or fish).
func (t Table) Completion(w io.Writer, shell string) error {
	var names []string
	flags := map[string][]string{}
	for _, c := range t.Commands {
		if c.Name == "" {
			continue
		}
		names = append(names, c.Name)
		for _, f := range append(append([]Flag{}, c.Flags...), t.Common...) {
			flags[c.Name] = append(flags[c.Name], "--"+f.Name)
		}
	}
	sort.Strings(names)
	p := t.Program
	switch shell {
	case "bash":
		fmt.Fprintf(w, "# bash completion for %s\n_%s() {\n", p, p)
		fmt.Fprintf(w, "  local cur=${COMP_WORDS[COMP_CWORD]}\n")
		fmt.Fprintf(w, "  if [ \"$COMP_CWORD\" -eq 1 ]; then COMPREPLY=($(compgen -W %q -- \"$cur\")); return; fi\n", strings.Join(names, " "))
		fmt.Fprintf(w, "  case ${COMP_WORDS[1]} in\n")
		for _, n := range names {
			fmt.Fprintf(w, "    %s) COMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", n, strings.Join(flags[n], " "))
		}
		fmt.Fprintf(w, "  esac\n}\ncomplete -o default -F _%s %s\n", p, p)
	case "zsh":
		fmt.Fprintf(w, "#compdef %s\n_%s() {\n  if (( CURRENT == 2 )); then\n    compadd -- %s\n    return\n  fi\n", p, p, strings.Join(names, " "))
		fmt.Fprintf(w, "  case $words[2] in\n")
		for _, n := range names {
			fmt.Fprintf(w, "    %s) compadd -- %s ;;\n", n, strings.Join(flags[n], " "))
		}
		fmt.Fprintf(w, "  esac\n  _files\n}\ncompdef _%s %s\n", p, p)
	case "fish":
		fmt.Fprintf(w, "# fish completion for %s\ncomplete -c %s -f\n", p, p)
		for _, c := range t.Commands {
			if c.Name == "" {
				continue
			}
			fmt.Fprintf(w, "complete -c %s -n __fish_use_subcommand -a %s -d %s\n", p, c.Name, fishQuote(c.Summary))
			for _, f := range append(append([]Flag{}, c.Flags...), t.Common...) {
				req := ""
				if f.Arg != "" {
					req = " -r"
				}
				fmt.Fprintf(w, "complete -c %s -n '__fish_seen_subcommand_from %s' -l %s%s -d %s\n", p, c.Name, f.Name, req, fishQuote(f.Usage))
			}
		}
	default:
		return fmt.Errorf("no completion for shell %q: want bash, zsh or fish", shell)
	}
	return nil
}

func fishQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }
