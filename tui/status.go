package tui

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"desk/store"
)

// statusLine is the bottom line: the transient message, each account's sync
// phase, and the outbox.
func (m *model) statusLine() string {
	s := m.styles
	var parts []string
	if m.flash != "" {
		style := s.Flash
		if m.flashErr {
			style = s.StatusError
		}
		parts = append(parts, style.Render(m.flash))
	}
	if m.opts.Offline {
		parts = append(parts, s.StatusError.Render("offline (no account configured)"))
	} else {
		names := make([]string, 0, len(m.syncs))
		for name := range m.syncs {
			names = append(names, name)
		}
		sort.Strings(names)
		now := m.now()
		for _, name := range names {
			v := m.syncs[name]
			text := v.phaseText(now)
			if len(names) > 1 || name != "" {
				text = name + ": " + text
			}
			style := s.Status
			if v.Phase == store.PhaseOffline {
				style = s.StatusError
			}
			parts = append(parts, style.Render(text))
		}
	}
	if o := m.outbox; o.Queued > 0 || o.Failed > 0 {
		var counts []string
		if o.Queued > 0 {
			counts = append(counts, fmt.Sprintf("%d queued", o.Queued))
		}
		if o.Failed > 0 {
			counts = append(counts, fmt.Sprintf("%d failed", o.Failed))
		}
		text := "outbox: " + strings.Join(counts, ", ")
		style := s.Status
		if o.Failed > 0 {
			style = s.StatusError
			if o.LastError != "" {
				text += " (" + o.LastError + ")"
			}
		}
		parts = append(parts, style.Render(text))
	}
	return strings.Join(parts, s.Status.Render(" · "))
}

// phaseText says where an account's sync is: "syncing 120/300", "idle",
// "offline — retry in 12s: <err>".
func (v syncView) phaseText(now time.Time) string {
	switch v.Phase {
	case store.PhaseSyncing:
		if v.Total > 0 {
			return fmt.Sprintf("syncing %d/%d", v.Done, v.Total)
		}
		return "syncing"
	case store.PhaseIdle:
		return "idle"
	case store.PhaseConnecting:
		return "connecting…"
	}
	text := "offline"
	if left := v.RetryAt.Sub(now); left > 0 {
		text += fmt.Sprintf(" — retry in %ds", int(math.Ceil(left.Seconds())))
	} else if !v.RetryAt.IsZero() {
		text += " — retrying"
	}
	if v.Err != "" {
		text += ": " + v.Err
	}
	return text
}
