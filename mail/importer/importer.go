// Package importer reads mail exports for `desk import` (a Maildir or an
// mbox file) and writes a ticket as an mbox for `desk export`.
package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"
)

// maxMessage bounds one message read from an export.
const maxMessage = 64 << 20

// Source yields the raw messages of an export, in order.
type Source interface {
	// Next returns the next message, or io.EOF after the last.
	Next() ([]byte, error)
	// Total is the number of messages, or -1 when unknown before reading
	// them all (mbox).
	Total() int
	Close() error
}

// Open opens the export at path: a Maildir (a directory with cur/ and
// new/) or an mbox file.
func Open(path string) (Source, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return openMaildir(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(5)
	if string(head) != "From " {
		f.Close()
		return nil, fmt.Errorf("%s: neither a Maildir nor an mbox file (an mbox starts with \"From \")", path)
	}
	return &mbox{f: f, r: br}, nil
}

// maildir reads the files of cur/ and new/, oldest name first (Maildir
// names start with the delivery time).
type maildir struct {
	files []string
	next  int
}

func openMaildir(dir string) (*maildir, error) {
	var files []string
	found := false
	for _, sub := range []string{"cur", "new"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		found = true
		for _, e := range entries {
			if e.Type().IsRegular() && e.Name()[0] != '.' {
				files = append(files, filepath.Join(dir, sub, e.Name()))
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("%s: a directory but not a Maildir (no cur/ or new/)", dir)
	}
	sort.Slice(files, func(i, j int) bool { return filepath.Base(files[i]) < filepath.Base(files[j]) })
	return &maildir{files: files}, nil
}

func (m *maildir) Next() ([]byte, error) {
	if m.next >= len(m.files) {
		return nil, io.EOF
	}
	path := m.files[m.next]
	m.next++
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxMessage+1))
	if err == nil && len(raw) > maxMessage {
		err = fmt.Errorf("%s: larger than %d MiB", path, maxMessage>>20)
	}
	return raw, err
}

func (m *maildir) Total() int   { return len(m.files) }
func (m *maildir) Close() error { return nil }

// mbox reads an mbox file (mboxo or mboxrd): a "From " line starts each
// message, and ">From " lines inside are unquoted one level.
type mbox struct {
	f *os.File
	r *bufio.Reader
}

var quotedFrom = regexp.MustCompile(`^>+From `)

func (m *mbox) Next() ([]byte, error) {
	first, err := m.r.ReadBytes('\n')
	if len(first) == 0 && err != nil {
		return nil, err // io.EOF at the end
	}
	var msg bytes.Buffer
	for {
		head, _ := m.r.Peek(5)
		if string(head) == "From " {
			break
		}
		line, err := m.r.ReadBytes('\n')
		if quotedFrom.Match(line) {
			line = line[1:]
		}
		msg.Write(line)
		if msg.Len() > maxMessage {
			return nil, fmt.Errorf("mbox: a message larger than %d MiB", maxMessage>>20)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	// The blank line that separates messages belongs to the file, not to
	// the message.
	raw := msg.Bytes()
	if bytes.HasSuffix(raw, []byte("\n\n")) {
		raw = raw[:len(raw)-1]
	}
	return toCRLF(raw), nil
}

func (m *mbox) Total() int   { return -1 }
func (m *mbox) Close() error { return m.f.Close() }

// toCRLF turns bare LF line ends (as mbox files keep them) into CRLF, the
// form of mail on the wire and in IMAP.
func toCRLF(b []byte) []byte {
	if !bytes.Contains(b, []byte("\n")) || bytes.Contains(b, []byte("\r\n")) {
		return b
	}
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

// MboxWriter writes messages as an mboxrd file.
type MboxWriter struct{ w *bufio.Writer }

// NewMboxWriter writes to w; call Flush at the end.
func NewMboxWriter(w io.Writer) *MboxWriter { return &MboxWriter{w: bufio.NewWriter(w)} }

// Write adds one message from sender, received at date: a "From " line,
// the message with LF line ends and its "From " lines quoted, a blank line.
func (m *MboxWriter) Write(sender string, date time.Time, raw []byte) error {
	if sender == "" {
		sender = "MAILER-DAEMON"
	}
	fmt.Fprintf(m.w, "From %s %s\n", sender, date.UTC().Format(time.ANSIC))
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	for _, line := range bytes.SplitAfter(raw, []byte("\n")) {
		if quotedFrom.Match(line) || bytes.HasPrefix(line, []byte("From ")) {
			m.w.WriteByte('>')
		}
		m.w.Write(line)
	}
	if !bytes.HasSuffix(raw, []byte("\n")) {
		m.w.WriteByte('\n')
	}
	return m.w.WriteByte('\n')
}

// Flush writes what is buffered.
func (m *MboxWriter) Flush() error { return m.w.Flush() }
