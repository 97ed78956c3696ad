package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"desk/store"
)

// mv is a message of a nesting test: id, kind, minutes after testNow, and
// what it answers.
func mv(id, kind string, minute int, inReplyTo string, refs ...string) messageView {
	return messageView{MessageID: id, Kind: kind, Date: testNow.Add(time.Duration(minute) * time.Minute),
		InReplyTo: inReplyTo, References: refs, From: id + "@example.com", Body: "body of " + id}
}

// order is the ids and depths of nested messages, as "id:depth".
func order(msgs []messageView) string {
	var out []string
	for _, m := range msgs {
		out = append(out, fmt.Sprintf("%s:%d", m.MessageID, m.Depth))
	}
	return strings.Join(out, " ")
}

func TestNestMessages(t *testing.T) {
	const cust, reply, note, auto = store.KindCustomer, store.KindReply, store.KindNote, store.KindAuto
	for _, tc := range []struct {
		name string
		in   []messageView
		want string
	}{
		{"linear", []messageView{
			mv("a", cust, 0, ""), mv("b", reply, 1, "a"), mv("c", cust, 2, "b"),
		}, "a:0 b:1 c:2"},
		{"siblings by date, not arrival", []messageView{
			mv("a", cust, 0, ""), mv("late", cust, 9, "a"), mv("early", cust, 5, "a"), mv("x", cust, 6, "early"),
		}, "a:0 early:1 x:2 late:1"},
		{"references when In-Reply-To is elsewhere", []messageView{
			mv("a", cust, 0, ""), mv("b", cust, 1, "a"),
			mv("c", cust, 2, "not-in-ticket", "a", "b", "gone"),
		}, "a:0 b:1 c:2"},
		{"replies and notes written here hang under the newest mail before them", []messageView{
			mv("a", cust, 0, ""), mv("ack", auto, 1, "a"), mv("n1", note, 2, ""), mv("r", reply, 3, ""),
			mv("n2", note, 4, ""), mv("b", cust, 5, "r"),
		}, "a:0 ack:1 n1:2 r:2 n2:3 b:3"},
		{"customer mail with no parent is a root", []messageView{
			mv("a", cust, 0, ""), mv("b", cust, 1, "a"), mv("c", cust, 2, ""),
		}, "a:0 b:1 c:0"},
		{"loops are cut", []messageView{
			mv("a", cust, 0, "b"), mv("b", cust, 1, "a"), mv("self", cust, 2, "self"),
		}, "a:0 b:1 self:0"},
		{"duplicate ids name the first", []messageView{
			mv("a", cust, 0, ""), mv("a", cust, 1, ""), mv("b", cust, 2, "a"),
		}, "a:0 b:1 a:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := order(nestMessages(tc.in)); got != tc.want {
				t.Errorf("nested %s, want %s", got, tc.want)
			}
		})
	}
}

// nestedThread is a thread with two branches and a note, rendered by the
// model at width w.
func nestedThread(m *model, w int, msgs []messageView, events []eventView) []string {
	t := &threadState{loaded: true, msgs: nestMessages(msgs), events: events, open: map[foldID]bool{}}
	return strings.Split(ansi.Strip(strings.Join(m.threadContent(t, w, 0), "\n")), "\n")
}

func TestNestedRenderingAndEvents(t *testing.T) {
	m := newModel(nil, Options{})
	m.now = func() time.Time { return testNow }
	msgs := []messageView{
		mv("root", store.KindCustomer, 0, ""),
		mv("r1", store.KindReply, 10, ""),
		mv("c2", store.KindCustomer, 20, "root"),
		mv("n", store.KindNote, 30, ""),
	}
	events := []eventView{{At: testNow.Add(15 * time.Minute), Actor: "ana", What: "assigned to ana"}}
	lines := nestedThread(m, 80, msgs, events)
	text := strings.Join(lines, "\n")
	// root, its reply r1, then the later branch c2 with the note under it;
	// the event (at 0:15) shows before the first message after it.
	want := []string{"root@example.com", "└─ (unknown) (reply)", "── assigned to ana by ana",
		"└─ Support Bot on behalf of c2@example.com", "   └─  NOTE  internal note", "      │ body of n"}
	at := -1
	for _, w := range want {
		i := strings.Index(text, w)
		if i < 0 || i < at {
			t.Fatalf("want %q after what comes before it in:\n%s", w, text)
		}
		at = i
	}
}

func TestDeepThreadCappedAt80(t *testing.T) {
	m := newModel(nil, Options{})
	m.now = func() time.Time { return testNow }
	var msgs []messageView
	for i := range 30 {
		parent := ""
		if i > 0 {
			parent = fmt.Sprint("m", i-1)
		}
		msgs = append(msgs, mv(fmt.Sprint("m", i), store.KindCustomer, i, parent))
	}
	lines := nestedThread(m, 80, msgs, nil)
	maxIndent, dotted := 0, 0
	for _, l := range lines {
		if ansi.StringWidth(l) > 80 {
			t.Errorf("line wider than 80: %q", l)
		}
		if i := strings.Index(l, "└"); i >= 0 {
			maxIndent = max(maxIndent, ansi.StringWidth(l[:i]))
		}
		if strings.Contains(l, "└┄ ") {
			dotted++
		}
	}
	if cap := (80/20 - 1) * nestIndent; maxIndent != cap {
		t.Errorf("deepest connector at column %d, want the cap %d", maxIndent, cap)
	}
	if dotted != 30-1-80/20 {
		t.Errorf("%d messages drawn as deeper than shown, want %d", dotted, 30-1-80/20)
	}
}

func TestNestLongChainStaysFast(t *testing.T) {
	msgs := make([]messageView, 2000)
	for i := range msgs {
		msgs[i] = mv(fmt.Sprint("m", i), store.KindCustomer, i, fmt.Sprint("m", i-1))
	}
	start := time.Now()
	out := nestMessages(msgs)
	if d := time.Since(start); d > time.Second {
		t.Errorf("nesting a 2,000-message chain took %v", d)
	}
	if len(out) != 2000 || out[1999].Depth != 1999 {
		t.Errorf("chain nested to %d messages, last at depth %d", len(out), out[len(out)-1].Depth)
	}
}

// addBranches gives ticket 103 a reply tree: a staff reply, the
// customer's answer to it, a colleague answering the first mail (a second
// branch) and a note.
func addBranches(t *testing.T, f *fixture) {
	t.Helper()
	msg := func(id, kind, from, name string, ago time.Duration, inReplyTo, body string, refs ...string) *store.Message {
		return &store.Message{MessageID: id, Kind: kind, From: from, FromName: name, Date: testNow.Add(-ago),
			InReplyTo: inReplyTo, References: refs, Body: body, Subject: "Invoice for October"}
	}
	root := "m103.0@example.com"
	f.addMessage(t, 103, msg("r1@example.com", store.KindReply, "support@example.com", "Ana", 49*time.Hour, root,
		"Sent it again, Bob.", root))
	f.addMessage(t, 103, msg("c1@example.org", store.KindCustomer, "bob@example.org", "Bob Builder", 48*time.Hour,
		"r1@example.com", "Still not here.\n\n> Sent it again, Bob.", root, "r1@example.com"))
	f.addMessage(t, 103, msg("x1@example.org", store.KindCustomer, "eve@example.org", "Eve Accounts", 47*time.Hour,
		"", "I am Bob's accountant: please send it to me.", root))
	f.addMessage(t, 103, msg("n1@example.com", store.KindNote, "support@example.com", "Carol", 46*time.Hour,
		"", "Eve is on the contract, fine to send."))
}

func TestNestedThreadGolden(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			f := newFixture(t)
			addBranches(t, f)
			h := newHarness(t, f, sz.w, sz.h)
			h.selectNumber(103)
			h.press(keyEnter)
			checkFits(t, h.m.View().Content, sz.w, sz.h)
			golden.RequireEqual(t, h.goldenScreen())
		})
	}
}
