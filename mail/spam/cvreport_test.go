//go:build spamcv

package spam

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestCVReport prints the cross-validated figures of the filter as built,
// on the training 70 % of the corpus only: the tool with which every
// choice of the tokenizer and the parameters was made (docs/spam.md). It
// never reads the test part. Run:
//
//	go test -tags spamcv -run CVReport -v ./mail/spam/
func TestCVReport(t *testing.T) {
	var ham, spam [][]string
	var hamNames, spamNames []string
	start := time.Now()
	n := 0
	for _, m := range loadCorpus(t) {
		if !inTraining(m.name) {
			continue
		}
		toks := Tokens(ParseDoc(m.raw))
		n++
		if m.spam {
			spam, spamNames = append(spam, toks), append(spamNames, m.name)
		} else {
			ham, hamNames = append(ham, toks), append(hamNames, m.name)
		}
	}
	perMsg := time.Since(start) / time.Duration(n)
	threshold, cv := ChooseThreshold(ham, spam, CVFolds)
	t.Logf("training part: %d ham, %d spam; parse+tokenise %v/msg", len(ham), len(spam), perMsg)
	t.Logf("chosen threshold %.4g: FP %d FN %d FPR %.4f recall %.4f F1 %.4f",
		threshold, cv.FP, cv.FN, cv.FPR(), cv.Recall(), cv.F1())
	hamScores, spamScores := foldScores(ham, spam, CVFolds)
	for _, g := range thresholdGrid {
		m := metricsAt(hamScores, spamScores, g)
		t.Logf("  at %-7g FP %2d FN %3d F1 %.4f", g, m.FP, m.FN, m.F1())
	}
	sep := separationOf(hamScores, spamScores)
	t.Logf("spam above the highest ham (%.4f): %d of %d; mean log loss %.4f", sep.top, sep.above, len(spam), sep.logLoss)
	// The same over several assignments of the messages to folds, summed:
	// steadier figures, and the ham that come near the cut-off in any.
	var hs, ss [][]float64
	above := 0
	tail := make([]int, 5) // held-out ham scoring at least 0.1, 0.2, …, 0.5
	for a := range cvReportArrangements {
		h, s := arrangedScores(ham, spam, CVFolds, a)
		hs, ss = append(hs, h), append(ss, s)
		above += separationOf(h, s).above
		for _, x := range h {
			for i := range tail {
				if x >= float64(i+1)/10 {
					tail[i]++
				}
			}
		}
	}
	line := ""
	for _, g := range thresholdGrid {
		var sum Metrics
		for a := range hs {
			m := metricsAt(hs[a], ss[a], g)
			sum.FP, sum.FN = sum.FP+m.FP, sum.FN+m.FN
		}
		line += fmt.Sprintf(" %d/%d", sum.FP, sum.FN)
	}
	t.Logf("over %d fold assignments, FP/FN at %v:%s", cvReportArrangements, thresholdGrid, line)
	t.Logf("  held-out ham at or above 0.1 0.2 0.3 0.4 0.5: %v; spam above the highest ham: %d", tail, above)
	type scored struct {
		name  string
		score float64
	}
	var worstHam, worstSpam []scored
	for i, s := range hamScores {
		worstHam = append(worstHam, scored{hamNames[i], s})
	}
	for i, s := range spamScores {
		worstSpam = append(worstSpam, scored{spamNames[i], s})
	}
	slices.SortFunc(worstHam, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	slices.SortFunc(worstSpam, func(a, b scored) int { return cmp.Compare(a.score, b.score) })
	for _, s := range worstHam[:5] {
		t.Logf("  ham  %.4f %s", s.score, s.name)
	}
	for _, s := range worstSpam[:14] {
		t.Logf("  spam %.4f %s", s.score, s.name)
	}
}

// TestCVRule judges threshold rules as the split judges the filter: for
// each of 5 outer folds of the training part, the rule chooses a cut-off
// by its own 5-fold cross-validation on the other 4, and the outer fold is
// scored by a filter trained on those 4. The rule in place is judged so
// over every fold assignment of TestCVReport.
func TestCVRule(t *testing.T) {
	ham, spam := trainingTokens(t)
	rules := map[string]func(h, s [][]string) float64{
		"margin": func(h, s [][]string) float64 { t, _ := ChooseThreshold(h, s, CVFolds); return t },
		// the margin above the highest held-out ham of any of four fold
		// assignments (judged, not kept)
		"margin4": func(h, s [][]string) float64 {
			highest := 0.0
			for a := range cvReportArrangements {
				hs, _ := arrangedScores(h, s, CVFolds, a)
				sorted := slices.Sorted(slices.Values(hs))
				highest = max(highest, sorted[len(sorted)-1-int(math.Floor(MaxFPR*float64(len(sorted))))])
			}
			for _, g := range thresholdGrid {
				if g >= highest+thresholdMargin {
					return g
				}
			}
			return thresholdGrid[len(thresholdGrid)-1]
		},
		"recall97": func(h, s [][]string) float64 {
			hs, ss := foldScores(h, s, CVFolds)
			best, _ := ChooseThreshold(h, s, CVFolds)
			for _, g := range thresholdGrid {
				if m := metricsAt(hs, ss, g); g > best && m.Recall() >= 0.97 && m.FPR() <= MaxFPR {
					best = g
				}
			}
			return best
		},
	}
	for name, rule := range rules {
		all, chosen := nestedCV(ham, spam, rule)
		t.Logf("%-9s cut-offs %v: FP %d FN %d FPR %.4f recall %.4f F1 %.4f", name, chosen, all.FP, all.FN, all.FPR(), all.Recall(), all.F1())
	}
	// The rule in place again over the other fold assignments: the cut-off
	// it chooses moves with the held-out ham near it, and one assignment
	// shows too little of that.
	var sum Metrics
	for a := 1; a < cvReportArrangements; a++ {
		r := rand.New(rand.NewPCG(uint64(a), 0))
		m, chosen := nestedCV(permuted(ham, r.Perm(len(ham))), permuted(spam, r.Perm(len(spam))), rules["margin"])
		t.Logf("margin, fold assignment %d: cut-offs %v: FP %d FN %d", a, chosen, m.FP, m.FN)
		sum.FP, sum.FN = sum.FP+m.FP, sum.FN+m.FN
	}
	t.Logf("margin over the other %d fold assignments: FP %d FN %d", cvReportArrangements-1, sum.FP, sum.FN)
}

// nestedCV scores each of 5 outer folds of ham and spam (message i of a
// class in fold i mod 5) by a filter trained on the other 4, at the
// cut-off rule chooses from those 4 alone; it returns the results and the
// cut-offs chosen.
func nestedCV(ham, spam [][]string, rule func(h, s [][]string) float64) (Metrics, []float64) {
	const k = 5
	var all Metrics
	var chosen []float64
	for fold := range k {
		var trH, trS, teH, teS [][]string
		for i, x := range ham {
			if i%k == fold {
				teH = append(teH, x)
			} else {
				trH = append(trH, x)
			}
		}
		for i, x := range spam {
			if i%k == fold {
				teS = append(teS, x)
			} else {
				trS = append(trS, x)
			}
		}
		th := rule(trH, trS)
		chosen = append(chosen, th)
		f := New()
		for _, x := range trH {
			f.Add(x, false, 1)
		}
		for _, x := range trS {
			f.Add(x, true, 1)
		}
		for _, x := range teH {
			all.Count(false, f.Score(x) >= th)
		}
		for _, x := range teS {
			all.Count(true, f.Score(x) >= th)
		}
	}
	return all, chosen
}

// TestCVYoung measures a young filter, as a desk has before staff marked
// many tickets: trained on n ham and n spam drawn from the training part
// (ten draws), scored on the rest of the training part. Run:
//
//	go test -tags spamcv -run CVYoung -v ./mail/spam/
func TestCVYoung(t *testing.T) {
	ham, spam := trainingTokens(t)
	cuts := []float64{0.5, 0.6, 0.7, 0.8, 0.9, 0.95}
	for _, n := range []int{10, 25, 50, 100, 200} {
		ms := make([]Metrics, len(cuts))
		for draw := range 10 {
			r := rand.New(rand.NewPCG(uint64(draw), 3))
			hp, sp := r.Perm(len(ham)), r.Perm(len(spam))
			f := New()
			for _, i := range hp[:n] {
				f.Add(ham[i], false, 1)
			}
			for _, i := range sp[:n] {
				f.Add(spam[i], true, 1)
			}
			for _, i := range hp[n:] {
				s := f.Score(ham[i])
				for c := range cuts {
					ms[c].Count(false, s >= cuts[c])
				}
			}
			for _, i := range sp[n:] {
				s := f.Score(spam[i])
				for c := range cuts {
					ms[c].Count(true, s >= cuts[c])
				}
			}
		}
		line := ""
		for c := range cuts {
			line += fmt.Sprintf(" %.2f%%/%.3f", 100*ms[c].FPR(), ms[c].Recall())
		}
		t.Logf("%3d of each: FPR/recall at %v:%s", n, cuts, line)
	}
}

// cvReportArrangements is how many assignments of the messages to folds
// the reports repeat cross-validation over.
const cvReportArrangements = 4

// arrangedScores are foldScores of the messages in a fixed shuffled order
// (none for arrangement 0), returned in the messages' own order.
func arrangedScores(ham, spam [][]string, k, arrangement int) (hamScores, spamScores []float64) {
	if arrangement == 0 {
		return foldScores(ham, spam, k)
	}
	r := rand.New(rand.NewPCG(uint64(arrangement), 0))
	hp, sp := r.Perm(len(ham)), r.Perm(len(spam))
	hs, ss := foldScores(permuted(ham, hp), permuted(spam, sp), k)
	return unpermuted(hs, hp), unpermuted(ss, sp)
}

// permuted lists x[p[0]], x[p[1]], ….
func permuted(x [][]string, p []int) [][]string {
	out := make([][]string, len(x))
	for i, j := range p {
		out[i] = x[j]
	}
	return out
}

// unpermuted puts the scores of a permuted list back in the original order.
func unpermuted(scores []float64, p []int) []float64 {
	out := make([]float64, len(scores))
	for i, j := range p {
		out[j] = scores[i]
	}
	return out
}

// trainingTokens are the tokens of the training part's ham and spam.
func trainingTokens(t *testing.T) (ham, spam [][]string) {
	for _, m := range loadCorpus(t) {
		if inTraining(m.name) {
			toks := Tokens(ParseDoc(m.raw))
			if m.spam {
				spam = append(spam, toks)
			} else {
				ham = append(ham, toks)
			}
		}
	}
	return ham, spam
}

// separation measures how far apart held-out scores of ham and spam lie,
// whatever the threshold.
type separation struct {
	top, second float64 // the highest and second-highest ham score
	above       int     // spam scoring above every ham
	logLoss     float64 // mean log loss of the scores as probabilities
}

// separationOf is the separation of held-out ham and spam scores.
func separationOf(hamScores, spamScores []float64) separation {
	sorted := slices.Sorted(slices.Values(hamScores))
	sep := separation{top: sorted[len(sorted)-1], second: sorted[len(sorted)-2]}
	for _, s := range spamScores {
		if s > sep.top {
			sep.above++
		}
		sep.logLoss -= math.Log(max(s, 1e-9))
	}
	for _, s := range hamScores {
		sep.logLoss -= math.Log(max(1-s, 1e-9))
	}
	sep.logLoss /= float64(len(hamScores) + len(spamScores))
	return sep
}
