package mail

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"desk/store"
)

// notices are the automated mails a project can send, by template name.
var notices = []string{store.NoticeThankYou, store.NoticeNewNote, store.NoticeClosed, store.NoticeNewParticipant}

// placeholders are what a template may use; anything else of the form
// %{NAME} is a configuration error.
var placeholders = map[string]bool{
	"ISSUE_ID": true, "ISSUE_PATH": true, "ISSUE_TITLE": true, "NOTE_TEXT": true,
	"UNSUBSCRIBE_ADDRESS": true, "SYSTEM_HEADER": true, "SYSTEM_FOOTER": true,
}

var placeholder = regexp.MustCompile(`%\{([^}]*)\}`)

// defaultTemplates are used where a project has no file of its own. The
// thank-you is on by default; new_note and closed only when a project has
// the file or switches them on.
var defaultTemplates = map[string]string{
	store.NoticeThankYou: `%{SYSTEM_HEADER}
Hello,

Thank you for contacting us. We have received your request and opened
ticket %{ISSUE_ID}: %{ISSUE_TITLE}

A member of our team will answer soon. To add information, reply to this
mail and keep [%{ISSUE_ID}] in the subject.

To stop receiving mail about this ticket, write to %{UNSUBSCRIBE_ADDRESS}
or reply with "unsubscribe" as the first line.
%{SYSTEM_FOOTER}`,
	store.NoticeNewNote: `%{SYSTEM_HEADER}
%{NOTE_TEXT}

To stop receiving mail about this ticket, write to %{UNSUBSCRIBE_ADDRESS}.
%{SYSTEM_FOOTER}`,
	store.NoticeNewParticipant: `%{SYSTEM_HEADER}
Hello,

You have been added to request %{ISSUE_ID}: %{ISSUE_TITLE}
From now on you receive its answers; reply to this mail to take part.

To stop receiving mail about this ticket, write to %{UNSUBSCRIBE_ADDRESS}.
%{SYSTEM_FOOTER}`,
	store.NoticeClosed: `%{SYSTEM_HEADER}
Hello,

Your request %{ISSUE_ID} (%{ISSUE_TITLE}) is now closed. If something is
still wrong, reply to this mail and it opens again.

To stop receiving mail about this ticket, write to %{UNSUBSCRIBE_ADDRESS}.
%{SYSTEM_FOOTER}`,
}

// Templates are the automated mail texts of every project: files from
// templates/<project>/<notice>.md in the config directory, over built-in
// defaults.
type Templates struct {
	files map[string]map[string]string // project → notice → text
}

// LoadTemplates reads dir/<project>/<notice>.md for every project directory
// in dir (a missing dir means only the defaults) and checks every
// placeholder, so that a typo is an error at start-up rather than text in
// a customer's inbox.
func LoadTemplates(dir string) (*Templates, error) {
	t := &Templates{files: map[string]map[string]string{}}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || dir == "" {
		return t, nil
	} else if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		for _, n := range notices {
			path := filepath.Join(dir, e.Name(), n+".md")
			b, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			} else if err != nil {
				return nil, fmt.Errorf("templates: %w", err)
			}
			if err := checkTemplate(string(b)); err != nil {
				return nil, fmt.Errorf("template %s: %w", path, err)
			}
			if t.files[e.Name()] == nil {
				t.files[e.Name()] = map[string]string{}
			}
			t.files[e.Name()][n] = string(b)
		}
	}
	return t, nil
}

// checkTemplate rejects unknown placeholders, naming them all.
func checkTemplate(text string) error {
	var bad []string
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		if !placeholders[m[1]] {
			bad = append(bad, "%{"+m[1]+"}")
		}
	}
	if len(bad) == 0 {
		return nil
	}
	known := make([]string, 0, len(placeholders))
	for k := range placeholders {
		known = append(known, "%{"+k+"}")
	}
	sort.Strings(known)
	return fmt.Errorf("unknown placeholder %s (known: %s)", strings.Join(bad, ", "), strings.Join(known, " "))
}

// text is the template of a notice for a project, and whether the project
// has its own file for it.
func (t *Templates) text(project, notice string) (string, bool) {
	if t != nil {
		if s, ok := t.files[project][notice]; ok {
			return s, true
		}
	}
	return defaultTemplates[notice], false
}

// noticeData fills a template's placeholders.
type noticeData struct {
	ticket      *store.Ticket
	note        string
	unsubscribe string
	header      string
	footer      string
}

// render fills text's placeholders and trims the blank lines an empty
// header or footer leaves. A placeholder is what the regular expression
// placeholder matches: "%{", then anything but "}", then "}"; an unknown
// one is dropped.
func render(text string, d noticeData) string {
	var b strings.Builder
	b.Grow(len(text) + len(d.ticket.Subject) + len(d.note) + len(d.unsubscribe) + len(d.header) + len(d.footer))
	for {
		start := strings.Index(text, "%{")
		if start < 0 {
			break
		}
		end := strings.IndexByte(text[start+2:], '}')
		if end < 0 {
			break
		}
		b.WriteString(text[:start])
		b.WriteString(d.value(text[start+2 : start+2+end]))
		text = text[start+2+end+1:]
	}
	b.WriteString(text)
	return strings.Trim(b.String(), "\n") + "\n"
}

// value is what the placeholder %{name} stands for ("" if unknown).
func (d noticeData) value(name string) string {
	switch name {
	case "ISSUE_ID":
		return "#" + strconv.FormatInt(d.ticket.Number, 10)
	case "ISSUE_PATH":
		return d.ticket.Project + "#" + strconv.FormatInt(d.ticket.Number, 10)
	case "ISSUE_TITLE":
		return oneLine(d.ticket.Subject)
	case "NOTE_TEXT":
		return d.note
	case "UNSUBSCRIBE_ADDRESS":
		return d.unsubscribe
	case "SYSTEM_HEADER":
		return d.header
	case "SYSTEM_FOOTER":
		return d.footer
	}
	return ""
}
