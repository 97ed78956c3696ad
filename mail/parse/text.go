package parse

import (
	"mime"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// unflow joins the soft line breaks of format=flowed text (RFC 3676): a
// line ending in a space continues on the next line of the same quote
// depth; with delsp=yes that space is removed too. Space-stuffing is
// undone, and the "-- " signature separator is never joined.
func unflow(s string, delsp bool) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var out []string
	var cur strings.Builder
	open, openDepth := false, 0 // a flowed line is waiting for its continuation
	for _, l := range lines {
		depth := 0
		for depth < len(l) && l[depth] == '>' {
			depth++
		}
		body := strings.TrimPrefix(l[depth:], " ") // space-stuffing
		if open && depth != openDepth {
			out, open = append(out, cur.String()), false
			cur.Reset()
		}
		if !open {
			cur.WriteString(strings.Repeat(">", depth))
			if depth > 0 {
				cur.WriteByte(' ')
			}
		}
		flowed := strings.HasSuffix(body, " ") && body != "-- "
		if flowed && delsp {
			body = body[:len(body)-1]
		}
		cur.WriteString(body)
		if flowed {
			open, openDepth = true, depth
			continue
		}
		out, open = append(out, cur.String()), false
		cur.Reset()
	}
	if open {
		out = append(out, cur.String())
	}
	return strings.Join(out, "\n")
}

// Region is a run of lines of Message.Text, [Start, End) counted from 0,
// that a reader may want collapsed.
type Region struct {
	Kind       string // "quote" (quoted earlier mail, with its attribution line) or "signature"
	Start, End int
}

// attributionRe matches the line mail programs put above a quote ("On …
// wrote:", "Am … schrieb:", "Le … a écrit :").
var attributionRe = regexp.MustCompile(`(?i)\b(wrote|writes|schrieb|escribió|scrisse|a écrit|skrev|napisał|schreef)\s*:\s*$`)

// outlookRe matches Outlook's separator, after which everything is the
// quoted original.
var outlookRe = regexp.MustCompile(`(?i)^\s*-{3,}\s*(original message|ursprüngliche nachricht|message d'origine)\s*-{3,}\s*$`)

// Regions finds the quoted text and the signature of a message text, for
// display: quoted lines ("> …") with the attribution line above them,
// everything after an Outlook "-----Original Message-----" separator, and
// the signature after a "-- " line. Nothing is removed from the text.
func Regions(text string) []Region {
	lines := strings.Split(text, "\n")
	var out []Region
	add := func(kind string, start, end int) {
		if n := len(out); n > 0 && out[n-1].Kind == kind && out[n-1].End >= start {
			out[n-1].End = max(out[n-1].End, end)
			return
		}
		out = append(out, Region{Kind: kind, Start: start, End: end})
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case outlookRe.MatchString(l):
			add("quote", i, len(lines))
			return out
		case l == "-- " || l == "--":
			add("signature", i, len(lines))
			return out
		case strings.HasPrefix(strings.TrimLeft(l, " "), ">"):
			start := i
			if i > 0 && attributionRe.MatchString(lines[i-1]) {
				start = i - 1
			} else if i > 1 && strings.TrimSpace(lines[i-1]) == "" && attributionRe.MatchString(lines[i-2]) {
				start = i - 2
			}
			end := i + 1
			for end < len(lines) && (strings.HasPrefix(strings.TrimLeft(lines[end], " "), ">") ||
				strings.TrimSpace(lines[end]) == "" && end+1 < len(lines) && strings.HasPrefix(lines[end+1], ">")) {
				end++
			}
			add("quote", start, end)
			i = end - 1
		}
	}
	return out
}

// uuBeginRe and uuEndRe match the lines around a uuencoded file.
var (
	uuBeginRe = regexp.MustCompile(`^begin(-base64)? [0-7]{3,4}(?:[ \t]+(.*))?$`)
	uuEndRe   = regexp.MustCompile(`^(end|====)\s*$`)
)

// uuencoded takes the uuencoded files out of a text, returning the text
// without them and an attachment for each (named, typed by extension,
// sized by the encoded line lengths).
func uuencoded(text string) (string, []Attachment) {
	if !strings.Contains(text, "begin ") && !strings.Contains(text, "begin-base64 ") {
		return text, nil
	}
	lines := strings.Split(text, "\n")
	var keep []string
	var atts []Attachment
	for i := 0; i < len(lines); i++ {
		m := uuBeginRe.FindStringSubmatch(strings.TrimRight(lines[i], "\r"))
		if m == nil {
			keep = append(keep, lines[i])
			continue
		}
		end, size := i+1, 0
		for end < len(lines) && !uuEndRe.MatchString(lines[end]) {
			switch l := strings.TrimRight(lines[end], "\r"); {
			case m[1] != "": // base64 lines: 3 bytes per 4 characters, less the padding
				size += len(l)*3/4 - (len(l) - len(strings.TrimRight(l, "=")))
			case l != "" && l != "`": // the first character counts the line's bytes
				size += int(l[0]-' ') & 63
			}
			end++
		}
		if end == len(lines) { // no end line: not a uuencoded file
			keep = append(keep, lines[i])
			continue
		}
		name := safeFilename(m[2])
		atts = append(atts, Attachment{Filename: name, ContentType: typeByName(name), Size: size})
		i = end
	}
	return strings.Join(keep, "\n"), atts
}

// typeByName guesses a media type from a file name's extension.
func typeByName(name string) string {
	if t, _, err := mime.ParseMediaType(mime.TypeByExtension(path.Ext(name))); err == nil && t != "" {
		return t
	}
	if strings.EqualFold(name, "winmail.dat") {
		return "application/ms-tnef"
	}
	return "application/octet-stream"
}

// escapeRe matches terminal escape sequences: CSI, OSC/DCS/APC/PM/SOS
// strings (ended by BEL or ST) and two-byte escapes.
var escapeRe = regexp.MustCompile("\x1b\\[[0-?]*[ -/]*[@-~]|\x1b[\\]P_^X][^\x07\x1b]*(\x07|\x1b\\\\)?|\x1b.?")

// maxFilename bounds the length of an attachment name, in bytes.
const maxFilename = 150

// safeFilename makes an attachment name safe to show and to save: no
// terminal escape sequences, only the last path element, no control or
// format characters (bidi overrides
// that disguise an extension), no leading dots or blanks, bounded length
// with the extension kept. An empty result is "attachment".
func safeFilename(name string) string {
	name = escapeRe.ReplaceAllString(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == utf8.RuneError:
			return -1
		case unicode.IsSpace(r):
			return ' '
		}
		return r
	}, name)
	name = strings.Join(strings.Fields(name), " ")
	name = strings.TrimLeft(name, ". ")
	if len(name) > maxFilename {
		ext := path.Ext(name)
		if len(ext) > 16 {
			ext = ""
		}
		stem := name[:maxFilename-len(ext)]
		for !utf8.ValidString(stem) {
			stem = stem[:len(stem)-1]
		}
		name = stem + ext
	}
	if name == "" {
		return "attachment"
	}
	return name
}
