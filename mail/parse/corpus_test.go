package parse

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// corpusDir is the shared collection of third-party test mails, relative
// to this package's directory.
var corpusDir = filepath.Join("..", "..", "..", "shared", "corpus")

// notMail lists file names and extensions in the corpus that hold
// expectations, licences or notes rather than mail.
var notMail = regexp.MustCompile(`(?i)(\.(json|xml|md|png|bin|golden|out)$|_decoded(_[\d_]+)?\.txt$|corpus-.*\.txt$|(^|/)(license|copying|notice|readme)[^/]*$|-license$)`)

// mailHeaderRe finds a header field that real mail carries.
var mailHeaderRe = regexp.MustCompile(`(?im)^(from|to|subject|date|message-id|received|return-path|mime-version|content-type|delivered-to)[ \t]*:`)

// looksLikeMail reports whether b starts like a message or an mbox file.
func looksLikeMail(b []byte) bool {
	if bytes.HasPrefix(b, []byte("From ")) {
		return true
	}
	head := b[:min(len(b), 64<<10)]
	return isField(bytes.TrimLeft(firstLine(head), " \t")) && mailHeaderRe.Match(head)
}

// splitMbox cuts an mbox file at its "From " lines.
func splitMbox(b []byte) [][]byte {
	if !bytes.HasPrefix(b, []byte("From ")) {
		return [][]byte{b}
	}
	var msgs [][]byte
	for len(b) > 0 {
		i := bytes.Index(b[1:], []byte("\nFrom "))
		if i < 0 {
			msgs = append(msgs, b)
			break
		}
		msgs = append(msgs, b[:i+2])
		b = b[i+2:]
	}
	return msgs
}

// quotedRe matches the parts of a warning that vary from mail to mail:
// quoted values and details after a colon.
var quotedRe = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|: .*$`)

func TestCorpus(t *testing.T) {
	needCorpus(t)
	var files, skipped, msgs, warned int
	auto := map[string]int{}
	kinds := map[string]int{}
	var slowest time.Duration
	var slowestFile string
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(corpusDir, path)
		if notMail.MatchString(filepath.ToSlash(rel)) {
			skipped++
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !looksLikeMail(b) {
			skipped++
			return nil
		}
		files++
		for _, raw := range splitMbox(b) {
			msgs++
			start := time.Now()
			m := Parse(raw)
			if d := time.Since(start); d > slowest {
				slowest, slowestFile = d, rel
			}
			if m == nil {
				t.Fatalf("%s: Parse returned nil", rel)
			}
			if !utf8.ValidString(m.Text) || strings.Contains(m.Text, "\r") {
				t.Errorf("%s: Text is not valid UTF-8 or has a CR", rel)
			}
			auto[m.Auto]++
			if len(m.Warnings) > 0 {
				warned++
			}
			for _, w := range m.Warnings {
				kinds[quotedRe.ReplaceAllString(w, "…")]++ // count warnings by kind
				if strings.HasPrefix(w, "internal error") {
					t.Errorf("%s: %s", rel, w)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d files parsed as mail (%d messages), %d files skipped; %d messages with warnings; slowest %v (%s)",
		files, msgs, skipped, warned, slowest, slowestFile)
	t.Logf("auto: %v", auto)
	var lines []string
	for k, n := range kinds {
		lines = append(lines, fmt.Sprintf("%5d × %s", n, k))
	}
	sort.Strings(lines)
	t.Logf("warnings by kind:\n%s", strings.Join(lines, "\n"))
}
