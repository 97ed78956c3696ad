package spam

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTokensCJKBigrams(t *testing.T) {
	cases := []struct {
		name, text string
		want       []string
		lang       string
	}{
		{"chinese", "免费发票代开", []string{"免费", "费发", "发票", "票代", "代开"}, "zh"},
		{"japanese", "無料でお金を稼ぐ方法", []string{"無料", "料で", "でお", "金を", "ぐ方"}, "ja"},
		{"korean", "무료 대출 상담 광고입니다", []string{"무료", "대출", "상담", "광고", "입니", "니다"}, "ko"},
		{"mixed", "Win 大奖 now", []string{"win", "大奖", "now"}, "zh"},
		{"single", "a 中 b", []string{"中"}, "other"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Doc{Body: c.text}
			got := Tokens(d)
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Errorf("tokens of %q = %q, missing %q", c.text, got, w)
				}
			}
			if l := Language(d); l != c.lang {
				t.Errorf("Language(%q) = %s, want %s", c.text, l, c.lang)
			}
		})
	}
}

func TestTokensHeaderAndStructure(t *testing.T) {
	raw := "From: \"Big Winner\" <promo@casino.example>\r\n" +
		"Received: from mx.casino.example (mx.casino.example [192.0.2.7])\r\n\tby mail.desk.test with ESMTP id 1\r\n" +
		"X-Mailer: MassMailer 5\r\nSubject: =?utf-8?q?Gro=C3=9Fer_Gewinn?= =?GB2312?B?0rvN+A==?=\r\n" +
		"Content-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/html; Charset=\"Big5\"\r\n\r\n<html><font color=red>Claim it!</font></html>\r\n--b--\r\n"
	got := Tokens(ParseDoc([]byte(raw)))
	for _, w := range []string{"h:x-mailer", "x-mailer:massmailer", "received:mx.casino.example", "received:192.0.2.7",
		"from:promo@", "from:@casino.example", "from:winner", "subject:großer", "tag:font", "part:text/html", "claim",
		"charset:utf-8", "charset:gb2312", "charset:big5"} {
		if !slices.Contains(got, w) {
			t.Errorf("missing token %q in %q", w, got)
		}
	}
	// Received keeps hosts only: dates and software are the same in ham and spam.
	for _, w := range []string{"received:esmtp", "received:with"} {
		if slices.Contains(got, w) {
			t.Errorf("unexpected token %q", w)
		}
	}
}

// TestTokensShape checks the tokens of a message's structure.
func TestTokensShape(t *testing.T) {
	cases := []struct {
		name, raw string
		want, not []string
	}{{
		name: "html only",
		raw: "From: promo@casino.example\r\nMessage-ID: <1234@bulk.mailer.example>\r\n" +
			"Received: from a.example by b.example\r\nReceived: from c.example by a.example\r\n" +
			"Content-Type: text/html\r\n\r\n<a href=\"http://x.example/\">win</a> <a href=\"HTTPS://y.example/\">now</a>\r\n",
		want: []string{"shape:html-only", "shape:links:2-3", "shape:msgid-other-domain", "shape:from-no-name", "shape:received:2-3"},
		not:  []string{"shape:msgid-from-domain"},
	}, {
		name: "plain alternative",
		raw: "From: \"Ann Smith\" <ann@shop.example>\r\nMessage-ID: <x.1@mail.shop.example>\r\n" +
			"Content-Type: multipart/alternative; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>hello</p>\r\n--b--\r\n",
		want: []string{"shape:msgid-from-domain", "shape:links:0", "shape:received:0"},
		not:  []string{"shape:html-only", "shape:from-no-name", "shape:msgid-other-domain"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Tokens(ParseDoc([]byte(c.raw)))
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Errorf("missing token %q in %q", w, got)
				}
			}
			for _, w := range c.not {
				if slices.Contains(got, w) {
					t.Errorf("unexpected token %q in %q", w, got)
				}
			}
		})
	}
}

// TestBadInputIsBounded scores huge, binary and malformed mail: no panic,
// at most maxTokens tokens, and bounded time.
func TestBadInputIsBounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	binary := make([]byte, 2<<20)
	for i := range binary {
		binary[i] = byte(rng.UintN(256))
	}
	var words strings.Builder
	for words.Len() < 10<<20 {
		words.WriteString("word")
		words.WriteString(strings.Repeat("x", int(rng.UintN(8))))
		words.WriteByte(byte('a' + rng.UintN(26)))
		words.WriteByte(' ')
	}
	inputs := map[string][]byte{
		"10 MB text":       []byte("From: a@b.test\r\nSubject: big\r\n\r\n" + words.String()),
		"10 MB one line":   append([]byte("Subject: x\r\n\r\n"), bytes.Repeat([]byte("A"), 10<<20)...),
		"binary":           binary,
		"binary body":      append([]byte("Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"), binary...),
		"empty":            nil,
		"header only":      []byte("Subject: x"),
		"broken mime":      []byte("Content-Type: multipart/mixed; boundary=\"\r\n\r\n--\r\n--\r\nContent-Type: text/html\r\n\r\n<<<<"),
		"endless header":   bytes.Repeat([]byte("X-A: b\r\n"), 1<<20),
		"endless folding":  append([]byte("Subject: x\r\n"), bytes.Repeat([]byte(" y\r\n"), 2<<20)...),
		"bad base64":       []byte("Content-Transfer-Encoding: base64\r\n\r\n!!!!====****"),
		"nul and controls": []byte("Subject: \x00\x1b[2J\r\n\r\n\x00\x01\x02 hello\x7f"),
	}
	f := New()
	f.Add([]string{"hello"}, false, 1)
	f.Add([]string{"word"}, true, 1)
	for name, raw := range inputs {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			toks := Tokens(ParseDoc(raw))
			s := f.Score(toks)
			took := time.Since(start)
			if len(toks) > maxTokens {
				t.Errorf("%d tokens, want at most %d", len(toks), maxTokens)
			}
			if s < 0 || s > 1 {
				t.Errorf("score %v out of 0..1", s)
			}
			limit := 3 * time.Second
			if raceEnabled {
				limit *= 10
			}
			if took > limit {
				t.Errorf("took %v, want under %v", took, limit)
			}
		})
	}
}

func TestReadMessages(t *testing.T) {
	dir := t.TempDir()
	mbox := "From a@b.test Thu Jan  1 00:00:00 2002\nSubject: one\n\nbody\nFrom here on it is text\n\n" +
		"From c@d.test Fri Jan  2 00:00:00 2002\nSubject: two\n\nbody two\n"
	if err := os.WriteFile(filepath.Join(dir, "box.mbox"), []byte(mbox), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "cur"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cur", "1.eml"), []byte("Subject: three\n\nx\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "cur", "1.eml"), filepath.Join(dir, "link.eml")); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := ReadMessages(dir, func(name string, raw []byte) error {
		got = append(got, filepath.Base(name)+"="+ParseDoc(raw).Subject)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"box.mbox#1=one", "box.mbox#2=two", "1.eml=three", "link.eml=three"}
	if !slices.Equal(got, want) {
		t.Errorf("messages %q, want %q", got, want)
	}
}
