package store

import "testing"

// TestSnippet: the snippet is cut around the first word of the query the
// body holds, marks the cuts, and falls back to the start of the body.
func TestSnippet(t *testing.T) {
	long := "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
	for _, c := range []struct{ body, query, want string }{
		{"My curriculum is attached.", "curriculum", "My curriculum is attached."},
		{"Is it (really) broken? Yes, since Monday! It started then.", "broken", "Is it (really) broken? Yes, since Monday! It started then."},
		{long, "three", "one two three four five six seven eight nine ten eleven twelve…"},
		{long, "absent", "one two three four five six seven eight nine ten eleven twelve…"},
		{long, "SIX", "…four five six seven eight nine ten eleven twelve thirteen fourteen fifteen…"},
		{long, "absent fifteen", "…five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"},
		{"", "x", ""},
		{"Résumé: J-993 failed\nagain", "j-993", "Résumé: J-993 failed\nagain"},
	} {
		if got := snippet(c.body, c.query, wordSpans(c.query)); got != c.want {
			t.Errorf("snippet(%q, %q) = %q, want %q", c.body, c.query, got, c.want)
		}
	}
}
