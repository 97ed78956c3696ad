package mail

import (
	"fmt"
	"strings"

	"github.com/emersion/go-msgauth/authres"
)

// unverified tells why the sender of a mail could not be verified, from
// the Authentication-Results fields that the account's receiving server
// (AuthservID) added, or returns "" when nothing failed. Fields of any
// other authserv-id are ignored, since anyone can write them; with no
// AuthservID configured every field is ignored.
//
// A DMARC pass for the From domain settles it. Otherwise a DMARC fail for
// the From domain, a failed DKIM signature of that domain without a
// passing one, or an SPF fail for a MAIL FROM in that domain makes the
// sender unverified.
func (a *Account) unverified(authResults []string, from string) string {
	if a.AuthservID == "" || from == "" {
		return ""
	}
	_, domain, _ := strings.Cut(strings.ToLower(from), "@")
	var dmarcFail, dkimFail, dkimPass, spfFail bool
	for _, v := range authResults {
		id, results, err := authres.Parse(v)
		if err != nil || !strings.EqualFold(id, a.AuthservID) {
			continue
		}
		for _, r := range results {
			switch r := r.(type) {
			case *authres.DMARCResult:
				if !sameDomain(r.From, domain, true) {
					continue
				}
				switch r.Value {
				case authres.ResultPass:
					return ""
				case authres.ResultFail:
					dmarcFail = true
				}
			case *authres.DKIMResult:
				if !sameDomain(r.Domain, domain, false) {
					continue
				}
				switch r.Value {
				case authres.ResultPass:
					dkimPass = true
				case authres.ResultFail, authres.ResultPermError:
					dkimFail = true
				}
			case *authres.SPFResult:
				if r.Value == authres.ResultFail && sameDomain(r.From, domain, false) {
					spfFail = true
				}
			}
		}
	}
	switch {
	case dmarcFail:
		return fmt.Sprintf("DMARC failed for %s", domain)
	case dkimFail && !dkimPass:
		return fmt.Sprintf("DKIM signature of %s failed", domain)
	case spfFail && !dkimPass:
		return fmt.Sprintf("SPF failed for %s", domain)
	}
	return ""
}

// sameDomain reports whether v (a domain or an address, as
// Authentication-Results give them) is in domain. An empty v matches only
// when emptyMatches (a DMARC result is about the From domain by
// definition).
func sameDomain(v, domain string, emptyMatches bool) bool {
	if v == "" {
		return emptyMatches
	}
	if _, d, ok := strings.Cut(v, "@"); ok {
		v = d
	}
	return strings.EqualFold(strings.TrimSuffix(v, "."), domain)
}
