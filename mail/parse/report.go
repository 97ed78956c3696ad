package parse

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"
)

// Report is what a delivery failure or another machine report says about
// the mail it reports on.
type Report struct {
	// FailedRecipients are the addresses that could not be reached: the
	// Final-Recipient of every failed delivery-status group, the
	// X-Failed-Recipients field, lower-cased and without duplicates.
	FailedRecipients []string
	// OriginalIDs are the Message-IDs of the reported mail: from attached
	// messages or headers (message/rfc822, text/rfc822-headers) and from
	// "Message-ID:" lines quoted in the text, as text-only bounces do.
	OriginalIDs []string
}

// Inner is a message attached to a message (message/rfc822), as a
// forwarded mail is.
type Inner struct {
	MessageID string
	From      Address
	Subject   string
	Date      time.Time
	Text      string
}

// reportTypes are the media types of machine reports on mail (RFC 3464
// delivery status, RFC 8098 read receipts, RFC 5965 abuse reports, RFC
// 6522 returned headers).
var reportTypes = map[string]bool{
	"multipart/report":                        true,
	"message/delivery-status":                 true,
	"message/global-delivery-status":          true,
	"message/disposition-notification":        true,
	"message/global-disposition-notification": true,
	"message/feedback-report":                 true,
	"text/rfc822-headers":                     true,
	"message/global-headers":                  true,
}

// noAnswerLocals are local parts of senders that never read answers.
var noAnswerLocals = map[string]bool{
	"mailer-daemon": true, "mailer_daemon": true, "postmaster": true, "post_master": true,
	"noreply": true, "no-reply": true, "no_reply": true, "donotreply": true, "do-not-reply": true,
	"do_not_reply": true, "bounce": true, "bounces": true,
}

// IsNoAnswerSender reports whether addr belongs to a robot that must never
// get automated mail: MAILER-DAEMON, postmaster, noreply and the like.
func IsNoAnswerSender(addr string) bool {
	local, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(addr)), "@")
	local, _, _ = strings.Cut(local, "+")
	return noAnswerLocals[local]
}

// deliveryStatus reads the per-recipient groups of a message/delivery-status
// body and adds the failed recipients.
func (p *parser) deliveryStatus(body []byte) {
	for group := range bytes.SplitSeq(bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")), []byte("\n\n")) {
		h, _ := p.readHeader(append(bytes.TrimLeft(group, "\n"), "\n\n"...))
		action := strings.ToLower(strings.TrimSpace(h.Get("Action")))
		if action != "" && action != "failed" {
			continue
		}
		for _, key := range []string{"Final-Recipient", "Original-Recipient"} {
			if v := h.Get(key); v != "" {
				p.failed(v)
				break
			}
		}
	}
}

// failed adds the recipient of a "type; address" field value (or a plain
// address list) to the report's failed recipients.
func (p *parser) failed(v string) {
	if _, addr, ok := strings.Cut(v, ";"); ok {
		v = addr
	}
	for piece := range strings.SplitSeq(v, ",") {
		if a := looseAddr(piece); a != "" && !slices.Contains(p.report.FailedRecipients, a) {
			p.report.FailedRecipients = append(p.report.FailedRecipients, a)
		}
	}
}

// originalID adds a Message-ID of the reported mail.
func (p *parser) originalID(id string) {
	if id != "" && !slices.Contains(p.report.OriginalIDs, id) {
		p.report.OriginalIDs = append(p.report.OriginalIDs, id)
	}
}

// quotedIDRe finds a Message-ID header line quoted in a bounce's text.
var quotedIDRe = regexp.MustCompile(`(?im)^[ \t>]*message-id:[ \t]*<([^<>\s]+)>`)

// finishReport completes the report of a bounce from its text and header.
func (p *parser) finishReport(h mail.Header, text string) {
	for _, v := range h.Values("X-Failed-Recipients") {
		p.failed(v)
	}
	for _, m := range quotedIDRe.FindAllStringSubmatch(text, -1) {
		if m[1] != p.msg.MessageID {
			p.originalID(m[1])
		}
	}
}

// rfc822Headers reads the Message-ID of returned headers (text/rfc822-headers).
func (p *parser) rfc822Headers(body []byte) {
	h, _ := p.readHeader(append(bytes.TrimRight(body, "\r\n"), "\n\n"...))
	if ids := looseIDs(h.Get("Message-Id")); len(ids) > 0 {
		p.originalID(ids[0])
	}
}
