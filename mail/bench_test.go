package mail_test

import (
	"context"
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
