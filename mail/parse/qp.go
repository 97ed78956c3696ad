package parse

import "bytes"

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
	out = make([]byte, 0, len(b))
	var line []byte
	for len(b) > 0 {
		whole, atEOF := b, true
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			whole, atEOF = b[:i+1], false
		}
		b = b[len(whole):]
		if len(whole) > qpLineLimit || (atEOF && len(whole) == qpLineLimit) {
			return nil, false
		}
		trimmed := bytes.TrimRight(whole, "\r\n \t") // transport padding and the line break
		line = append(line[:0], trimmed...)
		if n := len(line); n > 0 && line[n-1] == '=' {
			// A soft line break: only white space may follow the "=".
			rest := bytes.TrimLeft(whole[len(trimmed):], " \t")
			line = line[:n-1]
			if !bytes.HasPrefix(rest, []byte("\n")) && !bytes.HasPrefix(rest, []byte("\r\n")) &&
				!(len(rest) == 0 && len(line) > 0 && atEOF) {
				return nil, false
			}
		} else if bytes.HasSuffix(whole, []byte("\r\n")) {
			line = append(line, '\r', '\n')
		} else if bytes.HasSuffix(whole, []byte("\n")) {
			line = append(line, '\n')
		}
		for j := 0; j < len(line); j++ {
			c := line[j]
			switch {
			case c == '=':
				if len(line)-j >= 3 && isHex(line[j+1]) && isHex(line[j+2]) {
					c = unhex(line[j+1])<<4 | unhex(line[j+2])
					j += 2
				} else if len(line)-j < 2 || line[j+1] == '\r' || line[j+1] == '\n' {
					return nil, false
				}
			case c == '\t' || c == '\r' || c == '\n' || c >= 0x80:
			case c < ' ' || c > '~':
				return nil, false
			}
			out = append(out, c)
		}
	}
	return out, true
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
