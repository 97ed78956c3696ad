package parse

import (
	"strings"
	"unicode/utf16"
)

// b64Value maps a byte of the base64 alphabet to its value; -1 for others.
var b64Value = func() [256]int8 {
	var t [256]int8
	for i := range t {
		t[i] = -1
	}
	for i, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" {
		t[c] = int8(i)
	}
	return t
}()

// decodeUTF7 decodes text in UTF-7 (RFC 2152), which go-message/charset
// does not know: ASCII stands for itself, and "+" starts a run of modified
// base64 (no padding) holding UTF-16 code units, ended by any character
// outside the base64 alphabet; a "-" ending the run is dropped, and "+-"
// is a plus sign. Broken runs decode to U+FFFD; ok is false then.
func decodeUTF7(b []byte) (s string, ok bool) {
	var out strings.Builder
	ok = true
	for i := 0; i < len(b); {
		c := b[i]
		if c != '+' {
			if c >= 0x80 {
				ok = false
				out.WriteRune('\uFFFD')
			} else {
				out.WriteByte(c)
			}
			i++
			continue
		}
		i++
		if i < len(b) && b[i] == '-' {
			out.WriteByte('+')
			i++
			continue
		}
		var units []uint16
		var bits uint32
		nbits := 0
		for ; i < len(b) && b64Value[b[i]] >= 0; i++ {
			bits = bits<<6 | uint32(b64Value[b[i]])
			nbits += 6
			if nbits >= 16 {
				nbits -= 16
				units = append(units, uint16(bits>>nbits))
				bits &= 1<<nbits - 1
			}
		}
		// Left-over bits must be zero padding, fewer than six of them.
		if nbits >= 6 || bits != 0 {
			ok = false
		}
		for _, r := range utf16.Decode(units) {
			if r == '\uFFFD' {
				ok = false
			}
			out.WriteRune(r)
		}
		if i < len(b) && b[i] == '-' {
			i++
		}
	}
	return out.String(), ok
}
