//go:build spamcv

package spam

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"testing"
)

// The regression judged here, and not kept (docs/spam.md, "Choices"): a
// logistic regression over the filter's tokens hashed to lrBuckets
// weights, trained by SGD. Each message's features are its distinct
// tokens with the value 1/sqrt(n+1), n being how many it has.

// TestCVCombine judges the second model and how it combines with
// Robinson's, on the training part only: for each set of regression
// parameters, every training message is scored by a filter trained on the
// other four of five folds, and Robinson's score, the regression's, their
// average and their minimum (both must say spam) are reported as FP/FN at
// the cut-offs of the grid, spam above every ham, the second-highest ham
// and the mean log loss. Run:
//
//	go test -tags spamcv -run CVCombine -v ./mail/spam/
func TestCVCombine(t *testing.T) {
	ham, spam := trainingTokens(t)
	params := []lrParams{
		lrDefault, {rate: 8, hamWeight: 3, epochs: 5, seed: 1}, {rate: 8, hamWeight: 3, epochs: 5, seed: 2},
		{rate: 4, hamWeight: 3, epochs: 10, seed: 7}, {rate: 8, hamWeight: 3, epochs: 10, seed: 7},
		{rate: 8, hamWeight: 1, epochs: 5, seed: 7}, {rate: 2, hamWeight: 3, epochs: 20, seed: 7},
		{rate: 8, hamWeight: 3, epochs: 1, seed: 7},
	}
	const k = CVFolds
	for _, p := range params {
		type pair struct{ r, l float64 }
		hs, ss := make([]pair, len(ham)), make([]pair, len(spam))
		for fold := range k {
			var trH, trS [][]string
			for i, x := range ham {
				if i%k != fold {
					trH = append(trH, x)
				}
			}
			for i, x := range spam {
				if i%k != fold {
					trS = append(trS, x)
				}
			}
			f := New()
			w := make([]float64, lrBuckets+1)
			d := map[int]float64{}
			var batch []lrExample
			for _, x := range trH {
				f.Add(x, false, 1)
				batch = append(batch, lrExample{buckets: hashTokens(x)})
			}
			for _, x := range trS {
				f.Add(x, true, 1)
				batch = append(batch, lrExample{buckets: hashTokens(x), spam: true})
			}
			lrTrain(w, d, batch, p)
			for b, v := range d {
				w[b] += v
			}
			for i := fold; i < len(ham); i += k {
				hs[i] = pair{f.Score(ham[i]), lrProb(w, nil, hashTokens(ham[i]))}
			}
			for i := fold; i < len(spam); i += k {
				ss[i] = pair{f.Score(spam[i]), lrProb(w, nil, hashTokens(spam[i]))}
			}
		}
		t.Logf("regression %+v; FP/FN at %v", p, thresholdGrid[:8])
		for _, c := range []struct {
			name string
			fn   func(pair) float64
		}{
			{"robinson", func(x pair) float64 { return x.r }},
			{"regression", func(x pair) float64 { return x.l }},
			{"average", func(x pair) float64 { return (x.r + x.l) / 2 }},
			{"min (both)", func(x pair) float64 { return min(x.r, x.l) }},
		} {
			var h, s []float64
			for _, x := range hs {
				h = append(h, c.fn(x))
			}
			for _, x := range ss {
				s = append(s, c.fn(x))
			}
			line := ""
			for _, g := range thresholdGrid[:8] {
				m := metricsAt(h, s, g)
				line += fmt.Sprintf(" %d/%d", m.FP, m.FN)
			}
			sep := separationOf(h, s)
			t.Logf("  %-10s%s  above all ham %d  2nd ham %.3f  log loss %.4f", c.name, line, sep.above, sep.second, sep.logLoss)
		}
	}
}

const (
	lrBits    = 18
	lrBuckets = 1 << lrBits
	lrBias    = lrBuckets // index of the bias among the weights
)

// lrParams are the regression's training parameters.
type lrParams struct {
	rate      float64 // step size of the first pass
	hamWeight float64 // multiplies the step of a ham message
	epochs    int     // passes over a batch, the step size divided by 1, 2, 3, …
	seed      uint64  // of the shuffled order of each pass
}

// lrDefault are the parameters that did best in an exploratory run.
var lrDefault = lrParams{rate: 8, hamWeight: 3, epochs: 5, seed: 7}

// lrExample is one message's hashed features and class.
type lrExample struct {
	buckets []int
	spam    bool
}

// hashTokens maps tokens to their buckets.
func hashTokens(tokens []string) []int {
	out := make([]int, len(tokens))
	for i, tok := range tokens {
		h := fnv.New32a()
		h.Write([]byte(tok))
		out[i] = int(h.Sum32() & (lrBuckets - 1))
	}
	return out
}

// lrScale is the value of each feature of a message of n tokens.
func lrScale(n int) float64 { return 1 / math.Sqrt(float64(n)+1) }

// lrProb is the regression's spam probability of a message with weights
// w plus the pending changes d (nil for none).
func lrProb(w []float64, d map[int]float64, buckets []int) float64 {
	var z float64
	for _, b := range buckets {
		z += w[b] + d[b]
	}
	z = w[lrBias] + d[lrBias] + z*lrScale(len(buckets))
	return 1 / (1 + math.Exp(-z))
}

// lrStep adds to d one gradient step on x with step size rate, reading
// the weights as w plus d.
func lrStep(w []float64, d map[int]float64, x lrExample, rate, hamWeight float64) {
	y, weight := 0.0, hamWeight
	if x.spam {
		y, weight = 1, 1
	}
	g := (lrProb(w, d, x.buckets) - y) * weight * rate
	step := g * lrScale(len(x.buckets))
	for _, b := range x.buckets {
		d[b] -= step
	}
	d[lrBias] -= g
}

// lrTrain adds to d the training of a batch with parameters p.
func lrTrain(w []float64, d map[int]float64, batch []lrExample, p lrParams) {
	r := rand.New(rand.NewPCG(p.seed, uint64(len(batch))))
	order := r.Perm(len(batch))
	for e := range p.epochs {
		rate := p.rate / float64(e+1)
		for _, i := range order {
			lrStep(w, d, batch[i], rate, p.hamWeight)
		}
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
}

// TestCVRetrain judges training on error for Robinson's counts: after
// training on every message of the training folds, the messages of those
// folds that the filter scores on the wrong side of a margin are trained
// once more (up to rounds times), and the held-out fold is scored.
func TestCVRetrain(t *testing.T) {
	ham, spam := trainingTokens(t)
	const k = CVFolds
	for _, v := range []struct {
		rounds int
		margin float64 // ham above 0.5-margin, spam below 0.5+margin is an error
	}{{0, 0}, {1, 0}, {1, 0.2}, {2, 0.2}, {1, 0.4}, {3, 0.4}} {
		hs, ss := make([]float64, len(ham)), make([]float64, len(spam))
		for fold := range k {
			f := New()
			var trH, trS [][]string
			for i, x := range ham {
				if i%k != fold {
					f.Add(x, false, 1)
					trH = append(trH, x)
				}
			}
			for i, x := range spam {
				if i%k != fold {
					f.Add(x, true, 1)
					trS = append(trS, x)
				}
			}
			for range v.rounds {
				var addH, addS [][]string
				for _, x := range trH {
					if f.Score(x) > 0.5-v.margin {
						addH = append(addH, x)
					}
				}
				for _, x := range trS {
					if f.Score(x) < 0.5+v.margin {
						addS = append(addS, x)
					}
				}
				for _, x := range addH {
					f.Add(x, false, 1)
				}
				for _, x := range addS {
					f.Add(x, true, 1)
				}
			}
			for i := fold; i < len(ham); i += k {
				hs[i] = f.Score(ham[i])
			}
			for i := fold; i < len(spam); i += k {
				ss[i] = f.Score(spam[i])
			}
		}
		line := ""
		for _, g := range thresholdGrid[:8] {
			m := metricsAt(hs, ss, g)
			line += fmt.Sprintf(" %d/%d", m.FP, m.FN)
		}
		sep := separationOf(hs, ss)
		t.Logf("rounds %d margin %.1f: FP/FN at %v:%s  above all ham %d  2nd ham %.3f", v.rounds, v.margin, thresholdGrid[:8], line, sep.above, sep.second)
	}
}
