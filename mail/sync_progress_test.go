package mail

import (
	"testing"
	"time"
)

// TestProgress: rate and ETA from messages done in the time elapsed.
func TestProgress(t *testing.T) {
	s := progress(500, 2000, 2*time.Second)
	if s.Done != 500 || s.Total != 2000 || s.Rate != 250 || s.ETA != 6*time.Second {
		t.Fatalf("progress(500, 2000, 2s) = %+v; want 250 msg/s, ETA 6s", s)
	}
	if s := progress(0, 2000, time.Second); s.Rate != 0 || s.ETA != 0 {
		t.Fatalf("nothing done yet must not guess: %+v", s)
	}
	if s := progress(2000, 2000, 4*time.Second); s.Rate != 500 || s.ETA != 0 {
		t.Fatalf("finished: %+v", s)
	}
}
