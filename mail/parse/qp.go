package parse

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// qpLineLimit is the longest line (its "\n" included) that
// mime/quotedprintable's Reader reads: its bufio.Reader holds 4096 bytes,
// and a longer line fails it.
const qpLineLimit = 4096

// decodeQP decodes quoted-printable the way mime/quotedprintable's Reader,
// read to its end, does: the same leniencies (a soft break "=\n", a bare
// CR or LF, 8-bit bytes, lower-case hex, "=" not followed by two hex
// digits taken as is) and ok false wherever the Reader fails. It runs
// over the body once instead of through the Reader's per-byte calls,
// which were most of a sync's parsing time. FuzzDecodeQP compares the two.
func decodeQP(b []byte) (out []byte, ok bool) {
	var w bytes.Buffer
	if !decodeQPTo(&w, b) {
		return nil, false
	}
	return w.Bytes(), true
}

// decodeQPString is decodeQP for text that is wanted as a string: it
// spares converting (copying) the decoded bytes.
func decodeQPString(b []byte) (string, bool) {
	var w strings.Builder
	if !decodeQPTo(&w, b) {
		return "", false
	}
	return w.String(), true
}

// qpCRLF is a line break; qpCRLF[1:] is a bare LF.
var qpCRLF = []byte("\r\n")

// qpWriter is what decodeQPTo writes to: a bytes.Buffer or a
// strings.Builder.
type qpWriter interface {
	Grow(n int)
	Write(p []byte) (int, error)
	WriteByte(c byte) error
}

// decodeQPTo decodes the quoted-printable b into w (see decodeQP),
// reporting whether b is well-formed.
func decodeQPTo[W qpWriter](w W, b []byte) bool {
	w.Grow(len(b))
	for len(b) > 0 {
		whole, atEOF := b, true
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			whole, atEOF = b[:i+1], false
		}
		b = b[len(whole):]
		if len(whole) > qpLineLimit || (atEOF && len(whole) == qpLineLimit) {
			return false
		}
		// The text of the line, without transport padding and line break.
		n := len(whole)
		for n > 0 && (whole[n-1] == '\r' || whole[n-1] == '\n' || whole[n-1] == ' ' || whole[n-1] == '\t') {
			n--
		}
		text, end := whole[:n], whole[n:]
		if n > 0 && text[n-1] == '=' {
			// A soft line break: only white space may follow the "=".
			text = text[:n-1]
			rest := bytes.TrimLeft(end, " \t")
			if !bytes.HasPrefix(rest, []byte("\n")) && !bytes.HasPrefix(rest, []byte("\r\n")) &&
				!(len(rest) == 0 && len(text) > 0 && atEOF) {
				return false
			}
			end = nil
		} else if bytes.HasSuffix(whole, qpCRLF) {
			end = qpCRLF
		} else if bytes.HasSuffix(whole, qpCRLF[1:]) {
			end = qpCRLF[1:]
		} else {
			end = nil
		}
		if !decodeQPText(w, text) {
			return false
		}
		w.Write(end)
	}
	return true
}

// qpSpecial marks the bytes of quoted-printable text that are not copied
// as they are: "=" and the control characters other than tab and CR.
var qpSpecial = func() (t [256]bool) {
	for c := range ' ' {
		t[c] = c != '\t' && c != '\r'
	}
	t['='], t[0x7f] = true, true
	return t
}()

// decodeQPText writes the decoded text of one line (without its line
// break) to w, copying runs of ordinary bytes at once. It reports false at
// an "=" that ends the text or precedes a CR, and at a control character.
func decodeQPText[W qpWriter](w W, text []byte) bool {
	for i := 0; i < len(text); {
		j := i + qpPlainRun(text[i:])
		w.Write(text[i:j])
		if j == len(text) {
			break
		}
		switch {
		case text[j] != '=':
			return false
		case j+2 < len(text) && isHex(text[j+1]) && isHex(text[j+2]):
			w.WriteByte(unhex(text[j+1])<<4 | unhex(text[j+2]))
			i = j + 3
		case j+1 >= len(text) || text[j+1] == '\r':
			return false
		default:
			w.WriteByte('=')
			i = j + 1
		}
	}
	return true
}

// qpPlainRun returns the length of the run of bytes at the start of text
// that are not qpSpecial. It tests eight bytes at a time for a byte below
// a space, "=" or DEL (a word that holds a tab or a CR is looked at byte by
// byte).
func qpPlainRun(text []byte) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(x uint64) bool { return (x-ones)&^x&highs != 0 }
	i := 0
	for ; i+8 <= len(text); i += 8 {
		x := binary.LittleEndian.Uint64(text[i:])
		if (x-0x20*ones)&^x&highs != 0 || hasZero(x^'='*ones) || hasZero(x^0x7f*ones) {
			break
		}
	}
	for i < len(text) && !qpSpecial[text[i]] {
		i++
	}
	return i
}

// unhex is the value of hex digit c.
func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
