package importer

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readAll(t *testing.T, src Source) []string {
	t.Helper()
	var out []string
	for range 1000 {
		raw, err := src.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(raw))
	}
	t.Fatal("no end of source")
	return nil
}

// TestMboxRoundTrip: what MboxWriter writes, Open reads back the same,
// including bodies with "From " lines and quoted ">From " lines.
func TestMboxRoundTrip(t *testing.T) {
	msgs := []string{
		"From: a@x.test\r\nSubject: one\r\n\r\nFrom the start\r\n>From quoted\r\nend\r\n",
		"From: b@x.test\r\nSubject: two\r\n\r\nsecond\r\n",
		"From: c@x.test\r\nSubject: three\r\n\r\nno final newline",
	}
	var buf bytes.Buffer
	w := NewMboxWriter(&buf)
	for _, m := range msgs {
		if err := w.Write("a@x.test", time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "From a@x.test Sat Mar  1 10:00:00 2025\n") || !strings.Contains(buf.String(), "\n>From the start\n>>From quoted\n") {
		t.Fatalf("mbox:\n%s", buf.String())
	}
	path := filepath.Join(t.TempDir(), "export.mbox")
	os.WriteFile(path, buf.Bytes(), 0o600)
	src, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Total() != -1 {
		t.Errorf("mbox total %d", src.Total())
	}
	got := readAll(t, src)
	msgs[2] += "\r\n" // the writer ends every message with a line end
	if len(got) != len(msgs) {
		t.Fatalf("read %d messages: %q", len(got), got)
	}
	for i := range msgs {
		if got[i] != msgs[i] {
			t.Errorf("message %d:\n got %q\nwant %q", i, got[i], msgs[i])
		}
	}
}

func TestMaildir(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o700)
	}
	os.WriteFile(filepath.Join(dir, "cur", "1700000002.M2.host:2,S"), []byte("Subject: b\r\n\r\nb"), 0o600)
	os.WriteFile(filepath.Join(dir, "new", "1700000001.M1.host"), []byte("Subject: a\r\n\r\na"), 0o600)
	os.WriteFile(filepath.Join(dir, "tmp", "1700000003.M3.host"), []byte("partial"), 0o600)
	os.WriteFile(filepath.Join(dir, "cur", ".hidden"), []byte("x"), 0o600)
	src, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if src.Total() != 2 {
		t.Errorf("total %d", src.Total())
	}
	got := readAll(t, src)
	if len(got) != 2 || !strings.HasSuffix(got[0], "a") || !strings.HasSuffix(got[1], "b") {
		t.Fatalf("maildir read %q", got)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notMbox := filepath.Join(dir, "notes.txt")
	os.WriteFile(notMbox, []byte("hello"), 0o600)
	for path, want := range map[string]string{
		dir:                        "not a Maildir",
		notMbox:                    "neither a Maildir nor an mbox",
		filepath.Join(dir, "none"): "no such file",
	} {
		if _, err := Open(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %s", path, err, want)
		}
	}
}
