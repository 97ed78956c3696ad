package store

import "time"

// The events below are what the sync and send workers tell the interface
// (through tea.Program.Send in the TUI). They say what changed; the
// interface re-reads the store.

// TicketsChanged says tickets or their messages changed in the store.
type TicketsChanged struct {
	Account string
	Numbers []int64 // the tickets touched; empty means "re-read everything"
}

// SyncPhase is where an account's sync worker is.
type SyncPhase int

// Sync phases.
const (
	PhaseConnecting SyncPhase = iota
	PhaseSyncing
	PhaseIdle
	PhaseOffline
	// PhaseStopped: the worker gave up until desk restarts (the server
	// refused the login); Err says why.
	PhaseStopped
)

// String names the phase for the status line.
func (p SyncPhase) String() string {
	switch p {
	case PhaseConnecting:
		return "connecting"
	case PhaseSyncing:
		return "syncing"
	case PhaseIdle:
		return "idle"
	case PhaseStopped:
		return "stopped"
	default:
		return "offline"
	}
}

// SyncStatus reports an account's sync worker state.
type SyncStatus struct {
	Account string
	Phase   SyncPhase
	Done    int       // messages fetched so far in this pass
	Total   int       // messages to fetch in this pass
	Err     string    // one line, when offline or failing
	RetryAt time.Time // when offline: the next attempt
	// Rate is messages per second in this pass so far, ETA the estimated
	// time left (both zero until known).
	Rate float64
	ETA  time.Duration
}

// OutboxChanged says the outbox moved: something was queued, sent or failed.
type OutboxChanged struct {
	Queued    int
	Failed    int
	LastError string // one line: the newest failure, if any
}
