package mail

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestIngestWholeCorpus ingests every file of the shared corpus, whatever
// it holds (mail, mbox, even the expectation files: bad input must not be
// dropped either), each as one message: none may fail, and every one must
// be stored, in a ticket or kept outside one. (Under -race, every tenth
// file: see corpusStride.)
func TestIngestWholeCorpus(t *testing.T) {
	t.Parallel()
	corpusFiles(t, "*") // skips loudly without the corpus, fails in CI
	e := newIngestEnv(t, 1)
	uid, seen := uint32(0), 0
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if seen++; (seen-1)%corpusStride != 0 {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		uid++
		if _, err := e.try(uid, raw); err != nil {
			rel, _ := filepath.Rel(corpusDir, path)
			t.Errorf("%s: %v", rel, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := e.st.LiveUIDs(context.Background(), e.row.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != int(uid) {
		t.Fatalf("ingested %d files, %d stored with their UID", uid, len(stored))
	}
	t.Logf("%d corpus files ingested, all stored", uid)
}
