package spam

import (
	"context"
	"errors"

	"desk/store"
)

// Verdicts printed by `desk spam score`.
const (
	VerdictSpam = "spam"
	VerdictHam  = "ham"
)

// CVFolds is the number of folds TrainPaths cross-validates with.
const CVFolds = 5

// TrainReport says what TrainPaths did.
type TrainReport struct {
	Ham, Spam int     // messages trained
	Threshold float64 // the cut-off chosen
	CV        Metrics // cross-validated results at that cut-off
}

// TrainPaths trains the filter (in the store and in memory) on every
// message under the ham and spam paths (folders, Maildirs or mbox files),
// then chooses the threshold by cross-validation over those messages.
func (f *Filter) TrainPaths(ctx context.Context, st *store.Store, hamPaths, spamPaths []string) (TrainReport, error) {
	var rep TrainReport
	read := func(paths []string) ([][]string, error) {
		var out [][]string
		for _, p := range paths {
			err := ReadMessages(p, func(_ string, raw []byte) error {
				out = append(out, Tokens(ParseDoc(raw)))
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	ham, err := read(hamPaths)
	if err != nil {
		return rep, err
	}
	spam, err := read(spamPaths)
	if err != nil {
		return rep, err
	}
	if len(ham)+len(spam) == 0 {
		return rep, errors.New("no message found to train on")
	}
	if err := f.TrainTokens(ctx, st, ham, spam); err != nil {
		return rep, err
	}
	rep.Ham, rep.Spam = len(ham), len(spam)
	rep.Threshold, rep.CV = ChooseThreshold(ham, spam, CVFolds)
	return rep, f.SaveThreshold(ctx, st, rep.Threshold)
}

// Result is the filter's verdict on one message.
type Result struct {
	Path    string  `json:"path"`
	Score   float64 `json:"score"`
	Verdict string  `json:"verdict"` // VerdictSpam or VerdictHam
	Lang    string  `json:"lang"`    // see Language
}

// ScorePaths scores every message under paths (files, folders or mbox
// files) on its tokens and header evidence alone, calling fn for each.
func (f *Filter) ScorePaths(paths []string, fn func(Result) error) error {
	threshold := f.Threshold()
	for _, p := range paths {
		err := ReadMessages(p, func(name string, raw []byte) error {
			d := ParseDoc(raw)
			score := Combine(f.Score(Tokens(d)), Evidence{FlaggedUpstream: FlaggedUpstream(d.Header)})
			r := Result{Path: name, Score: score, Verdict: VerdictHam, Lang: Language(d)}
			if score >= threshold {
				r.Verdict = VerdictSpam
			}
			return fn(r)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
