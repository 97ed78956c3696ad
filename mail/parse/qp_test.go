package parse

import (
	"bytes"
	"io"
	"math/rand"
	"mime/quotedprintable"
	"strings"
	"testing"
)

// stdQP decodes b with mime/quotedprintable's Reader, which decodeQP
// must match byte for byte, failures included.
func stdQP(b []byte) ([]byte, bool) {
	out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
	return out, err == nil
}

// checkQP fails t when decodeQP and the standard Reader disagree on b.
func checkQP(t *testing.T, b []byte) {
	t.Helper()
	got, ok := decodeQP(b)
	want, wantOK := stdQP(b)
	if ok != wantOK || (ok && !bytes.Equal(got, want)) {
		t.Fatalf("decodeQP(%q) = %q, %v; the standard Reader gives %q, %v", b, got, ok, want, wantOK)
	}
	if s, sok := decodeQPString(b); sok != ok || s != string(got) {
		t.Fatalf("decodeQPString(%q) = %q, %v; decodeQP gives %q, %v", b, s, sok, got, ok)
	}
}

func TestDecodeQPMatchesStandardReader(t *testing.T) {
	long := strings.Repeat("x", qpLineLimit)
	for _, in := range []string{
		"", "plain", "caf=C3=A9\r\n", "caf=c3=a9\n", "soft=\r\nbreak", "soft=\nbreak", "soft= \t\r\nbreak",
		"bad=\r \nafter", "=", "a=", "==\r\n", "=A", "a=4\r\n", "a=G1b", "=\rx\n", "x\ry\n", "tab\there \r\n",
		"trailing   \r\n", "ctl\x01\r\n", "del\x7f\n", "8bit \xc3\xa9\n", "a=\r\n=\r\n", "line\n\n\n",
		long[:qpLineLimit-1] + "\n", long + "\n", long[:qpLineLimit-1], long, long[:qpLineLimit-2] + "=\n",
		"ok\n" + long[:qpLineLimit-1] + "\nnext", "=4\n", "end=3D",
	} {
		checkQP(t, []byte(in))
	}
	// Random bodies over an alphabet of the bytes that matter, some with
	// lines near the Reader's limit.
	r := rand.New(rand.NewSource(1))
	const alphabet = "=\r\n \tA3fG\x00\x7f\xc3x"
	for range 20000 {
		b := make([]byte, r.Intn(40))
		for i := range b {
			b[i] = alphabet[r.Intn(len(alphabet))]
		}
		if r.Intn(50) == 0 {
			b = append(bytes.Repeat([]byte("y"), qpLineLimit-3+r.Intn(6)), b...)
		}
		checkQP(t, b)
	}
}

func FuzzDecodeQP(f *testing.F) {
	for _, s := range []string{"caf=C3=A9\r\nsoft=\r\nbreak", "=\r x", "a=G1\n", "\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(checkQP)
}
