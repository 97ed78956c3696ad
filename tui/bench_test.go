package tui

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"desk/store"
)

// Benchmarks of the interface over a big store. They use the store at
// DESK_BENCH_DB (made with `desk dev seed --tickets 100000 --db PATH`), or
// seed 10,000 tickets into a temporary one:
//
//	DESK_BENCH_DB=/tmp/seed100k.db go test -run X -bench . ./tui

// benchModel opens the benchmark store and a model over it at 80x24, its
// first frame painted.
func benchModel(b *testing.B) (*harness, *store.Store) {
	b.Helper()
	path := os.Getenv("DESK_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.db")
	}
	st, err := store.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if n, err := st.CountTickets(context.Background(), nil, store.QueryEnv{}); err != nil {
		b.Fatal(err)
	} else if n == 0 {
		if err := st.Seed(context.Background(), store.SeedOptions{Tickets: 10000, Seed: 1, Now: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
	return newBenchHarness(b, st), st
}

// newBenchHarness makes a model like the program does, drives it to its
// first complete frame and returns it.
func newBenchHarness(b *testing.B, st *store.Store) *harness {
	h := &harness{t: b, m: newModel(st, Options{Author: "dana", Title: "desk — bench"})}
	h.m.after = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.run(h.m.Init())
	_ = h.m.View()
	if h.m.total == 0 {
		b.Fatal("the benchmark store shows no tickets")
	}
	return h
}

// BenchmarkFirstFrame is start to the first complete frame: the model
// made, sized, its list window read and drawn (the section counts run
// beside it in the program and follow).
func BenchmarkFirstFrame(b *testing.B) {
	_, st := benchModel(b)
	for b.Loop() {
		m := newModel(st, Options{Author: "dana", Title: "desk — bench"})
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		m.Update(m.readWindow(0, 0, false)())
		if !strings.Contains(m.View().Content, "›") {
			b.Fatal("the first frame shows no rows")
		}
	}
	b.ReportMetric(rssMB(), "RSS-MB")
}

// drive sends msg and runs the Cmds it starts concurrently, as the
// program does. It returns the time to the key's own frame (the cursor
// moved) and to the first complete frame: the key's own frame when that
// shows no row, thread or preview still loading, else the first list,
// thread or preview read applied and drawn. Read-ahead and counts finish
// afterwards, untimed.
func drive(h *harness, msg tea.Msg) (frame, complete time.Duration) {
	start := time.Now()
	_, cmd := h.m.Update(msg)
	results := make(chan tea.Msg, 64)
	pending := 0
	launch := func(c tea.Cmd) {
		if c != nil {
			pending++
			go func() { results <- c() }()
		}
	}
	launch(cmd)
	view := h.m.View().Content
	elapsed := time.Since(start)
	frame = elapsed
	// The frame is complete unless it waits for rows or a thread.
	waiting := pending > 0 && (strings.Contains(view, "  …\n") || strings.Contains(view, "loading…"))
	for pending > 0 {
		r := <-results
		pending--
		switch r := r.(type) {
		case nil:
		case tea.BatchMsg:
			for _, c := range r {
				launch(c)
			}
		default:
			_, next := h.m.Update(r)
			launch(next)
			switch r.(type) {
			case listLoadedMsg, threadLoadedMsg, previewLoadedMsg:
				if waiting {
					_ = h.m.View()
					elapsed, waiting = time.Since(start), false
				}
			}
		}
	}
	return frame, elapsed
}

// BenchmarkKeys is keypress to rendered frame, including the store reads
// the key starts (a new window, a thread, a section).
func BenchmarkKeys(b *testing.B) {
	for _, tc := range []struct {
		name    string
		keys    []tea.KeyPressMsg
		preview int // the window width with the preview pane on; 0: off
	}{
		{"move", []tea.KeyPressMsg{keyDown}, 0},
		{"move-with-preview", []tea.KeyPressMsg{keyDown}, 80},
		{"move-with-preview-beside", []tea.KeyPressMsg{keyDown}, 160},
		{"page", []tea.KeyPressMsg{{Code: tea.KeyPgDown}}, 0},
		{"open", []tea.KeyPressMsg{keyEnter, keyEsc}, 0},
		{"section", []tea.KeyPressMsg{keyTab}, 0},
		{"mark", []tea.KeyPressMsg{keySpace}, 0},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h, _ := benchModel(b)
			if tc.preview > 0 {
				h.send(tea.WindowSizeMsg{Width: tc.preview, Height: 24 * tc.preview / 80})
				h.send(keyOf('p'))
			}
			var frames, times []time.Duration
			for b.Loop() {
				for _, k := range tc.keys {
					frame, complete := drive(h, k)
					frames, times = append(frames, frame), append(times, complete)
				}
			}
			b.ReportMetric(percentileMS(times, 99), "p99-ms")
			b.ReportMetric(percentileMS(times, 50), "p50-ms")
			b.ReportMetric(percentileMS(frames, 99), "key-frame-p99-ms")
		})
	}
}

// percentileMS is the p-th percentile of times, in milliseconds.
func percentileMS(times []time.Duration, p int) float64 {
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return float64(times[len(times)*p/100].Microseconds()) / 1000
}

// rssMB is the resident memory of this process, from /proc.
func rssMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
