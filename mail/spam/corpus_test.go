package spam

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"desk/store"
)

// corpusDir is the labelled SpamAssassin corpus, beside the repository.
const corpusDir = "../../../shared/corpus/spamassassin"

// labelled is one corpus message.
type labelled struct {
	name   string
	raw    []byte
	spam   bool
	tokens []string
}

// inTraining is the fixed 70/30 split: by the MD5 of the file name, so
// that it depends neither on the order of the files nor on their content.
// bench/spam-vs-peers.sh splits by the same rule.
func inTraining(name string) bool {
	sum := md5.Sum([]byte(filepath.Base(name)))
	return binary.BigEndian.Uint32(sum[:4])%100 < 70
}

// loadCorpus reads the corpus, skipping loudly when it is absent (failing
// when CI=true).
func loadCorpus(t *testing.T) []labelled {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("spam corpus %s is missing: %v", corpusDir, err)
		}
		t.Skipf("SKIPPED: spam corpus %s is missing (%v); the goals of issue 7 are NOT checked", corpusDir, err)
	}
	var out []labelled
	for _, class := range []string{"ham", "spam"} {
		err := ReadMessages(filepath.Join(corpusDir, class), func(name string, raw []byte) error {
			out = append(out, labelled{name: name, raw: raw, spam: class == "spam"})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestCorpusGoals trains on the training 70 % of the corpus (choosing the
// threshold by cross-validation within it) and checks the goals of issue 7
// on the other 30 %.
func TestCorpusGoals(t *testing.T) {
	msgs := loadCorpus(t)
	var trainHam, trainSpam [][]string
	var test []labelled
	for i := range msgs {
		m := &msgs[i]
		if !inTraining(m.name) {
			test = append(test, *m)
			continue
		}
		m.tokens = Tokens(ParseDoc(m.raw))
		if m.spam {
			trainSpam = append(trainSpam, m.tokens)
		} else {
			trainHam = append(trainHam, m.tokens)
		}
	}
	threshold, cv := ChooseThreshold(trainHam, trainSpam, 5)
	t.Logf("training: %d ham, %d spam; threshold %.4g by 5-fold cross-validation (cv FPR %.4f, recall %.4f)",
		len(trainHam), len(trainSpam), threshold, cv.FPR(), cv.Recall())

	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "desk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := New().TrainTokens(ctx, st, trainHam, trainSpam); err != nil {
		t.Fatal(err)
	}
	if err := New().SaveThreshold(ctx, st, threshold); err != nil {
		t.Fatal(err)
	}
	f, err := Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}

	var all Metrics
	byLang := map[string]*Metrics{}
	for _, m := range test {
		d := ParseDoc(m.raw)
		score := f.Score(Tokens(d))
		said := score >= f.Threshold()
		all.Count(m.spam, said)
		l := Language(d)
		if byLang[l] == nil {
			byLang[l] = &Metrics{}
		}
		byLang[l].Count(m.spam, said)
		if said != m.spam {
			t.Logf("wrong: %s spam=%v score %.4f", m.name, m.spam, score)
		}
	}
	var perMsg time.Duration
	if !raceEnabled { // the race detector makes timings meaningless
		perMsg = timePerMessage(f, test)
	}
	t.Logf("test: %d messages: precision %.4f recall %.4f F1 %.4f FPR %.4f (%d FP, %d FN), %v per message",
		len(test), all.Precision(), all.Recall(), all.F1(), all.FPR(), all.FP, all.FN, perMsg)
	for l, m := range byLang {
		t.Logf("  %s: %d spam, recall %.4f; %d ham, %d FP", l, m.TP+m.FN, m.Recall(), m.TN+m.FP, m.FP)
	}
	// The goal is a false-positive rate of at most 0.1 %: on this split,
	// no false positive among 773 ham (the figure of the last measured
	// run, docs/spam.md).
	if all.FPR() > MaxFPR {
		t.Errorf("false-positive rate %.4f (%d ham of %d), want at most %.4f", all.FPR(), all.FP, all.FP+all.TN, MaxFPR)
	}
	if all.Recall() < 0.95 {
		t.Errorf("recall %.4f, want at least 0.95", all.Recall())
	}
	for _, l := range []string{"zh", "ko", "ja"} {
		if m := byLang[l]; m != nil && m.FN > 0 {
			t.Errorf("%s spam: %d of %d missed", l, m.FN, m.TP+m.FN)
		}
	}
	if perMsg > time.Millisecond {
		t.Errorf("%v per message, want under 1 ms", perMsg)
	}
}

// timePerMessage is the best of three timed passes of parsing,
// tokenising and scoring the messages (the best, as other work on the
// machine only ever slows a pass down).
func timePerMessage(f *Filter, msgs []labelled) time.Duration {
	best := time.Duration(math.MaxInt64)
	for range 3 {
		start := time.Now()
		for _, m := range msgs {
			f.Score(Tokens(ParseDoc(m.raw)))
		}
		best = min(best, time.Since(start)/time.Duration(len(msgs)))
	}
	return best
}
