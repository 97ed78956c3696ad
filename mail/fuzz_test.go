package mail

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"desk/store"
)

// addCorpusSeeds adds up to n files of each corpus folder pattern as seeds;
// without the corpus the inline seeds alone are used.
func addCorpusSeeds(f *testing.F, n int, patterns ...string) {
	for _, pattern := range patterns {
		files, _ := filepath.Glob(filepath.Join(corpusDir, pattern))
		for i, file := range files {
			if i >= n {
				break
			}
			if raw, err := os.ReadFile(file); err == nil {
				f.Add(raw)
			}
		}
	}
}

func FuzzRoute(f *testing.F) {
	for _, s := range []string{
		testDesk, "support+billing@desk.test", ReplyAddress(testDesk, "billing", testKey),
		UnsubscribeAddress(testDesk, testKey), "SUPPORT+" + strings.ToUpper(testKey) + "@DESK.TEST",
		"support+-@desk.test", "support++@desk.test", "support+a-b-" + testKey + "@desk.test", "billing@desk.test",
		"@", "", "support@desk.test@desk.test", " support+x@desk.test ",
	} {
		f.Add([]byte(s))
	}
	a := &Account{Address: testDesk, Aliases: map[string]string{"billing@desk.test": "Billing"}}
	f.Fuzz(func(t *testing.T, b []byte) {
		addr := string(b)
		rt, ok := RouteAddress(testDesk, addr)
		if ok {
			if _, domain, _ := strings.Cut(strings.ToLower(strings.TrimSpace(addr)), "@"); domain != "desk.test" {
				t.Fatalf("%q routes to the desk from another domain", addr)
			}
		}
		if rt.ReplyKey != "" && !isReplyKey(rt.ReplyKey) {
			t.Fatalf("%q gives a malformed reply key %q", addr, rt.ReplyKey)
		}
		if !ok && rt != (Route{}) {
			t.Fatalf("%q is no desk address but routes to %+v", addr, rt)
		}
		// The same address alone, or after a stranger, routes the same.
		if got, gotOK := route(testDesk, []string{"x@other.test", addr}); got != rt || gotOK != ok {
			t.Fatalf("route(%q) = %+v, %v; RouteAddress = %+v, %v", addr, got, gotOK, rt, ok)
		}
		// Aliases only add routes.
		if got, gotOK := a.route([]string{addr}); ok && (got != rt || !gotOK) {
			t.Fatalf("with aliases %q routes to %+v, %v; without %+v", addr, got, gotOK, rt)
		}
		// A reply key survives the round trip through the reply address.
		if rt.ReplyKey != "" && !rt.Unsubscribe && !strings.ContainsAny(rt.Project, "@ \t\"<>") {
			back, ok := RouteAddress(testDesk, ReplyAddress(testDesk, rt.Project, rt.ReplyKey))
			if !ok || back.ReplyKey != rt.ReplyKey {
				t.Fatalf("reply address of %+v routes back to %+v, %v", rt, back, ok)
			}
		}
	})
}

// FuzzIngest files arbitrary bytes into a store, then a byte-identical
// copy and a copy delivered again (one more Received field, same
// Message-ID) at new UIDs, then a reply that refers to it: no input may
// fail the ingest, which would stop the sync for good.
func FuzzIngest(f *testing.F) {
	for _, s := range []string{
		"", "\n\n", "From: a@b\n\nhi\n",
		string(mailFrom(alice, testDesk, "Help [#10]", "x@customer.test", "x", "References: <x@customer.test> <y@z>", "In-Reply-To: <x@customer.test>")),
		"From: MAILER-DAEMON <>\nContent-Type: multipart/report; boundary=b\n\n--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: <x@customer.test>\n--b--\n",
	} {
		f.Add([]byte(s))
	}
	addCorpusSeeds(f, 6, "sisimai-bounces/maildir/bsd/*", "stalwart-mail-parser/resources/eml/malformed/*.eml",
		"dovecot-imaptest/src/tests/thread*.mbox", "notmuch/test/corpora/threading/ghost-root/*")
	// One store for the whole run: opening one per input costs more than
	// the ingest, and mail piling up exercises threading across inputs.
	st, err := store.Open(filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	a := &Account{Name: "fuzz", Address: testDesk, IMAP: "imap://127.0.0.1:1", SMTP: "smtp://127.0.0.1:1", TLS: "none", Password: "x"}
	if err := a.Validate(); err != nil {
		f.Fatal(err)
	}
	row, err := st.EnsureAccount(context.Background(), a.Name, a.Address, a.Mailbox)
	if err != nil {
		f.Fatal(err)
	}
	var next atomic.Uint32
	next.Store(9)
	f.Fuzz(func(t *testing.T, raw []byte) {
		e := &ingestEnv{t: t, st: st, a: a, row: row}
		again := append([]byte("Received: from mx2.desk.test by mx.desk.test; Thu, 1 May 2025 10:00:00 +0000\r\n"), raw...)
		for _, b := range [][]byte{raw, raw, again} {
			uid := next.Add(1)
			if n, err := e.try(uid, b); err != nil {
				t.Fatalf("ingest UID %d: %v", uid, err)
			} else if n != 0 && e.ticket(n) == nil {
				t.Fatalf("ingest UID %d reported ticket #%d, which does not exist", uid, n)
			}
		}
		reply := mailFrom(alice, testDesk, "Re: [#10]", "r@customer.test", "thanks", "In-Reply-To: <x@customer.test>")
		if _, err := e.try(next.Add(1), reply); err != nil {
			t.Fatalf("ingest of a reply after the input: %v", err)
		}
	})
}
