package mail

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"

	"desk/store"
)

// replyKeyLen is the length of a ticket's reply key.
const replyKeyLen = 20

// ReplyKey derives a ticket's reply key from the raw bytes of its root
// message as the mailbox holds them (with the receiving server's trace
// headers, which the sender never sees). Every client computes the same key,
// and it survives deleting the database.
func ReplyKey(rootRaw []byte) string {
	sum := sha256.Sum256(rootRaw)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))[:replyKeyLen]
}

// isReplyKey reports whether s has the shape of a reply key.
func isReplyKey(s string) bool {
	if len(s) != replyKeyLen {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '2' && r <= '7') {
			return false
		}
	}
	return true
}

// Route is what a desk address says about where a mail belongs.
type Route struct {
	Project     string // "" when the address names none
	ReplyKey    string // "" when none
	Unsubscribe bool
}

// RouteAddress reports whether addr is one of the desk's addresses and, if
// so, what its sub-address says. Accepted forms, for desk support@d:
//
//	support@d                        no project
//	support+PROJECT@d                a project
//	support+PROJECT-REPLYKEY@d       a reply to a ticket
//	support+REPLYKEY-unsubscribe@d   stop mail for a ticket
func RouteAddress(desk, addr string) (Route, bool) {
	deskLocal, deskDomain, _ := strings.Cut(strings.ToLower(desk), "@")
	local, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(addr)), "@")
	if !ok || domain != deskDomain {
		return Route{}, false
	}
	if local == deskLocal {
		return Route{}, true
	}
	tag, ok := strings.CutPrefix(local, deskLocal+"+")
	if !ok || tag == "" {
		return Route{}, false
	}
	if key, ok := strings.CutSuffix(tag, "-unsubscribe"); ok && isReplyKey(key) {
		return Route{ReplyKey: key, Unsubscribe: true}, true
	}
	if isReplyKey(tag) {
		return Route{ReplyKey: tag}, true
	}
	if i := strings.LastIndexByte(tag, '-'); i > 0 && isReplyKey(tag[i+1:]) {
		return Route{Project: tag[:i], ReplyKey: tag[i+1:]}, true
	}
	return Route{Project: tag}, true
}

// ReplyAddress is the Reply-To address of a ticket: desk+project-key@domain.
func ReplyAddress(desk, project, key string) string {
	local, domain, _ := strings.Cut(desk, "@")
	if project == "" {
		return local + "+" + key + "@" + domain
	}
	return local + "+" + project + "-" + key + "@" + domain
}

// UnsubscribeAddress is the address that stops all mail for a ticket.
func UnsubscribeAddress(desk, key string) string {
	local, domain, _ := strings.Cut(desk, "@")
	return local + "+" + key + "-unsubscribe@" + domain
}

// ProjectAddress is the address customers write to for a project.
func ProjectAddress(desk, project string) string {
	local, domain, _ := strings.Cut(desk, "@")
	return local + "+" + project + "@" + domain
}

// route picks the desk route of a mail from its recipients, in order; a
// route carrying a reply key wins over one naming only a project.
func route(desk string, recipients []string) (Route, bool) {
	return pickRoute(recipients, func(addr string) (Route, bool) { return RouteAddress(desk, addr) })
}

// route is the package route with the account's plain aliases: a
// recipient that is an alias names its project.
func (a *Account) route(recipients []string) (Route, bool) {
	return pickRoute(recipients, a.routeAddress)
}

// routeAddress is RouteAddress for the account's address, then its aliases.
func (a *Account) routeAddress(addr string) (Route, bool) {
	if rt, ok := RouteAddress(a.Address, addr); ok {
		return rt, true
	}
	for alias, project := range a.Aliases {
		if strings.EqualFold(strings.TrimSpace(addr), alias) {
			return Route{Project: strings.ToLower(project)}, true
		}
	}
	return Route{}, false
}

// addressed reports whether a mail names a desk address or alias in To
// or Cc. Mail that does not (Bcc, forwarded, catch-all) still opens a
// ticket but gets no automatic answer (RFC 3834 section 2).
func (a *Account) addressed(msg *store.Message) bool {
	_, ok := a.route(append(append([]string{}, msg.To...), msg.Cc...))
	return ok
}

// pickRoute returns the first route of recipients that carries a reply
// key, or else the first that names a project, or else the first at all.
func pickRoute(recipients []string, routeOf func(string) (Route, bool)) (Route, bool) {
	var first Route
	found := false
	for _, r := range recipients {
		rt, ok := routeOf(r)
		if !ok {
			continue
		}
		if rt.ReplyKey != "" {
			return rt, true
		}
		if !found || first.Project == "" && rt.Project != "" {
			first, found = rt, true
		}
	}
	return first, found
}

// isDeskAddress reports whether addr is the desk address or a sub-address of it.
func isDeskAddress(desk, addr string) bool {
	_, ok := RouteAddress(desk, addr)
	return ok
}
