package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestSectionSort: a section with a sort lists its tickets in that order,
// says the order on its tab, and keeps the cursor on its ticket when the
// list is read again; a sort the store does not know is shown as the
// section's error.
func TestSectionSort(t *testing.T) {
	f := newFixture(t)
	h := newHarnessOpts(t, f, 100, 30, Options{Author: "Dana", Sections: []Section{
		{Title: "Oldest", Query: "-is:spam", Sort: "number asc"}, {Title: "All", Query: "-is:spam"}}})
	numbers := rowNumbers(h.m.rows)
	if len(numbers) < 3 || !slices.IsSorted(numbers) {
		t.Errorf("numbers %v, want ascending", numbers)
	}
	s := h.screen()
	if !strings.Contains(s, fmt.Sprintf("[Oldest %d by number asc]", len(numbers))) || !strings.Contains(s, fmt.Sprintf(" All %d ", len(numbers))) {
		t.Errorf("tabs:\n%s", s)
	}
	h.selectNumber(103)
	at := h.m.cursor
	h.run(h.m.reloadList())
	if r, _ := h.m.current(); r.Number != 103 || h.m.cursor != at {
		t.Errorf("after a reload the cursor is at %d on #%d, want %d on #103", h.m.cursor, r.Number, at)
	}
	h.press(keyTab)
	if h.m.sec != 1 || len(h.m.rows) != len(numbers) || slices.IsSorted(rowNumbers(h.m.rows)) {
		t.Errorf("All lists %v, want newest activity first", rowNumbers(h.m.rows))
	}

	bad := newHarnessOpts(t, f, 100, 30, Options{Author: "Dana", Sections: []Section{{Title: "Odd", Query: "", Sort: "priority"}}})
	if s := bad.screen(); !strings.Contains(s, `section: unknown order "priority"`) {
		t.Errorf("a bad sort:\n%s", s)
	}
}

func rowNumbers(rows []ticketRow) []int64 {
	var out []int64
	for _, r := range rows {
		out = append(out, r.Number)
	}
	return out
}
