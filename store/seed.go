package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// SeedOptions size the benchmark data Seed writes.
type SeedOptions struct {
	Tickets int       // how many tickets
	Seed    uint64    // the random seed: the same seed gives the same data
	Now     time.Time // the newest ticket's time; dates spread two years back
}

var (
	seedFirst    = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yuki", "zoe", "amir", "bea", "chen", "dmitri", "eva", "femi", "gita"}
	seedDomains  = []string{"example.com", "example.org", "customer.test", "acme-corp.test", "mail.example.net", "bigco.test", "startup.example"}
	seedProjects = []string{"acme", "billing", "mobile", "api", "onboarding"}
	seedStaff    = []string{"ana", "bob builder", "carlos", "dana"}
	seedLabels   = []string{"vip", "refund", "bug", "feature", "urgent", "billing", "security", "outage"}
	seedThings   = []string{"invoice", "password reset", "login page", "mobile app", "API key", "webhook", "export", "dashboard", "subscription", "refund", "SSO", "two-factor code", "CSV import", "printer driver", "search"}
	seedProblems = []string{"does not work", "is broken since the update", "shows an error", "is very slow", "keeps timing out", "charged twice", "question about", "cannot find", "stopped syncing", "returns 500"}
	seedSentence = []string{
		"Hello, I hope you can help me with this.",
		"Since yesterday the %s %s and I have tried everything I could think of.",
		"I already cleared the cache and restarted the browser, no luck.",
		"Our whole team depends on the %s, so this is quite urgent for us.",
		"The error message says something about an invalid token.",
		"Could you please look into it as soon as possible?",
		"I attached a screenshot of what I see.",
		"Order number %d, in case you need it.",
		"This worked fine last week.",
		"Thanks in advance, and have a nice day.",
		"We are on the business plan, account %d.",
		"Is there a workaround in the meantime?",
	}
	seedReplies = []string{
		"Thanks for reaching out. Could you tell us which browser and version you use?",
		"We found the cause: the %s was affected by last night's deploy. A fix is rolling out now.",
		"I have refunded the duplicate charge; it should show within five business days.",
		"Could you try again now? We reset the %s on our side.",
		"I am passing this to our engineers and will update you as soon as I hear back.",
	}
	seedNotes = []string{
		"Checked the logs: the %s requests fail with a 401 for this account.",
		"Same issue as last week, see the incident channel.",
		"Customer is on a legacy plan, handle with care.",
	}
)

// Seed fills the store with realistic, deterministic tickets for benchmarks
// and demos: several messages per ticket on average, in one transaction.
func (s *Store) Seed(ctx context.Context, o SeedOptions) error {
	if o.Tickets <= 0 {
		return fmt.Errorf("seed: --tickets must be positive")
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	acct, err := s.EnsureAccount(ctx, "seed", "support@example.com", "INBOX")
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x5eed))
	return s.Update(ctx, func(tx *Tx) error {
		var first int64
		if err := tx.tx.QueryRow(`SELECT coalesce(max(number), 0) + 1 FROM tickets WHERE account_id = ?`, acct.ID).Scan(&first); err != nil {
			return err
		}
		insTicket, err := tx.tx.Prepare(`INSERT INTO tickets (account_id, number, project, subject, requester, requester_name,
			reply_key, state, root_message_id, created, updated, unread, assignee, spam, spam_score)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insTicket.Close()
		insMsg, err := tx.tx.Prepare(`INSERT INTO messages (account_id, ticket_id, uid, message_id, in_reply_to,
			from_addr, from_name, to_addrs, subject, date, kind, body, attachments, unverified)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insMsg.Close()
		insFTS, err := tx.tx.Prepare(`INSERT INTO search_fts (rowid, subject, body, sender, recipients) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insFTS.Close()
		insLabel, err := tx.tx.Prepare(`INSERT OR IGNORE INTO ticket_labels (ticket_id, label) VALUES (?, ?)`)
		if err != nil {
			return err
		}
		defer insLabel.Close()

		span := 2 * 365 * 24 * time.Hour
		uid := uint32(first) * 10
		for i := 0; i < o.Tickets; i++ {
			if i%1000 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			n := first + int64(i)
			// Older tickets first, so numbers grow with time.
			created := o.Now.Add(-span + time.Duration(float64(span)*float64(i+1)/float64(o.Tickets)) - time.Duration(r.IntN(3600))*time.Second)
			name := pick(r, seedFirst)
			requester := fmt.Sprintf("%s.%d@%s", name, r.IntN(5000), pick(r, seedDomains))
			thing, problem := pick(r, seedThings), pick(r, seedProblems)
			subject := strings.ToUpper(thing[:1]) + thing[1:] + " " + problem
			state := seedState(r, o.Now.Sub(created))
			assignee := ""
			if r.IntN(10) < 6 {
				assignee = pick(r, seedStaff)
			}
			spam := r.IntN(40) == 0
			msgs := 1 + r.IntN(9) // 1..9, five on average
			updated := created.Add(time.Duration(msgs-1) * time.Duration(1+r.IntN(180)) * time.Minute)
			root := fmt.Sprintf("seed.%d.0@%s", n, "customer.test")
			res, err := insTicket.Exec(acct.ID, n, pick(r, seedProjects), subject, requester, strings.ToUpper(name[:1])+name[1:],
				fmt.Sprintf("seed%dk%d", n, o.Seed), state, root, formatTime(created), formatTime(updated),
				boolInt(state == StateOpen && r.IntN(3) == 0), assignee, boolInt(spam), float64(r.IntN(100))/10)
			if err != nil {
				return fmt.Errorf("seed: ticket #%d: %w", n, err)
			}
			tid, _ := res.LastInsertId()
			if r.IntN(3) == 0 {
				if _, err := insLabel.Exec(tid, pick(r, seedLabels)); err != nil {
					return err
				}
			}
			prev := ""
			for j := 0; j < msgs; j++ {
				kind, from, fromName, body := KindCustomer, requester, name, seedBody(r, thing, problem)
				switch {
				case j == 0:
				case j%2 == 1 && r.IntN(4) == 0:
					kind, from, fromName, body = KindNote, acct.Address, pick(r, seedStaff), seedLine(r, seedNotes, thing)
				case j%2 == 1:
					kind, from, fromName, body = KindReply, acct.Address, pick(r, seedStaff), seedLine(r, seedReplies, thing)
				}
				atts, unverified := "", ""
				if kind == KindCustomer && r.IntN(8) == 0 {
					b, _ := json.Marshal([]Attachment{{Filename: "screenshot.png", ContentType: "image/png", Size: 20000 + r.IntN(200000)}})
					atts = string(b)
				}
				if kind == KindCustomer && r.IntN(50) == 0 {
					unverified = "dmarc=fail"
				}
				mid := fmt.Sprintf("seed.%d.%d@customer.test", n, j)
				if j == 0 {
					mid = root
				}
				date := created.Add(time.Duration(j) * (updated.Sub(created) / time.Duration(max(msgs-1, 1))))
				to := acct.Address
				if kind != KindCustomer {
					to = requester
				}
				res, err := insMsg.Exec(acct.ID, tid, uid, mid, prev, from, fromName, to, subject, formatTime(date), kind, body, atts, unverified)
				if err != nil {
					return fmt.Errorf("seed: message %s: %w", mid, err)
				}
				uid++
				mrow, _ := res.LastInsertId()
				if _, err := insFTS.Exec(ftsKey(tid, mrow), subject, body, from+" "+fromName, to); err != nil {
					return err
				}
				prev = mid
			}
		}
		return nil
	})
}

// seedState is a ticket's status: old tickets are mostly done.
func seedState(r *rand.Rand, age time.Duration) string {
	p := r.IntN(100)
	if age > 30*24*time.Hour {
		p = p/3 + 67 // mostly solved or closed
	}
	switch {
	case p < 35:
		return StateOpen
	case p < 50:
		return StatePending
	case p < 57:
		return StateOnHold
	case p < 75:
		return StateSolved
	}
	return StateClosed
}

func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

// seedLine fills one template line.
func seedLine(r *rand.Rand, list []string, thing string) string {
	line := pick(r, list)
	if strings.Contains(line, "%s") {
		return fmt.Sprintf(line, thing)
	}
	return line
}

// seedBody is a customer message of a few sentences.
func seedBody(r *rand.Rand, thing, problem string) string {
	var b strings.Builder
	for k, n := 0, 2+r.IntN(5); k < n; k++ {
		line := pick(r, seedSentence)
		switch strings.Count(line, "%") {
		case 2:
			line = fmt.Sprintf(line, thing, problem)
		case 1:
			if strings.Contains(line, "%d") {
				line = fmt.Sprintf(line, 10000+r.IntN(90000))
			} else {
				line = fmt.Sprintf(line, thing)
			}
		}
		b.WriteString(line)
		b.WriteString(" ")
	}
	return strings.TrimSpace(b.String()) + "\n\n-- \n" + strings.ToUpper(thing[:1]) + " user"
}
