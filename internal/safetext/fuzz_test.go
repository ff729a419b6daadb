package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile are the values the fuzz targets start from: every kind of thing a Text escapes.
var hostile = []string{
	"ghcr.io/acme/evil:2.0" + osc52,
	"ghcr.io/acme/evil:1.9\x1b[5m",
	"\x1b]0;title\x07\x1b]2;title\x1b\\",
	"\x1bP1$r\x1b\\\x1b_apc\x07\x1b^pm\x07\x1bXsos\x07",
	"\u009b31m\u009d0;t\u009c\u0090dcs\u009c",
	"a\r\nb\nc\rd\u2028e\u0085f",
	"\u202eevil\u202c\u2066x\u2069",
	"\xff\xfe\xc3",
	"",
	"a" + strings.Repeat("\u0301", 20),
	"👨\u200d👩\u200d👧",
	strings.Repeat("x", MaxLine+3),
	"  padded  ",
	"\t\x00\x7f",
}

func FuzzLine(f *testing.F) {
	for _, s := range hostile {
		f.Add(s, 40)
		f.Add(s, MaxLine)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit = limit % (2 * MaxLine)
		got := string(LineN(s, limit))
		if what, at, bad := Unsafe(got); bad {
			t.Fatalf("LineN(%q, %d) = %q: %s at %d", s, limit, got, what, at)
		}
		if strings.ContainsRune(got, '\n') {
			t.Fatalf("LineN(%q) = %q has a newline", s, got)
		}
		if n := utf8.RuneCountInString(got); n > max(limit, 0) {
			t.Fatalf("LineN(%q, %d) has %d runes", s, limit, n)
		}
		if again := string(LineN(got, limit)); again != got {
			t.Fatalf("LineN not idempotent on %q: %q, then %q", s, got, again)
		}
		if got != strings.TrimSpace(got) {
			t.Fatalf("LineN(%q) = %q has blank edges", s, got)
		}
	})
}

func FuzzBlock(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := string(Block(s))
		if what, at, bad := Unsafe(got); bad {
			t.Fatalf("Block(%q) = %q: %s at %d", s, got, what, at)
		}
		if n := utf8.RuneCountInString(got); n > MaxBlock {
			t.Fatalf("Block has %d runes", n)
		}
		if again := string(Block(got)); again != got {
			t.Fatalf("Block not idempotent on %q: %q, then %q", s, got, again)
		}
		// Every line of a Block is a line a Text could be: the lines are what was written.
		if strings.Count(got, "\n") > strings.Count(s, "\n") {
			t.Fatalf("Block(%q) = %q made lines", s, got)
		}
	})
}

func FuzzLog(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Add("\x1b[1;31mERROR\x1b[0m Traceback (most recent call last):")
	f.Fuzz(func(t *testing.T, s string) {
		got := string(Log(s))
		if what, at, bad := Unsafe(got); bad || strings.ContainsRune(got, '\n') {
			t.Fatalf("Log(%q) = %q: %s at %d", s, got, what, at)
		}
		if again := string(Log(got)); again != got {
			t.Fatalf("Log not idempotent on %q: %q, then %q", s, got, again)
		}
		// The words stay: printable ASCII outside any sequence comes through.
		if !strings.ContainsAny(s, "\x1b\u009b\u009d\u0090\u0098\u009e\u009f\r\n\t") && utf8.ValidString(s) {
			for _, word := range strings.Fields(s) {
				if printableASCII(word, false) && !strings.Contains(got, word) {
					t.Fatalf("Log(%q) = %q lost %q", s, got, word)
				}
			}
		}
	})
}
