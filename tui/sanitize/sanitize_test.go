package sanitize

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Hello, world", "Hello, world"},
		{"accents CJK emoji tabs", "Grüße, Zoë\n日本語\t🎉 ok ❤️", "Grüße, Zoë\n日本語\t🎉 ok ❤️"},
		{"crlf", "one\r\ntwo\r\n", "one\ntwo\n"},
		{"cr overprint", "pay 100\rpay 999", "pay 100pay 999"},
		{"osc 52 clipboard write, BEL ended", "a\x1b]52;c;cm0gLXJmIH4=\x07b", "ab"},
		{"osc 52 clipboard write, ST ended", "a\x1b]52;c;cm0gLXJmIH4=\x1b\\b", "ab"},
		{"osc 8 hyperlink", "\x1b]8;;https://evil.test\x1b\\click\x1b]8;;\x1b\\ here", "click here"},
		{"clear screen", "x\x1b[2Jy", "xy"},
		{"sgr colour", "\x1b[31mred\x1b[0m", "red"},
		{"c1 csi", "x\u009b2Jy", "x2Jy"},
		{"c1 osc and nel", "a\u009d0;title\u0007b\u0085c", "a0;titlebc"},
		{"rlo", "invoice\u202Eexe.pdf", "invoiceexe.pdf"},
		{"bidi embeddings and isolates", "\u202Aa\u202Bb\u202Cc\u202Dd\u2066e\u2067f\u2068g\u2069", "abcdefg"},
		{"zero width", "pay\u200bpal\u200c\u200d\u200e\u200f\ufeff", "paypal"},
		{"soft hyphen", "co\u00adop", "coop"},
		{"bell", "ding\a", "ding"},
		{"backspace", "abc\b\b\bxyz", "abcxyz"},
		{"other c0 and del", "a\x00b\x0bc\x0cd\x7fe", "abcde"},
		{"lone trailing esc", "text\x1b", "text"},
		{"esc takes the next byte as its final", "a\x1b\x1bb c", "a c"},
		{"unterminated osc hides the rest", "a\x1b]0;title\nrest", "a"},
		{"unfinished csi", "text\x1b[31", "text"},
		{"invalid utf-8", "a\xffb\xc3", "a\uFFFDb\uFFFD"},
		{"raw c1 byte", "a\x9b2Jb", "a\uFFFD2Jb"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Text(tt.in)
			if got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLine(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Re: printer broken", "Re: printer broken"},
		{"newlines and tabs", "  Re:\tprinter\n\n broken \r\n", "Re: printer broken"},
		{"escapes", "\x1b]8;;http://x\x1b\\Bob\x1b]8;;\x1b\\ <bob@example.test>", "Bob <bob@example.test>"},
		{"rlo in name", "Alice \u202Egnp.exe", "Alice gnp.exe"},
		{"unicode spaces", "a\u00a0\u2028b", "a b"},
		{"only junk", "\x1b[2J\a\u200b", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Line(tt.in)
			if got != tt.want {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{
		"hello\nworld\t!",
		"\x1b]52;c;aGk=\x07",
		"\x1b]8;;https://x\x1b\\y\x1b]8;;\x1b\\",
		"\x1b[2J\u009b2J\r\u202e\u200b\a\b\x1b",
		"\xff\xfe\xc3",
		"Grüße 日本 🎉",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Text(in)
		if !utf8.ValidString(out) {
			t.Fatalf("Text(%q) = %q: invalid UTF-8", in, out)
		}
		for _, r := range out {
			if r == '\n' || r == '\t' {
				continue
			}
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("Text(%q) = %q: contains %U", in, out, r)
			}
		}
		if strings.ContainsAny(out, "\x1b\r\u009b\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") {
			t.Fatalf("Text(%q) = %q: contains ESC, CR, CSI or a bidi control", in, out)
		}
		if again := Text(out); again != out {
			t.Fatalf("Text not idempotent: Text(%q) = %q, Text of that = %q", in, out, again)
		}
		line := Line(in)
		if strings.ContainsAny(line, "\n\t") || strings.TrimSpace(line) != line {
			t.Fatalf("Line(%q) = %q: not a trimmed single line", in, line)
		}
	})
}
