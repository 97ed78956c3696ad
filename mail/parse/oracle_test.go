package parse

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand"
	netmail "net/mail"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// The scanners of this package replaced regular expressions and library
// calls that cost much parsing time. Each test here checks one against
// what it replaced, on random text over the characters that matter.

// randText joins up to n pieces drawn from pieces.
func randText(r *rand.Rand, pieces []string, n int) string {
	var b strings.Builder
	for range r.Intn(n + 1) {
		b.WriteString(pieces[r.Intn(len(pieces))])
	}
	return b.String()
}

// forEachRandom calls check with 20,000 random texts over pieces.
func forEachRandom(seed int64, pieces []string, n int, check func(s string)) {
	r := rand.New(rand.NewSource(seed))
	for range 20000 {
		check(randText(r, pieces, n))
	}
}

func TestIsFieldMatchesExpression(t *testing.T) {
	re := regexp.MustCompile(`^[!-9;-~]+[ \t]*:`)
	forEachRandom(1, []string{":", " ", "\t", "a", "X-", "\x7f", "~", "!", "é", "\xff", ";", "9"}, 6, func(s string) {
		if got, want := isField([]byte(s)), re.MatchString(s); got != want {
			t.Fatalf("isField(%q) = %v, want %v", s, got, want)
		}
	})
}

func TestReceivedForMatchesExpression(t *testing.T) {
	re := regexp.MustCompile(`(?i)\bfor\s+<?([^\s<>;"]+@[^\s<>;"]+?)>?\s*(?:;|$|\()`)
	pieces := []string{"for", "FOR", "fOr", " ", "\t", "\n", "\f", "\v", "\r", "<", ">", "@", "@@", "a", "b.c", ";", "(",
		")", `"`, "_", "x", "é", "\xff", "by", "4", "for <a@b", "x@y", "> ;", "(c)", " for "}
	forEachRandom(2, pieces, 14, func(s string) {
		want := ""
		if m := re.FindStringSubmatch(s); m != nil {
			want = m[1]
		}
		if got := receivedFor(s); got != want {
			t.Fatalf("receivedFor(%q) = %q, want %q", s, got, want)
		}
	})
}

func TestParamScannersMatchExpressions(t *testing.T) {
	paramRe := regexp.MustCompile(`[;\s]\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)`)
	quotedPairRe := regexp.MustCompile(`\\(.)`)
	commentRe := regexp.MustCompile(`\([^()]*\)`)
	sectionRe := regexp.MustCompile(`\*(\d+)?\*?$`)
	pieces := []string{";", " ", "\t", "\n", "\r", "\f", "\v", "=", `"`, `\`, "(", ")", "*", "0", "12", "name", "a", "'",
		"%41", "\xc3", "é", "\xff", "utf-8''", "x/y", "*0*", "*1"}
	forEachRandom(3, pieces, 25, func(s string) {
		var want []param
		for _, m := range paramRe.FindAllStringSubmatch(s, -1) {
			want = append(want, param{m[1], m[2]})
		}
		if got := scanParams(s); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Fatalf("scanParams(%q) = %q, want %q", s, got, want)
		}
		if got, want := unquotePairs(s), quotedPairRe.ReplaceAllString(s, "$1"); got != want {
			t.Fatalf("unquotePairs(%q) = %q, want %q", s, got, want)
		}
		if got, want := stripComments(s), commentRe.ReplaceAllString(s, ""); got != want {
			t.Fatalf("stripComments(%q) = %q, want %q", s, got, want)
		}
		at, number := sectionSuffix(s)
		wantAt, wantNumber := -1, ""
		if loc := sectionRe.FindStringSubmatchIndex(s); loc != nil {
			wantAt = loc[0]
			if loc[2] >= 0 {
				wantNumber = s[loc[2]:loc[3]]
			}
		}
		if at != wantAt || number != wantNumber {
			t.Fatalf("sectionSuffix(%q) = %d, %q; want %d, %q", s, at, number, wantAt, wantNumber)
		}
		isSep := func(r rune) bool { return r == ';' || unicode.IsSpace(r) }
		wantType := ""
		if f := strings.FieldsFunc(s, isSep); len(f) > 0 {
			wantType = strings.ToLower(strings.Trim(f[0], `"`))
		}
		p := &parser{msg: &Message{}, warned: map[string]bool{}}
		if got, _, _ := p.looseParams(s); got != wantType {
			t.Fatalf("looseParams(%q) type = %q, want %q", s, got, wantType)
		}
	})
}

func TestCleanTextMatchesReplacements(t *testing.T) {
	blankLines := regexp.MustCompile(`\n{3,}`)
	want := func(s string) string {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			if l != "-- " {
				lines[i] = strings.TrimRight(l, " \t")
			}
		}
		s = blankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
		return strings.ToValidUTF8(strings.Trim(s, "\n"), "\uFFFD")
	}
	forEachRandom(4, []string{"a", " ", "\t", "\r", "\n", "\r\n", "-- ", "--", "\xff", "é", "x y", "\f"}, 30, func(s string) {
		if got := cleanText(s); got != want(s) {
			t.Fatalf("cleanText(%q) = %q, want %q", s, got, want(s))
		}
	})
}

func TestNextDelimiterMatchesLineScan(t *testing.T) {
	delim := []byte("--b")
	// want looks at every line from pos on.
	want := func(body []byte, pos int) (int, int, bool) {
		for pos < len(body) {
			line := body[pos:]
			if i := bytes.IndexByte(line, '\n'); i >= 0 {
				line = line[:i+1]
			}
			if rest, ok := bytes.CutPrefix(line, delim); ok {
				rest, isClose := bytes.CutPrefix(rest, []byte("--"))
				if len(bytes.TrimRight(rest, " \t\r\n")) == 0 {
					return pos, pos + len(line), isClose
				}
			}
			pos += len(line)
		}
		return -1, len(body), false
	}
	forEachRandom(5, []string{"--b", "--b--", "\n", "\r\n", " ", "x", "--", "-", "b", "\t", "--bb"}, 20, func(s string) {
		body := []byte(s)
		for pos := 0; pos < len(body); pos++ {
			if pos > 0 && body[pos-1] != '\n' {
				continue // not a line start
			}
			at, next, isClose := nextDelimiter(body, delim, pos)
			wantAt, wantNext, wantClose := want(body, pos)
			if at != wantAt || next != wantNext || isClose != wantClose {
				t.Fatalf("nextDelimiter(%q, %d) = %d, %d, %v; want %d, %d, %v", s, pos, at, next, isClose, wantAt, wantNext, wantClose)
			}
		}
	})
}

// headerDump lists every field of h and what Get, Values and Has say.
func headerDump(h message.Header) string {
	var keys []string
	for f := h.Fields(); f.Next(); {
		keys = append(keys, f.Key())
	}
	out := fmt.Sprintf("%q", keys)
	sort.Strings(keys)
	for _, k := range keys {
		out += fmt.Sprintf(" %s=%q/%q/%v", k, h.Values(k), h.Get(k), h.Has(k))
	}
	for f := h.Fields(); f.Next(); {
		out += fmt.Sprintf(" [%s:%q]", f.Key(), f.Value())
	}
	return out
}

func TestReadHeaderMatchesLibrary(t *testing.T) {
	pieces := []string{"From: a", "To:b", "X-A : c", "x-a:d", " ", "\t", "\n", "\r\n", "\r", ":", "a", "Sub ject: e",
		"\x01", "é", "\xff", "Subject:", " cont", "\n\n", "body"}
	forEachRandom(6, pieces, 14, func(s string) {
		p := &parser{msg: &Message{}, warned: map[string]bool{}}
		h, body := p.readHeader([]byte(s))
		// The header readHeader found: what precedes the body, less a
		// leading blank readHeader skipped and the blank line that ends it.
		raw := []byte(s)
		if trimmed := bytes.TrimLeft(raw, " \t"); len(trimmed) < len(raw) && isField(firstLine(trimmed)) {
			raw = trimmed
		}
		header := raw[:len(raw)-len(body)]
		if n := len(header); n > 0 {
			last := bytes.LastIndexByte(header[:n-1], '\n') + 1
			if len(bytes.TrimRight(header[last:], "\r\n")) == 0 {
				header = header[:last]
			}
		}
		lib, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(header)))
		if err != nil {
			t.Fatalf("ReadHeader(%q), the header of %q: %v", header, s, err)
		}
		if got, want := headerDump(h), headerDump(message.Header{Header: lib}); got != want {
			t.Fatalf("readHeader(%q):\n%s\nwant\n%s", s, got, want)
		}
	})
}

func TestParseDateMatchesLibrary(t *testing.T) {
	pieces := []string{"Mon, ", "Tue,", "mon, ", "2", "02", " ", "  ", "Jan", "jan", "2023", "23", "10:18", ":53", ".123",
		",5", " +0000", " -0700", "+", "-", "\r\n", "\r", "\n", " (UTC)", "GMT", "UT", "Z", "\t", "99", "Feb"}
	r := rand.New(rand.NewSource(7))
	for range 20000 {
		s := randText(r, pieces, 10)
		if r.Intn(2) == 0 {
			s = fmt.Sprintf("%s%d %s %d %02d:%02d:%02d %s", []string{"Mon, ", "Sun, ", "Xyz, ", ""}[r.Intn(4)], r.Intn(40),
				[]string{"Jan", "FEB", "Foo"}[r.Intn(3)], 1990+r.Intn(50), r.Intn(25), r.Intn(61), r.Intn(61),
				[]string{"+0000", "-0130", "+2400", "UT", "+000"}[r.Intn(5)])
		}
		got, err := parseDate(s)
		want, wantErr := netmail.ParseDate(s)
		if (err == nil) != (wantErr == nil) || got.String() != want.String() {
			t.Fatalf("parseDate(%q) = %v, %v; want %v, %v", s, got, err, want, wantErr)
		}
	}
}

func TestBase64SizeMatchesLibrary(t *testing.T) {
	pieces := []string{"QUJD", "QQ", "QUI", "=", "==", "\r\n", "\n", "\r", " ", "A", "+/", "-", "\xff", "QQ==", "QUI="}
	valid := 0
	forEachRandom(8, pieces, 12, func(s string) {
		n, ok := base64Size([]byte(s))
		if ok {
			valid++
		}
		out := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
		want, err := base64.StdEncoding.Decode(out, []byte(s))
		if ok != (err == nil) || ok && n != want {
			t.Fatalf("base64Size(%q) = %d, %v; Decode gives %d, %v", s, n, ok, want, err)
		}
	})
	if valid < 1000 {
		t.Errorf("only %d of the random texts were valid base64: the test says little", valid)
	}
}
