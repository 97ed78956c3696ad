package tui

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"text/template"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Command is a custom command: a key of the list and the thread that runs
// a shell command built from a text/template over the ticket's fields,
// e.g. "xdg-open https://crm.example.com/{{.Requester}}".
//
// A ticket's fields come from customers, so they never become shell text:
// each placeholder expands to a quoted reference to an environment
// variable ("$DESK_SUBJECT") that holds the value. The shell substitutes
// it as one word and never parses it. A placeholder inside quotes is
// refused at load: inside "…" it would end the quotes and leave the value
// open to word splitting and globbing, inside '…' it would not expand.
type Command struct {
	Key  string
	Name string
	Run  string
	Line int // the config line, for errors
}

// commandFields are the template's fields and their variables.
var commandFields = []struct{ field, env string }{
	{"Number", "DESK_NUMBER"},
	{"Requester", "DESK_REQUESTER"},
	{"RequesterName", "DESK_REQUESTER_NAME"},
	{"Subject", "DESK_SUBJECT"},
	{"Account", "DESK_ACCOUNT"},
	{"Project", "DESK_PROJECT"},
	{"Status", "DESK_STATUS"},
	{"Assignee", "DESK_ASSIGNEE"},
	{"Labels", "DESK_LABELS"},
}

// script is the shell text of a command: its template with every field a
// quoted variable reference.
func (c Command) script() (string, error) {
	if err := unquotedPlaceholders(c.Run); err != nil {
		return "", err
	}
	t, err := template.New("run").Option("missingkey=error").Parse(c.Run)
	if err != nil {
		return "", err
	}
	refs := map[string]string{}
	for _, f := range commandFields {
		refs[f.field] = `"$` + f.env + `"`
	}
	var b strings.Builder
	if err := t.Execute(&b, refs); err != nil {
		names := make([]string, len(commandFields))
		for i, f := range commandFields {
			names[i] = "{{." + f.field + "}}"
		}
		return "", fmt.Errorf("%v (fields: %s)", err, strings.Join(names, " "))
	}
	return b.String(), nil
}

// unquotedPlaceholders checks that no {{…}} of a command's template sits
// inside shell quotes (see Command).
func unquotedPlaceholders(run string) error {
	var quote byte // the open quote, or 0
	for i := 0; i < len(run); i++ {
		switch ch := run[i]; {
		case ch == '\\' && quote != '\'':
			i++ // an escaped character, quoted or not
		case quote == 0 && (ch == '\'' || ch == '"'):
			quote = ch
		case ch == quote:
			quote = 0
		case quote != 0 && strings.HasPrefix(run[i:], "{{"):
			return fmt.Errorf("a placeholder inside %c…%c quotes at column %d: leave it unquoted, its value is passed as one word", quote, quote, i+1)
		}
	}
	return nil
}

// commandEnv is the process environment with the ticket's fields added.
func commandEnv(r ticketRow) []string {
	values := map[string]string{
		"Number": strconv.FormatInt(r.Number, 10), "Requester": r.Requester, "RequesterName": r.RequesterName,
		"Subject": r.Subject, "Account": r.Account, "Project": r.Project, "Status": r.State,
		"Assignee": r.Assignee, "Labels": strings.Join(r.Labels, ","),
	}
	env := os.Environ()
	for _, f := range commandFields {
		env = append(env, f.env+"="+values[f.field])
	}
	return env
}

// binding is the command's key with its name as help.
func (c Command) binding() key.Binding {
	return key.NewBinding(key.WithKeys(c.Key), key.WithHelp(c.Key, c.Name))
}

// commandExec builds the process of a custom command for ticket r.
func commandExec(c Command, r ticketRow) (*exec.Cmd, error) {
	text, err := c.script()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("sh", "-c", text)
	cmd.Env = commandEnv(r)
	return cmd, nil
}

// commandDoneMsg reports a custom command that ended.
type commandDoneMsg struct {
	name string
	err  error
}

// customKey runs the custom command bound to msg, if any, on the ticket an
// action names; ok is false when no command is bound to the key.
func (m *model) customKey(msg tea.KeyPressMsg) (cmd tea.Cmd, ok bool) {
	for _, c := range m.keyset.commands {
		if !key.Matches(msg, c.binding()) {
			continue
		}
		switch {
		case m.opts.Remote:
			return m.setFlash(c.Name+": commands run only in a local desk, not over SSH", true), true
		case m.opts.ReadOnly:
			return m.setFlash(c.Name+": read-only: commands are off", true), true
		}
		r, have := m.actionRow()
		if !have {
			return m.setFlash(c.Name+": no ticket selected", true), true
		}
		proc, err := commandExec(c, r)
		if err != nil {
			return m.setFlash(c.Name+": "+errorText(err), true), true
		}
		name := c.Name
		return m.execProcess(proc, func(err error) tea.Msg { return commandDoneMsg{name: name, err: err} }), true
	}
	return nil, false
}

// commandDone reports how a custom command ended.
func (m *model) commandDone(msg commandDoneMsg) tea.Cmd {
	if msg.err != nil {
		return m.setFlash(msg.name+": "+errorText(msg.err), true)
	}
	return m.setFlash(msg.name+": done", false)
}
