package mail_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"desk/mail"
	"desk/mail/demo"
	"desk/store"
)

// BenchmarkDemoStartAndSync measures what `desk demo` does before the list
// is complete: start the in-process servers, seed the mailbox, and sync it
// into a new store (thank-yous excluded: all seeded mail is historic).
func BenchmarkDemoStartAndSync(b *testing.B) {
	seeded := 0
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		d, err := demo.Start(ctx, demo.Options{})
		if err != nil {
			b.Fatal(err)
		}
		st, err := store.Open(filepath.Join(b.TempDir(), "desk.db"))
		if err != nil {
			b.Fatal(err)
		}
		if err := mail.NewService(st, []*mail.Account{d.Account}, nil, nil).SyncOnce(ctx); err != nil {
			b.Fatal(err)
		}
		tickets, err := st.List(ctx, store.ListFilter{State: "all"})
		if err != nil || len(tickets) != 32 {
			b.Fatalf("synced %d tickets (%v), want 32", len(tickets), err)
		}
		seeded = d.Seeded
		st.Close()
		cancel()
		d.Wait()
	}
	b.ReportMetric(float64(seeded), "msgs/op")
}

// BenchmarkSyncInProcess2000 measures a full first sync of 2,000 customer
// mails (parse, spam score, threading, full-text index) from the
// in-process IMAP server into a new store.
func BenchmarkSyncInProcess2000(b *testing.B) {
	sys, err := demo.NewSystem()
	if err != nil {
		b.Fatal(err)
	}
	defer sys.Close()
	const desk, n = "support@desk.test", 2000
	sys.AddUser(desk)
	for i := 0; i < n; i++ {
		raw := fmt.Sprintf("From: Customer %d <c%d@example.net>\r\nTo: support+app@desk.test\r\nSubject: Problem %d with the export\r\n"+
			"Date: Mon, 2 Nov 2026 10:%02d:00 +0000\r\nMessage-ID: <m%d@example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
			"Hello,\r\nthe export of project %d fails with error E%d since yesterday.\r\nRegards\r\n", i%300, i%300, i, i%60, i, i, i)
		if _, err := sys.Append(desk, []byte(raw)); err != nil {
			b.Fatal(err)
		}
	}
	acct := &mail.Account{Name: "bench", Address: desk, IMAP: "imap://" + sys.IMAPAddr, SMTP: "smtp://" + sys.SMTPAddr,
		User: desk, Password: demo.Password, TLS: "none"}
	if err := acct.Validate(); err != nil {
		b.Fatal(err)
	}
	benchFullSyncs(b, acct)
}

// BenchmarkSyncIMAP measures a full first sync from a real server named by
// DESK_BENCH_IMAP (e.g. imap://127.0.0.1:10143, the bench harness's
// Dovecot; IMAP_USER and IMAP_PASS log in), for CPU profiles of the
// engine on a realistic mailbox:
//
//	DESK_BENCH_IMAP=imap://127.0.0.1:10143 IMAP_USER=support IMAP_PASS=secret \
//	  go test -run XXX -bench SyncIMAP -benchtime 1x -cpuprofile cpu.out ./mail/
func BenchmarkSyncIMAP(b *testing.B) {
	url := os.Getenv("DESK_BENCH_IMAP")
	if url == "" {
		b.Skip("DESK_BENCH_IMAP is not set: no server to sync from")
	}
	acct := &mail.Account{Name: "bench", Address: "support@helpdesk.example", IMAP: url, SMTP: "smtp://127.0.0.1:1",
		User: os.Getenv("IMAP_USER"), Password: os.Getenv("IMAP_PASS"), TLS: "none"}
	if err := acct.Validate(); err != nil {
		b.Fatal(err)
	}
	benchFullSyncs(b, acct)
}

// benchFullSyncs runs b.N full first syncs of acct, each into a new store,
// and reports the messages synced per second.
func benchFullSyncs(b *testing.B, acct *mail.Account) {
	ctx := context.Background()
	synced := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := store.Open(filepath.Join(b.TempDir(), "desk.db"))
		if err != nil {
			b.Fatal(err)
		}
		if err := mail.NewService(st, []*mail.Account{acct}, nil, nil).SyncOnce(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		row, err := st.EnsureAccount(ctx, acct.Name, acct.Address, acct.Mailbox)
		if err != nil {
			b.Fatal(err)
		}
		uids, err := st.LiveUIDs(ctx, row.ID)
		if err != nil {
			b.Fatal(err)
		}
		synced += len(uids)
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(synced)/b.Elapsed().Seconds(), "msgs/s")
}
