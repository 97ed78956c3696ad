package spam

import (
	"math"
	"slices"
)

// MaxFPR is the false-positive rate the threshold is chosen for: losing a
// customer is worse than reading a spam.
const MaxFPR = 0.001

// thresholdMargin is how far above the held-out ham scores the cut-off
// stays: chi-square scores near 0.5 mean "unsure", and ham a little more
// unsure than the training ham must not become spam.
const thresholdMargin = 0.1

// thresholdGrid are the cut-offs cross-validation chooses from, coarse on
// purpose so that the choice does not follow noise in the folds.
var thresholdGrid = []float64{0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99, 0.995, 0.999, 0.9999}

// Metrics are a classifier's results on labelled messages.
type Metrics struct {
	TP, FP, TN, FN int
}

// Count adds one verdict.
func (m *Metrics) Count(isSpam, saidSpam bool) {
	switch {
	case isSpam && saidSpam:
		m.TP++
	case isSpam:
		m.FN++
	case saidSpam:
		m.FP++
	default:
		m.TN++
	}
}

// Precision is TP/(TP+FP).
func (m Metrics) Precision() float64 { return ratio(m.TP, m.TP+m.FP) }

// Recall is TP/(TP+FN).
func (m Metrics) Recall() float64 { return ratio(m.TP, m.TP+m.FN) }

// FPR is FP/(FP+TN), the share of ham called spam.
func (m Metrics) FPR() float64 { return ratio(m.FP, m.FP+m.TN) }

// F1 is the harmonic mean of precision and recall.
func (m Metrics) F1() float64 {
	p, r := m.Precision(), m.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// ChooseThreshold picks a cut-off from the training messages alone (as
// token lists) by k-fold cross-validation: every message is scored by a
// filter trained on the other folds, the MaxFPR share of the highest
// scoring ham is set aside as ham that looks like spam, and the lowest
// cut-off of a fixed grid that is at least thresholdMargin above every
// other ham score wins. It also returns the cross-validated results at that
// cut-off. With fewer than k messages of a class it returns
// DefaultThreshold and empty results.
func ChooseThreshold(ham, spam [][]string, k int) (float64, Metrics) {
	if len(ham) < k || len(spam) < k {
		return DefaultThreshold, Metrics{}
	}
	hamScores, spamScores := foldScores(ham, spam, k)
	sorted := slices.Clone(hamScores)
	slices.Sort(sorted)
	slices.Reverse(sorted)
	highest := sorted[int(math.Floor(MaxFPR*float64(len(sorted))))]
	t := thresholdGrid[len(thresholdGrid)-1]
	for _, g := range thresholdGrid {
		if g >= highest+thresholdMargin {
			t = g
			break
		}
	}
	return t, metricsAt(hamScores, spamScores, t)
}

// foldScores scores every message with a filter trained on every fold but
// its own; message i of a class is in fold i mod k.
func foldScores(ham, spam [][]string, k int) (hamScores, spamScores []float64) {
	hamScores, spamScores = make([]float64, len(ham)), make([]float64, len(spam))
	for fold := range k {
		f := New()
		for i, toks := range ham {
			if i%k != fold {
				f.Add(toks, false, 1)
			}
		}
		for i, toks := range spam {
			if i%k != fold {
				f.Add(toks, true, 1)
			}
		}
		for i := fold; i < len(ham); i += k {
			hamScores[i] = f.Score(ham[i])
		}
		for i := fold; i < len(spam); i += k {
			spamScores[i] = f.Score(spam[i])
		}
	}
	return hamScores, spamScores
}

func metricsAt(hamScores, spamScores []float64, t float64) Metrics {
	var m Metrics
	for _, s := range hamScores {
		m.Count(false, s >= t)
	}
	for _, s := range spamScores {
		m.Count(true, s >= t)
	}
	return m
}
