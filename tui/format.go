package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// ellipsis marks text cut to fit.
const ellipsis = "…"

// Age renders how long ago t was, in one short unit: now, 5m, 3h, 2d, 1y
// (the list's AGE column, and `desk list`).
func Age(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case t.IsZero():
		return ""
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	case d < 365*24*time.Hour:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	default:
		return fmt.Sprintf("%dy", int(d/(365*24*time.Hour)))
	}
}

// cell fits s to exactly w terminal columns: cut with an ellipsis when too
// wide, padded with spaces when too narrow. Wide runes count as two.
func cell(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, ellipsis)
	if pad := w - ansi.StringWidth(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// cellRight is cell aligned right.
func cellRight(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, ellipsis)
	if pad := w - ansi.StringWidth(s); pad > 0 {
		s = strings.Repeat(" ", pad) + s
	}
	return s
}

// clip cuts a (possibly styled) line to at most w columns, with an ellipsis.
func clip(s string, w int) string {
	if w <= 0 {
		return ""
	}
	return ansi.Truncate(s, w, ellipsis)
}

// wrap breaks plain text into lines of at most w columns, at spaces where it
// can and inside words where it must.
func wrap(s string, w int) []string {
	if w < 1 {
		w = 1
	}
	lines := strings.Split(ansi.Wrap(s, w, ""), "\n")
	for i, l := range lines {
		// Wrap keeps a line's trailing spaces; a cut guards against any
		// line the wrapper could not break.
		lines[i] = ansi.Truncate(strings.TrimRight(l, " "), w, "")
	}
	return lines
}

// fitHeight returns exactly h lines: extra ones dropped, missing ones blank.
func fitHeight(lines []string, h int) []string {
	if h <= 0 {
		return nil
	}
	if len(lines) > h {
		return lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return lines
}

// humanSize renders a byte count: 512 B, 12 KB, 3.4 MB.
func humanSize(n int) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.0f KB", float64(n)/1024)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
	}
}

// numberWidth is the width of the widest "#N" among numbers, at least 3.
func numberWidth(nums ...int64) int {
	w := 3
	for _, n := range nums {
		if l := len(fmt.Sprintf("#%d", n)); l > w {
			w = l
		}
	}
	return w
}
