package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
)

// attachmentSavedMsg reports a save of an attachment.
type attachmentSavedMsg struct {
	path string
	err  error
}

// located is attachment index of message msg of the open thread.
type located struct {
	msg   messageView
	index int
}

// threadAttachments lists the open thread's attachments in the order the
// thread shows them; the numbers the thread draws are positions in it + 1.
func (m *model) threadAttachments() []located {
	var out []located
	if m.thread == nil {
		return nil
	}
	for _, mv := range m.thread.msgs {
		for i := range mv.Attachments {
			out = append(out, located{msg: mv, index: i})
		}
	}
	return out
}

// startSave asks which attachment to save, and where ("N FOLDER"; the
// folder defaults to the current one).
func (m *model) startSave() tea.Cmd {
	switch n := len(m.threadAttachments()); {
	case m.opts.SaveAttachment == nil:
		return m.setFlash("saving attachments is not available here", true)
	case n == 0:
		return m.setFlash("this ticket has no attachments", false)
	case n == 1:
		m.openPrompt(promptSave, "1 ")
	default:
		m.openPrompt(promptSave, "")
	}
	return nil
}

// saveAttachment saves the attachment the typed "N FOLDER" names.
func (m *model) saveAttachment(text string) tea.Cmd {
	atts := m.threadAttachments()
	num, dir, _ := strings.Cut(strings.TrimSpace(text), " ")
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > len(atts) {
		return m.prompt.fail(fmt.Errorf("want an attachment number from 1 to %d, then a folder", len(atts)), 0)
	}
	dir = strings.TrimSpace(dir)
	if dir == "" {
		dir = "."
	}
	if rest, ok := strings.CutPrefix(dir, "~"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, rest)
		}
	}
	pick := atts[n-1]
	if pick.msg.UID == 0 {
		return m.prompt.fail(fmt.Errorf("that message is not in the mailbox yet: sync first"), 0)
	}
	m.prompt = nil
	save, account, uid, index := m.opts.SaveAttachment, m.thread.row.Account, pick.msg.UID, pick.index
	return tea.Batch(m.setFlash("saving attachment "+num+"…", false), func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		path, err := save(ctx, account, uid, index, dir)
		return attachmentSavedMsg{path: path, err: err}
	})
}

// attachmentSaved reports where the attachment went, or why it did not.
func (m *model) attachmentSaved(msg attachmentSavedMsg) tea.Cmd {
	if msg.err != nil {
		return m.setFlash("save: "+errorText(msg.err), true)
	}
	return m.setFlash("saved "+msg.path, false)
}
