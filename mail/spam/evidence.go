package spam

import (
	"math"
	"strings"
)

// Evidence is what is known of a message beside its tokens.
type Evidence struct {
	Allowed   bool // the sender's domain is on the account's allowlist
	Blocked   bool // the sender or its domain is on the account's block list
	Known     bool // the sender opened an earlier ticket that is not spam
	ReplyToUs bool // it answers one of our mails (reply key or a known Message-ID)
	// The trusted receiving server's Authentication-Results say the From
	// domain failed DMARC, DKIM or SPF (see store.Message.Unverified).
	Unverified bool
	// An upstream filter (X-Spam-Flag: YES, X-Spam-Status: Yes) called it spam.
	FlaggedUpstream bool
}

// Log-odds added to the token score by each piece of evidence. A known
// requester is only moderately ham, as From is easy to forge. Only "spam"
// verdicts of other filters count: a spammer writes "X-Spam-Status: No" as
// easily as anyone.
const (
	weightKnown      = -4
	weightUpstream   = 4
	weightUnverified = 3
)

// Combine turns a token score and the evidence into the message's score
// from 0 (ham) to 1 (spam). The block list wins over everything. A reply
// to our own mail carries our secret reply key or one of our Message-IDs,
// which a spammer does not have: it is ham. The allowlist wins over the
// rest but a failed authentication (the From domain may be forged).
func Combine(tokenScore float64, e Evidence) float64 {
	switch {
	case e.Blocked:
		return 1
	case e.ReplyToUs, e.Allowed && !e.Unverified:
		return 0
	}
	p := min(max(tokenScore, 1e-6), 1-1e-6)
	l := math.Log(p / (1 - p))
	add := func(cond bool, w float64) {
		if cond {
			l += w
		}
	}
	add(e.Known, weightKnown)
	add(e.FlaggedUpstream, weightUpstream)
	add(e.Unverified, weightUnverified)
	return 1 / (1 + math.Exp(-l))
}

// FlaggedUpstream reports whether a filter before us called the message
// spam in its header (X-Spam-Flag: YES or X-Spam-Status: Yes).
func FlaggedUpstream(header []Field) bool {
	for _, f := range header {
		v := strings.ToLower(strings.TrimSpace(f.Value))
		switch f.Name {
		case "x-spam-flag":
			if v == "yes" {
				return true
			}
		case "x-spam-status":
			if strings.HasPrefix(v, "yes") {
				return true
			}
		}
	}
	return false
}
