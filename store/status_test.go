package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// queued lists the account's queued keyword changes as "+kw"/"-kw".
func queued(t *testing.T, st *Store) string {
	t.Helper()
	ks, err := st.PendingKeywords(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range ks {
		sign := "-"
		if k.Add {
			sign = "+"
		}
		out = append(out, sign+k.Keyword)
	}
	return strings.Join(out, " ")
}

func TestApplyChangeAndRestore(t *testing.T) {
	ctx := context.Background()
	st, ids := queryStore(t)
	ana := "Ana Lopez"
	snaps, err := st.ApplyChange(ctx, "dana", []int64{ids[1], ids[2]},
		Change{Status: StatePending, Assignee: &ana, AddLabels: []string{"~VIP", "refund"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 2 || snaps[0].Status != StateOpen || snaps[0].Assignee != "" || len(snaps[0].Labels) != 0 {
		t.Fatalf("snapshots %+v", snaps)
	}
	tk, _ := st.Ticket(ctx, ids[1])
	if tk.State != StatePending || tk.Assignee != "ana lopez" || fmt.Sprint(tk.Labels) != "[refund vip]" {
		t.Fatalf("after change: %+v", tk)
	}
	q := queued(t, st)
	for _, want := range []string{"+$Desk-Status-pending", "+$Desk-Assignee-ana_lopez", "+$Desk-Label-vip", "+$Desk-Label-refund"} {
		if !strings.Contains(q, want) {
			t.Errorf("queued %q lacks %s", q, want)
		}
	}
	evs, _ := st.Events(ctx, ids[1])
	var whats []string
	for _, e := range evs {
		whats = append(whats, e.Actor+": "+e.What)
	}
	if got := strings.Join(whats, "; "); got != "dana: status open → pending; dana: assigned to ana lopez; dana: labelled vip; dana: labelled refund" {
		t.Errorf("events %q", got)
	}

	// Closing replaces the status keyword with $Desk-Closed.
	if _, err := st.ApplyChange(ctx, "dana", []int64{ids[1]}, Change{Status: StateClosed}); err != nil {
		t.Fatal(err)
	}
	q = queued(t, st)
	if !strings.Contains(q, "-$Desk-Status-pending") || !strings.Contains(q, "+"+KeywordClosed) {
		t.Errorf("after closing, queued %q", q)
	}

	if err := st.Restore(ctx, "dana", snaps); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{ids[1], ids[2]} {
		tk, _ := st.Ticket(ctx, id)
		if tk.State != StateOpen || tk.Assignee != "" || len(tk.Labels) != 0 {
			t.Errorf("after restore: %+v", tk)
		}
	}
	q = queued(t, st)
	if !strings.Contains(q, "-"+KeywordClosed) || !strings.Contains(q, "-$Desk-Assignee-ana_lopez") || !strings.Contains(q, "-$Desk-Label-vip") {
		t.Errorf("after restore, queued %q", q)
	}
	if _, err := st.ApplyChange(ctx, "dana", []int64{ids[1]}, Change{Status: "frozen"}); err == nil {
		t.Error("an unknown status was accepted")
	}
	if _, err := st.ApplyChange(ctx, "dana", []int64{424242}, Change{Status: StateOpen}); err == nil {
		t.Error("an unknown ticket was accepted")
	}
}

func TestServerKeywordsSetStatusAndAssignee(t *testing.T) {
	ctx := context.Background()
	st, ids := queryStore(t)
	var changed bool
	err := st.Update(ctx, func(tx *Tx) error {
		var err error
		changed, err = tx.ApplyServerKeywords(ids[1], ServerKeywords{Status: StateOnHold, Assignee: "bob", Labels: []string{"x"}})
		return err
	})
	if err != nil || !changed {
		t.Fatalf("changed %v err %v", changed, err)
	}
	tk, _ := st.Ticket(ctx, ids[1])
	if tk.State != StateOnHold || tk.Assignee != "bob" || fmt.Sprint(tk.Labels) != "[x]" {
		t.Errorf("after server keywords: %+v", tk)
	}
	if AssigneeFromKeyword("ana_lopez") != "ana lopez" || AssigneeKeyword("Ana Lopez") != "$Desk-Assignee-ana_lopez" {
		t.Error("assignee keyword does not round-trip")
	}
	if !ReopensOnReply(StatePending) || !ReopensOnReply(StateSolved) || ReopensOnReply(StateOnHold) || ReopensOnReply(StateOpen) {
		t.Error("ReopensOnReply")
	}
}

func TestDrafts(t *testing.T) {
	ctx := context.Background()
	st, ids := queryStore(t)
	if err := st.SaveDraft(ctx, ids[1], KindReply, "half a thought"); err != nil {
		t.Fatal(err)
	}
	if d, err := st.Draft(ctx, ids[1], KindReply); err != nil || d != "half a thought" {
		t.Errorf("draft %q %v", d, err)
	}
	if d, _ := st.Draft(ctx, ids[1], KindNote); d != "" {
		t.Errorf("note draft %q, want none", d)
	}
	if err := st.SaveDraft(ctx, ids[1], KindReply, "  "); err != nil {
		t.Fatal(err)
	}
	if d, _ := st.Draft(ctx, ids[1], KindReply); d != "" {
		t.Errorf("an empty save kept %q", d)
	}
}
