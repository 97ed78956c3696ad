package parse

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
)

// expected is what a corpus says one message decodes to. A nil field is
// not stated by the corpus and is not scored.
type expected struct {
	subject, fromAddr, fromName *string
	to                          []string // addresses; nil = not stated
	date                        *time.Time
	bodies                      []string // text that must appear in the body; nil = not stated
	htmlBody                    bool     // bodies came from HTML: compare words only
}

// fieldNames are the scored fields, in report order.
var fieldNames = []string{"subject", "from", "to", "date", "body"}

// score compares m with e and returns the names of the fields that differ.
func score(m *Message, e expected) []string {
	var bad []string
	if e.subject != nil && !same(m.Subject, *e.subject) {
		bad = append(bad, "subject")
	}
	if e.fromAddr != nil && (m.From.Addr != strings.ToLower(*e.fromAddr) || e.fromName != nil && !same(m.From.Name, *e.fromName)) {
		bad = append(bad, "from")
	}
	if e.to != nil {
		var got []string
		for _, a := range m.To {
			got = append(got, a.Addr)
		}
		if strings.Join(got, ",") != strings.ToLower(strings.Join(e.to, ",")) {
			bad = append(bad, "to")
		}
	}
	if e.date != nil && !m.Date.Equal(*e.date) {
		bad = append(bad, "date")
	}
	if e.bodies != nil {
		for _, b := range e.bodies {
			// Neither reference decodes uuencoded files; Parse lists them
			// as attachments and takes them out of the text.
			b = uuBlockRe.ReplaceAllString(b, "")
			text, want := masked(m.Text, b)
			text, want = norm(text), norm(want)
			if e.htmlBody {
				text, want = words(text), words(want)
			}
			if !strings.Contains(text, want) {
				bad = append(bad, "body")
				break
			}
		}
	}
	return bad
}

// uuBlockRe matches a uuencoded file in a text.
var uuBlockRe = regexp.MustCompile(`(?ms)^begin [0-7]{3,4} [^\n]*\n.*?^end[ \t\r]*$`)

// same reports whether a decoded header matches its expectation.
func same(got, want string) bool {
	got, want = masked(got, want)
	return norm(got) == norm(want)
}

// masked prepares got and want for comparison. Where the expected text
// has U+FFFD, the other decoder replaced bytes that are not UTF-8, which
// Parse reads as windows-1252: every non-ASCII character of both is then
// masked with "X".
func masked(got, want string) (string, string) {
	if !strings.ContainsRune(want, '\uFFFD') {
		return got, want
	}
	mask := func(r rune) rune {
		if r >= utf8.RuneSelf {
			return 'X'
		}
		return r
	}
	return strings.Map(mask, got), strings.Map(mask, want)
}

// norm folds white space, which decoders legitimately differ on.
func norm(s string) string { return strings.Join(strings.Fields(s), " ") }

// words keeps only letters and digits, for text converted from HTML, where
// converters differ in layout and punctuation but not in words.
func words(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }), " ")
}

// corpusScore is the result of one corpus.
type corpusScore struct {
	msgs, matched int
	fieldBad      map[string]int
	mismatches    []string
}

func (c *corpusScore) add(rel string, m *Message, e expected) {
	c.msgs++
	bad := score(m, e)
	for _, f := range bad {
		c.fieldBad[f]++
	}
	if len(bad) == 0 {
		c.matched++
	} else {
		c.mismatches = append(c.mismatches, fmt.Sprintf("%s: %s", rel, strings.Join(bad, ",")))
	}
}

func (c *corpusScore) share() float64 { return 100 * float64(c.matched) / float64(max(c.msgs, 1)) }

func (c *corpusScore) report(t *testing.T, name string) {
	t.Helper()
	var fields []string
	for _, f := range fieldNames {
		fields = append(fields, fmt.Sprintf("%s %d", f, c.fieldBad[f]))
	}
	sort.Strings(c.mismatches)
	t.Logf("%s: %d/%d messages match (%.1f %%); mismatching fields: %s\n  %s",
		name, c.matched, c.msgs, c.share(), strings.Join(fields, ", "), strings.Join(c.mismatches, "\n  "))
	if c.share() < 95 {
		t.Errorf("%s: %.1f %% of messages match, want at least 95 %%", name, c.share())
	}
}

// needCorpus skips the test loudly when the corpus is absent, and fails in CI.
func needCorpus(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mail corpus missing at %s: %v", corpusDir, err)
		}
		t.Skipf("!!! MAIL CORPUS NOT FOUND at %s (%v): test SKIPPED !!!", corpusDir, err)
	}
}

// scoreCorpus parses each file and scores it against what expect reads
// for it (ok false: the file has no expectation), then reports.
func scoreCorpus(t *testing.T, name string, files []string, expect func(file string) (e expected, ok bool, err error)) {
	t.Helper()
	if len(files) == 0 {
		t.Fatalf("no %s files", name)
	}
	c := &corpusScore{fieldBad: map[string]int{}}
	for _, f := range files {
		e, ok, err := expect(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !ok {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(corpusDir, f)
		c.add(filepath.ToSlash(rel), Parse(raw), e)
	}
	c.report(t, name)
}

// TestScoreStalwart compares Parse with the expected parse trees of
// stalwart-mail-parser (NNN.json beside NNN.eml).
func TestScoreStalwart(t *testing.T) {
	needCorpus(t)
	files, _ := filepath.Glob(filepath.Join(corpusDir, "stalwart-mail-parser", "resources", "eml", "*", "*.eml"))
	scoreCorpus(t, "stalwart-mail-parser", files, func(f string) (expected, bool, error) {
		js, err := os.ReadFile(strings.TrimSuffix(f, ".eml") + ".json")
		if err != nil {
			return expected{}, false, nil
		}
		e, err := stalwartExpected(js)
		return e, true, err
	})
}

// stalwartMessage is the part of a stalwart expected parse tree we score.
type stalwartMessage struct {
	TextBody []int `json:"text_body"`
	HTMLBody []int `json:"html_body"`
	Parts    []struct {
		Headers []struct {
			Name  any             `json:"name"`
			Value json.RawMessage `json:"value"`
		} `json:"headers"`
		Body json.RawMessage `json:"body"`
	} `json:"parts"`
}

// stalwartExpected reads the expectations of one stalwart JSON file.
func stalwartExpected(js []byte) (expected, error) {
	var sm stalwartMessage
	if err := json.Unmarshal(js, &sm); err != nil {
		return expected{}, err
	}
	var e expected
	if len(sm.Parts) == 0 {
		return e, nil
	}
	for _, h := range sm.Parts[0].Headers {
		name, _ := h.Name.(string)
		var v struct {
			Text     *string
			Address  *stalwartAddress
			DateTime *struct {
				Year, Month, Day, Hour, Minute, Second int
				TzBeforeGMT                            bool `json:"tz_before_gmt"`
				TzHour                                 int  `json:"tz_hour"`
				TzMinute                               int  `json:"tz_minute"`
			}
		}
		_ = json.Unmarshal(h.Value, &v) // "Empty" and other shapes state nothing
		switch {
		case name == "subject" && e.subject == nil:
			s := ""
			if v.Text != nil {
				s = *v.Text
			}
			e.subject = &s
		case name == "from" && e.fromAddr == nil && v.Address != nil:
			if list := v.Address.addrs(); len(list) > 0 && list[0].Address != nil {
				e.fromAddr, e.fromName = list[0].Address, list[0].Name
			}
		case name == "to" && e.to == nil && v.Address != nil:
			e.to = []string{}
			for _, a := range v.Address.addrs() {
				if a.Address != nil {
					e.to = append(e.to, *a.Address)
				}
			}
		case name == "date" && e.date == nil && v.DateTime != nil:
			d := v.DateTime
			off := (d.TzHour*60 + d.TzMinute) * 60
			if d.TzBeforeGMT {
				off = -off
			}
			tm := time.Date(d.Year, time.Month(d.Month), d.Day, d.Hour, d.Minute, d.Second, 0, time.FixedZone("", off))
			e.date = &tm
		}
	}
	ids := sm.TextBody
	e.bodies = []string{}
	for _, i := range ids {
		if i >= len(sm.Parts) {
			continue
		}
		var b struct{ Text, Html *string }
		if json.Unmarshal(sm.Parts[i].Body, &b) != nil {
			continue
		}
		switch {
		case b.Text != nil:
			e.bodies = append(e.bodies, *b.Text)
		case b.Html != nil:
			e.bodies, e.htmlBody = append(e.bodies, tagRe.ReplaceAllString(*b.Html, " ")), true
		}
	}
	return e, nil
}

// tagRe matches an HTML tag, comment or entity: removing them leaves the
// visible words of an expected HTML body, a reference independent of the
// converter under test.
var tagRe = regexp.MustCompile(`(?s)<!--.*?-->|<(script|style)[^>]*>.*?</(script|style)>|<[^>]*>|&[#a-zA-Z0-9]+;`)

// stalwartAddress is an address header value: a list or groups of lists.
type stalwartAddress struct {
	List  []stalwartAddr
	Group []struct {
		Addresses []stalwartAddr
	}
}

type stalwartAddr struct {
	Name, Address *string
}

func (a *stalwartAddress) addrs() []stalwartAddr {
	out := a.List
	for _, g := range a.Group {
		out = append(out, g.Addresses...)
	}
	return out
}

// TestScoreMime4j compares Parse with the expected decoded structures of
// Apache James mime4j (X_decoded.xml and X_decoded_N.txt beside X.msg).
// Header expectations are the raw fields of the XML decoded with the
// standard library, an implementation independent of ours; body
// expectations are the decoded text/plain parts, each of which must appear
// in the body.
func TestScoreMime4j(t *testing.T) {
	needCorpus(t)
	var files []string
	for _, dir := range []string{"testmsgs", "mimetools-testmsgs"} {
		fs, _ := filepath.Glob(filepath.Join(corpusDir, "james-mime4j", "core", "src", "test", "resources", dir, "*.msg"))
		files = append(files, fs...)
	}
	scoreCorpus(t, "james-mime4j", files, func(f string) (expected, bool, error) {
		x, err := os.ReadFile(strings.TrimSuffix(f, ".msg") + "_decoded.xml")
		if err != nil {
			return expected{}, false, nil
		}
		e, err := mime4jExpected(x, filepath.Dir(f))
		return e, true, err
	})
}

// mime4jEntity is one message or body part of a mime4j decoded structure.
type mime4jEntity struct {
	fields   map[string]string // first value of each field, by lower-cased name
	altTaken bool              // a multipart/alternative whose shown part is found
}

// mime4jExpected reads the expectations of one _decoded.xml file; the body
// files it names are in dir.
func mime4jExpected(x []byte, dir string) (expected, error) {
	var e expected
	e.bodies = []string{}
	var stack []*mime4jEntity
	var top *mime4jEntity
	inField := false
	var field strings.Builder
	dec := xml.NewDecoder(strings.NewReader(string(x)))
	dec.Strict = false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return e, err
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			switch tk.Name.Local {
			case "message", "body-part":
				ent := &mime4jEntity{fields: map[string]string{}}
				if top == nil {
					top = ent
				}
				stack = append(stack, ent)
			case "field":
				inField = true
				field.Reset()
			case "text-body":
				name := ""
				for _, a := range tk.Attr {
					if a.Name.Local == "name" {
						name = a.Value
					}
				}
				if len(stack) == 0 || name == "" {
					continue
				}
				fields := stack[len(stack)-1].fields
				mediaType, params, _ := mime.ParseMediaType(fields["content-type"])
				disp, _, _ := mime.ParseMediaType(fields["content-disposition"])
				if fields["content-type"] != "" && mediaType != "text/plain" || disp == "attachment" {
					continue
				}
				// Of alternatives, only the first plain text is shown.
				if len(stack) > 1 {
					parent := stack[len(stack)-2]
					if pt, _, _ := mime.ParseMediaType(parent.fields["content-type"]); pt == "multipart/alternative" {
						if parent.altTaken {
							continue
						}
						parent.altTaken = true
					}
				}
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					return e, err
				}
				if r, err := charset.Reader(params["charset"], strings.NewReader(string(b))); params["charset"] != "" && err == nil {
					if d, err := io.ReadAll(r); err == nil {
						b = d
					}
				}
				e.bodies = append(e.bodies, string(b))
			}
		case xml.CharData:
			if inField {
				field.Write(tk)
			}
		case xml.EndElement:
			switch tk.Name.Local {
			case "message", "body-part":
				stack = stack[:len(stack)-1]
			case "field":
				inField = false
				name, value, ok := strings.Cut(strings.TrimLeft(field.String(), "\r\n"), ":")
				if key := strings.ToLower(strings.TrimSpace(name)); ok && len(stack) > 0 {
					if _, dup := stack[len(stack)-1].fields[key]; !dup {
						stack[len(stack)-1].fields[key] = strings.TrimSpace(value)
					}
				}
			}
		}
	}
	if top == nil {
		return e, nil
	}
	wd := mime.WordDecoder{CharsetReader: charset.Reader}
	if v, ok := top.fields["subject"]; ok {
		if s, err := wd.DecodeHeader(v); err == nil {
			e.subject = &s
		}
	}
	ap := netmail.AddressParser{WordDecoder: &wd}
	if v, ok := top.fields["from"]; ok {
		if a, err := ap.Parse(v); err == nil {
			e.fromAddr, e.fromName = &a.Address, &a.Name
		}
	}
	if v, ok := top.fields["to"]; ok {
		if list, err := ap.ParseList(v); err == nil {
			e.to = []string{}
			for _, a := range list {
				e.to = append(e.to, a.Address)
			}
		}
	}
	if v, ok := top.fields["date"]; ok {
		if d, err := netmail.ParseDate(v); err == nil {
			e.date = &d
		}
	}
	return e, nil
}
