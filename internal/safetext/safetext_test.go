package safetext

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// osc52 sets the clipboard of the terminal that prints it.
const osc52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"

func TestLine(t *testing.T) {
	tests := []struct {
		name, in string
		limit    int
		want     Text
	}{
		{"plain", "1.8.0", 10, "1.8.0"},
		{"empty", "", 10, ""},
		{"OSC 52 after an image", "ghcr.io/acme/evil:2.0" + osc52, 100, `ghcr.io/acme/evil:2.0\x1b]52;c;ZWNobyBwd25lZA==\x07`},
		{"blink", "ghcr.io/acme/evil:1.9\x1b[5m", 100, `ghcr.io/acme/evil:1.9\x1b[5m`},
		{"OSC title with ST", "\x1b]0;pwned\x1b\\ok", 100, `\x1b]0;pwned\x1b\ok`},
		{"C1 CSI", "a\u009b31mb", 100, `a\u009b31mb`},
		{"C1 OSC and ST", "a\u009d0;t\u009cb", 100, `a\u009d0;t\u009cb`},
		{"C0 and DEL", "a\x00b\x08c\x7fd", 100, `a\x00b\x08c\x7fd`},
		{"newlines become a mark", "a\nb\r\nc\rd", 100, `a\nb\nc\rd`},
		{"line and paragraph separators", "a\u2028b\u2029c", 100, `a\u2028b\u2029c`},
		{"NEL is a C1 control", "a\u0085b", 100, `a\u0085b`},
		{"tab is a blank", "a\tb", 100, "a b"},
		{"blank edges trimmed", "\n  a b  \r\n", 100, "a b"},
		{"invalid UTF-8", "a\xff\xfeb\xc3", 100, `a\xff\xfeb\xc3`},
		{"right-to-left override", "abc\u202edcba\u202c", 100, `abc\u202edcba\u202c`},
		{"isolates and marks", "\u2066a\u2069\u200f\u061c", 100, `\u2066a\u2069\u200f\u061c`},
		{"zero-width characters", "a\u200bb\u200dc\ufeffd\u00ade\u2060", 100, `a\u200bb\u200dc\ufeffd\u00ade\u2060`},
		{"tags", "a\U000e0041", 100, `a\U000e0041`},
		{"blank Hangul filler", "a\u3164b", 100, `a\u3164b`},
		{"noncharacter", "a\uffffb", 100, `a\uffffb`},
		{"letters and emoji stay", "café 😀 日本 ∑", 100, "café 😀 日本 ∑"},
		{"a few combining marks stay", "e\u0301\u0302\u0303", 100, "e\u0301\u0302\u0303"},
		{"a stack of marks is cut at eight", "a" + strings.Repeat("\u0301", 10), 100, Text("a" + strings.Repeat("\u0301", 8) + `\u0301\u0301`)},
		{"a mark with nothing to sit on", "\u0301a", 100, `\u0301a`},
		{"a mark after an escape", "\x1b\u0301", 100, `\x1b\u0301`},
		{"skin tones are marks", "👍" + strings.Repeat("\U0001f3fb", 9), 100, Text("👍" + strings.Repeat("\U0001f3fb", 8) + `\U0001f3fb`)},
		{"exactly at limit", "abcde", 5, "abcde"},
		{"clipped", "abcdef", 5, "abcd…"},
		{"no blank before the ellipsis", "abc defgh", 5, "abc…"},
		{"an escape is never cut in half", "abcde\x1bfgh", 8, "abcde…"},
		{"an escape that fits", "ab\x1bc", 7, `ab\x1bc`},
		{"clipped after an escape", "ab\x1bcdefgh", 8, `ab\x1bc…`},
		{"multibyte counts as runes", "ééééééé", 5, "éééé…"},
		{"zero limit", "abc", 0, ""},
		{"only blanks", " \n\t ", 10, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LineN(tt.in, tt.limit)
			if got != tt.want {
				t.Errorf("LineN(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
			if what, at, bad := Unsafe(string(got)); bad || strings.Contains(string(got), "\n") {
				t.Errorf("LineN(%q) = %q holds %s at %d", tt.in, got, what, at)
			}
			if again := LineN(string(got), tt.limit); again != got {
				t.Errorf("not idempotent: %q, then %q", got, again)
			}
		})
	}
}

func TestBlock(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain lines", "Traceback:\n  File \"a.py\"\nValueError: x", "Traceback:\n  File \"a.py\"\nValueError: x"},
		{"CR LF", "a\r\nb\r\n", "a\nb"},
		{"lone CR shows", "50%\r100%", `50%\r100%`},
		{"escapes in a line", "a\n\x1b[31mb\n" + osc52, "a\n\\x1b[31mb\n\\x1b]52;c;ZWNobyBwd25lZA==\\x07"},
		{"leading indentation kept, trailing blanks trimmed", "  a\n\n \n", "  a"},
		{"a mark at the start of a line", "a\n\u0301b", "a\n\\u0301b"},
		{"tabs", "a\tb", "a b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Block(tt.in); string(got) != tt.want {
				t.Errorf("Block(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	long := strings.Repeat("x", MaxBlock+10)
	if got := Block(long); utf8.RuneCountInString(string(got)) != MaxBlock || !strings.HasSuffix(string(got), "…") {
		t.Errorf("Block of %d runes kept %d", len(long), utf8.RuneCountInString(string(got)))
	}
}

func TestLog(t *testing.T) {
	tests := map[string]Text{
		"plain":                "plain",
		"  File \"a.py\"":      "  File \"a.py\"",
		"\x1b[1;31mred\x1b[0m": "red",
		"\x1b]0;title\x07text": "text",
		"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\": "link",
		"a" + osc52 + "b":                          "ab",
		"\x1bPdcs\x1b\\x":                          "x",
		"\x1b_apc\x07x":                            "x",
		"\x1b(Bx":                                  "x",
		"\x1b7saved\x1b8":                          "saved",
		"\x1b[":                                    "",
		"\x1b]unterminated\x00ok":                  `\x00ok`,
		"\u009b31mC1 CSI":                          "C1 CSI",
		"\u009d0;t\u009cC1 OSC":                    "C1 OSC",
		"a\tb":                                     "a b",
		"a\r\n":                                    "a",
		"a\r":                                      "a",
		"50%\r100%":                                `50%\r100%`,
		"a\nb":                                     `a\nb`,
		"bell\x07":                                 `bell\x07`,
		"bad \xff":                                 `bad \xff`,
		"\u202eevil\u202c":                         `\u202eevil\u202c`,
		"café 😀":                                   "café 😀",
		"trailing  ":                               "trailing  ",
	}
	for in, want := range tests {
		if got := Log(in); got != want {
			t.Errorf("Log(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSprintfAndJoin(t *testing.T) {
	if got := Sprintf("%d/%d canary pods %s: %s", 1, 2, "CrashLoopBackOff", "boom\x1b[2J"); got != `1/2 canary pods CrashLoopBackOff: boom\x1b[2J` {
		t.Errorf("Sprintf = %q", got)
	}
	if got := Sprintf("%c", rune(0x1b)); got != `\x1b` {
		t.Errorf("Sprintf of a raw rune = %q", got)
	}
	if got := Join([]Text{"a", "b"}, ", "); got != "a, b" {
		t.Errorf("Join = %q", got)
	}
	if got := Join([]Text{"a", "b"}, "\x1b"); got != `a\x1bb` {
		t.Errorf("Join with a raw separator = %q", got)
	}
	if got := Join(nil, ","); got != "" {
		t.Errorf("Join(nil) = %q", got)
	}
	if got := Lines([]string{"a\x07"}); len(got) != 1 || got[0] != `a\x07` {
		t.Errorf("Lines = %q", got)
	}
	if got := Strings([]Text{"a"}); len(got) != 1 || got[0] != "a" {
		t.Errorf("Strings = %q", got)
	}
}

func TestUnsafe(t *testing.T) {
	for _, bad := range []string{"\x1b", "a\x07", "\xff", "\u202e", "\u009b", "\u200b", "a\r", "a" + strings.Repeat("\u0301", 9), "a\n\u0301"} {
		if _, _, ok := Unsafe(bad); !ok {
			t.Errorf("Unsafe(%q) found nothing", bad)
		}
	}
	for _, good := range []string{"", "a\nb", "café 😀", "e\u0301", `\x1b`} {
		if what, at, ok := Unsafe(good); ok {
			t.Errorf("Unsafe(%q) = %s at %d", good, what, at)
		}
	}
}

// The usual value costs nothing: no copy, no allocation.
func TestPlainValuesAreNotCopied(t *testing.T) {
	name := strings.Repeat("orders-api-", 3)
	if n := testing.AllocsPerRun(100, func() { _ = Line(name) }); n != 0 {
		t.Errorf("Line of a plain name allocates %.0f times", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = Log("INFO GET /healthz 200") }); n != 0 {
		t.Errorf("Log of a plain line allocates %.0f times", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = Block("a\nb") }); n != 0 {
		t.Errorf("Block of plain lines allocates %.0f times", n)
	}
}

// A huge hostile value costs what a clipped one does: reading stops at the limit.
func TestHugeValuesAreReadOnlyToTheLimit(t *testing.T) {
	huge := strings.Repeat("\x1b]52;c;"+strings.Repeat("A", 60)+"\x07", 64<<10/70+1)
	var bytes float64
	allocs := testing.AllocsPerRun(10, func() { _ = Line(huge) })
	got := Line(huge)
	bytes = float64(len(got))
	if utf8.RuneCountInString(string(got)) > MaxLine {
		t.Errorf("%d runes", utf8.RuneCountInString(string(got)))
	}
	if allocs > 8 || bytes > 4*MaxLine {
		t.Errorf("a 64 KiB annotation: %.0f allocations, %.0f bytes", allocs, bytes)
	}
}

func TestError(t *testing.T) {
	if Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
	cause := errors.New("denied: " + osc52)
	err := Error(cause)
	if got := err.Error(); got != `denied: \x1b]52;c;ZWNobyBwd25lZA==\x07` {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(err, cause) || Error(err) != err {
		t.Errorf("the cause is lost or wrapped twice: %v", err)
	}
}

// What the boundary costs a snapshot: names and images are plain ASCII, and pass through.
func BenchmarkLinePlain(b *testing.B) {
	for b.Loop() {
		_ = Line("ghcr.io/acme/orders-api:1.8.0@sha256:9c9adfee2f0f1bb936467f3f24dab7ffd93b141bb33d2ca00f84d48bddc83d07")
	}
}

func BenchmarkLineHostile(b *testing.B) {
	for b.Loop() {
		_ = Line("ghcr.io/acme/evil:2.0" + osc52 + "\u202e")
	}
}
