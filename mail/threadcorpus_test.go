package mail

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"desk/mail/parse"
)

// groupsOf ingests msgs in order (UIDs 1, 2, …) into a fresh store and
// returns the group of each message: its ticket number, or "-UID" for a
// message kept outside any ticket.
func groupsOf(t *testing.T, msgs [][]byte) []string {
	t.Helper()
	e := newIngestEnv(t, 1)
	e.ingestAll(1, msgs)
	group := make([]string, len(msgs))
	for i := range group {
		group[i] = fmt.Sprintf("-%d", i+1)
	}
	for _, tk := range e.tickets() {
		for _, m := range e.messages(tk.Number) {
			if m.UID >= 1 && int(m.UID) <= len(msgs) {
				group[m.UID-1] = fmt.Sprint(tk.Number)
			}
		}
	}
	return group
}

// sameGrouping counts the expected threads (sets of 1-based message
// numbers) that are exactly one group of got.
func sameGrouping(want [][]int, got []string) int {
	size := map[string]int{}
	for _, g := range got {
		size[g]++
	}
	ok := 0
	for _, thread := range want {
		g := got[thread[0]-1]
		same := size[g] == len(thread)
		for _, n := range thread {
			same = same && got[n-1] == g
		}
		if same {
			ok++
		}
	}
	return ok
}

// threadLineRe finds the first expected THREAD response of a script.
var threadLineRe = regexp.MustCompile(`(?im)^ok thread references[^\n]*\n\* thread (.*)$`)

// topThreads reads the top-level threads of a THREAD response, e.g.
// "(3 2)(1)" is [[3 2] [1]] and "(1 (2 4)(3))" is [[1 2 4 3]].
func topThreads(resp string) [][]int {
	var out [][]int
	var cur []int
	depth := 0
	for _, tok := range regexp.MustCompile(`\(|\)|\d+`).FindAllString(resp, -1) {
		switch tok {
		case "(":
			depth++
		case ")":
			if depth--; depth == 0 && len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
		default:
			n, _ := strconv.Atoi(tok)
			cur = append(cur, n)
		}
	}
	return out
}

// splitMbox cuts an mbox file at its "From " lines and gives each message
// a sender when it has none (the test mails of Dovecot carry only
// threading headers): they are one correspondent's mail.
func splitMbox(b []byte) [][]byte {
	var msgs [][]byte
	for _, part := range regexp.MustCompile(`(?m)^From [^\n]*\n`).Split(string(b), -1) {
		if strings.TrimSpace(part) == "" {
			continue
		}
		if !regexp.MustCompile(`(?im)^from:`).MatchString(part) {
			part = "From: writer@example.test\n" + part
		}
		msgs = append(msgs, []byte(part))
	}
	return msgs
}

// TestThreadingCorpus scores threading against the expected THREAD
// REFERENCES results of dovecot-imaptest and against notmuch's notion of a
// thread (the messages connected through Message-ID, In-Reply-To and
// References) on its corpora, and reports the share of expected threads
// reproduced exactly. Dovecot's algorithm (RFC 5256) also joins
// threads by base subject, which desk does not do; see docs/parsing.md.
func TestThreadingCorpus(t *testing.T) {
	t.Parallel() // long under -race: let the rest of the package run beside it
	scripts := corpusFiles(t, filepath.Join("dovecot-imaptest", "src", "tests", "thread*"))
	total, ok := 0, 0
	var report []string
	for _, script := range scripts {
		if strings.HasSuffix(script, ".mbox") {
			continue
		}
		s, err := os.ReadFile(script)
		if err != nil {
			t.Fatal(err)
		}
		loc := threadLineRe.FindSubmatchIndex(s)
		if loc == nil {
			continue // ORDEREDSUBJECT only
		}
		mbox, err := os.ReadFile(script + ".mbox")
		if err != nil {
			t.Fatal(err)
		}
		msgs := splitMbox(mbox)
		if bytes.Contains(s, []byte("state: created")) {
			msgs = msgs[:bytes.Count(s[:loc[0]], []byte("ok append"))]
		}
		want := topThreads(string(s[loc[2]:loc[3]]))
		got := groupsOf(t, msgs)
		n := sameGrouping(want, got)
		total, ok = total+len(want), ok+n
		report = append(report, fmt.Sprintf("%s: %d/%d threads (want %v, got groups %v)", filepath.Base(script), n, len(want), want, got))
	}
	t.Logf("dovecot-imaptest THREAD REFERENCES: %d/%d threads match\n  %s", ok, total, strings.Join(report, "\n  "))

	nmTotal, nmOK := 0, 0
	for _, dir := range []string{"threading", "lkml", "default"} {
		root := corpusFiles(t, filepath.Join("notmuch", "test", "corpora", dir))[0]
		var msgs [][]byte
		seen := map[string]bool{}
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			raw, err := os.ReadFile(path)
			if !seen[string(raw)] { // a file copied to two folders is one message
				seen[string(raw)] = true
				msgs = append(msgs, asCustomerMail(raw))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want := referenceComponents(msgs)
		n := sameGrouping(want, groupsOf(t, msgs))
		nmTotal, nmOK = nmTotal+len(want), nmOK+n
		t.Logf("notmuch %s (%d messages): %d/%d threads match", dir, len(msgs), n, len(want))
	}
	t.Logf("notmuch: %d/%d threads match", nmOK, nmTotal)
	// Regression floors: the scores measured when this test was written.
	if ok < 6 || nmOK < 28 {
		t.Errorf("threading scores fell to %d (dovecot, was 6) and %d (notmuch, was 28)", ok, nmOK)
	}
}

// listFieldRe matches the header fields that mark mailing-list mail, with
// their continuation lines.
var listFieldRe = regexp.MustCompile(`(?im)^(list-[a-z]+|precedence|x-mailing-list|mailing-list)[ \t]*:.*(\r?\n[ \t].*)*\r?\n`)

// asCustomerMail removes the mailing-list fields from the header of raw:
// the notmuch corpora are list mail, which desk files as automated mail
// outside tickets, and here they stand for customers' conversations.
func asCustomerMail(raw []byte) []byte {
	end := bytes.Index(raw, []byte("\n\n"))
	if end < 0 {
		return raw
	}
	head := listFieldRe.ReplaceAll(raw[:end+1], nil)
	return append(head, raw[end+1:]...)
}

// referenceComponents groups msgs (1-based) into the connected components
// of their reference graph: two messages are in one thread when a chain of
// Message-IDs, In-Reply-To and References links them, as notmuch threads.
func referenceComponents(msgs [][]byte) [][]int {
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if p, ok := parent[x]; ok && p != x {
			parent[x] = find(p)
			return parent[x]
		}
		parent[x] = x
		return x
	}
	union := func(a, b string) { parent[find(a)] = find(b) }
	for i, raw := range msgs {
		p := parse.Parse(raw)
		node := fmt.Sprintf("msg %d", i+1)
		for _, id := range append(append([]string{p.MessageID}, p.InReplyTo...), p.References...) {
			if id != "" {
				union(node, "id "+id)
			}
		}
		find(node)
	}
	byRoot := map[string][]int{}
	var roots []string
	for i := range msgs {
		r := find(fmt.Sprintf("msg %d", i+1))
		if byRoot[r] == nil {
			roots = append(roots, r)
		}
		byRoot[r] = append(byRoot[r], i+1)
	}
	out := make([][]int, 0, len(roots))
	for _, r := range roots {
		out = append(out, byRoot[r])
	}
	return out
}
