package mail

import (
	"os"
	"testing"
)

// BenchmarkPrepareCorpus times prepareMessage, the per-message CPU work of a
// sync (MIME parse, reply key, spam document), over every message of the
// Maildir folder named by DESK_BENCH_MAILDIR, e.g. the bench server's
// mail/support/Maildir/cur. The files are read once, untimed. One iteration
// prepares the whole folder, so run it with -benchtime 1x:
//
//	DESK_BENCH_MAILDIR=$(cat ../shared/bench/.state)/mail/support/Maildir/cur \
//	  go test -run XXX -bench PrepareCorpus -benchtime 1x -cpuprofile cpu.out ./mail/
func BenchmarkPrepareCorpus(b *testing.B) {
	dir := os.Getenv("DESK_BENCH_MAILDIR")
	if dir == "" {
		b.Skip("DESK_BENCH_MAILDIR is not set: no Maildir folder to prepare (e.g. the bench harness's mail/support/Maildir/cur)")
	}
	a := &Account{Name: "bench", Address: "support@helpdesk.example"}
	var msgs []fetched
	size := 0
	for _, pm := range readMaildir(b, a, dir) {
		msgs = append(msgs, pm.fetched)
		size += len(pm.Raw)
	}
	b.SetBytes(int64(size))
	cpu := -processCPU(b)
	for b.Loop() {
		for _, m := range msgs {
			a.prepareMessage(m)
		}
	}
	// CPU time (the garbage collector's included) says more than wall
	// time on a machine that other work keeps busy.
	cpu += processCPU(b)
	n := float64(b.N * len(msgs))
	b.ReportMetric(b.Elapsed().Seconds()/n*1e6, "µs/msg")
	b.ReportMetric(cpu.Seconds()/n*1e6, "cpu-µs/msg")
}
