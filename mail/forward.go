package mail

import (
	netmail "net/mail"
	"regexp"
	"strings"

	"desk/mail/parse"
	"desk/store"
)

// isStaff reports whether addr is one of the account's staff addresses.
func (a *Account) isStaff(addr string) bool {
	for _, s := range a.Staff {
		if addr != "" && strings.EqualFold(strings.TrimSpace(s), addr) {
			return true
		}
	}
	return false
}

// staffForward returns the original of a mail that staff forwarded into
// the desk: the attached message, or else the message quoted after a
// forwarding marker in the text. It returns nil when the sender is not
// staff or no original with a sender address is found.
func (a *Account) staffForward(p *parse.Message) *parse.Inner {
	if !a.isStaff(p.From.Addr) {
		return nil
	}
	if in := p.Attached; in != nil && in.From.Addr != "" {
		return in
	}
	return inlineForward(p.Text)
}

// forwardMarkerRe matches the line mail programs put above an inline
// forwarded or quoted original (Gmail, Thunderbird, Apple Mail, Outlook).
var forwardMarkerRe = regexp.MustCompile(`(?im)^[ \t]*(?:-{2,}[ \t]*(?:forwarded message|original message)[ \t]*-{2,}|begin forwarded message:)[ \t]*$`)

// mailtoRe finds the address in Outlook's "Name [mailto:addr]" form.
var mailtoRe = regexp.MustCompile(`(?i)^(.*?)\s*\[mailto:([^\]\s]+)\]`)

// inlineForward reads the original message after a forwarding marker:
// its From, Subject and Date lines, then its text.
func inlineForward(text string) *parse.Inner {
	loc := forwardMarkerRe.FindStringIndex(text)
	if loc == nil {
		return nil
	}
	in := &parse.Inner{}
	lines := strings.Split(strings.TrimLeft(text[loc[1]:], "\n"), "\n")
	i := 0
	for ; i < len(lines); i++ {
		line := strings.TrimSpace(strings.TrimLeft(lines[i], ">"))
		if line == "" {
			break
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			break
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.Trim(key, "* ")) {
		case "from", "von", "de":
			if m := mailtoRe.FindStringSubmatch(value); m != nil {
				in.From = parse.Address{Name: strings.Trim(m[1], `" `), Addr: strings.ToLower(m[2])}
			} else if addr, err := netmail.ParseAddress(value); err == nil {
				in.From = parse.Address{Name: addr.Name, Addr: strings.ToLower(addr.Address)}
			}
		case "subject", "betreff", "objet":
			in.Subject = value
		}
	}
	if in.From.Addr == "" {
		return nil
	}
	in.Text = strings.Trim(strings.Join(lines[i:], "\n"), "\n")
	return in
}

// noteForward records on ticket n that staff forwarded its first mail in.
func noteForward(tx *store.Tx, acct *store.Account, n int64, forwarder string) error {
	t, err := tx.TicketByNumber(acct.ID, n)
	if err != nil || t == nil {
		return err
	}
	return tx.AddEvent(t.ID, forwarder, "forwarded into the desk by "+forwarder)
}
