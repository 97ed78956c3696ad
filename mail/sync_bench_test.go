package mail_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"desk/mail"
	"desk/store"
)

// BenchmarkSyncIMAPIncremental measures one incremental pass: each round
// copies the store named by DESK_BENCH_STORE (a store synced from the
// server named by DESK_BENCH_IMAP, which has since received new mail) and
// runs `desk sync --once`'s pass on the copy, for profiles of what a pass
// over a few new messages costs:
//
//	DESK_BENCH_IMAP=imap://127.0.0.1:10143 IMAP_USER=support IMAP_PASS=secret \
//	  DESK_BENCH_STORE=/tmp/base.db \
//	  go test -run XXX -bench SyncIMAPIncremental -benchtime 5x -cpuprofile cpu.out ./mail/
//
// The store must be closed cleanly (its WAL checkpointed into the file).
func BenchmarkSyncIMAPIncremental(b *testing.B) {
	url, base := os.Getenv("DESK_BENCH_IMAP"), os.Getenv("DESK_BENCH_STORE")
	if url == "" || base == "" {
		b.Skip("DESK_BENCH_IMAP or DESK_BENCH_STORE is not set: no server and store to sync")
	}
	acct := &mail.Account{Name: "bench", Address: "support@helpdesk.example", IMAP: url, SMTP: "smtp://127.0.0.1:1",
		User: os.Getenv("IMAP_USER"), Password: os.Getenv("IMAP_PASS"), TLS: "none"}
	if err := acct.Validate(); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "desk.db")
		copyFile(b, base, path)
		b.StartTimer()
		st, err := store.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := mail.NewService(st, []*mail.Account{acct}, nil, nil).SyncOnce(ctx); err != nil {
			b.Fatal(err)
		}
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// copyFile copies the file at from to to.
func copyFile(b *testing.B, from, to string) {
	b.Helper()
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}
