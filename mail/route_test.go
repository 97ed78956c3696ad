package mail

import (
	"regexp"
	"strings"
	"testing"
)

const testDesk = "support@desk.test"

// testKey is a reply key of the right shape.
var testKey = ReplyKey([]byte("From: alice@customer.test\r\n\r\nhello\r\n"))

func TestRouteAddress(t *testing.T) {
	key := testKey
	upper := strings.ToUpper(key)
	for _, tc := range []struct {
		addr string
		ok   bool
		want Route
	}{
		{"support@desk.test", true, Route{}},
		{"  support@desk.test ", true, Route{}},
		{"SUPPORT@DESK.TEST", true, Route{}},
		{"support+billing@desk.test", true, Route{Project: "billing"}},
		{"Support+Billing@Desk.Test", true, Route{Project: "billing"}},
		{"support+customer-success@desk.test", true, Route{Project: "customer-success"}},
		{"support+billing-" + key + "@desk.test", true, Route{Project: "billing", ReplyKey: key}},
		{"support+billing-" + upper + "@desk.test", true, Route{Project: "billing", ReplyKey: key}},
		{"support+customer-success-" + key + "@desk.test", true, Route{Project: "customer-success", ReplyKey: key}},
		{"support+" + key + "@desk.test", true, Route{ReplyKey: key}},
		{"support+" + key + "-unsubscribe@desk.test", true, Route{ReplyKey: key, Unsubscribe: true}},
		{"support+" + upper + "-UNSUBSCRIBE@desk.test", true, Route{ReplyKey: key, Unsubscribe: true}},
		// A tag that only looks a bit like a key is a project.
		{"support+billing-" + key[:19] + "@desk.test", true, Route{Project: "billing-" + key[:19]}},
		{"support+billing-" + key + "1@desk.test", true, Route{Project: "billing-" + key + "1"}},
		{"support+unsubscribe@desk.test", true, Route{Project: "unsubscribe"}},
		// Not the desk.
		{"support@other.test", false, Route{}},
		{"support+billing@other.test", false, Route{}},
		{"support@desk.test.evil", false, Route{}},
		{"sales@desk.test", false, Route{}},
		{"supportx@desk.test", false, Route{}},
		{"supportx+billing@desk.test", false, Route{}},
		{"xsupport+billing@desk.test", false, Route{}},
		{"support-billing@desk.test", false, Route{}},
		{"support+@desk.test", false, Route{}},
		{"support", false, Route{}},
		{"", false, Route{}},
		{"@desk.test", false, Route{}},
	} {
		got, ok := RouteAddress(testDesk, tc.addr)
		if ok != tc.ok || got != tc.want {
			t.Errorf("RouteAddress(%q) = %+v, %v; want %+v, %v", tc.addr, got, ok, tc.want, tc.ok)
		}
		if isDeskAddress(testDesk, tc.addr) != tc.ok {
			t.Errorf("isDeskAddress(%q) != %v", tc.addr, tc.ok)
		}
	}
	// The desk address itself may be given in any case.
	if got, ok := RouteAddress("Support@Desk.Test", "support+billing@desk.test"); !ok || got.Project != "billing" {
		t.Errorf("mixed-case desk: %+v, %v", got, ok)
	}
}

func TestReplyKey(t *testing.T) {
	shape := regexp.MustCompile(`^[a-z2-7]{20}$`)
	raws := [][]byte{
		[]byte("From: alice@customer.test\r\nSubject: a\r\n\r\nbody\r\n"),
		[]byte("From: alice@customer.test\r\nSubject: b\r\n\r\nbody\r\n"),
		{},
	}
	seen := map[string]bool{}
	for _, raw := range raws {
		k := ReplyKey(raw)
		if !shape.MatchString(k) {
			t.Errorf("ReplyKey(%q) = %q: not 20 lower-case base32 characters", raw, k)
		}
		if !isReplyKey(k) {
			t.Errorf("isReplyKey(%q) = false", k)
		}
		if again := ReplyKey(append([]byte(nil), raw...)); again != k {
			t.Errorf("ReplyKey not deterministic: %q then %q", k, again)
		}
		if seen[k] {
			t.Errorf("two messages share reply key %q", k)
		}
		seen[k] = true
	}
	for _, s := range []string{"", "short", strings.Repeat("a", 21), strings.Repeat("a", 19) + "1", strings.Repeat("a", 19) + "A", strings.Repeat("a", 19) + "-"} {
		if isReplyKey(s) {
			t.Errorf("isReplyKey(%q) = true", s)
		}
	}
}

func TestAddressesRoundTrip(t *testing.T) {
	for _, project := range []string{"", "billing", "customer-success", "a-b-c"} {
		addr := ReplyAddress(testDesk, project, testKey)
		got, ok := RouteAddress(testDesk, addr)
		if !ok || got != (Route{Project: project, ReplyKey: testKey}) {
			t.Errorf("ReplyAddress(%q) = %s routes to %+v, %v", project, addr, got, ok)
		}
		if project != "" {
			addr := ProjectAddress(testDesk, project)
			if got, ok := RouteAddress(testDesk, addr); !ok || got != (Route{Project: project}) {
				t.Errorf("ProjectAddress(%q) = %s routes to %+v, %v", project, addr, got, ok)
			}
		}
	}
	addr := UnsubscribeAddress(testDesk, testKey)
	if got, ok := RouteAddress(testDesk, addr); !ok || got != (Route{ReplyKey: testKey, Unsubscribe: true}) {
		t.Errorf("UnsubscribeAddress = %s routes to %+v, %v", addr, got, ok)
	}
	if want := "support+billing-" + testKey + "@desk.test"; ReplyAddress(testDesk, "billing", testKey) != want {
		t.Errorf("ReplyAddress = %s, want %s", ReplyAddress(testDesk, "billing", testKey), want)
	}
}

func TestRoutePrefersKey(t *testing.T) {
	keyed := ReplyAddress(testDesk, "billing", testKey)
	for _, tc := range []struct {
		name       string
		recipients []string
		ok         bool
		want       Route
	}{
		{"none", nil, false, Route{}},
		{"strangers only", []string{"bob@customer.test", "sales@desk.test"}, false, Route{}},
		{"plain desk", []string{"bob@customer.test", testDesk}, true, Route{}},
		{"project beats plain desk", []string{testDesk, "support+sales@desk.test"}, true, Route{Project: "sales"}},
		{"first project wins", []string{"support+sales@desk.test", "support+billing@desk.test"}, true, Route{Project: "sales"}},
		{"key beats earlier project", []string{"support+sales@desk.test", testDesk, keyed}, true, Route{Project: "billing", ReplyKey: testKey}},
		{"key in delivery address", []string{"x@customer.test", strings.ToUpper(keyed)}, true, Route{Project: "billing", ReplyKey: testKey}},
	} {
		got, ok := route(testDesk, tc.recipients)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s: route(%v) = %+v, %v; want %+v, %v", tc.name, tc.recipients, got, ok, tc.want, tc.ok)
		}
	}
}
