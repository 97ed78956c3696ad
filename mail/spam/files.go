package spam

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
)

// envelopeRe matches an mbox "From " line: sender, then a date ending in a
// year.
var envelopeRe = regexp.MustCompile(`^From \S+ +.*\d{4}\r?$`)

// ReadMessages calls fn for every message under path: each regular file
// (or symbolic link to one) of a directory tree (a Maildir or a folder of
// .eml files) in name order, or one file. A file holding several messages separated by mbox "From " lines
// gives each as "FILE#N" (N from 1).
func ReadMessages(path string, fn func(name string, raw []byte) error) error {
	var files []string
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 { // followed when it names a file
			if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
				return err
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		msgs := splitMbox(raw)
		for i, m := range msgs {
			label := name
			if len(msgs) > 1 {
				label = fmt.Sprintf("%s#%d", name, i+1)
			}
			if err := fn(label, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// splitMbox splits raw at mbox envelope lines that follow an empty line;
// anything else is one message.
func splitMbox(raw []byte) [][]byte {
	if !bytes.HasPrefix(raw, []byte("From ")) {
		return [][]byte{raw}
	}
	var out [][]byte
	start := 0
	for pos := 0; ; {
		i := bytes.Index(raw[pos:], []byte("\n\nFrom "))
		if i < 0 {
			break
		}
		at := pos + i + 2
		line, _, _ := bytes.Cut(raw[at:], []byte("\n"))
		if envelopeRe.Match(line) {
			out = append(out, raw[start:at])
			start = at
		}
		pos = at
	}
	return append(out, raw[start:])
}
