//go:build race

package mail

// floodSize is how many spam mails TestSpamFlood ingests: fewer under the
// race detector, which makes every store call some ten times slower (the
// property checked is the same; the full 10,000 run without -race).
const floodSize = 1000

// corpusStride is every how many corpus files TestIngestWholeCorpus
// ingests under the race detector (all of them without it).
const corpusStride = 10
