package spam

import (
	"fmt"
	"math"
	"testing"
)

// synthetic makes n token lists of one class: words the class uses, plus
// words both classes use.
func synthetic(spam bool, n int) [][]string {
	hamWords := []string{"invoice", "order", "login", "password", "refund", "account", "thanks", "regards"}
	spamWords := []string{"casino", "bonus", "jackpot", "viagra", "winner", "free", "click", "offer"}
	own := hamWords
	if spam {
		own = spamWords
	}
	var out [][]string
	for i := range n {
		toks := []string{"the", "and", fmt.Sprintf("id%d", i)}
		for j := range 4 {
			toks = append(toks, own[(i+j)%len(own)])
		}
		out = append(out, toks)
	}
	return out
}

func trained(nHam, nSpam int) *Filter {
	f := New()
	for _, toks := range synthetic(false, nHam) {
		f.Add(toks, false, 1)
	}
	for _, toks := range synthetic(true, nSpam) {
		f.Add(toks, true, 1)
	}
	return f
}

func TestScore(t *testing.T) {
	if s := New().Score([]string{"casino"}); s != 0.5 {
		t.Errorf("untrained filter scores %v, want 0.5", s)
	}
	f := trained(40, 40)
	if s := f.Score([]string{"casino", "bonus", "jackpot", "the"}); s < 0.99 {
		t.Errorf("spam scores %v, want ≥ 0.99", s)
	}
	if s := f.Score([]string{"invoice", "refund", "login", "and"}); s > 0.01 {
		t.Errorf("ham scores %v, want ≤ 0.01", s)
	}
	if s := f.Score([]string{"unknown", "words", "the"}); s != 0.5 {
		t.Errorf("neutral tokens score %v, want 0.5", s)
	}
	// Untraining takes a message back out.
	toks := []string{"casino", "newword"}
	f.Add(toks, true, 1)
	f.Add(toks, true, -1)
	if _, ok := f.tokens["newword"]; ok {
		t.Error("an untrained token stays in the filter")
	}
	if h, s := f.Counts(); h != 40 || s != 40 {
		t.Errorf("counts %d ham, %d spam after train and untrain, want 40 and 40", h, s)
	}
}

// TestSameEvidenceCountsOnce checks that common tokens of both classes
// with the same counts (a list's header fields and footer) count once,
// while tokens of one class, or rare ones, that share counts each count.
func TestSameEvidenceCountsOnce(t *testing.T) {
	f := New()
	list := []string{"list-id:ilug", "h:x-beenthere", "maintainer", "subscription"}
	for i := range 100 {
		ham := []string{"linux"}
		if i < 20 {
			ham = append(ham, list...)
		}
		f.Add(ham, false, 1)
		spam := []string{fmt.Sprintf("rare%d", i)}
		if i < 40 {
			spam = append(spam, list...)
		}
		if i < 30 {
			spam = append(spam, "casino", "jackpot")
		}
		f.Add(spam, true, 1)
	}
	one, all := f.Score([]string{list[0], "linux"}), f.Score(append([]string{"linux"}, list...))
	if one != all {
		t.Errorf("a list's four tokens score %v, its one token %v: want the same", all, one)
	}
	for _, c := range []struct {
		name     string
		one, two []string
	}{
		{"spam-only words in 30 spam", []string{"casino", "linux"}, []string{"casino", "jackpot", "linux"}},
		{"rare words", []string{"rare1"}, []string{"rare1", "rare2"}},
	} {
		if one, two := f.Score(c.one), f.Score(c.two); two <= one {
			t.Errorf("%s: two score %v, one %v: want each to count", c.name, two, one)
		}
	}
}

// TestTagsCountOnce: the HTML tags of a mail are one clue, the tag
// farthest from 0.5, however many the mail holds; other tokens of the same
// counts each count.
func TestTagsCountOnce(t *testing.T) {
	f := New()
	tags := []string{"tag:html", "tag:table", "tag:td", "tag:font"}
	words := []string{"deal", "winner", "offer", "bonus"}
	for i := range 50 {
		ham := []string{"linux", fmt.Sprintf("ham%d", i)}
		spam := append([]string{fmt.Sprintf("spam%d", i)}, words...)
		if i < 40 {
			spam = append(spam, tags...)
		} else {
			spam = append(spam, tags[0])
		}
		f.Add(ham, false, 1)
		f.Add(spam, true, 1)
	}
	if one, all := f.Score([]string{"linux", "tag:html"}), f.Score(append([]string{"linux"}, tags...)); one != all {
		t.Errorf("four tags score %v, the strongest alone %v: want the same", all, one)
	}
	if weak, strong := f.Score([]string{"linux", "tag:table"}), f.Score([]string{"linux", "tag:html"}); strong <= weak {
		t.Errorf("a tag in 50 spam scores %v, one in 40 %v: want the stronger to count", strong, weak)
	}
	if one, two := f.Score([]string{"linux", words[0]}), f.Score([]string{"linux", words[0], words[1]}); two <= one {
		t.Errorf("two spam words score %v, one %v: want each to count", two, one)
	}
}

func TestChi2Q(t *testing.T) {
	for _, c := range []struct {
		x2   float64
		v    int
		want float64
	}{
		{0, 2, 1},
		{2, 2, math.Exp(-1)},
		{4, 4, 3 * math.Exp(-2)},
		{5000, 300, 0},
	} {
		if got := chi2Q(c.x2, c.v); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("chi2Q(%v, %d) = %v, want %v", c.x2, c.v, got, c.want)
		}
	}
}

func TestCombine(t *testing.T) {
	cases := []struct {
		name   string
		tokens float64
		e      Evidence
		lo, hi float64
	}{
		{"tokens alone", 0.8, Evidence{}, 0.79, 0.81},
		{"reply to us beats spammy words", 0.999999, Evidence{ReplyToUs: true, Unverified: true}, 0, 0},
		{"known requester lowers", 0.95, Evidence{Known: true}, 0.2, 0.3},
		{"upstream spam flag raises", 0.5, Evidence{FlaggedUpstream: true}, 0.98, 0.99},
		{"failed authentication raises", 0.5, Evidence{Unverified: true}, 0.95, 0.96},
		{"allowlist", 0.9999, Evidence{Allowed: true}, 0, 0},
		{"allowlist but forged", 0.9, Evidence{Allowed: true, Unverified: true}, 0.99, 1},
		{"block list wins", 0.0001, Evidence{Blocked: true, Allowed: true, ReplyToUs: true}, 1, 1},
	}
	for _, c := range cases {
		if got := Combine(c.tokens, c.e); got < c.lo || got > c.hi {
			t.Errorf("%s: Combine(%v, %+v) = %v, want %v..%v", c.name, c.tokens, c.e, got, c.lo, c.hi)
		}
	}
}

func TestFlaggedUpstream(t *testing.T) {
	for _, c := range []struct {
		h    []Field
		want bool
	}{
		{[]Field{{"x-spam-flag", "YES"}}, true},
		{[]Field{{"x-spam-status", "Yes, score=9.1 required=5.0"}}, true},
		{[]Field{{"x-spam-status", "No, score=-1"}}, false},
		{[]Field{{"x-spam-flag", "NO"}}, false},
		{nil, false},
	} {
		if got := FlaggedUpstream(c.h); got != c.want {
			t.Errorf("FlaggedUpstream(%v) = %v, want %v", c.h, got, c.want)
		}
	}
}

func TestChooseThreshold(t *testing.T) {
	if th, _ := ChooseThreshold(synthetic(false, 3), synthetic(true, 3), 5); th != DefaultThreshold {
		t.Errorf("too few messages: threshold %v, want the default %v", th, DefaultThreshold)
	}
	spamLike := []string{"casino", "bonus", "jackpot", "winner"}
	// With 201 ham, no ham may score as spam: the cut-off goes above the
	// spam-like one.
	th, m := ChooseThreshold(append(synthetic(false, 200), spamLike), synthetic(true, 50), 5)
	if th != thresholdGrid[len(thresholdGrid)-1] || m.FP != 0 {
		t.Errorf("201 ham: threshold %v with %+v, want the top of the grid and no false positive", th, m)
	}
	// With 1001, MaxFPR sets it aside as ham that looks like spam.
	th, m = ChooseThreshold(append(synthetic(false, 1000), spamLike), synthetic(true, 50), 5)
	if th != 0.5 || m.FP != 1 || m.FN != 0 {
		t.Errorf("1001 ham: threshold %v with %+v, want 0.5 with the spam-like ham as the only error", th, m)
	}
}

// TestScoreConcurrent: ingest may score from several goroutines while a
// sync pass trains; under -race this shows Score is safe for that, and
// every reader sees a whole state (a spam message never scores as ham).
func TestScoreConcurrent(t *testing.T) {
	f := trained(50, 50)
	spam := synthetic(true, 1)[0]
	done := make(chan float64)
	for range 4 {
		go func() {
			lowest := 1.0
			for range 200 {
				lowest = min(lowest, f.Score(spam))
			}
			done <- lowest
		}()
	}
	for i, toks := range synthetic(false, 100) {
		f.Add(toks, false, 1)
		f.Add(synthetic(true, 100)[i], true, 1)
	}
	for range 4 {
		if s := <-done; s < 0.9 {
			t.Errorf("a concurrent reader scored spam %.4f", s)
		}
	}
}
