package mail

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"desk/store"
)

// BenchmarkIngestMaildir measures the serial half of a first sync alone,
// with no server: the messages of the Maildir named by DESK_BENCH_MAILDIR
// (its cur or new folder, read-only) are read and prepared untimed, with
// UIDs 1..N in file-name order, then ingested into a new store by the sync
// worker's own ingestBatch, in the batches a full sync cuts (fetchAll: the
// answer to each FETCH of fetchBatch UIDs cut into batches of firstBatch,
// twice that and so on up to fetchBatch; each batch and its cursor in one
// transaction), and the store is closed. It reports µs per message, wall
// and CPU (the process's, the checkpointer's and the garbage collector's
// included: it says more than wall time on a machine that other work keeps
// busy). DESK_BENCH_OUT, when set, names where the last round's store is
// kept (for searches on it):
//
//	DESK_BENCH_MAILDIR=$(cat ../shared/bench/.state)/mail/support/Maildir/cur \
//	  go test -run XXX -bench IngestMaildir -benchtime 1x -cpuprofile cpu.out ./mail/
func BenchmarkIngestMaildir(b *testing.B) {
	dir := os.Getenv("DESK_BENCH_MAILDIR")
	if dir == "" {
		b.Skip("DESK_BENCH_MAILDIR is not set: no Maildir folder to ingest (e.g. the bench harness's mail/support/Maildir/cur)")
	}
	acct := &Account{Name: "bench", Address: "support@helpdesk.example", IMAP: "imap://127.0.0.1:1",
		SMTP: "smtp://127.0.0.1:1", User: "support", Password: "unused", TLS: "none"}
	if err := acct.Validate(); err != nil {
		b.Fatal(err)
	}
	msgs := readMaildir(b, acct, dir)
	ctx := context.Background()
	var cpu time.Duration // the process's user and system time while timed
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "desk.db")
		if out := os.Getenv("DESK_BENCH_OUT"); out != "" {
			path = out
			for _, f := range []string{"", "-wal", "-shm"} {
				if err := os.Remove(out + f); err != nil && !os.IsNotExist(err) {
					b.Fatal(err)
				}
			}
		}
		st, err := store.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		svc := NewService(st, []*Account{acct}, nil, nil)
		w, err := svc.newWorker(ctx, acct)
		if err != nil {
			b.Fatal(err)
		}
		sel := &imap.SelectData{UIDValidity: 1, UIDNext: imap.UID(len(msgs) + 1)}
		if err := w.prepare(ctx, sel); err != nil {
			b.Fatal(err)
		}
		w.fresh = map[uint32]string{} // as fetchNew starts it
		runtime.GC()                  // not the preparing's garbage, nor the last round's
		cpu -= processCPU(b)
		b.StartTimer()
		size := firstBatch
		for i := 0; i < len(msgs); i += fetchBatch {
			chunk := msgs[i:min(i+fetchBatch, len(msgs))] // one FETCH's answer
			for len(chunk) > 0 {
				ready := chunk[:min(size, len(chunk))]
				chunk, size = chunk[len(ready):], min(2*size, fetchBatch)
				next := ready[len(ready)-1].UID + 1
				if err := w.ingestBatch(ctx, fetchResult{ready: ready, count: len(ready), next: next}); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		cpu += processCPU(b)
	}
	n := float64(b.N * len(msgs))
	b.ReportMetric(float64(b.Elapsed().Microseconds())/n, "µs/msg")
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/msg")
}

// processCPU is the user and system time the process has used so far.
func processCPU(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// readMaildir prepares every message of a Maildir folder, numbered 1..N in
// file-name order, with the IMAP flags its file name carries and its
// modification time as the internal date (as Dovecot has them).
func readMaildir(b *testing.B, a *Account, dir string) []*prepared {
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var out []*prepared
	for _, e := range entries { // ReadDir sorts by name
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			b.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		m := fetched{UID: uint32(len(out) + 1), Flags: maildirFlags(e.Name()), InternalDate: info.ModTime(), Raw: raw}
		out = append(out, a.prepareMessage(m))
	}
	if len(out) == 0 {
		b.Fatalf("no messages in %s", dir)
	}
	return out
}

// maildirFlags are the IMAP system flags of a Maildir file name's info
// part (":2," then one letter per flag).
func maildirFlags(name string) []string {
	_, info, ok := strings.Cut(name, ":2,")
	if !ok {
		return nil
	}
	letters := map[rune]imap.Flag{'D': imap.FlagDraft, 'F': imap.FlagFlagged, 'R': imap.FlagAnswered,
		'S': imap.FlagSeen, 'T': imap.FlagDeleted}
	var flags []string
	for _, c := range info {
		if f, ok := letters[c]; ok {
			flags = append(flags, string(f))
		}
	}
	return flags
}
