package mail

import (
	"strings"

	"desk/mail/parse"
	"desk/store"
)

// noteDeliveryFailure records on a ticket that a bounce came back for it,
// naming the recipients that could not be reached. A bounce that names
// none (a text-only bounce without X-Failed-Recipients) names the
// ticket's requester when the bounce text mentions that address.
func noteDeliveryFailure(tx *store.Tx, t *store.Ticket, p *parse.Message) error {
	failed := p.Report.FailedRecipients
	if len(failed) == 0 && t.Requester != "" && strings.Contains(strings.ToLower(p.Text), t.Requester) {
		failed = []string{t.Requester}
	}
	who := "an unknown recipient"
	if len(failed) > 0 {
		who = strings.Join(failed, ", ")
	}
	return tx.AddEvent(t.ID, p.From.Addr, "delivery failure: mail to "+who+" could not be delivered")
}
