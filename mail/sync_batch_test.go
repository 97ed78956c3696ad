package mail

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// cutAnswer feeds the messages of arrived (UIDs, in the server's order) to
// a batcher over chunk, closes the answer as fetchAll does, and returns
// each batch sent: the UIDs it covers, those it holds, those missing.
func cutAnswer(t *testing.T, chunk, arrived []uint32) (covers, holds, missing [][]uint32) {
	t.Helper()
	a := &Account{Name: "t", Address: "support@desk.test"}
	out := make(chan fetchResult, len(chunk)+1)
	uids := make([]imap.UID, len(chunk))
	for i, u := range chunk {
		uids[i] = imap.UID(u)
	}
	b := &batcher{a: a, ctx: context.Background(), out: out, chunk: uids, size: firstBatch, p: a.startPreparing()}
	for _, u := range arrived {
		b.add(fetched{UID: u, Raw: fmt.Appendf(nil, "Message-ID: <m%d@customer.test>\r\nFrom: c%d@customer.test\r\nSubject: s\r\n\r\nbody\r\n", u, u)})
	}
	b.ready = b.p.done()
	if b.from < len(uids) {
		b.emit(len(uids), nil, nil)
	}
	close(out)
	first := uint32(chunk[0])
	for r := range out {
		var cover, hold, miss []uint32
		for u := first; u < r.next; u++ {
			if slices.Contains(chunk, u) {
				cover = append(cover, u)
			}
		}
		first = r.next
		if len(cover) != r.count {
			t.Fatalf("a batch counts %d UIDs but its cursor covers %v", r.count, cover)
		}
		for _, m := range r.ready {
			hold = append(hold, m.UID)
		}
		for _, x := range r.refused {
			miss = append(miss, x.uid)
		}
		covers, holds, missing = append(covers, cover), append(holds, hold), append(missing, miss)
	}
	return covers, holds, missing
}

// span is the UIDs from..to.
func span(from, to uint32) []uint32 {
	var s []uint32
	for u := from; u <= to; u++ {
		s = append(s, u)
	}
	return s
}

// TestBatcherCutsAnAnswerAsItArrives: the answer to one FETCH of 100 new
// messages is ingested as 25, 50 and 25 messages, each batch the next
// UIDs in order, so that the first are stored while the rest arrive.
func TestBatcherCutsAnAnswerAsItArrives(t *testing.T) {
	chunk := span(101, 200)
	covers, holds, missing := cutAnswer(t, chunk, chunk)
	var sizes []int
	for i := range covers {
		sizes = append(sizes, len(holds[i]))
		if !slices.Equal(covers[i], holds[i]) || len(missing[i]) > 0 {
			t.Errorf("batch %d covers %v, holds %v, misses %v", i, covers[i], holds[i], missing[i])
		}
	}
	if !slices.Equal(sizes, []int{25, 50, 25}) {
		t.Errorf("batches of %v, want [25 50 25]", sizes)
	}
}

// TestBatcherWaitsForWhatIsMissing: a batch is not cut while a UID before
// the last one read has not arrived (a server that answers out of order
// or leaves one out): the rest of the answer is one batch, and only what
// never came is missing.
func TestBatcherWaitsForWhatIsMissing(t *testing.T) {
	chunk := span(1, 60)
	// UID 10 comes last; UID 40 never comes.
	var arrived []uint32
	for _, u := range chunk {
		if u != 10 && u != 40 {
			arrived = append(arrived, u)
		}
	}
	arrived = append(arrived, 10)
	covers, holds, missing := cutAnswer(t, chunk, arrived)
	if len(covers) != 1 || !slices.Equal(covers[0], chunk) {
		t.Fatalf("batches cover %v, want one batch of the whole chunk", covers)
	}
	if want := slices.DeleteFunc(slices.Clone(chunk), func(u uint32) bool { return u == 40 }); !slices.Equal(holds[0], want) {
		t.Errorf("the batch holds %v, want %v", holds[0], want)
	}
	if !slices.Equal(missing[0], []uint32{40}) {
		t.Errorf("missing %v, want [40]", missing[0])
	}
}

// TestJoinWaiting: batches already fetched join the one the worker takes,
// up to joinedMax messages, in order; a batch that failed is not joined
// but handed back, so the messages before it are still stored.
func TestJoinWaiting(t *testing.T) {
	batch := func(from, n uint32) fetchResult {
		r := fetchResult{count: int(n), next: from + n}
		for u := from; u < from+n; u++ {
			r.ready = append(r.ready, &prepared{fetched: fetched{UID: u}})
		}
		return r
	}
	ready := make(chan fetchResult, 4)
	ready <- batch(26, 50)
	ready <- fetchResult{err: context.Canceled}
	joined, next := joinWaiting(batch(1, 25), ready)
	if joined.count != 75 || joined.next != 76 || len(joined.ready) != 75 || joined.ready[74].UID != 75 {
		t.Errorf("joined %d messages up to %d (%d ready), want 75 up to 76", joined.count, joined.next, len(joined.ready))
	}
	if next == nil || next.err == nil {
		t.Fatalf("the failed batch was not handed back: %+v", next)
	}
	for i := range 4 {
		ready <- batch(uint32(1+fetchBatch*(i+1)), fetchBatch)
	}
	joined, next = joinWaiting(batch(1, fetchBatch), ready)
	if joined.count != joinedMax || next != nil || len(ready) != 4-(joinedMax/fetchBatch-1) {
		t.Errorf("joined %d messages, left %d batches waiting; want %d joined", joined.count, len(ready), joinedMax)
	}
}
