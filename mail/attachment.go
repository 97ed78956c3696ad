package mail

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/emersion/go-imap/v2"

	"desk/mail/parse"
)

// ErrNoContent is returned for an attachment whose content cannot be
// extracted (a uuencoded block, or a part that is gone from the message).
var ErrNoContent = errors.New("no content to save for this attachment")

// FetchRaw reads one message, by UID, from the named account's mailbox: the
// store keeps text, not attachment content, which is fetched on demand.
func (s *Service) FetchRaw(ctx context.Context, account string, uid uint32) ([]byte, error) {
	for _, a := range s.accounts {
		if a.Name != account {
			continue
		}
		w, err := s.newWorker(ctx, a)
		if err != nil {
			return nil, err
		}
		c, err := w.dialIMAP(ctx)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		sel, err := c.Select(a.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil {
			return nil, fmt.Errorf("imap: select %s: %w", a.Mailbox, err)
		}
		// A UID means this message only under the UIDVALIDITY it was seen with.
		if w.row.UIDValidity == 0 || sel.UIDValidity != w.row.UIDValidity {
			return nil, fmt.Errorf("account %s: the mailbox changed since the last sync (UIDVALIDITY): sync first", account)
		}
		got, err := fetchBatchOf(c, []imap.UID{imap.UID(uid)})
		if err != nil {
			return nil, fmt.Errorf("UID %d: %w", uid, err)
		}
		if len(got) == 0 {
			return nil, fmt.Errorf("message UID %d is no longer in %s", uid, a.Mailbox)
		}
		_ = c.Logout().Wait()
		return got[0].Raw, nil
	}
	return nil, fmt.Errorf("account %q is not configured here: its attachments cannot be fetched", account)
}

// SaveAttachment writes attachment index (0-based, in the order the
// message lists them) of raw into dir under its safe name, never over an
// existing file ("name (1).ext" instead), mode 0600, and returns the path.
func SaveAttachment(raw []byte, index int, dir string) (string, error) {
	atts := parse.ParseWithContent(raw).Attachments
	if index < 0 || index >= len(atts) {
		return "", fmt.Errorf("the message has %d attachments, not %d", len(atts), index+1)
	}
	a := atts[index]
	if a.Data == nil {
		return "", ErrNoContent
	}
	name := filepath.Base(a.Filename) // parse already made it safe; never a path
	if name == "" || name == "." || name == ".." || name == string(filepath.Separator) {
		name = "attachment"
	}
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for i := 0; ; i++ {
		path := filepath.Join(dir, name)
		if i > 0 {
			path = filepath.Join(dir, fmt.Sprintf("%s (%d)%s", base, i, ext))
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		if _, err := f.Write(a.Data); err != nil {
			f.Close()
			return "", err
		}
		return path, f.Close()
	}
}
