// Package spam is desk's local, trainable spam filter: a tokenizer of
// headers and decoded body (CJK text as character bigrams), Robinson's
// per-token probabilities combined with Fisher's chi-square method, and the
// evidence the receiving server and the store already hold. The counts live
// in the desk store (tables spam_tokens and spam_meta), trained by seeding
// from folders and by the spam/ham marks that staff set on tickets.
package spam

import (
	"math"
	"sort"
	"strings"
	"sync"

	"desk/store"
)

// Robinson's parameters: a token seen n times has probability
// (s·x + n·p)/(s + n); only tokens at least minDev from 0.5 count, and at
// most maxClues of the most extreme ones. They were chosen by 5-fold
// cross-validation on the training part of the SpamAssassin corpus only
// (docs/spam.md, "Choices"): s = 1 keeps rare tokens from deciding, and
// minDev = 0.1 drops the weakest, most common tokens while keeping the
// moderate ones, which separated ham from spam better than 0, 0.05, 0.2
// or 0.3.
const (
	robS     = 1.0
	robX     = 0.5
	minDev   = 0.1
	maxClues = 150
)

// sameEvidenceMin is how many training messages a token must be in for
// tokens with the very same ham and spam counts, both above zero, to count
// once in a score. Such tokens nearly always occur together — a mailing
// list's header fields and footer, a relay's name and address, in the
// list's ham and spam alike — so they are one piece of evidence, not a
// dozen: counted apart, the twenty tokens every post to a list carries
// outvoted what the post itself says. Tokens of one class only, and rarer
// ones, share counts by chance far more often (every token seen in
// exactly 12 spam and no ham), so each of them counts. Chosen by
// cross-validation on the training part (docs/spam.md).
const sameEvidenceMin = 10

// maxTagClues is how many HTML tag tokens ("tag:table") count in a score:
// the one farthest from 0.5. The tags of an HTML mail come together — one
// with <table> has <tr> and <td>, one with <html> has <head> and <body> —
// so they are one piece of evidence that the mail is HTML, not twenty:
// counted apart, they made HTML ham read as spam and pushed the cut-off
// that cross-validation chooses up. Chosen by cross-validation on the
// training part, over 1, 3, 6 and all (docs/spam.md, "Fourth round").
const maxTagClues = 1

// DefaultThreshold is the cut-off of a filter whose threshold was never
// chosen by cross-validation (`desk spam train` chooses one).
const DefaultThreshold = 0.9

// Filter is a spam filter's counts in memory. It is safe for concurrent use.
type Filter struct {
	mu        sync.RWMutex
	tokens    map[string]store.SpamCount
	ham, spam int64
	threshold float64
	gen       int64 // the store generation these counts reflect; -1 when stale
}

// New returns an empty filter, not tied to a store.
func New() *Filter { return &Filter{tokens: map[string]store.SpamCount{}} }

// Add counts one message's distinct tokens as spam or ham (n = -1 untrains).
func (f *Filter) Add(tokens []string, spam bool, n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apply(delta(tokens, spam, n))
}

// delta is the change of training one message.
func delta(tokens []string, spam bool, n int64) store.SpamDelta {
	d := store.SpamDelta{Tokens: make(map[string]store.SpamCount, len(tokens))}
	addTo(&d, tokens, spam, n)
	return d
}

// addTo adds one message's training to d.
func addTo(d *store.SpamDelta, tokens []string, spam bool, n int64) {
	c := store.SpamCount{Ham: n}
	if spam {
		c = store.SpamCount{Spam: n}
		d.SpamMessages += n
	} else {
		d.HamMessages += n
	}
	for _, tok := range tokens {
		old := d.Tokens[tok]
		d.Tokens[tok] = store.SpamCount{Ham: old.Ham + c.Ham, Spam: old.Spam + c.Spam}
	}
}

// apply adds d to the counts; the caller holds the lock.
func (f *Filter) apply(d store.SpamDelta) {
	f.ham += d.HamMessages
	f.spam += d.SpamMessages
	for tok, c := range d.Tokens {
		old := f.tokens[tok]
		n := store.SpamCount{Ham: old.Ham + c.Ham, Spam: old.Spam + c.Spam}
		if n.Ham <= 0 && n.Spam <= 0 {
			delete(f.tokens, tok)
		} else {
			f.tokens[tok] = n
		}
	}
}

// Counts reports how many messages were trained as ham and as spam.
func (f *Filter) Counts() (ham, spam int64) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.ham, f.spam
}

// Threshold is the score from which a message is spam.
func (f *Filter) Threshold() float64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.threshold > 0 {
		return f.threshold
	}
	return DefaultThreshold
}

// SetThreshold sets the cut-off in memory (0: the default).
func (f *Filter) SetThreshold(v float64) {
	f.mu.Lock()
	f.threshold = v
	f.mu.Unlock()
}

// Score is the filter's spam probability of a message's tokens, from 0
// (ham) to 1 (spam); 0.5 when it knows nothing either way, which it does
// until it has seen at least one message of each class. Common tokens of
// both classes with the same counts count once (sameEvidenceMin), and so
// do HTML tag tokens (maxTagClues).
func (f *Filter) Score(tokens []string) float64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.ham == 0 || f.spam == 0 {
		return 0.5
	}
	clues := make([]float64, 0, 64)
	var tags []float64                         // clues of HTML tag tokens
	seen := make(map[store.SpamCount]bool, 64) // counts of the common tokens already counted
	for _, tok := range tokens {
		c, ok := f.tokens[tok]
		if !ok {
			continue
		}
		if c.Ham > 0 && c.Spam > 0 && c.Ham+c.Spam >= sameEvidenceMin {
			if seen[c] {
				continue
			}
			seen[c] = true
		}
		switch p := f.tokenProb(c); {
		case math.Abs(p-0.5) < minDev:
		case strings.HasPrefix(tok, tagPrefix):
			tags = append(tags, p)
		default:
			clues = append(clues, p)
		}
	}
	clues = append(clues, mostExtreme(tags, maxTagClues)...)
	return chiCombine(mostExtreme(clues, maxClues))
}

// mostExtreme returns the n clues of ps farthest from 0.5 (all of them if
// there are no more than n), reordering ps.
func mostExtreme(ps []float64, n int) []float64 {
	if len(ps) <= n {
		return ps
	}
	sort.Slice(ps, func(i, j int) bool { return math.Abs(ps[i]-0.5) > math.Abs(ps[j]-0.5) })
	return ps[:n]
}

// tokenProb is Robinson's f(w) of a token with counts c.
func (f *Filter) tokenProb(c store.SpamCount) float64 {
	spamRatio := float64(min(c.Spam, f.spam)) / float64(f.spam)
	hamRatio := float64(min(c.Ham, f.ham)) / float64(f.ham)
	p := spamRatio / (spamRatio + hamRatio)
	n := float64(c.Ham + c.Spam)
	return (robS*robX + n*p) / (robS + n)
}

// chiCombine is Fisher's combination of token probabilities as Robinson
// and SpamBayes use it: how unlikely the clues are as ham (S) against how
// unlikely as spam (H), mapped to 0..1 with 0.5 for "unsure".
func chiCombine(clues []float64) float64 {
	if len(clues) == 0 {
		return 0.5
	}
	var lnSpam, lnHam float64 // ln Π(1-p) and ln Π p
	for _, p := range clues {
		lnSpam += math.Log(1 - p)
		lnHam += math.Log(p)
	}
	n := 2 * len(clues)
	s := 1 - chi2Q(-2*lnSpam, n)
	h := 1 - chi2Q(-2*lnHam, n)
	return (s - h + 1) / 2
}

// chi2Q is the probability that a chi-square variable with v (even)
// degrees of freedom is at least x2.
func chi2Q(x2 float64, v int) float64 {
	m := x2 / 2
	term := math.Exp(-m)
	sum := term
	for i := 1; i < v/2; i++ {
		term *= m / float64(i)
		sum += term
	}
	return min(sum, 1)
}
