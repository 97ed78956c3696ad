//go:build !race

package mail

// floodSize is how many spam mails TestSpamFlood ingests (see
// flood_race_test.go).
const floodSize = 10000

// corpusStride: TestIngestWholeCorpus ingests every corpus file.
const corpusStride = 1
