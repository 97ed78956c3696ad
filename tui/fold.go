package tui

import (
	"fmt"
	"strings"
)

// A message body is split into parts: text shown as is, and folds (quoted
// history and signatures) shown as one line until opened.

// partKind is what a part of a body is.
type partKind int

const (
	partText partKind = iota
	partQuote
	partSignature
)

// bodyPart is a run of a body's lines.
type bodyPart struct {
	kind  partKind
	lines []string
}

// splitBody finds quoted runs (lines starting with '>', with the "On …
// wrote:" line just above them) and the signature (from a "-- " line to the
// end).
func splitBody(body string) []bodyPart {
	if body == "" {
		return nil
	}
	lines := strings.Split(body, "\n")
	var parts []bodyPart
	add := func(kind partKind, l string) {
		if n := len(parts); n > 0 && parts[n-1].kind == kind {
			parts[n-1].lines = append(parts[n-1].lines, l)
			return
		}
		parts = append(parts, bodyPart{kind: kind, lines: []string{l}})
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case l == "-- " || l == "--":
			for _, rest := range lines[i:] {
				add(partSignature, rest)
			}
			return parts
		case strings.HasPrefix(l, ">"):
			add(partQuote, l)
		case isAttribution(l) && i+1 < len(lines) && strings.HasPrefix(lines[i+1], ">"):
			add(partQuote, l)
		default:
			add(partText, l)
		}
	}
	return parts
}

// isAttribution reports whether l introduces a quote ("On Mon, Ana
// wrote:").
func isAttribution(l string) bool {
	l = strings.TrimSpace(l)
	return strings.HasSuffix(l, "wrote:") || strings.HasSuffix(l, "schrieb:") || strings.HasSuffix(l, "a écrit :")
}

// foldSummary is the one line a closed fold shows.
func foldSummary(p bodyPart) string {
	n := len(p.lines)
	if p.kind == partSignature {
		return fmt.Sprintf("▸ signature (%d %s) · za", n, plural(n, "line"))
	}
	return fmt.Sprintf("▸ %d quoted %s · za", n, plural(n, "line"))
}
