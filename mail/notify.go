package mail

import (
	"context"
	"fmt"
	"strings"
	"time"

	"desk/store"
)

// SendOptions are an account's settings for mail going out. The zero value
// means the defaults.
type SendOptions struct {
	// FromFormat is the display name of staff replies; %{AGENT} and
	// %{PROJECT} are replaced. Default "%{AGENT} via %{PROJECT} Support".
	FromFormat string
	// Templates are the automated mail texts; nil means the built-ins.
	Templates *Templates
	// SystemHeader and SystemFooter fill %{SYSTEM_HEADER} and
	// %{SYSTEM_FOOTER}; the footer defaults to a "<Project> Support" signature.
	SystemHeader, SystemFooter string
	// Projects holds per-project switches, by project tag.
	Projects map[string]ProjectOptions
	// MaxParticipants caps how many Cc addresses of a first mail join its
	// ticket: 0 means 10, negative means none.
	MaxParticipants int
	// SenderPerHour and ProjectPerHour cap automated mails to one address
	// and about one project's tickets per hour: 0 means 5 and 200.
	SenderPerHour, ProjectPerHour int
	// Timeout bounds every wait on the SMTP server (connect, greeting,
	// TLS handshake, each command, each write): 0 means 2 minutes.
	Timeout time.Duration
	// MaxAttempts bounds the temporary failures of one mail before it is
	// failed and shown to staff: 0 means 24 (about five hours).
	MaxAttempts int
	// RetryBase is the first retry delay, doubled per attempt up to 15
	// minutes: 0 means 5 seconds.
	RetryBase time.Duration
}

// ProjectOptions switch a project's automated mail; nil keeps the default
// (thank-you on; new_note and closed on only if the project has its own
// template file; reopen on reply on).
type ProjectOptions struct {
	ThankYou      *bool `toml:"thank_you"`
	NewNote       *bool `toml:"new_note"`
	Closed        *bool `toml:"closed"`
	ReopenOnReply *bool `toml:"reopen_on_reply"`
	// NewParticipant: tell an address staff add with /add_email (default on).
	NewParticipant *bool `toml:"new_participant"`
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (o *SendOptions) timeout() time.Duration   { return orDefault(o.Timeout, 2*time.Minute) }
func (o *SendOptions) maxAttempts() int         { return orDefault(o.MaxAttempts, 24) }
func (o *SendOptions) retryBase() time.Duration { return orDefault(o.RetryBase, 5*time.Second) }

// maxParticipants is how many Cc addresses may join a new ticket.
func (o *SendOptions) maxParticipants() int { return max(orDefault(o.MaxParticipants, 10), 0) }

// noticeOn reports whether a project sends a notice.
func (o *SendOptions) noticeOn(project, notice string) bool {
	p := o.Projects[project]
	sw := map[string]*bool{store.NoticeThankYou: p.ThankYou, store.NoticeNewNote: p.NewNote, store.NoticeClosed: p.Closed,
		store.NoticeNewParticipant: p.NewParticipant}[notice]
	if sw != nil {
		return *sw
	}
	_, own := o.Templates.text(project, notice)
	return own || notice == store.NoticeThankYou || notice == store.NoticeNewParticipant
}

// reopenOnReply reports whether a customer reply reopens a closed ticket.
func (o *SendOptions) reopenOnReply(project string) bool {
	if sw := o.Projects[project].ReopenOnReply; sw != nil {
		return *sw
	}
	return true
}

// fromName is the display name of a staff reply.
func (o *SendOptions) fromName(agent, project string) string {
	return strings.NewReplacer("%{AGENT}", agent, "%{PROJECT}", project).Replace(orDefault(o.FromFormat, "%{AGENT} via %{PROJECT} Support"))
}

// Check validates the options: the from format may only use its two
// placeholders.
func (o *SendOptions) Check() error {
	for _, m := range placeholder.FindAllStringSubmatch(o.FromFormat, -1) {
		if m[1] != "AGENT" && m[1] != "PROJECT" {
			return fmt.Errorf("from_format: unknown placeholder %%{%s} (known: %%{AGENT} %%{PROJECT})", m[1])
		}
	}
	return nil
}

// noticeBody renders a notice's text for a ticket.
func (a *Account) noticeBody(t *store.Ticket, notice, note string) string {
	text, _ := a.Send.Templates.text(t.Project, notice)
	footer := a.Send.SystemFooter
	if footer == "" {
		footer = "-- \n" + a.projectName(t.Project) + " Support"
	}
	return render(text, noticeData{ticket: t, note: note, unsubscribe: UnsubscribeAddress(a.Address, t.ReplyKey),
		header: a.Send.SystemHeader, footer: footer})
}

// rateCounts are the automated mails sent in the last hour, per recipient
// and per project: a flush reads them once, at its first automated mail,
// and counts up what it sends.
type rateCounts struct {
	rcpt, project map[string]int
}

// loadRates reads the automated mails the account sent in the last hour.
func (w *worker) loadRates(ctx context.Context) (*rateCounts, error) {
	sent, err := w.svc.st.AutoMailsSent(ctx, w.row.ID, time.Now().Add(-time.Hour))
	if err != nil {
		return nil, err
	}
	r := &rateCounts{rcpt: map[string]int{}, project: map[string]int{}}
	for _, s := range sent {
		r.sent(s.Project, s.Rcpt)
	}
	return r, nil
}

// sent counts an automated mail to rcpt about a ticket of project.
func (r *rateCounts) sent(project string, rcpt []string) {
	for _, addr := range rcpt {
		r.rcpt[strings.ToLower(addr)]++
	}
	r.project[project]++
}

// limited says why an automated mail to rcpt about a ticket of project
// must not go now, or "" if it may.
func (r *rateCounts) limited(opts SendOptions, project string, rcpt []string) string {
	for _, addr := range rcpt {
		if n, limit := r.rcpt[strings.ToLower(addr)], orDefault(opts.SenderPerHour, 5); n >= limit {
			return fmt.Sprintf("rate limit: %d automated mails to %s in the last hour", n, addr)
		}
	}
	if n, limit := r.project[project], orDefault(opts.ProjectPerHour, 200); n >= limit {
		return fmt.Sprintf("rate limit: %d automated mails for project %s in the last hour", n, project)
	}
	return ""
}
