package mail

import (
	"strings"
	"testing"
)

func TestUnverified(t *testing.T) {
	const mx = "mx.desk.test"
	for _, tc := range []struct {
		name, authserv string
		results        []string
		want           string
	}{
		{"nothing", mx, nil, ""},
		{"all pass", mx, []string{mx + "; spf=pass smtp.mailfrom=alice@customer.test; dkim=pass header.d=customer.test; dmarc=pass header.from=customer.test"}, ""},
		{"dmarc fail", mx, []string{mx + "; dmarc=fail header.from=customer.test"}, "DMARC failed for customer.test"},
		{"dmarc pass beats dkim fail", mx, []string{mx + "; dkim=fail header.d=customer.test; dmarc=pass header.from=customer.test"}, ""},
		{"dkim fail", mx, []string{mx + "; dkim=fail header.d=customer.test"}, "DKIM signature of customer.test failed"},
		{"dkim fail but another passes", mx, []string{mx + "; dkim=fail header.d=customer.test; dkim=pass header.d=customer.test"}, ""},
		{"dkim fail of another domain", mx, []string{mx + "; dkim=fail header.d=esp.test"}, ""},
		{"spf fail", mx, []string{mx + "; spf=fail smtp.mailfrom=alice@customer.test"}, "SPF failed for customer.test"},
		{"spf softfail is no fail", mx, []string{mx + "; spf=softfail smtp.mailfrom=alice@customer.test"}, ""},
		{"forged by another server", mx, []string{"evil.test; dmarc=fail header.from=customer.test"}, ""},
		{"authserv-id in any case", mx, []string{"MX.Desk.Test; dmarc=fail header.from=customer.test"}, "DMARC failed for customer.test"},
		{"no authserv-id configured", "", []string{mx + "; dmarc=fail header.from=customer.test"}, ""},
		{"unparseable field", mx, []string{"garbage ;;; ="}, ""},
	} {
		a := &Account{AuthservID: tc.authserv}
		if got := a.unverified(tc.results, "alice@customer.test"); got != tc.want {
			t.Errorf("%s: unverified = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestIngestMarksUnverified(t *testing.T) {
	e := newIngestEnv(t, 1)
	e.a.AuthservID = "mx.desk.test"
	n := e.ingest(10, mailFrom(alice, testDesk, "Pay now", "p@customer.test", "x",
		"Authentication-Results: mx.desk.test; dmarc=fail header.from=customer.test",
		"Authentication-Results: evil.test; dmarc=pass header.from=customer.test"))
	if m := e.byUID(n, 10); !strings.Contains(m.Unverified, "DMARC failed") {
		t.Errorf("Unverified = %q", m.Unverified)
	}
	n = e.ingest(11, mailFrom(bob, testDesk, "Hello", "h@customer.test", "x",
		"Authentication-Results: mx.desk.test; dmarc=pass header.from=customer.test"))
	if m := e.byUID(n, 11); m.Unverified != "" {
		t.Errorf("Unverified = %q for a passing sender", m.Unverified)
	}
}
