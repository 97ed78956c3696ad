package tui

import (
	"sort"
	"strings"

	"desk/store"
)

// A thread is shown as a reply tree: each message under the one it
// answers, indented one level per depth, siblings in date order. The tree
// comes from the messages' In-Reply-To and References, within the ticket.
// A reply or note written here is stored before its mail is composed, so
// it carries no header yet: it hangs under the newest earlier message that
// is not a note, which is the message its mail will name (mail's
// threadParent). Any other message whose parent is not in the ticket is a
// root.

// nestIndent is the columns one level of depth indents.
const nestIndent = 3

// maxNestDepth is the most levels shown at any width; deeper messages are
// drawn at the deepest level with a dotted connector.
const maxNestDepth = 8

// nestMessages returns msgs (in arrival order) in reply-tree order, each
// with its Depth set.
func nestMessages(msgs []messageView) []messageView {
	n := len(msgs)
	byID := make(map[string]int, n)
	for i, mv := range msgs {
		if _, dup := byID[mv.MessageID]; !dup && mv.MessageID != "" {
			byID[mv.MessageID] = i
		}
	}
	parent := make([]int, n)
	lastMail := -1 // the newest message so far that is not a note
	for i, mv := range msgs {
		parent[i] = replyParent(mv, i, byID, lastMail)
		if mv.Kind != store.KindNote {
			lastMail = i
		}
	}
	breakCycles(parent)

	children := make([][]int, n+1) // children[n] are the roots
	for i, p := range parent {
		if p < 0 {
			p = n
		}
		children[p] = append(children[p], i)
	}
	for _, c := range children {
		sort.SliceStable(c, func(a, b int) bool { return msgs[c[a]].Date.Before(msgs[c[b]].Date) })
	}
	out := make([]messageView, 0, n)
	type frame struct{ i, depth int }
	stack := make([]frame, 0, n)
	for i := len(children[n]) - 1; i >= 0; i-- {
		stack = append(stack, frame{children[n][i], 0})
	}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		mv := msgs[f.i]
		mv.Depth = f.depth
		out = append(out, mv)
		c := children[f.i]
		for j := len(c) - 1; j >= 0; j-- {
			stack = append(stack, frame{c[j], f.depth + 1})
		}
	}
	return out
}

// replyParent is the index of the message mv (at index i) answers, or -1:
// In-Reply-To, else the newest of its References in the ticket, else for
// a reply or note written here the newest earlier message that is not a
// note (lastMail).
func replyParent(mv messageView, i int, byID map[string]int, lastMail int) int {
	if p, ok := byID[mv.InReplyTo]; ok && p != i {
		return p
	}
	for j := len(mv.References) - 1; j >= 0; j-- {
		if p, ok := byID[mv.References[j]]; ok && p != i {
			return p
		}
	}
	if mv.InReplyTo == "" && len(mv.References) == 0 && (mv.Kind == store.KindReply || mv.Kind == store.KindNote) {
		return lastMail
	}
	return -1
}

// breakCycles makes roots of messages whose parents lead back to them
// (forged or broken headers), so that every message is in the tree once.
func breakCycles(parent []int) {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]int, len(parent))
	var path []int
	for i := range parent {
		path = path[:0]
		j := i
		for j >= 0 && state[j] == unseen {
			state[j] = onPath
			path = append(path, j)
			j = parent[j]
		}
		if j >= 0 && state[j] == onPath {
			parent[j] = -1 // j closes a loop: it becomes a root
		}
		for _, k := range path {
			state[k] = done
		}
	}
}

// nestPrefixes are what a message at depth draws before its author line
// and before its other lines at width w, and the columns they take.
func nestPrefixes(depth, w int) (head, body string, cols int) {
	if depth <= 0 {
		return "", "", 0
	}
	levels := min(depth, max(min(w/20, maxNestDepth), 1))
	connector := "└─ "
	if depth > levels {
		connector = "└┄ "
	}
	cols = levels * nestIndent
	pad := strings.Repeat(" ", cols-nestIndent)
	return pad + connector, pad + strings.Repeat(" ", nestIndent), cols
}
