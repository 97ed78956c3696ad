package mail

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"desk/mail/parse"
	"desk/store"
)

// corpusDir is the shared collection of third-party test mails, relative
// to this package's directory.
var corpusDir = filepath.Join("..", "..", "shared", "corpus")

// corpusFiles returns the files matching pattern under the corpus, sorted;
// it skips the test loudly when the corpus is absent, and fails in CI.
func corpusFiles(tb testing.TB, pattern string) []string {
	tb.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("mail corpus missing at %s: %v", corpusDir, err)
		}
		tb.Skipf("!!! MAIL CORPUS NOT FOUND at %s (%v): test SKIPPED !!!", corpusDir, err)
	}
	files, err := filepath.Glob(filepath.Join(corpusDir, pattern))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no corpus files match %s (%v)", pattern, err)
	}
	sort.Strings(files)
	return files
}

// Every bounce and auto-reply of the sisimai set is recognised as
// automated, and ingesting them all as new mail queues no automated mail.
func TestBounceCorpus(t *testing.T) {
	t.Parallel() // long under -race: let the rest of the package run beside it
	var files []string
	for _, f := range corpusFiles(t, filepath.Join("sisimai-bounces", "maildir", "*", "*")) {
		if filepath.Base(filepath.Dir(f)) != "not" { // the set's three non-bounces
			files = append(files, f)
		}
	}
	e := newIngestEnv(t, 1)
	recognised := 0
	var missed []string
	var msgs [][]byte
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if parse.Parse(raw).Auto != "" {
			recognised++
		} else {
			rel, _ := filepath.Rel(corpusDir, f)
			missed = append(missed, rel)
		}
		msgs = append(msgs, raw)
	}
	e.ingestAll(10, msgs)
	rate := 100 * float64(recognised) / float64(len(files))
	queued := 0
	for _, o := range e.outbox() {
		if o.Kind == store.KindAuto {
			queued++
		}
	}
	t.Logf("sisimai bounces: %d/%d recognised as bounce or auto-reply (%.1f %%), %d tickets, %d automated mails queued; not recognised: %v",
		recognised, len(files), rate, len(e.tickets()), queued, missed)
	if rate < 99 {
		t.Errorf("%.1f %% recognised, want at least 99 %%", rate)
	}
	if queued != 0 {
		t.Errorf("%d automated mails queued in answer to bounces, want 0", queued)
	}
	// The set's non-bounces are human mail.
	for _, f := range corpusFiles(t, filepath.Join("sisimai-bounces", "maildir", "not", "*")) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if auto := parse.Parse(raw).Auto; auto != "" {
			t.Errorf("%s is not a bounce but was recognised as %q", f, auto)
		}
	}
}
